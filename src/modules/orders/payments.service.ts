import type { Kernel } from '../../kernel/context.js';
import { newId } from '../../kernel/crypto/tokens.js';
import type { Db } from '../../kernel/db/database.js';
import { isUniqueViolation } from '../../kernel/db/dialect.js';
import { BillingService, billingRepository, printableFromInvoice, renderPdf } from '../billing/index.js';
import { loadStripe, verifyStripeSignature } from './payments/stripe.js';
import type { PaymentProvider } from './payments/provider.js';
import { bankTransferProvider } from './payments/bank-transfer.js';
import { stripeProvider } from './payments/stripe-provider.js';
import { FulfilmentService, lockOrder } from './fulfilment.service.js';
import { orderById } from './orders.repository.js';
import { sendCreditNote } from './orders.mail.js';
import { transition, type Actor } from './state.js';
import type { PaymentMethod } from './orders.tables.js';
import { BadTransition, InvalidOrderInput, OrderNotFound, PaymentMethodUnavailable, RefundTooLarge, WebhookRejected } from './orders.errors.js';

/**
 * Starting payments, taking them, cancelling and refunding, over the providers (payments/provider.ts).
 * Bank transfer: the order waits for staff to mark it paid. Stripe Checkout: fulfilled only when Stripe's
 * signed webhook says it is paid; the buyer's return to the success page proves nothing.
 */
export class PaymentsService {
  readonly providers: PaymentProvider[];

  constructor(private readonly k: Kernel, private readonly fulfilment: FulfilmentService, private readonly billing: BillingService) {
    this.providers = [bankTransferProvider(k), stripeProvider(k)];
  }

  async availableMethods(): Promise<PaymentProvider[]> {
    const out: PaymentProvider[] = [];
    for (const p of this.providers) if (await p.available()) out.push(p);
    return out;
  }

  async checkMethod(raw: unknown): Promise<PaymentMethod> {
    const p = (await this.availableMethods()).find((x) => x.method === raw);
    if (!p) throw new PaymentMethodUnavailable();
    return p.method;
  }

  private provider(method: PaymentMethod): PaymentProvider {
    return this.providers.find((p) => p.method === method)!;
  }

  /** Moves a draft order to awaiting payment through its provider; returns where to send the buyer, if anywhere. */
  async start(orderId: string, actor: Actor): Promise<{ redirectUrl: string | null }> {
    const order = await orderById(this.k.db, orderId);
    if (!order) throw new OrderNotFound();
    return this.provider(order.payment_method).start(orderId, actor);
  }

  async cancel(orderId: string, actor: Actor, note: string | null): Promise<void> {
    await this.k.db.transaction().execute(async (trx) => {
      const o = await lockOrder(this.k, trx, orderId);
      // An order invoiced on account (a reseller's) has an issued invoice and licences: it is not cancelled.
      if (await billingRepository.invoiceForOrder(trx, orderId)) throw new InvalidOrderInput('This order is already invoiced; it cannot be cancelled.');
      await transition(trx, orderId, o.status, 'cancelled', actor, this.k.clock.now(), note);
      await trx.updateTable('payments').set({ status: 'cancelled', updated_at: this.k.clock.now() }).where('order_id', '=', orderId).where('status', '=', 'pending').execute();
    });
  }

  /** Drafts nobody paid for (the buyer left at the review step) are cancelled after a week. */
  async cancelStaleDrafts(): Promise<number> {
    const stale = await this.k.db.selectFrom('orders').select('id').where('status', '=', 'draft').where('created_at', '<', this.k.clock.now() - 7 * 86_400_000).execute();
    let n = 0;
    for (const { id } of stale) {
      try { await this.cancel(id, { kind: 'system', id: null }, 'not confirmed within a week'); n++; } catch { /* moved on meanwhile */ }
    }
    return n;
  }

  /**
   * Refunds part or all of a paid order and issues the credit note, once per idempotency key. Stripe is
   * asked first with the same key, so a retry after a failure here never refunds twice.
   */
  async refund(orderId: string, amount: number, reason: string, staffId: string, key: string): Promise<{ creditNoteNumber: number }> {
    if (!Number.isSafeInteger(amount) || amount <= 0) throw new InvalidOrderInput('Enter an amount to refund.');
    if (!reason.trim()) throw new InvalidOrderInput('Say why the order is refunded (it is printed on the credit note).');
    const prior = await this.priorRefund(this.k.db, orderId, amount, reason, key);
    if (prior) return prior;
    const order = await orderById(this.k.db, orderId);
    if (!order) throw new OrderNotFound();
    if (!['paid', 'fulfilled', 'partly_refunded'].includes(order.status)) throw new BadTransition(order.status.replace('_', ' '), 'refunded');
    if (amount > Number(order.total_gross) - Number(order.refunded_amount)) throw new RefundTooLarge();
    const payment = await this.k.db.selectFrom('payments').selectAll().where('order_id', '=', orderId).where('status', '=', 'succeeded').executeTakeFirst();
    // The provider is asked first, with this refund's key, so a retry after a failure below never refunds twice.
    const providerRef = payment ? await this.provider(payment.provider).refund(payment, amount, key) : null;
    return this.k.db.transaction().execute(async (trx) => {
      const o = await lockOrder(this.k, trx, orderId);
      // The same form sent twice at once: the other request held the order's lock and committed first.
      const done = await this.priorRefund(trx, orderId, amount, reason, key);
      if (done) return done;
      const left = Number(o.total_gross) - Number(o.refunded_amount);
      if (amount > left) throw new RefundTooLarge();
      const invoice = await billingRepository.invoiceForOrder(trx, orderId);
      if (!invoice) throw new InvalidOrderInput('This order has no invoice to credit.');
      const now = this.k.clock.now();
      const refundId = newId();
      const note = await this.billing.issueCreditNote(trx, { invoiceId: invoice.id, refundId, amount, reason: reason.trim() });
      await trx.insertInto('refunds').values({ id: refundId, order_id: orderId, payment_id: payment?.id ?? null, amount, reason: reason.trim().slice(0, 500), provider_ref: providerRef, credit_note_id: note.id, idempotency_key: key, created_by: staffId, created_at: now }).execute();
      await trx.updateTable('orders').set({ refunded_amount: Number(o.refunded_amount) + amount, updated_at: now }).where('id', '=', orderId).execute();
      await transition(trx, orderId, o.status, amount === left ? 'refunded' : 'partly_refunded', { kind: 'staff', id: staffId }, now, `refund ${amount} ${o.currency}; credit note ${note.number}`);
      const pdf = await renderPdf(printableFromInvoice((await billingRepository.invoiceById(trx, note.id))!));
      await sendCreditNote(this.k, trx, o, { number: note.number, pdf, amount });
      await this.k.audit.record({ actorKind: 'staff', actorId: staffId, action: 'order.refunded', target: orderId, detail: { amount, creditNote: note.number } }, trx);
      return { creditNoteNumber: note.number };
    }).catch(async (err: unknown) => {
      // Its twin committed between our look and our insert (SQLite runs them one after the other).
      if (isUniqueViolation(err)) {
        const done = await this.priorRefund(this.k.db, orderId, amount, reason, key);
        if (done) return done;
      }
      throw err;
    });
  }

  /** The refund this form's key already made, as its answer; refused when the key was used otherwise. */
  private async priorRefund(db: Db, orderId: string, amount: number, reason: string, key: string): Promise<{ creditNoteNumber: number } | null> {
    const prior = await db.selectFrom('refunds').select(['credit_note_id', 'order_id', 'amount', 'reason']).where('idempotency_key', '=', key).executeTakeFirst();
    if (!prior) return null;
    if (prior.order_id !== orderId) throw new InvalidOrderInput('This refund form was already used for another order.');
    // A key stands for one request: the same key with another amount or reason is not a retry of it.
    if (Number(prior.amount) !== amount || prior.reason !== reason.trim().slice(0, 500)) {
      throw new InvalidOrderInput('This refund form was already sent with another amount or reason, and that refund is done. Open the order again to refund more.');
    }
    const doc = await billingRepository.invoiceById(db, prior.credit_note_id!);
    return { creditNoteNumber: Number(doc!.number) };
  }

  /**
   * A Stripe webhook: signature and age checked on the raw body, then the event id is recorded in the
   * same transaction as its effect, so a retried or replayed event is handled once.
   */
  async handleStripeWebhook(rawBody: Buffer, signature: unknown): Promise<{ handled: boolean; duplicate: boolean }> {
    const stripe = await loadStripe(this.k);
    if (!stripe) throw new WebhookRejected('Stripe is not configured');
    verifyStripeSignature(signature, rawBody, stripe.webhookSecret, this.k.clock.now());
    let event: { id?: unknown; type?: unknown; data?: { object?: Record<string, unknown> } } | null;
    try { event = JSON.parse(rawBody.toString('utf8')); } catch { throw new WebhookRejected('the body is not JSON'); }
    if (typeof event !== 'object' || event === null || Array.isArray(event)) throw new WebhookRejected('the body is not a JSON object');
    if (typeof event.id !== 'string' || typeof event.type !== 'string' || event.id.length > 255) throw new WebhookRejected('no event id or type');
    const obj = event.data?.object ?? {};
    const isPaid = (event.type === 'checkout.session.completed' && obj.payment_status === 'paid') || event.type === 'checkout.session.async_payment_succeeded';
    return this.k.db.transaction().execute(async (trx) => {
      const payment = typeof obj.id === 'string'
        ? await trx.selectFrom('payments').select(['order_id']).where('provider', '=', 'stripe').where('provider_ref', '=', obj.id).executeTakeFirst()
        : undefined;
      const ins = await trx.insertInto('payment_events').values({ provider: 'stripe', event_id: event.id as string, type: event.type as string, order_id: payment?.order_id ?? null, received_at: this.k.clock.now() })
        .onConflict((oc) => oc.columns(['provider', 'event_id']).doNothing()).executeTakeFirst();
      if (Number(ins.numInsertedOrUpdatedRows ?? 0) === 0) return { handled: false, duplicate: true };
      if (!isPaid || !payment) return { handled: false, duplicate: false };
      const providerPaymentRef = typeof obj.payment_intent === 'string' ? obj.payment_intent : null;
      // The card money arrived: its payment row says so, whatever became of the order meanwhile. 0 when
      // this session's payment was recorded already (a second event type for the same payment).
      const received = async () => Number((await trx.updateTable('payments').set({ status: 'succeeded', provider_payment_ref: providerPaymentRef, updated_at: this.k.clock.now() })
        .where('provider', '=', 'stripe').where('provider_ref', '=', obj.id as string).where('status', '=', 'pending').executeTakeFirst()).numUpdatedRows);
      // Money for an order that was cancelled meanwhile: keep the event (Stripe must stop retrying) and
      // tell staff (audit log, order page); they refund it or reinstate the sale by hand.
      const current = await trx.selectFrom('orders').select('status').where('id', '=', payment.order_id).executeTakeFirst();
      if (current?.status === 'cancelled') {
        await received();
        await this.k.audit.record({ actorKind: 'system', action: 'order.paid_after_cancel', target: payment.order_id, detail: { event: event.id, amount: Number(obj.amount_total) } }, trx);
        return { handled: false, duplicate: false };
      }
      const outcome = await this.fulfilment.markPaidInTrx(trx, payment.order_id, { kind: 'provider', id: null }, {
        provider: 'stripe', providerRef: obj.id as string, providerPaymentRef,
        amount: Number(obj.amount_total), currency: String(obj.currency ?? ''), note: `stripe event ${event.id}`,
      });
      // Paid already by other means (staff marked a bank transfer paid while the buyer also paid by card):
      // the second payment is recorded and flagged, never dropped; staff refund one of them.
      if (outcome === 'already' && (await received()) > 0) {
        await this.k.audit.record({ actorKind: 'system', action: 'order.paid_twice', target: payment.order_id, detail: { event: event.id, amount: Number(obj.amount_total) } }, trx);
      }
      return { handled: true, duplicate: false };
    });
  }
}
