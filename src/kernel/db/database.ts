import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { PostgresDialect, type Kysely } from 'kysely';
import type { Config } from '../config/config.js';
import type { Database } from './schema.js';
import { flagsFor, type DialectFlags } from './dialect.js';
import { inlineWriteBehind, sqliteWriteBehind, type WriteBehind } from './write-behind.js';
import { inlineReads, sqliteReadThread, type ReadThread } from './read-thread.js';
import { ImmediateSqliteDialect } from './sqlite-driver.js';
import { TrackedKysely } from './transaction-context.js';
import { CommitCounter, TurnReader } from './turn-reader.js';

export type Db = Kysely<Database>;

export interface DbHandle {
  db: Db;
  flags: DialectFlags;
  /** The raw SQLite connection, for online backup and pragmas; undefined on PostgreSQL. */
  sqlite?: SQLite.Database;
  /** The PostgreSQL schema Keyward's tables live in ('public' unless configured); undefined on SQLite. */
  schema?: string;
  /** Batches of writes that may lag but must not slow requests (write-behind.ts). */
  writeBehind: WriteBehind;
  /** Long read-only statements (job aggregates) that must not block requests (read-thread.ts). */
  reads: ReadThread;
  /** Reads that share one read transaction per turn of the event loop (turn-reader.ts); SQLite files only. */
  turnReader?: TurnReader;
  close(): Promise<void>;
}

// PostgreSQL returns int8 (our epoch-millisecond times and COUNT(*)) as strings by default; every such
// value Keyward stores fits in a double, so parse it once here rather than at every call site.
pg.types.setTypeParser(20, (v: string) => Number(v));
// NUMERIC too (SUM over bigint gives numeric).
pg.types.setTypeParser(1700, (v: string) => Number(v));

export function openDatabase(database: Config['database'], opts: { poolSize?: number } = {}): DbHandle {
  if (database.kind === 'sqlite') {
    // Customers' personal data: the owner alone may read the file (SQLite gives its -wal and -shm the
    // same mode). A file the operator made or chmodded keeps what they chose.
    fs.mkdirSync(path.dirname(database.file), { recursive: true, mode: 0o700 });
    const isNew = database.file !== ':memory:' && !fs.existsSync(database.file);
    const sqlite = new SQLite(database.file);
    if (isNew) fs.chmodSync(database.file, 0o600);
    sqlite.pragma('journal_mode = WAL');
    // Money and licences are written here: an acknowledged write must survive a power cut.
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
    // Deleted and overwritten values are zeroed in the file, not left in free space: when retention cuts
    // an IP to its network or an erasure deletes a customer, the old bytes must not stay readable.
    sqlite.pragma('secure_delete = ON');
    // Reads map the file instead of copying each page through a read() call. It matters because this
    // connection's page cache is dropped whenever another connection (the write-behind thread) commits,
    // so the pages of a call-home look-up would otherwise be read in again, call after call.
    sqlite.pragma('mmap_size = 1073741824');
    // A statement that finds another connection's write lock is tried again after a timer, off the
    // event loop (sqlite-driver.ts); SQLite's own wait would sleep on it. The pragmas above still
    // waited (better-sqlite3 opens with a 5 s busy timeout).
    sqlite.pragma('busy_timeout = 0');
    const commits = new CommitCounter();
    const db = new TrackedKysely<Database>({ dialect: new ImmediateSqliteDialect({ database: sqlite, commits }) });
    const writeBehind = sqlite.memory ? inlineWriteBehind(db) : sqliteWriteBehind(sqlite.name);
    const reads = sqlite.memory ? inlineReads(db) : sqliteReadThread(sqlite.name);
    const turnReader = sqlite.memory ? undefined : new TurnReader(sqlite.name, commits);
    return {
      db, flags: flagsFor('sqlite'), sqlite, writeBehind, reads, turnReader,
      close: async () => { turnReader?.close(); await reads.close(); await writeBehind.close(); await db.destroy(); },
    };
  }
  const pool = new pg.Pool({
    connectionString: database.url,
    max: opts.poolSize ?? 10,
    ...(database.schema && !database.url.includes('search_path') ? { options: `-c search_path=${database.schema}` } : {}),
  });
  // An idle client that loses its server must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  const db = new TrackedKysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const writeBehind = inlineWriteBehind(db);
  return { db, flags: flagsFor('postgres'), schema: database.schema ?? 'public', writeBehind, reads: inlineReads(db), close: () => db.destroy() };
}
