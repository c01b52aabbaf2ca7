import type { Transaction } from 'kysely';
import type { Kernel } from '../../kernel/context.js';
import { addMonths } from '../../kernel/clock.js';
import type { Database } from '../../kernel/db/schema.js';
import { lockForUpdate } from '../../kernel/db/dialect.js';
import { newId } from '../../kernel/crypto/tokens.js';
import { BillingService, billingRepository, printableFromInvoice, renderPdf } from '../billing/index.js';
import { productByCode } from '../catalog/index.js';
import type { LicenceIssuer } from './licence-issuer.js';
import type { TermHooks } from './terms.js';
import type { OrderLinesTable, OrdersTable, PaymentMethod } from './orders.tables.js';
import { transition, type Actor } from './state.js';
import { orderLines } from './orders.repository.js';
import { addressLines } from './billing-form.js';
import { billingOf, ratesOf, sendInvoiceAndKeys } from './orders.mail.js';
import { InvalidOrderInput, OrderNotFound } from './orders.errors.js';

type Trx = Transaction<Database>;

export interface ReceivedPayment {
  provider: PaymentMethod;
  /** Stripe Checkout Session id; null for a bank transfer. */
  providerRef: string | null;
  providerPaymentRef: string | null;
  amount: number;
  currency: string;
  note: string | null;
}

export async function lockOrder(k: Kernel, trx: Trx, orderId: string): Promise<OrdersTable> {
  const order = await lockForUpdate(trx.selectFrom('orders').selectAll().where('id', '=', orderId), k.flags).executeTakeFirst();
  if (!order) throw new OrderNotFound();
  return order;
}

/**
 * What happens when money arrives, all in the payment's one transaction: the order becomes paid, the
 * invoice is numbered and issued, licences are issued or changed, the order becomes fulfilled, and the
 * email with the invoice PDF and the keys is queued. Either all of it commits or none of it does; the
 * order row is locked first, so a second delivery of the same payment finds it paid and does nothing.
 */
export class FulfilmentService {
  constructor(private readonly k: Kernel, private readonly billing: BillingService, private readonly issuer: LicenceIssuer, private readonly terms: TermHooks | null = null) {}

  async markPaid(orderId: string, actor: Actor, pay: ReceivedPayment): Promise<'paid' | 'already'> {
    return this.k.db.transaction().execute((trx) => this.markPaidInTrx(trx, orderId, actor, pay));
  }

  async markPaidInTrx(trx: Trx, orderId: string, actor: Actor, pay: ReceivedPayment): Promise<'paid' | 'already'> {
    const order = await lockOrder(this.k, trx, orderId);
    if (['paid', 'fulfilled', 'refunded', 'partly_refunded'].includes(order.status)) return 'already';
    if (pay.amount !== Number(order.total_gross) || pay.currency.toUpperCase() !== order.currency) {
      throw new InvalidOrderInput(`The payment (${pay.amount} ${pay.currency}) does not match the order total (${order.total_gross} ${order.currency}).`);
    }
    const now = this.k.clock.now();
    if (order.status === 'draft') await transition(trx, orderId, 'draft', 'awaiting_payment', actor, now);
    await transition(trx, orderId, 'awaiting_payment', 'paid', actor, now, pay.note, { paid_at: now });
    const pending = await trx.selectFrom('payments').select('id').where('order_id', '=', orderId).where('provider', '=', pay.provider).where('status', '=', 'pending').executeTakeFirst();
    if (pending) {
      await trx.updateTable('payments').set({ status: 'succeeded', provider_payment_ref: pay.providerPaymentRef, updated_at: now }).where('id', '=', pending.id).execute();
    } else {
      await trx.insertInto('payments').values({
        id: newId(), order_id: orderId, provider: pay.provider, provider_ref: pay.providerRef, provider_payment_ref: pay.providerPaymentRef,
        status: 'succeeded', amount: pay.amount, currency: order.currency, created_at: now, updated_at: now,
      }).execute();
    }
    const lines = await orderLines(trx, orderId);
    const issued = await this.billing.issueInvoice(trx, this.invoiceDraft(order, lines, now, pay.provider === 'stripe' ? 'Paid by card. Thank you.' : 'Paid by bank transfer. Thank you.'));
    // An order invoiced on account (a reseller on payment terms) already has its invoice and licences.
    if (!issued.created && lines.some((l) => l.licence_ids !== '[]')) {
      await transition(trx, orderId, 'paid', 'fulfilled', { kind: 'system', id: null }, now, 'invoiced on account; paid');
      await this.k.audit.record({ actorKind: actor.kind === 'staff' ? 'staff' : 'system', actorId: actor.id, action: 'order.paid', target: orderId, detail: { provider: pay.provider, invoice: issued.number, onAccount: true } }, trx);
      return 'paid';
    }
    const { keys, changes } = await this.fulfilLines(trx, order, lines, now);
    if (this.terms) await this.terms.fulfilled(trx, orderId);
    await transition(trx, orderId, 'paid', 'fulfilled', { kind: 'system', id: null }, now);
    const invoice = (await billingRepository.invoiceById(trx, issued.id))!;
    const pdf = await renderPdf(printableFromInvoice(invoice));
    await sendInvoiceAndKeys(this.k, trx, order, { number: issued.number, pdf }, keys, changes);
    await this.k.audit.record({ actorKind: actor.kind === 'staff' ? 'staff' : 'system', actorId: actor.id, action: 'order.paid', target: orderId, detail: { provider: pay.provider, invoice: issued.number } }, trx);
    return 'paid';
  }

  private invoiceDraft(order: OrdersTable, lines: OrderLinesTable[], taxPoint: number, paymentNote: string) {
    return {
      orderId: order.id, orderReference: order.reference, customerId: order.customer_id, currency: order.currency,
      buyer: { name: order.billing_name, company: order.billing_company, addressLines: addressLines(billingOf(order)), country: order.billing_country, vatNumber: order.vat_number, email: order.email },
      taxTreatment: order.tax_treatment, notice: (JSON.parse(order.tax_evidence) as { notice?: string | null }).notice ?? null,
      lines: lines.map((l) => ({ sku: l.sku, description: l.description, quantity: l.quantity, unitNet: Number(l.unit_net), discount: Number(l.discount), net: Number(l.net), rateBp: l.tax_rate_bp, tax: Number(l.tax) })),
      byRate: ratesOf(lines), totals: { net: Number(order.total_net), tax: Number(order.total_tax), gross: Number(order.total_gross) },
      taxPoint, paymentNote,
    };
  }

  /**
   * An order on payment terms (a reseller's account): the invoice is issued now with its due date, the
   * licences are issued now, and the order waits for payment, which markPaid records later without
   * issuing anything twice. In the caller's transaction, so the caller's own records commit with it.
   */
  async fulfilOnAccountInTrx(trx: Trx, orderId: string, actor: Actor, termsDays: number): Promise<{ invoiceId: string; invoiceNumber: number }> {
    if (!Number.isInteger(termsDays) || termsDays < 1 || termsDays > 120) throw new InvalidOrderInput('Payment terms are 1 to 120 days.');
    const order = await lockOrder(this.k, trx, orderId);
    if (order.status !== 'draft' && order.status !== 'awaiting_payment') throw new InvalidOrderInput('Only an unpaid order can be invoiced on account.');
    const now = this.k.clock.now();
    if (order.status === 'draft') await transition(trx, orderId, 'draft', 'awaiting_payment', actor, now, `invoiced on account, ${termsDays} days`);
    const lines = await orderLines(trx, orderId);
    const due = new Date(now + termsDays * 86_400_000).toISOString().slice(0, 10);
    const issued = await this.billing.issueInvoice(trx, this.invoiceDraft(order, lines, now, `Payment due within ${termsDays} days, by ${due}. Please quote the invoice number.`));
    if (!issued.created) throw new InvalidOrderInput('This order is already invoiced.');
    const { keys, changes } = await this.fulfilLines(trx, order, lines, now);
    // The terms start now, with the licences, as for a paid order (markPaid later issues nothing again).
    if (this.terms) await this.terms.fulfilled(trx, orderId);
    const invoice = (await billingRepository.invoiceById(trx, issued.id))!;
    const pdf = await renderPdf(printableFromInvoice(invoice));
    await sendInvoiceAndKeys(this.k, trx, order, { number: issued.number, pdf }, keys, changes);
    await this.k.audit.record({ actorKind: actor.kind === 'staff' ? 'staff' : actor.kind === 'customer' ? 'customer' : 'system', actorId: actor.id, action: 'order.invoiced_on_account', target: orderId, detail: { invoice: issued.number, termsDays } }, trx);
    return { invoiceId: issued.id, invoiceNumber: issued.number };
  }

  /** Perpetual lines issue licences (with the order's add-ons riding along); the rest change the named licence. */
  private async fulfilLines(trx: Trx, order: OrdersTable, lines: OrderLinesTable[], now: number) {
    const keys: Array<{ description: string; key: string }> = [];
    const changes: string[] = [];
    const done = async (l: OrderLinesTable, ids: string[], start: number | null, end: number | null) => {
      await trx.updateTable('order_lines').set({ licence_ids: JSON.stringify(ids), term_start: start, term_end: end }).where('id', '=', l.id).execute();
    };
    // Add-ons bought with new licences ride along: each unit of an add-on line goes on one new licence.
    const addonLeft = new Map(lines.filter((a) => a.kind === 'addon' && !a.target_licence_id).map((a) => [a.id, a.quantity]));
    const addonOn = new Map<string, string[]>();
    for (const l of lines.filter((x) => x.kind === 'perpetual')) {
      const productName = (await productByCode(trx, l.product_code))?.name;
      const maintenanceUntil = addMonths(now, l.term_months ?? 12);
      const ids: string[] = [];
      for (let i = 0; i < l.quantity; i++) {
        const riding = lines.filter((a) => (addonLeft.get(a.id) ?? 0) > 0 && a.product_code === l.product_code);
        const r = await this.issuer.issue(trx, {
          productCode: l.product_code, productName, maxUsers: l.max_users, maxMachines: null, maintenanceUntil,
          addons: riding.map((a) => ({ code: a.addon_code!, until: addMonths(now, a.term_months ?? 12) })),
          customerId: order.customer_id, customerEmail: order.email, orderId: order.id,
        });
        for (const a of riding) { addonLeft.set(a.id, addonLeft.get(a.id)! - 1); addonOn.set(a.id, [...(addonOn.get(a.id) ?? []), r.licenceId]); }
        ids.push(r.licenceId);
        keys.push({ description: l.description, key: r.key });
      }
      await done(l, ids, now, maintenanceUntil);
    }
    for (const l of lines.filter((x) => x.kind !== 'perpetual')) {
      if (!l.target_licence_id) {
        await done(l, addonOn.get(l.id) ?? [], now, addMonths(now, l.term_months ?? 12));
        continue;
      }
      const lic = await this.issuer.find(trx, l.target_licence_id);
      if (!lic) throw new InvalidOrderInput('A licence named in this order no longer exists.');
      if (l.kind === 'upgrade') {
        await this.issuer.raiseTier(trx, lic.licenceId, { maxUsers: l.max_users });
        changes.push(`${lic.label}: now ${l.max_users === null ? 'unlimited' : l.max_users} users`);
        await done(l, [lic.licenceId], now, null);
      } else if (l.kind === 'renewal') {
        // Renewing early extends from the current end, not from today.
        const start = (await this.terms?.renewalStart(trx, lic.licenceId, 'support', now)) ?? Math.max(now, lic.maintenanceUntil ?? 0);
        const until = addMonths(start, l.term_months ?? 12);
        await this.issuer.extendMaintenance(trx, lic.licenceId, { until });
        changes.push(`${lic.label}: support and updates until ${new Date(until).toISOString().slice(0, 10)}`);
        await done(l, [lic.licenceId], start, until);
      } else {
        const current = lic.addons.find((a) => a.code === l.addon_code)?.until ?? 0;
        // A line priced to end with the licence's current support term (pro rata) carries that end already.
        const coTerm = l.term_end === null ? null : Number(l.term_end);
        const start = coTerm !== null ? now : (await this.terms?.renewalStart(trx, lic.licenceId, `addon:${l.addon_code}`, now)) ?? Math.max(now, current ?? 0);
        const until = coTerm ?? addMonths(start, l.term_months ?? 12);
        await this.issuer.setAddon(trx, lic.licenceId, { code: l.addon_code!, until });
        changes.push(`${lic.label}: ${l.description} until ${new Date(until).toISOString().slice(0, 10)}`);
        await done(l, [lic.licenceId], start, until);
      }
    }
    return { keys, changes };
  }
}
