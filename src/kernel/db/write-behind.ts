// Write-behind: batches of writes that may lag (and, in a crash, be lost) but must never slow the
// request path, such as last-seen refreshes and counters. Each batch runs in one transaction.
//
// On SQLite a better-sqlite3 call blocks the thread that makes it, commit and fsync included, and a
// commit that crosses the WAL threshold also checkpoints. So on SQLite the batches go to a worker
// thread with its own connection to the same file (WAL lets it write while the main connection
// reads). On PostgreSQL queries are already asynchronous; batches run on the pool.

import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CompiledQuery, Kysely } from 'kysely';

export interface WriteBehind {
  /** Runs the compiled queries in one transaction; resolves when committed, rejects on failure. */
  run(queries: readonly CompiledQuery[]): Promise<void>;
  /** Finishes what was handed over, then releases the thread or connection. */
  close(): Promise<void>;
}

/** Runs batches on the Kysely instance itself (PostgreSQL, or an SQLite database held in memory). */
export function inlineWriteBehind(db: Kysely<any>): WriteBehind {
  // One batch at a time, in the order handed over, as the SQLite thread does: a later last-seen must
  // not be overwritten by an earlier batch committing after it on another pool connection.
  let chain: Promise<void> = Promise.resolve();
  return {
    run(queries) {
      const done = chain.then(() => db.transaction().execute(async (trx) => {
        for (const q of queries) await trx.executeQuery(q);
      }));
      chain = done.catch(() => {});
      return done;
    },
    async close() {
      await chain;
    },
  };
}

type Reply = { type: 'done'; id: number; error?: string } | { type: 'closed' };

/** Runs batches on a second connection to `file`, in a worker thread started on first use. */
export function sqliteWriteBehind(file: string): WriteBehind {
  let worker: Worker | null = null;
  let nextId = 1;
  const pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  let chain: Promise<void> = Promise.resolve();

  const failAll = (err: Error) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    worker = null;
  };

  const start = (): Worker => {
    const w = new Worker(fileURLToPath(new URL('./write-behind.worker.cjs', import.meta.url)), {
      workerData: { file, driver: createRequire(import.meta.url).resolve('better-sqlite3') },
      // Keep the loaders of the parent (tsx) out: the worker is plain CommonJS.
      execArgv: [],
    });
    // Waiting batches keep the process alive through `pending`; an idle writer must not.
    w.unref();
    w.on('message', (m: Reply) => {
      if (m.type !== 'done') return;
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (m.error === undefined) p?.resolve();
      else p?.reject(new Error(m.error));
    });
    w.on('error', (err) => failAll(err));
    w.on('exit', (code) => failAll(new Error(`the write-behind thread stopped (exit code ${code})`)));
    return w;
  };

  return {
    run(queries) {
      if (queries.length === 0) return Promise.resolve();
      worker ??= start();
      const id = nextId++;
      const done = new Promise<void>((resolve, reject) => pending.set(id, { resolve, reject }));
      worker.postMessage({ type: 'run', id, queries: queries.map((q) => ({ sql: q.sql, parameters: q.parameters })) });
      chain = chain.then(() => done, () => done).catch(() => {});
      return done;
    },
    async close() {
      const w = worker;
      if (!w) return;
      await chain;
      await new Promise<void>((resolve) => {
        w.once('exit', () => resolve());
        w.postMessage({ type: 'close' });
        w.once('message', (m: Reply) => { if (m.type === 'closed') void w.terminate(); });
      });
      worker = null;
    },
  };
}
