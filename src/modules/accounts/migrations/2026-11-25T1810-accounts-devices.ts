import type { Kysely } from 'kysely';

// Frozen in time: never import application code here.
// A coarse description of the device ("Firefox on Linux", never the raw user agent) for the list of
// signed-in sessions and remembered devices in My account.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sessions').addColumn('device', 'text').execute();
  await db.schema.alterTable('remember_tokens').addColumn('device', 'text').execute();
}
