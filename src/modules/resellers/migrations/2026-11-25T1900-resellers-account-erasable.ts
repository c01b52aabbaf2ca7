import { sql, SqliteAdapter, type Kysely } from 'kysely';

// Frozen in time: never import application code here.
// A reseller's customer account can be erased (subject-rights erasure deletes the customers row) while the
// reseller agreement is kept for legal claims: resellers.customer_id stays as an account reference, so it
// can no longer be a foreign key to customers.id. SQLite cannot drop a constraint, so there the two tables
// are rebuilt (reseller_prices keeps its cascading key to resellers).
export async function up(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof SqliteAdapter)) {
    await sql`ALTER TABLE resellers DROP CONSTRAINT IF EXISTS resellers_customer_id_fkey`.execute(db);
    return;
  }
  await db.schema.createTable('resellers_new')
    .addColumn('customer_id', 'text', (c) => c.primaryKey())
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
  await sql`INSERT INTO resellers_new SELECT customer_id, status, discount_percent, payment_terms_days, currency, public_name, public_url, public_country, created_at, updated_at, updated_by FROM resellers`.execute(db);
  await db.schema.createTable('reseller_prices_new')
    .addColumn('reseller_id', 'text', (c) => c.notNull().references('resellers_new.customer_id').onDelete('cascade'))
    .addColumn('plan_id', 'text', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('unit_net', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('reseller_prices_new_pk', ['reseller_id', 'plan_id', 'currency'])
    .execute();
  await sql`INSERT INTO reseller_prices_new SELECT reseller_id, plan_id, currency, unit_net, updated_at FROM reseller_prices`.execute(db);
  // Children first, so dropping the old parent cascades into nothing.
  await db.schema.dropTable('reseller_prices').execute();
  await db.schema.dropTable('resellers').execute();
  // SQLite rewrites reseller_prices_new's reference to follow the renamed parent.
  await sql`ALTER TABLE resellers_new RENAME TO resellers`.execute(db);
  await sql`ALTER TABLE reseller_prices_new RENAME TO reseller_prices`.execute(db);
}
