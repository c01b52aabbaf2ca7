import { sql, SqliteAdapter, type Kysely } from 'kysely';

// Frozen in time: never import application code here.
export async function up(db: Kysely<any>): Promise<void> {
  // One row per number series; the row is locked while a number is taken, inside the issuing transaction.
  await db.schema.createTable('billing_counters')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('next_value', 'bigint', (c) => c.notNull())
    .execute();
  await db.insertInto('billing_counters').values({ name: 'document', next_value: 1 }).execute();

  await db.schema.createTable('invoices')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('number', 'bigint', (c) => c.notNull().unique())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('order_id', 'text', (c) => c.notNull())
    .addColumn('customer_id', 'text', (c) => c.notNull())
    .addColumn('refund_id', 'text', (c) => c.unique())
    .addColumn('credited_invoice_id', 'text', (c) => c.references('invoices.id'))
    .addColumn('credited_invoice_number', 'bigint')
    .addColumn('credited_invoice_date', 'bigint')
    .addColumn('issue_date', 'bigint', (c) => c.notNull())
    .addColumn('tax_point', 'bigint', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('seller_name', 'text', (c) => c.notNull())
    .addColumn('seller_address', 'text', (c) => c.notNull())
    .addColumn('seller_vat_number', 'text', (c) => c.notNull())
    .addColumn('seller_company_number', 'text')
    .addColumn('buyer_name', 'text', (c) => c.notNull())
    .addColumn('buyer_company', 'text')
    .addColumn('buyer_address', 'text', (c) => c.notNull())
    .addColumn('buyer_country', 'text', (c) => c.notNull())
    .addColumn('buyer_vat_number', 'text')
    .addColumn('buyer_email', 'text', (c) => c.notNull())
    .addColumn('order_reference', 'text', (c) => c.notNull())
    .addColumn('tax_treatment', 'text', (c) => c.notNull())
    .addColumn('notice', 'text')
    .addColumn('total_net', 'bigint', (c) => c.notNull())
    .addColumn('total_tax', 'bigint', (c) => c.notNull())
    .addColumn('total_gross', 'bigint', (c) => c.notNull())
    .addColumn('rate_totals', 'text', (c) => c.notNull())
    .addColumn('gbp_rate_micros', 'bigint', (c) => c.notNull())
    .addColumn('total_net_gbp', 'bigint', (c) => c.notNull())
    .addColumn('total_tax_gbp', 'bigint', (c) => c.notNull())
    .addColumn('payment_note', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('invoices_order').on('invoices').column('order_id').execute();
  await db.schema.createIndex('invoices_customer').on('invoices').columns(['customer_id', 'issue_date']).execute();
  // At most one invoice per order (credit notes are many): a retried payment can never issue a second.
  await sql`CREATE UNIQUE INDEX invoices_one_per_order ON invoices (order_id) WHERE kind = 'invoice'`.execute(db);

  await db.schema.createTable('invoice_lines')
    .addColumn('invoice_id', 'text', (c) => c.notNull().references('invoices.id'))
    .addColumn('line_no', 'integer', (c) => c.notNull())
    .addColumn('sku', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('quantity', 'integer', (c) => c.notNull())
    .addColumn('unit_net', 'bigint', (c) => c.notNull())
    .addColumn('discount', 'bigint', (c) => c.notNull())
    .addColumn('net', 'bigint', (c) => c.notNull())
    .addColumn('tax_rate_bp', 'integer', (c) => c.notNull())
    .addColumn('tax', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('invoice_lines_pk', ['invoice_id', 'line_no'])
    .execute();

  // Issued documents never change (VAT rules; DESIGN non-negotiable 3): the database refuses updates,
  // and deletes until seven years have passed (six years from the end of the financial year).
  for (const table of ['invoices', 'invoice_lines']) {
    if (db.getExecutor().adapter instanceof SqliteAdapter) {
      await sql.raw(`CREATE TRIGGER ${table}_no_update BEFORE UPDATE ON ${table} BEGIN SELECT RAISE(ABORT, '${table} are immutable once issued'); END`).execute(db);
    } else {
      await sql.raw(`CREATE FUNCTION ${table}_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '${table} are immutable once issued'; END $$`).execute(db);
      await sql.raw(`CREATE TRIGGER ${table}_no_update BEFORE UPDATE OR TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION ${table}_guard()`).execute(db);
    }
  }
  if (db.getExecutor().adapter instanceof SqliteAdapter) {
    await sql`CREATE TRIGGER invoices_no_early_delete BEFORE DELETE ON invoices
      WHEN old.issue_date > (CAST(strftime('%s', 'now') AS INTEGER) - 220903200) * 1000
      BEGIN SELECT RAISE(ABORT, 'invoices are kept for seven years'); END`.execute(db);
  } else {
    await sql`CREATE FUNCTION invoices_delete_guard() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF OLD.issue_date > extract(epoch from now()) * 1000 - 220903200000 THEN RAISE EXCEPTION 'invoices are kept for seven years'; END IF;
        RETURN OLD;
      END $$`.execute(db);
    await sql`CREATE TRIGGER invoices_no_early_delete BEFORE DELETE ON invoices FOR EACH ROW EXECUTE FUNCTION invoices_delete_guard()`.execute(db);
  }
}
