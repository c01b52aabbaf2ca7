import type { Kysely } from 'kysely';

// Frozen in time: never import application code here.
// Machines customers released themselves from My account, to enforce the monthly limit.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createTable('licence_self_releases')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('licence_id', 'text', (c) => c.notNull().references('licences.id'))
    .addColumn('released_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('licence_self_releases_licence').on('licence_self_releases').columns(['licence_id', 'released_at']).execute();
}
