// Kysely's SQLite driver, with two changes for a file that other connections write to as well (the
// write-behind thread, the read thread, other `serve` processes, a `bin/keyward` command):
//
// 1. Transactions start with BEGIN IMMEDIATE. A deferred transaction that read and then wrote would
//    fail with SQLITE_BUSY if another connection committed in between; an immediate one takes the
//    write lock first and waits for it like any other writer.
// 2. A statement that finds the write lock taken waits for it without blocking the event loop. SQLite's
//    own wait (busy_timeout) sleeps inside the call, and better-sqlite3 calls it on the event loop: a
//    seat-taking write that met a bookkeeping transaction stopped every other request of the process
//    until that transaction ended, and one process's long transaction stopped the others' requests for
//    as long. The connection is opened with busy_timeout = 0 (database.ts), so SQLite answers
//    SQLITE_BUSY at once, and the statement is tried again after a timer, as SQLite's busy handler
//    would have, until the same deadline.
//
// Trying again is safe where it is done: outside a transaction (BEGIN IMMEDIATE, a write on its own, the
// start of a read), where SQLite in WAL mode answers SQLITE_BUSY before the statement changes anything
// and rolls its implicit transaction back, and for COMMIT, which SQLite leaves open when it is refused.
// Any other statement inside a transaction is not tried again: SQLite's advice there is to roll back
// (a transaction that began with BEGIN IMMEDIATE holds the lock, so it does not happen here). While a
// statement waits it keeps the connection: Kysely's other queries queue behind it, as they did before;
// the synchronous call-home reads on the raw connection, and answers that make no query, go on.

import { setTimeout as sleep } from 'node:timers/promises';
import { openTransaction } from './transaction-context.js';
import type { CommitCounter } from './turn-reader.js';
import type SQLite from 'better-sqlite3';
import {
  CompiledQuery, SqliteDialect, SqliteDriver,
  type DatabaseConnection, type Driver, type QueryResult, type SqliteDialectConfig,
} from 'kysely';

/** How long a statement waits for another connection's write lock before SQLITE_BUSY is thrown. */
export const SQLITE_BUSY_WAIT_MS = 5000;

// The pauses of SQLite's own busy handler (sqliteDefaultBusyCallback in main.c), in milliseconds: short
// at first, since most transactions here last a few milliseconds, then 100 ms at a time.
const PAUSES_MS = [1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100];

export interface ImmediateSqliteDialectConfig extends Omit<SqliteDialectConfig, 'database'> {
  /** better-sqlite3's connection itself: whether it is inside a transaction decides what may be tried again. */
  database: SQLite.Database;
  /** How long a statement waits for another connection's write lock (default SQLITE_BUSY_WAIT_MS). */
  busyWaitMs?: number;
  /** Counts statements that ended outside a transaction (each may have committed): see turn-reader.ts. */
  commits?: CommitCounter;
}

export class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly settings: ImmediateSqliteDialectConfig) {
    super(settings);
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.settings, this.settings.busyWaitMs ?? SQLITE_BUSY_WAIT_MS);
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  private waiting: DatabaseConnection | null = null;

  constructor(private readonly config: ImmediateSqliteDialectConfig, private readonly busyWaitMs: number) {
    super(config);
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    // The one connection is held by the transaction this code runs in: waiting for it would never end.
    if (openTransaction()) {
      throw new Error('A query through the pool (k.db) inside a transaction would wait forever on SQLite: pass the transaction (trx) to it, or make it before the transaction starts.');
    }
    // SQLite's driver has one connection, handed out in turn; it is wrapped once.
    const connection = await super.acquireConnection();
    this.waiting ??= waitingWhenBusy(connection, this.config.database, this.busyWaitMs, this.config.commits ?? null);
    return this.waiting;
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }

  override async destroy(): Promise<void> {
    // A statement may be waiting on a timer for the lock: let it finish (it gives up within the wait)
    // rather than close the connection under it. The connection is not handed out again.
    await Promise.race([super.acquireConnection(), sleep(this.busyWaitMs + 100)]);
    await super.destroy();
  }
}

function waitingWhenBusy(connection: DatabaseConnection, sqlite: SQLite.Database, waitMs: number, commits: CommitCounter | null): DatabaseConnection {
  // A statement that ends outside a transaction (a write on its own, COMMIT) may have committed: the
  // call-home reads of this turn must see it (turn-reader.ts). Reads are counted too; it costs them
  // only a fresh read transaction.
  const settled = () => {
    if (commits && !sqlite.inTransaction) commits.count++;
  };
  return {
    executeQuery: <R>(query: CompiledQuery) =>
      whenFree(() => connection.executeQuery<R>(query), waitMs, () => !sqlite.inTransaction || isCommit(query.sql)).finally(settled),
    // Only SELECTs stream (nothing in Keyward does yet), and a read in WAL mode waits for no writer.
    streamQuery: <R>(query: CompiledQuery, chunkSize?: number) => connection.streamQuery<R>(query, chunkSize),
  };
}

function isCommit(sql: string): boolean {
  return /^\s*(commit|end)\b/i.test(sql);
}

/**
 * Runs `statement`, and again after a pause each time SQLite answers that the lock is taken, as long
 * as `mayRetry()` says the refused statement left nothing behind (asked after each refusal).
 */
export async function whenFree<R>(statement: () => Promise<QueryResult<R>>, waitMs: number, mayRetry: () => boolean = () => true): Promise<QueryResult<R>> {
  const deadline = Date.now() + waitMs;
  for (let attempt = 0; ; attempt++) {
    try {
      // better-sqlite3 throws synchronously, inside this try.
      return await statement();
    } catch (err) {
      const left = deadline - Date.now();
      if (!isBusy(err) || left <= 0 || !mayRetry()) throw err;
      await sleep(Math.min(PAUSES_MS[Math.min(attempt, PAUSES_MS.length - 1)]!, left));
    }
  }
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY') && code !== 'SQLITE_BUSY_SNAPSHOT';
}
