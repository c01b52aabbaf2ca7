import type { Db } from '../../kernel/db/database.js';

/**
 * The order that renews this item of the licence and waits for its payment (a pro forma sent, the bank
 * transfer not arrived yet), if any. While one exists, "Renew now" leads to it and reminders ask for
 * its payment: a second order would charge, and extend, the term twice.
 */
export async function renewalAwaitingPayment(db: Db, customerId: string, licenceId: string, item: string): Promise<{ id: string; reference: string } | null> {
  let q = db.selectFrom('orders as o').innerJoin('order_lines as l', 'l.order_id', 'o.id').select(['o.id', 'o.reference'])
    .where('o.customer_id', '=', customerId).where('o.status', '=', 'awaiting_payment').where('l.target_licence_id', '=', licenceId);
  q = item === 'support' ? q.where('l.kind', '=', 'renewal') : q.where('l.kind', '=', 'addon').where('l.addon_code', '=', item.replace(/^addon:/, ''));
  return (await q.orderBy('o.created_at', 'desc').executeTakeFirst()) ?? null;
}
