import type { Db } from '../../kernel/db/database.js';
import type { OrderStatus } from './orders.tables.js';

export async function orderById(db: Db, id: string) {
  return db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function orderLines(db: Db, orderId: string) {
  return db.selectFrom('order_lines').selectAll().where('order_id', '=', orderId).orderBy('line_no').execute();
}

export async function orderTransitions(db: Db, orderId: string) {
  return db.selectFrom('order_transitions').selectAll().where('order_id', '=', orderId).orderBy('at').orderBy('id').execute();
}

export async function orderPayments(db: Db, orderId: string) {
  return db.selectFrom('payments').selectAll().where('order_id', '=', orderId).orderBy('created_at').execute();
}

export async function orderRefunds(db: Db, orderId: string) {
  return db.selectFrom('refunds').selectAll().where('order_id', '=', orderId).orderBy('created_at').execute();
}

export async function ordersForCustomer(db: Db, customerId: string) {
  return db.selectFrom('orders').select(['id', 'reference', 'status', 'currency', 'total_gross', 'created_at', 'payment_method'])
    .where('customer_id', '=', customerId).where('status', '!=', 'draft').orderBy('created_at', 'desc').limit(200).execute();
}

export async function listOrders(db: Db, status: OrderStatus | null, limit = 200) {
  let q = db.selectFrom('orders').select(['id', 'reference', 'status', 'channel', 'currency', 'total_gross', 'created_at', 'billing_name', 'billing_company', 'payment_method']);
  if (status) q = q.where('status', '=', status);
  return q.orderBy('created_at', 'desc').limit(limit).execute();
}

export async function taxRates(db: Db): Promise<Record<string, number>> {
  const rows = await db.selectFrom('tax_rates').select(['country', 'rate_bp']).execute();
  return Object.fromEntries(rows.map((r) => [r.country, r.rate_bp]));
}

/** Baskets last touched more than `days` ago are abandoned (declared retention: 7 days). */
export const BASKET_RETENTION_DAYS = 7;

/** Deletes abandoned baskets; the shop's housekeeping and the privacy retention job both call this. */
export async function purgeStaleBaskets(db: Db, now: number): Promise<number> {
  const res = await db.deleteFrom('baskets').where('updated_at', '<', now - BASKET_RETENTION_DAYS * 86_400_000).executeTakeFirst();
  return Number(res.numDeletedRows);
}
