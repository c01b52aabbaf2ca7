import type { Kysely } from 'kysely';

// Frozen in time: never import application code here.
// A per-message SMTP envelope sender (Return-Path), so list mail can carry a per-recipient bounce address (VERP).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('mail_outbox').addColumn('envelope_from', 'text').execute();
}

export async function down(): Promise<void> {
  throw new Error('forward-only migrations');
}
