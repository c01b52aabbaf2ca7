import type { Kysely } from 'kysely';

// Frozen in time: never import application code here.
// At-most-once delivery: before its SMTP conversation a message is claimed ('sending') by one worker, with
// the time and a lease; a claim found expired (its node died mid-conversation) is held as 'uncertain'.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('mail_outbox').addColumn('claimed_by', 'text').execute();
  await db.schema.alterTable('mail_outbox').addColumn('claimed_at', 'bigint').execute();
  await db.schema.alterTable('mail_outbox').addColumn('claim_until', 'bigint').execute();
  await db.schema.createIndex('mail_outbox_status').on('mail_outbox').column('status').execute();
}

export async function down(): Promise<void> {
  throw new Error('forward-only migrations');
}
