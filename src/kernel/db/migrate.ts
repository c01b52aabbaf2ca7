import { Migrator, type Migration, type MigrationResultSet } from 'kysely';
import type { Db } from './database.js';

export type NamedMigrations = Record<string, Migration>;

/**
 * Forward-only migrations: names sort by date, so modules' migrations interleave in the order they were
 * written. There is no "down": a mistake is corrected by a new migration.
 */
export function migratorFor(db: Db, migrations: NamedMigrations, schema?: string): Migrator {
  return new Migrator({
    db,
    // On PostgreSQL, name the schema: otherwise the migration tables of another schema in the same
    // database (parallel test runs, a second Keyward) would be taken for ours.
    ...(schema ? { migrationTableSchema: schema } : {}),
    provider: { getMigrations: async () => migrations },
    allowUnorderedMigrations: false,
  });
}

export async function pendingMigrations(db: Db, migrations: NamedMigrations, schema?: string): Promise<string[]> {
  const infos = await migratorFor(db, migrations, schema).getMigrations();
  return infos.filter((m) => !m.executedAt).map((m) => m.name);
}

export async function migrateToLatest(db: Db, migrations: NamedMigrations, schema?: string): Promise<string[]> {
  const result: MigrationResultSet = await migratorFor(db, migrations, schema).migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    const err = new Error(`migration ${failed?.migrationName ?? '?'} failed: ${String((result.error as Error)?.message ?? result.error)}`);
    (err as Error & { cause?: unknown }).cause = result.error;
    throw err;
  }
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** What a command says when it finds an existing database behind the code: migrate only when asked. */
export function pendingMigrationsMessage(pending: string[]): string {
  return `${pending.length} database migration(s) are pending (${pending.join(', ')}). Back up, then run "bin/keyward migrate", or start with "bin/keyward serve --migrate" (npm start does).`;
}
