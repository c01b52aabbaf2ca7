import type { Kernel } from '../../../kernel/context.js';
import { newId } from '../../../kernel/crypto/tokens.js';
import { lockOrder } from '../fulfilment.service.js';
import { orderById, orderLines } from '../orders.repository.js';
import { transition } from '../state.js';
import { InvalidOrderInput, OrderNotFound, PaymentMethodUnavailable } from '../orders.errors.js';
import { loadStripe, StripeClient } from './stripe.js';
import type { PaymentProvider } from './provider.js';

/**
 * Stripe Checkout: a session is created over Stripe's API (Idempotency-Key = the order id, so a retry
 * gets the same session), then recorded. The order is fulfilled only by the verified webhook.
 */
export function stripeProvider(k: Kernel): PaymentProvider {
  const client = async () => {
    const s = await loadStripe(k);
    if (!s) throw new PaymentMethodUnavailable();
    return new StripeClient(s.apiBase, s.secretKey);
  };
  return {
    method: 'stripe',
    label: 'Card (Stripe Checkout)',
    available: async () => (await loadStripe(k)) !== null,
    async start(orderId, actor) {
      const order = await orderById(k.db, orderId);
      if (!order) throw new OrderNotFound();
      if (order.status !== 'draft' && order.status !== 'awaiting_payment') return { redirectUrl: null };
      const lines = await orderLines(k.db, orderId);
      const base = k.config.publicUrl;
      // One line for the whole order: the VAT was decided here, and Stripe must charge exactly our total.
      // Only the fields declared as shared with the payments processor go: email, amount, order reference.
      const session = await (await client()).createCheckoutSession({
        mode: 'payment', client_reference_id: order.id, customer_email: order.email,
        success_url: `${base}/shop/thanks/${order.id}`, cancel_url: `${base}/checkout/review/${order.id}`,
        metadata: { order_id: order.id, reference: order.reference },
        line_items: [{ quantity: 1, price_data: { currency: order.currency.toLowerCase(), unit_amount: Number(order.total_gross), product_data: { name: `Order ${order.reference}`, description: lines.map((l) => `${l.quantity} × ${l.description}`).join('; ').slice(0, 500) } } }],
      }, `checkout-session-${order.id}`);
      if (session.amount_total !== undefined && session.amount_total !== Number(order.total_gross)) throw new InvalidOrderInput('The payment provider returned a different amount.');
      await k.db.transaction().execute(async (trx) => {
        const o = await lockOrder(k, trx, orderId);
        const now = k.clock.now();
        await trx.insertInto('payments').values({ id: newId(), order_id: orderId, provider: 'stripe', provider_ref: session.id, provider_payment_ref: null, status: 'pending', amount: Number(o.total_gross), currency: o.currency, created_at: now, updated_at: now })
          .onConflict((oc) => oc.columns(['provider', 'provider_ref']).doNothing()).execute();
        if (o.status === 'draft') await transition(trx, orderId, 'draft', 'awaiting_payment', actor, now, `stripe session ${session.id}`);
      });
      return { redirectUrl: session.url };
    },
    async refund(payment, amount, key) {
      if (!payment.provider_payment_ref) throw new InvalidOrderInput('This card payment has no Stripe payment reference to refund.');
      return (await (await client()).createRefund({ payment_intent: payment.provider_payment_ref, amount }, `refund-${key}`)).id;
    },
  };
}
