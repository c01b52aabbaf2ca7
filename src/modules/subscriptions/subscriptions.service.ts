import type { Transaction } from 'kysely';
import type { Kernel } from '../../kernel/context.js';
import type { Database } from '../../kernel/db/schema.js';
import type { Db } from '../../kernel/db/database.js';
import { newId } from '../../kernel/crypto/tokens.js';
import { renderEmail } from '../../kernel/mail/template.js';
import { formatDate, loadBrandIn } from '../billing/index.js';
import { accountsRepository } from '../accounts/index.js';
import type { LicenceIssuer, OrdersModule, TermHooks } from '../orders/index.js';
import { DAY_MS, dueReminder, entitlementEnd, proRata, renewalStart, statusAt, type SubscriptionStatus } from './rules.js';
import { loadRenewalSettings, parseGraceDays, RENEWALS_SETTING } from './subscriptions.settings.js';
import type { RenewalMode, SubscriptionsTable } from './subscriptions.tables.js';
import { InvalidSubscriptionInput, SubscriptionNotFound } from './subscriptions.errors.js';
import { renewalAwaitingPayment } from './awaiting-payment.js';

type Trx = Transaction<Database>;

export interface SubscriptionView extends SubscriptionsTable {
  status: SubscriptionStatus;
  /** What the licence carries (add-ons: the paid end plus the grace period). */
  entitledUntil: number;
}

const term = (s: SubscriptionsTable) => ({ periodEnd: Number(s.period_end), cancelAtPeriodEnd: s.cancel_at_period_end === 1 });

export function describeItem(s: Pick<SubscriptionsTable, 'item' | 'addon_code'>): string {
  return s.item === 'support' ? 'Support and updates' : `Add-on: ${s.addon_code}`;
}

/**
 * Subscriptions are made and moved by paid orders (the `fulfilled` hook, inside the payment's
 * transaction), so a period exists if and only if its payment committed. Reminders, cancellation at
 * period end and the renewal mode are the customer's and the vendor's controls on top.
 */
export class SubscriptionsService {
  orders: OrdersModule | null = null;

  constructor(private readonly k: Kernel, private readonly issuer: LicenceIssuer) {}

  async graceDays(db?: Db): Promise<number> {
    return (await loadRenewalSettings(this.k.settings, db)).graceDays;
  }

  async setGraceDays(raw: string | undefined, staffId: string): Promise<number> {
    const graceDays = parseGraceDays(raw);
    await this.k.settings.set(RENEWALS_SETTING, { graceDays }, staffId);
    await this.k.audit.record({ actorKind: 'staff', actorId: staffId, action: 'subscriptions.grace.set', target: null, detail: { graceDays } });
    await this.syncEntitlements();
    return graceDays;
  }

  view(s: SubscriptionsTable, now: number, graceDays: number): SubscriptionView {
    return { ...s, status: statusAt(term(s), now, graceDays), entitledUntil: s.item === 'support' ? Number(s.period_end) : entitlementEnd(term(s), graceDays) };
  }

  /** Hooks orders calls while fulfilling (orders/terms.ts). */
  readonly terms: TermHooks = {
    renewalStart: async (trx, licenceId, item, now) => {
      const s = await trx.selectFrom('subscriptions').selectAll().where('licence_id', '=', licenceId).where('item', '=', item).executeTakeFirst();
      if (!s) return null;
      const start = renewalStart(term(s), now, await this.graceDays(trx));
      if (item !== 'support') return start;
      // Staff may have extended maintenance past the paid end (goodwill): a renewal adds its year after that.
      const maintained = (await this.issuer.find(trx, licenceId))?.maintenanceUntil ?? null;
      return maintained !== null && maintained > start ? maintained : start;
    },
    fulfilled: (trx, orderId) => this.recordOrder(trx, orderId),
    priceForLicence: async (db, line) => {
      const subs = await db.selectFrom('subscriptions').selectAll().where('licence_id', '=', line.licenceId).execute();
      const support = subs.find((s) => s.item === 'support');
      if (!support || line.now >= Number(support.period_end)) return null;
      if (line.kind === 'addon') {
        // An add-on that is still running is being renewed: a full term from its end, at the full price.
        const running = subs.find((s) => s.item === `addon:${line.addonCode}`);
        if (running && statusAt(term(running), line.now, await this.graceDays(db)) !== 'expired') return null;
      }
      const p = proRata(line.fullPrice, line.now, Number(support.period_start), Number(support.period_end));
      return { unitNet: p.unitNet, termEnd: line.kind === 'addon' ? Number(support.period_end) : null };
    },
  };

  /** Makes or moves the subscriptions an order's lines bought, and puts the add-ons' entitlement on the licences. */
  async recordOrder(trx: Trx, orderId: string): Promise<void> {
    const order = await trx.selectFrom('orders').select(['id', 'customer_id', 'currency', 'payment_method']).where('id', '=', orderId).executeTakeFirstOrThrow();
    const lines = await trx.selectFrom('order_lines').selectAll().where('order_id', '=', orderId).orderBy('line_no').execute();
    const now = this.k.clock.now();
    const grace = await this.graceDays(trx);
    for (const l of lines) {
      if (l.kind === 'upgrade' || l.term_start === null || l.term_end === null) continue;
      const item = l.kind === 'addon' ? `addon:${l.addon_code}` : 'support';
      for (const licenceId of JSON.parse(l.licence_ids) as string[]) {
        const existing = await trx.selectFrom('subscriptions').selectAll().where('licence_id', '=', licenceId).where('item', '=', item).executeTakeFirst();
        const start = Number(l.term_start);
        const end = Number(l.term_end);
        let row: SubscriptionsTable;
        if (existing) {
          await trx.updateTable('subscriptions').set({ period_start: start, period_end: end, last_order_id: orderId, cancel_at_period_end: 0, currency: order.currency, updated_at: now })
            .where('id', '=', existing.id).execute();
          row = { ...existing, period_start: start, period_end: end, last_order_id: orderId, cancel_at_period_end: 0, currency: order.currency, updated_at: now };
        } else {
          row = {
            id: newId(), customer_id: order.customer_id, licence_id: licenceId, item, product_code: l.product_code, addon_code: l.kind === 'addon' ? l.addon_code : null,
            currency: order.currency, period_start: start, period_end: end, renewal_mode: order.payment_method === 'stripe' ? 'card' : 'invoice',
            cancel_at_period_end: 0, last_order_id: orderId, created_at: now, updated_at: now,
          };
          await trx.insertInto('subscriptions').values(row).execute();
        }
        await this.applyToLicence(trx, row, grace);
      }
    }
  }

  /** Support: maintenance runs to the paid end (orders set it). Add-ons: the licence carries the entitlement end. */
  private async applyToLicence(trx: Trx, s: SubscriptionsTable, graceDays: number): Promise<void> {
    if (s.item === 'support' || !s.addon_code) return;
    await this.issuer.setAddon(trx, s.licence_id, { code: s.addon_code, until: entitlementEnd(term(s), graceDays) });
  }

  /**
   * Re-applies every add-on's entitlement (after the grace period changes); idempotent. Only moves the
   * end of an add-on the licence still has: one that staff took off stays off.
   */
  async syncEntitlements(): Promise<number> {
    const grace = await this.graceDays();
    const subs = await this.k.db.selectFrom('subscriptions').selectAll().where('item', '<>', 'support').execute();
    let n = 0;
    for (const s of subs) {
      const lic = await this.issuer.find(this.k.db, s.licence_id);
      const want = entitlementEnd(term(s), grace);
      const held = lic?.addons.find((a) => a.code === s.addon_code);
      if (!held || held.until === want) continue;
      await this.k.db.transaction().execute((trx) => this.applyToLicence(trx, s, grace));
      n++;
    }
    return n;
  }

  async listForCustomer(customerId: string): Promise<SubscriptionView[]> {
    const [rows, grace] = await Promise.all([
      this.k.db.selectFrom('subscriptions').selectAll().where('customer_id', '=', customerId).orderBy('period_end').orderBy('id').execute(),
      this.graceDays(),
    ]);
    return rows.map((r) => this.view(r, this.k.clock.now(), grace));
  }

  /** The customer's own subscription; anyone else's is "not found" (no hint that it exists). */
  async own(customerId: string, id: string, db: Db = this.k.db): Promise<SubscriptionView> {
    const s = await db.selectFrom('subscriptions').selectAll().where('id', '=', id).executeTakeFirst();
    if (!s || s.customer_id !== customerId) throw new SubscriptionNotFound();
    return this.view(s, this.k.clock.now(), await this.graceDays(db));
  }

  /** Cancel at period end (no grace, no reminders) or resume; the add-on's entitlement follows at once. */
  async setCancelAtPeriodEnd(customerId: string, id: string, cancel: boolean): Promise<SubscriptionView> {
    const s = await this.own(customerId, id);
    if (s.status === 'expired') throw new InvalidSubscriptionInput('This subscription has already ended: renew it instead.');
    await this.k.db.transaction().execute(async (trx) => {
      const now = this.k.clock.now();
      await trx.updateTable('subscriptions').set({ cancel_at_period_end: cancel ? 1 : 0, updated_at: now }).where('id', '=', id).execute();
      await this.applyToLicence(trx, { ...s, cancel_at_period_end: cancel ? 1 : 0 }, await this.graceDays(trx));
      await this.k.audit.record({ actorKind: 'customer', actorId: customerId, action: cancel ? 'subscriptions.cancel_at_period_end' : 'subscriptions.resume', target: id, detail: {} }, trx);
    });
    return this.own(customerId, id);
  }

  async setMode(customerId: string, id: string, raw: string | undefined): Promise<void> {
    await this.own(customerId, id);
    if (raw !== 'card' && raw !== 'invoice') throw new InvalidSubscriptionInput('Choose card or invoice.');
    await this.k.db.updateTable('subscriptions').set({ renewal_mode: raw as RenewalMode, updated_at: this.k.clock.now() }).where('id', '=', id).execute();
  }

  /**
   * Sends the reminders due now. Each (subscription, period end, days before) is claimed by inserting
   * its ledger row in the same transaction as the email goes into the outbox: a second node (or a second
   * run) meets the primary key and sends nothing. Returns how many were sent by this call.
   */
  async runReminders(): Promise<number> {
    const now = this.k.clock.now();
    const grace = await this.graceDays();
    const candidates = await this.k.db.selectFrom('subscriptions').selectAll()
      .where('cancel_at_period_end', '=', 0)
      .where('period_end', '<=', now + 31 * DAY_MS)
      .where('period_end', '>', now - (Math.max(grace, 1) + 1) * DAY_MS)
      .orderBy('period_end').execute();
    let sent = 0;
    for (const s of candidates) {
      const days = dueReminder(term(s), now, grace);
      if (days === null) continue;
      const did = await this.k.db.transaction().execute(async (trx) => {
        const claim = await trx.insertInto('subscription_reminders').values({ subscription_id: s.id, period_end: s.period_end, days_before: days, sent_at: now })
          .onConflict((oc) => oc.columns(['subscription_id', 'period_end', 'days_before']).doNothing()).executeTakeFirst();
        if (Number(claim.numInsertedOrUpdatedRows ?? 0n) !== 1) return false;
        await this.sendReminder(trx, s, days, grace);
        return true;
      });
      if (did) sent++;
    }
    return sent;
  }

  private async sendReminder(trx: Trx, s: SubscriptionsTable, days: number, grace: number): Promise<void> {
    const customer = await accountsRepository.customerById(trx, s.customer_id);
    if (!customer || customer.closed_at !== null) return;
    const lic = await this.issuer.find(trx, s.licence_id);
    // A suspended or revoked licence is the vendor's decision: no invitation to pay for it.
    if (lic && lic.status !== 'active') return;
    const waiting = await renewalAwaitingPayment(trx, s.customer_id, s.licence_id, s.item);
    const brand = await loadBrandIn(this.k.settings, trx);
    const what = `${describeItem(s)} for licence ${lic?.label ?? ''}`.trim();
    const end = formatDate(Number(s.period_end));
    const heading = days === 0 ? `${describeItem(s)} has ended` : `${describeItem(s)} ends in ${days} days`;
    const lead = days === 0
      ? `${what} ended on ${end}.${grace > 0 ? ` It keeps working for ${grace} more days; renew before then to carry on without a gap.` : ''}`
      : `${what} ends on ${end}. Renewing now adds a full term from that date, so you lose nothing by renewing early.`;
    const { text, html } = renderEmail({
      brandName: brand.name, heading,
      paragraphs: [`Hello ${customer.name},`, lead, waiting
        ? `Your renewal, order ${waiting.reference}, is waiting for its payment: the new term starts as soon as it arrives.`
        : s.renewal_mode === 'card' ? 'You can renew by card in a minute.' : 'You can renew and pay by bank transfer against a pro forma invoice.'],
      action: waiting
        ? { label: 'See the order and how to pay', url: `${this.k.config.publicUrl}/account/orders/${waiting.id}` }
        : { label: 'Renew now', url: `${this.k.config.publicUrl}/account/subscriptions/${s.id}/renew` },
      reason: 'You are receiving this email because you have a subscription with us that is due for renewal. To stop these reminders, choose "Cancel at period end" in My account.',
      stop: { label: 'Manage your subscriptions', url: `${this.k.config.publicUrl}/account/subscriptions` },
      senderAddress: brand.address,
    });
    await this.k.mail.send({ to: customer.email, subject: `${heading} (${end})`, text, html, category: 'renewal' }, trx);
  }
}
