import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import type { Config } from '../config/config.js';
import type { Database } from './schema.js';
import { flagsFor, type DialectFlags } from './dialect.js';

export type Db = Kysely<Database>;

export interface DbHandle {
  db: Db;
  flags: DialectFlags;
  /** The raw SQLite connection, for online backup and pragmas; undefined on PostgreSQL. */
  sqlite?: SQLite.Database;
  /** The PostgreSQL schema Keyward's tables live in ('public' unless configured); undefined on SQLite. */
  schema?: string;
  close(): Promise<void>;
}

// PostgreSQL returns int8 (our epoch-millisecond times and COUNT(*)) as strings by default; every such
// value Keyward stores fits in a double, so parse it once here rather than at every call site.
pg.types.setTypeParser(20, (v: string) => Number(v));
// NUMERIC too (SUM over bigint gives numeric).
pg.types.setTypeParser(1700, (v: string) => Number(v));

export function openDatabase(database: Config['database'], opts: { poolSize?: number } = {}): DbHandle {
  if (database.kind === 'sqlite') {
    fs.mkdirSync(path.dirname(database.file), { recursive: true });
    const sqlite = new SQLite(database.file);
    sqlite.pragma('journal_mode = WAL');
    // Money and licences are written here: an acknowledged write must survive a power cut.
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    return { db, flags: flagsFor('sqlite'), sqlite, close: () => db.destroy() };
  }
  const pool = new pg.Pool({
    connectionString: database.url,
    max: opts.poolSize ?? 10,
    ...(database.schema && !database.url.includes('search_path') ? { options: `-c search_path=${database.schema}` } : {}),
  });
  // An idle client that loses its server must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, flags: flagsFor('postgres'), schema: database.schema ?? 'public', close: () => db.destroy() };
}
