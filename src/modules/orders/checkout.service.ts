import type { Transaction } from 'kysely';
import type { Kernel } from '../../kernel/context.js';
import type { Database } from '../../kernel/db/schema.js';
import type { Db } from '../../kernel/db/database.js';
import { newId, randomToken, sha256Hex } from '../../kernel/crypto/tokens.js';
import { plansForSale, activeCoupon, type Currency, UnknownPlan, NoPrice, UnknownCoupon } from '../catalog/index.js';
import { computeTotals } from '../billing/index.js';
import type { BasketService } from './basket.service.js';
import type { BillingDetails } from './billing-form.js';
import { decideTax } from './tax.js';
import { taxRates } from './orders.repository.js';
import { recordCreated, type Actor } from './state.js';
import type { OrderChannel, PaymentMethod } from './orders.tables.js';
import { BasketChanged, EmptyBasket, IdempotencyMismatch, InvalidOrderInput, InvalidQuantity } from './orders.errors.js';

type Trx = Transaction<Database>;

export interface OrderItem {
  planId: string; quantity: number; licenceId: string | null;
  /** Set only by server code (pro-rata upgrades from subscriptions), never from a form: the net unit price instead of the catalogue's. */
  unitNet?: number;
  /** Set with unitNet: the term the line buys ends here (an add-on co-termed with the support term). */
  termEnd?: number | null;
}

export interface NewOrder {
  customer: { id: string; email: string };
  billing: BillingDetails;
  currency: Currency;
  couponCode: string | null;
  items: OrderItem[];
  paymentMethod: PaymentMethod;
  channel: OrderChannel;
  actor: Actor;
  placedByStaffId: string | null;
  checkoutKey: string | null;
  checkoutHash: string | null;
  /** Reseller orders: the reseller's account id (orders.reseller_id) and its prices for each plan. */
  reseller?: { id: string; price(planId: string, catalogueUnitNet: number): { unitNet: number; percentOff: number } };
}

/** A short reference buyers can quote on a bank transfer (no 0/O/1/I to misread). */
export function newReference(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  return 'KW-' + [...randomToken(12)].slice(0, 8).map((c) => alphabet[c.charCodeAt(0) % alphabet.length]).join('');
}

/**
 * Turns a basket (or a staff phone order) into an order: prices from the catalogue, never from the form;
 * the tax decision with its evidence; totals per line and per rate. The checkout's idempotency key is
 * claimed by the order row itself (unique), in the same transaction that empties the basket.
 */
export class CheckoutService {
  constructor(private readonly k: Kernel, private readonly baskets: BasketService) {}

  /** Creates the order from the browser's basket; a repeated submit of the same form returns the same order. */
  async placeFromBasket(basketToken: string | undefined, form: { checkoutKey?: string; basketVersion?: string; requestHash: string }, o: Omit<NewOrder, 'currency' | 'couponCode' | 'items' | 'checkoutKey' | 'checkoutHash'>): Promise<{ orderId: string; existing: boolean }> {
    const key = (form.checkoutKey ?? '').trim();
    if (!/^[A-Za-z0-9_-]{20,64}$/.test(key)) throw new BasketChanged();
    const hash = form.requestHash;
    const attempt = () => this.k.db.transaction().execute(async (trx) => {
      const prior = await this.byCheckoutKey(trx, key, hash);
      if (prior) return { orderId: prior, existing: true };
      const basket = await this.baskets.find(basketToken, trx);
      if (!basket || basket.lines.length === 0) throw new EmptyBasket();
      if (String(basket.row.version) !== form.basketVersion) throw new BasketChanged();
      const orderId = await this.create(trx, {
        ...o, currency: basket.row.currency, couponCode: basket.row.coupon_code, checkoutKey: key, checkoutHash: hash,
        items: basket.lines.map((l) => ({ planId: l.plan_id, quantity: l.quantity, licenceId: l.target_licence_id })),
      });
      // The basket is spent by exactly one order. Checkouts from two tabs carry different keys; on
      // PostgreSQL both read the basket, and the second one's delete waits for the first to commit and
      // then finds nothing: that one has no basket left, and its order is rolled back.
      const spent = await trx.deleteFrom('baskets').where('id', '=', basket.row.id).executeTakeFirst();
      if (Number(spent.numDeletedRows) !== 1) throw new EmptyBasket();
      return { orderId, existing: false };
    });
    try {
      return await attempt();
    } catch (err) {
      // A concurrent submit of the same form won the unique checkout key: answer with its order.
      const prior = await this.byCheckoutKey(this.k.db, key, hash).catch(() => null);
      if (prior) return { orderId: prior, existing: true };
      throw err;
    }
  }

  /** The order a checkout form already made, if it was submitted before (same key and same basket). */
  async alreadyPlaced(form: { checkoutKey?: string; requestHash: string }): Promise<string | null> {
    const key = (form.checkoutKey ?? '').trim();
    if (!/^[A-Za-z0-9_-]{20,64}$/.test(key)) return null;
    return this.byCheckoutKey(this.k.db, key, form.requestHash);
  }

  /**
   * What a checkout form asked for, as a hash: a resubmit of the same form finds its order; the same key
   * with different details is refused (the password never enters it).
   */
  static requestHash(body: Record<string, string | undefined>): string {
    const fields = Object.entries(body).filter(([k]) => k !== '_csrf' && k !== 'password').sort(([a], [b]) => a.localeCompare(b));
    return sha256Hex(JSON.stringify(fields.map(([k, v]) => [k, (v ?? '').trim()])));
  }

  private async byCheckoutKey(trx: Db, key: string, hash: string): Promise<string | null> {
    const row = await trx.selectFrom('orders').select(['id', 'checkout_hash']).where('checkout_key', '=', key).executeTakeFirst();
    if (!row) return null;
    if (row.checkout_hash !== hash) throw new IdempotencyMismatch();
    return row.id;
  }

  /** A phone order staff take for a customer: created as a draft, then sent as a pro forma or marked paid. */
  async createForCustomer(o: NewOrder): Promise<string> {
    return this.k.db.transaction().execute((trx) => this.create(trx, o));
  }

  async create(trx: Trx, o: NewOrder): Promise<string> {
    if (o.items.length === 0) throw new EmptyBasket();
    for (const i of o.items) if (!Number.isInteger(i.quantity) || i.quantity < 1 || i.quantity > 100) throw new InvalidQuantity();
    const now = this.k.clock.now();
    const tax = decideTax({ country: o.billing.country, vatNumber: o.billing.vatNumber, ratesBp: await taxRates(trx), now, phone: o.billing.phone, requireSecondEvidence: o.channel === 'web' });
    const sales = await plansForSale(trx, o.items.map((i) => i.planId), o.currency);
    const coupon = o.couponCode ? await activeCoupon(trx, o.couponCode, now) : null;
    if (o.couponCode && !coupon) throw new UnknownCoupon();
    const lines = [];
    for (const item of o.items) {
      const sale = sales.get(item.planId);
      if (!sale) throw new UnknownPlan();
      if (sale.unitNet === null) throw new NoPrice(sale.plan.name, o.currency);
      const target = await this.baskets.checkTarget(sale, item.licenceId, o.customer.id, item.quantity, trx);
      const term = item.unitNet === undefined ? await this.baskets.termPrice(trx, sale, target) : null;
      // The price before any discount: set by the server (renewal), pro rata to the term's end, or the catalogue's.
      const base = item.unitNet ?? term?.unitNet ?? sale.unitNet;
      // A reseller pays its own price (price list or discount); pro rata lines pay the same share of it.
      const own = o.reseller ? o.reseller.price(sale.plan.id, sale.unitNet) : null;
      const priced = own
        ? { unitNet: base === sale.unitNet ? own.unitNet : Math.round((own.unitNet * base) / sale.unitNet), percentOff: own.percentOff }
        : { unitNet: base, percentOff: coupon?.percent_off ?? 0 };
      lines.push({ item: term ? { ...item, unitNet: term.unitNet, termEnd: term.termEnd } : item, sale, target, unitNet: priced.unitNet, percentOff: priced.percentOff });
    }
    // An add-on not named for an existing licence goes on a new licence of the same order, one each.
    for (const l of lines) {
      if (l.sale.plan.kind !== 'addon' || l.target) continue;
      const licences = lines.filter((x) => x.sale.plan.kind === 'perpetual' && x.sale.product.code === l.sale.product.code).reduce((s, x) => s + x.item.quantity, 0);
      const wanted = lines.filter((x) => x.sale.plan.kind === 'addon' && !x.target && x.sale.plan.addon_code === l.sale.plan.addon_code && x.sale.product.code === l.sale.product.code).reduce((s, x) => s + x.item.quantity, 0);
      if (licences === 0) throw new InvalidOrderInput(`${l.sale.plan.name} needs a licence: buy it with a new licence, or from the page of the licence it is for.`);
      if (wanted > licences) throw new InvalidOrderInput(`${l.sale.plan.name}: one per licence, so at most ${licences} with the licences in this order.`);
    }
    const totals = computeTotals(lines.map((l) => ({ unitNet: l.unitNet, quantity: l.item.quantity, percentOff: l.percentOff, rateBp: tax.rateBp })));
    const orderId = newId();
    const b = o.billing;
    await trx.insertInto('orders').values({
      id: orderId, reference: newReference(), customer_id: o.customer.id, status: 'draft', channel: o.channel, reseller_id: o.reseller?.id ?? null,
      placed_by_staff_id: o.placedByStaffId, currency: o.currency, email: o.customer.email, phone: b.phone,
      billing_name: b.name, billing_company: b.company, billing_address_line1: b.line1, billing_address_line2: b.line2, billing_city: b.city,
      billing_region: b.region, billing_postcode: b.postcode, billing_country: tax.country, vat_number: tax.vatNumber,
      tax_treatment: tax.treatment, tax_evidence: JSON.stringify({ ...tax.evidence, rateBp: tax.rateBp, notice: tax.notice }),
      coupon_code: coupon?.code ?? null, total_net: totals.net, total_tax: totals.tax, total_gross: totals.gross, refunded_amount: 0,
      payment_method: o.paymentMethod, checkout_key: o.checkoutKey, checkout_hash: o.checkoutHash, created_at: now, updated_at: now, paid_at: null,
    }).execute();
    await trx.insertInto('order_lines').values(lines.map((l, i) => {
      const t = totals.lines[i]!;
      const s = l.sale;
      return {
        id: newId(), order_id: orderId, line_no: i + 1, plan_id: s.plan.id, sku: s.plan.sku, kind: s.plan.kind,
        description: s.plan.name + (s.edition && s.edition.code !== 'standard' ? ` (${s.edition.name})` : ''),
        product_code: s.product.code, max_users: s.plan.kind === 'addon' ? null : s.tier?.max_users ?? null, addon_code: s.plan.addon_code,
        term_months: s.plan.term_months, quantity: t.quantity, unit_net: t.unitNet, discount: t.discount, net: t.net,
        tax_rate_bp: t.rateBp, tax: t.tax, gross: t.gross, target_licence_id: l.target, licence_ids: '[]', term_start: null, term_end: l.item.termEnd ?? null,
      };
    })).execute();
    await recordCreated(trx, orderId, o.actor, now, o.channel === 'phone' ? 'phone order' : null);
    return orderId;
  }
}
