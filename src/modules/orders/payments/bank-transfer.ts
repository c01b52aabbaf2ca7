import type { Kernel } from '../../../kernel/context.js';
import { newId } from '../../../kernel/crypto/tokens.js';
import { lockOrder } from '../fulfilment.service.js';
import { orderLines } from '../orders.repository.js';
import { sendProforma } from '../orders.mail.js';
import { transition } from '../state.js';
import type { PaymentProvider } from './provider.js';

/** Bank transfer / pay by invoice: the buyer gets a pro forma with the bank details; staff mark the order paid. */
export function bankTransferProvider(k: Kernel): PaymentProvider {
  return {
    method: 'bank_transfer',
    label: 'Bank transfer (pay by invoice)',
    available: async () => true,
    async start(orderId, actor) {
      await k.db.transaction().execute(async (trx) => {
        const o = await lockOrder(k, trx, orderId);
        if (o.status !== 'draft') return;
        const now = k.clock.now();
        await transition(trx, orderId, 'draft', 'awaiting_payment', actor, now, 'bank transfer: pro forma sent');
        await trx.insertInto('payments').values({ id: newId(), order_id: orderId, provider: 'bank_transfer', provider_ref: null, provider_payment_ref: null, status: 'pending', amount: Number(o.total_gross), currency: o.currency, created_at: now, updated_at: now }).execute();
        await sendProforma(k, trx, o, await orderLines(trx, orderId));
      });
      return { redirectUrl: null };
    },
    // The money goes back by the vendor's own bank; the refund and credit note are recorded here.
    async refund() { return null; },
  };
}
