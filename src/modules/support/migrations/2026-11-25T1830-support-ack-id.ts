import type { Kysely } from 'kysely';

/** The Message-ID of a ticket's automatic acknowledgement, so the first staff reply threads under it. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('support_tickets').addColumn('ack_message_id', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('support_tickets').dropColumn('ack_message_id').execute();
}
