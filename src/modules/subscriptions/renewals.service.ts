import type { Kernel } from '../../kernel/context.js';
import type { Db } from '../../kernel/db/database.js';
import type { Currency } from '../catalog/index.js';
import type { LicenceIssuer, OrderItem, OrdersModule } from '../orders/index.js';
import { addMonths, proRata, statusAt, type ProRata } from './rules.js';
import { renewalAwaitingPayment } from './awaiting-payment.js';
import type { SubscriptionView, SubscriptionsService } from './subscriptions.service.js';
import { InvalidSubscriptionInput, NoBillingDetails, NoCurrentTerm, NoRenewalPlan, UnknownUpgrade } from './subscriptions.errors.js';

export interface RenewalQuote {
  sub: SubscriptionView;
  planId: string;
  name: string;
  unitNet: number;
  /** The new period the renewal would buy if paid now. */
  start: number;
  end: number;
}

export interface UpgradeOffer {
  planId: string;
  kind: 'upgrade' | 'addon';
  name: string;
  /** The catalogue's price for a whole term. */
  fullPrice: number;
  /** What is charged now, for the days left of the current support term. */
  price: ProRata;
  /** Add-ons end with the support term (co-terming); tier upgrades keep no end. */
  termEnd: number | null;
}

/**
 * Renewals and upgrades become ordinary orders (draft → the buyer's review page → payment), so VAT,
 * invoices and fulfilment are the shop's. Prices come from the catalogue; upgrades and add-ons bought
 * mid-term are charged pro rata to the end of the current support term (rules.ts says how it rounds).
 */
export class RenewalsService {
  constructor(private readonly k: Kernel, private readonly subs: SubscriptionsService, private readonly issuer: LicenceIssuer) {}

  private get orders(): OrdersModule {
    if (!this.subs.orders) throw new Error('subscriptions: orders module not attached');
    return this.subs.orders;
  }

  /** The catalogue plan that renews this subscription, priced in its currency. */
  async quoteRenewal(customerId: string, id: string, db: Db = this.k.db): Promise<RenewalQuote> {
    const sub = await this.subs.own(customerId, id, db);
    const lic = await this.issuer.find(db, sub.licence_id);
    if (!lic) throw new NoRenewalPlan();
    let q = db.selectFrom('catalog_plans as pl').innerJoin('catalog_products as p', 'p.id', 'pl.product_id')
      .innerJoin('catalog_prices as pr', (j) => j.onRef('pr.plan_id', '=', 'pl.id').on('pr.currency', '=', sub.currency as Currency))
      .select(['pl.id', 'pl.name', 'pl.term_months', 'pr.amount'])
      .where('p.code', '=', sub.product_code).where('pl.active', '=', 1).where('p.active', '=', 1);
    if (sub.item === 'support') {
      q = q.innerJoin('catalog_tiers as t', 't.id', 'pl.tier_id').where('pl.kind', '=', 'renewal')
        .where((eb) => (lic.maxUsers === null ? eb('t.max_users', 'is', null) : eb('t.max_users', '=', lic.maxUsers)));
    } else {
      q = q.where('pl.kind', '=', 'addon').where('pl.addon_code', '=', sub.addon_code);
    }
    const plan = await q.orderBy('pl.sort').executeTakeFirst();
    if (!plan) throw new NoRenewalPlan();
    const now = this.k.clock.now();
    if (sub.item !== 'support') {
      // An add-on that has lapsed while support runs is bought again to end with support, at the days
      // left: what the order will charge (the shop prices it the same way), not a full year.
      const coTerm = await this.subs.terms.priceForLicence(db, { kind: 'addon', licenceId: sub.licence_id, addonCode: sub.addon_code, fullPrice: Number(plan.amount), now });
      if (coTerm?.termEnd != null) return { sub, planId: plan.id, name: plan.name, unitNet: coTerm.unitNet, start: now, end: coTerm.termEnd };
    }
    const start = Number(await this.subs.terms.renewalStart(db as never, sub.licence_id, sub.item, now));
    return { sub, planId: plan.id, name: plan.name, unitNet: Number(plan.amount), start, end: addMonths(start, plan.term_months ?? 12) };
  }

  /**
   * Creates the renewal as a draft order with the customer's last billing details; the caller shows its
   * review page. A renewal already ordered and awaiting payment is that order instead.
   */
  async placeRenewal(customer: { id: string; email: string }, id: string, rawMethod: string | undefined): Promise<string> {
    const q = await this.quoteRenewal(customer.id, id);
    const waiting = await renewalAwaitingPayment(this.k.db, customer.id, q.sub.licence_id, q.sub.item);
    if (waiting) return waiting.id;
    return this.place(customer, q.sub.currency, [{ planId: q.planId, quantity: 1, licenceId: q.sub.licence_id }], rawMethod ?? (q.sub.renewal_mode === 'card' ? 'stripe' : 'bank_transfer'));
  }

  /** Tier upgrades and add-ons not yet on the licence, each priced for the rest of the current support term. */
  async upgradeOffers(customerId: string, id: string, db: Db = this.k.db): Promise<{ sub: SubscriptionView; offers: UpgradeOffer[] }> {
    const sub = await this.subs.own(customerId, id, db);
    if (sub.item !== 'support') throw new InvalidSubscriptionInput('Upgrades are bought from the licence\'s support subscription.');
    const now = this.k.clock.now();
    // Includes a term renewed in advance (the period then starts in the future): pro rata runs to its end.
    if (now >= Number(sub.period_end)) throw new NoCurrentTerm();
    const lic = await this.issuer.find(db, sub.licence_id);
    if (!lic) throw new NoCurrentTerm();
    const grace = await this.subs.graceDays(db);
    const running = new Set((await db.selectFrom('subscriptions').selectAll().where('licence_id', '=', sub.licence_id).execute())
      .filter((s) => s.addon_code && statusAt({ periodEnd: Number(s.period_end), cancelAtPeriodEnd: s.cancel_at_period_end === 1 }, now, grace) !== 'expired')
      .map((s) => s.addon_code!));
    const plans = await db.selectFrom('catalog_plans as pl').innerJoin('catalog_products as p', 'p.id', 'pl.product_id')
      .innerJoin('catalog_prices as pr', (j) => j.onRef('pr.plan_id', '=', 'pl.id').on('pr.currency', '=', sub.currency as Currency))
      .leftJoin('catalog_tiers as ft', 'ft.id', 'pl.from_tier_id')
      .select(['pl.id', 'pl.kind', 'pl.name', 'pl.addon_code', 'pr.amount', 'ft.max_users as from_users', 'pl.from_tier_id'])
      .where('p.code', '=', sub.product_code).where('pl.active', '=', 1).where('p.active', '=', 1).where('pl.kind', 'in', ['upgrade', 'addon'])
      .orderBy('pl.sort').execute();
    const offers: UpgradeOffer[] = [];
    for (const p of plans) {
      if (p.kind === 'upgrade' && (!p.from_tier_id || p.from_users !== lic.maxUsers)) continue;
      if (p.kind === 'addon' && (!p.addon_code || running.has(p.addon_code))) continue;
      offers.push({
        planId: p.id, kind: p.kind as 'upgrade' | 'addon', name: p.name, fullPrice: Number(p.amount),
        price: proRata(Number(p.amount), now, Number(sub.period_start), Number(sub.period_end)),
        termEnd: p.kind === 'addon' ? Number(sub.period_end) : null,
      });
    }
    return { sub, offers };
  }

  /** Creates the upgrade as a draft order at the pro-rata price computed here (never from the form). */
  async placeUpgrade(customer: { id: string; email: string }, id: string, planId: string | undefined, rawMethod: string | undefined): Promise<string> {
    const { sub, offers } = await this.upgradeOffers(customer.id, id);
    const offer = offers.find((o) => o.planId === planId);
    if (!offer) throw new UnknownUpgrade();
    return this.place(customer, sub.currency, [{ planId: offer.planId, quantity: 1, licenceId: sub.licence_id, unitNet: offer.price.unitNet, termEnd: offer.termEnd }], rawMethod ?? (sub.renewal_mode === 'card' ? 'stripe' : 'bank_transfer'));
  }

  /** The billing details of the customer's most recent order. */
  async lastBilling(customerId: string, db: Db = this.k.db) {
    const o = await db.selectFrom('orders').selectAll().where('customer_id', '=', customerId).where('status', 'in', ['paid', 'fulfilled', 'partly_refunded', 'refunded'])
      .orderBy('created_at', 'desc').orderBy('id').executeTakeFirst();
    if (!o) throw new NoBillingDetails();
    return {
      name: o.billing_name, company: o.billing_company, line1: o.billing_address_line1, line2: o.billing_address_line2, city: o.billing_city,
      region: o.billing_region, postcode: o.billing_postcode, country: o.billing_country, phone: o.phone ?? '', vatNumber: o.vat_number,
    };
  }

  /** The customer's draft order for exactly this one item (same plan, licence, price and payment method), if any. */
  private async openDraft(customerId: string, item: OrderItem, method: string): Promise<string | null> {
    const drafts = await this.k.db.selectFrom('orders as o').innerJoin('order_lines as l', 'l.order_id', 'o.id')
      .select(['o.id', 'l.unit_net']).where('o.customer_id', '=', customerId).where('o.status', '=', 'draft').where('o.payment_method', '=', method as 'stripe')
      .where('l.plan_id', '=', item.planId).where('l.target_licence_id', '=', item.licenceId).execute();
    for (const d of drafts) {
      const n = await this.k.db.selectFrom('order_lines').select((eb) => eb.fn.countAll<number>().as('n')).where('order_id', '=', d.id).executeTakeFirstOrThrow();
      if (Number(n.n) === 1 && (item.unitNet === undefined || Number(d.unit_net) === item.unitNet)) return d.id;
    }
    return null;
  }

  private async place(customer: { id: string; email: string }, currency: string, items: OrderItem[], rawMethod: string): Promise<string> {
    const available = (await this.orders.payments.availableMethods()).map((p) => p.method);
    const method = available.find((m) => m === rawMethod) ?? available[0];
    if (!method) throw new InvalidSubscriptionInput('No payment method is available at the moment. Please contact us.');
    // A second click on the same button finds the draft the first one made instead of making another.
    const prior = await this.openDraft(customer.id, items[0]!, method);
    if (items.length === 1 && prior) return prior;
    return this.orders.checkout.createForCustomer({
      customer, billing: await this.lastBilling(customer.id), currency: currency as Currency, couponCode: null, items, paymentMethod: method,
      channel: 'web', actor: { kind: 'customer', id: customer.id }, placedByStaffId: null, checkoutKey: null, checkoutHash: null,
    });
  }
}
