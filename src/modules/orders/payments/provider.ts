import type { PaymentMethod, PaymentsTable } from '../orders.tables.js';
import type { Actor } from '../state.js';

/**
 * A way to pay. The checkout offers the available ones; `start` moves a draft order to awaiting payment
 * (and says where to send the buyer, if anywhere); `refund` returns money through the same channel.
 * Taking the money is not here: it arrives as staff marking an order paid, or as a verified webhook,
 * and both go through FulfilmentService.markPaid.
 */
export interface PaymentProvider {
  method: PaymentMethod;
  label: string;
  available(): Promise<boolean>;
  start(orderId: string, actor: Actor): Promise<{ redirectUrl: string | null }>;
  /** Returns the provider's refund reference; idempotent per key. */
  refund(payment: PaymentsTable, amount: number, idempotencyKey: string): Promise<string | null>;
}
