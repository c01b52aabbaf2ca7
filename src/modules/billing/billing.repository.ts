import type { Transaction } from 'kysely';
import type { Db } from '../../kernel/db/database.js';
import type { Database } from '../../kernel/db/schema.js';
import { lockForUpdate, type DialectFlags } from '../../kernel/db/dialect.js';

/**
 * Takes the next document number inside the caller's transaction. The counter row stays locked
 * (FOR UPDATE on PostgreSQL; SQLite has one writer) until that transaction ends, so concurrent payments
 * queue here, and a transaction that rolls back gives its number back: no gaps, no duplicates.
 */
export async function takeNextNumber(trx: Transaction<Database>, flags: DialectFlags): Promise<number> {
  const row = await lockForUpdate(trx.selectFrom('billing_counters').select('next_value').where('name', '=', 'document'), flags).executeTakeFirstOrThrow();
  const n = Number(row.next_value);
  await trx.updateTable('billing_counters').set({ next_value: n + 1 }).where('name', '=', 'document').execute();
  return n;
}

export async function invoiceById(db: Db, id: string) {
  const inv = await db.selectFrom('invoices').selectAll().where('id', '=', id).executeTakeFirst();
  if (!inv) return null;
  const lines = await db.selectFrom('invoice_lines').selectAll().where('invoice_id', '=', id).orderBy('line_no').execute();
  return { ...inv, lines };
}

export async function invoiceForOrder(db: Db, orderId: string) {
  return db.selectFrom('invoices').selectAll().where('order_id', '=', orderId).where('kind', '=', 'invoice').executeTakeFirst();
}

export async function documentsForOrder(db: Db, orderId: string) {
  return db.selectFrom('invoices').selectAll().where('order_id', '=', orderId).orderBy('number').execute();
}

export async function documentsForCustomer(db: Db, customerId: string) {
  return db.selectFrom('invoices').select(['id', 'number', 'kind', 'issue_date', 'currency', 'total_gross', 'order_reference'])
    .where('customer_id', '=', customerId).orderBy('number', 'desc').execute();
}

export async function recentDocuments(db: Db, limit = 200) {
  return db.selectFrom('invoices').select(['id', 'number', 'kind', 'issue_date', 'currency', 'total_net', 'total_tax', 'total_gross', 'buyer_name', 'buyer_company', 'order_id'])
    .orderBy('number', 'desc').limit(limit).execute();
}
