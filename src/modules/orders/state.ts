import type { Transaction } from 'kysely';
import type { Database } from '../../kernel/db/schema.js';
import { newId } from '../../kernel/crypto/tokens.js';
import type { OrderStatus, OrderTransitionsTable } from './orders.tables.js';
import { BadTransition } from './orders.errors.js';

/** The order state machine as a table: from each status, where it may go. */
export const TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
  draft: ['awaiting_payment', 'cancelled'],
  awaiting_payment: ['paid', 'cancelled'],
  paid: ['fulfilled', 'partly_refunded', 'refunded'],
  fulfilled: ['partly_refunded', 'refunded'],
  partly_refunded: ['partly_refunded', 'refunded'],
  cancelled: [],
  refunded: [],
};

export const STATUS_LABEL: Record<OrderStatus, string> = {
  draft: 'Draft', awaiting_payment: 'Awaiting payment', paid: 'Paid', fulfilled: 'Fulfilled',
  cancelled: 'Cancelled', refunded: 'Refunded', partly_refunded: 'Partly refunded',
};

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export interface Actor { kind: OrderTransitionsTable['actor_kind']; id: string | null }

/**
 * Moves an order from `from` to `to` and records who and when. The update is a compare-and-set on the
 * current status, so two racing requests cannot both make the same move.
 */
export async function transition(trx: Transaction<Database>, orderId: string, from: OrderStatus, to: OrderStatus, actor: Actor, now: number, note: string | null = null, extra: { paid_at?: number } = {}): Promise<void> {
  if (!canTransition(from, to)) throw new BadTransition(STATUS_LABEL[from].toLowerCase(), STATUS_LABEL[to].toLowerCase());
  const res = await trx.updateTable('orders').set({ status: to, updated_at: now, ...extra }).where('id', '=', orderId).where('status', '=', from).executeTakeFirst();
  if (Number(res.numUpdatedRows) !== 1) throw new BadTransition(STATUS_LABEL[from].toLowerCase(), STATUS_LABEL[to].toLowerCase());
  await trx.insertInto('order_transitions').values({ id: newId(), order_id: orderId, from_status: from, to_status: to, at: now, actor_kind: actor.kind, actor_id: actor.id, note }).execute();
}

export async function recordCreated(trx: Transaction<Database>, orderId: string, actor: Actor, now: number, note: string | null = null): Promise<void> {
  await trx.insertInto('order_transitions').values({ id: newId(), order_id: orderId, from_status: null, to_status: 'draft', at: now, actor_kind: actor.kind, actor_id: actor.id, note }).execute();
}
