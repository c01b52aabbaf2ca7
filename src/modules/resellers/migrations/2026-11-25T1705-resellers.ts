import type { Kysely } from 'kysely';

// Frozen in time: never import application code here.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createTable('resellers')
    .addColumn('customer_id', 'text', (c) => c.primaryKey().references('customers.id'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('discount_percent', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('payment_terms_days', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('public_name', 'text', (c) => c.notNull())
    .addColumn('public_url', 'text')
    .addColumn('public_country', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_by', 'text')
    .execute();

  await db.schema.createTable('reseller_prices')
    .addColumn('reseller_id', 'text', (c) => c.notNull().references('resellers.customer_id').onDelete('cascade'))
    .addColumn('plan_id', 'text', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('unit_net', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('reseller_prices_pk', ['reseller_id', 'plan_id', 'currency'])
    .execute();

  await db.schema.createTable('reseller_sales')
    .addColumn('order_id', 'text', (c) => c.primaryKey())
    .addColumn('reseller_id', 'text', (c) => c.notNull())
    .addColumn('end_name', 'text', (c) => c.notNull())
    .addColumn('end_company', 'text')
    .addColumn('end_email', 'text', (c) => c.notNull())
    .addColumn('end_country', 'text', (c) => c.notNull())
    .addColumn('terms_days', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('reseller_sales_reseller').on('reseller_sales').columns(['reseller_id', 'created_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('reseller_sales').execute();
  await db.schema.dropTable('reseller_prices').execute();
  await db.schema.dropTable('resellers').execute();
}
