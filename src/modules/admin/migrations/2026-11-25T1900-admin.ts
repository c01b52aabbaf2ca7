import type { Kysely } from 'kysely';

// Frozen in time: never import application code here.
// The dashboard's read model: per-day totals of completed days, computed once from callhome_daily, and
// the indexes that keep the dashboard's other aggregates range scans.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createTable('admin_daily')
    .addColumn('day', 'bigint', (c) => c.notNull())
    .addColumn('metric', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('value', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('admin_daily_pk', ['day', 'metric', 'key'])
    .execute();
  await db.schema.createIndex('admin_licences_maintenance').on('licences').column('maintenance_until').execute();
  await db.schema.createIndex('admin_licence_addons_until').on('licence_addons').column('until').execute();
  await db.schema.createIndex('admin_invoices_issue_date').on('invoices').columns(['issue_date', 'currency']).execute();
}

export async function down(): Promise<void> {
  throw new Error('forward-only migrations');
}
