import type { Kysely } from 'kysely';

// Frozen in time: never import application code here.
export async function up(db: Kysely<any>): Promise<void> {
  // Subject-access and erasure requests, for the admin list and for proof of having answered.
  await db.schema.createTable('privacy_requests')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('subject_hash', 'text', (c) => c.notNull())
    .addColumn('requested_by_kind', 'text', (c) => c.notNull())
    .addColumn('requested_by_id', 'text')
    .addColumn('summary', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  // The erasure journal: which subjects were erased and when (keyed hash, never the address itself).
  await db.schema.createTable('privacy_erasure_journal')
    .addColumn('subject_hash', 'text', (c) => c.primaryKey())
    .addColumn('erased_at', 'bigint', (c) => c.notNull())
    .addColumn('reapplied_at', 'bigint')
    .execute();
  // What each processor must be told about an erasure (Art. 19); staff tick them off when done by hand.
  await db.schema.createTable('privacy_processor_notices')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('request_id', 'text', (c) => c.notNull())
    .addColumn('processor_id', 'text', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('done_at', 'bigint')
    .execute();
  // One row per run of the daily retention job, with what each rule did.
  await db.schema.createTable('privacy_retention_runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint', (c) => c.notNull())
    .addColumn('report', 'text', (c) => c.notNull())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('privacy_retention_runs_started').on('privacy_retention_runs').column('started_at').execute();
  // Customer comments, published only while the consent ledger records permission.
  await db.schema.createTable('privacy_testimonials')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('customer_id', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('company', 'text')
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('privacy_testimonials_customer').on('privacy_testimonials').column('customer_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['privacy_testimonials', 'privacy_retention_runs', 'privacy_processor_notices', 'privacy_erasure_journal', 'privacy_requests']) await db.schema.dropTable(t).execute();
}
