// Long reads off the request thread. On SQLite a better-sqlite3 query blocks the thread that runs it,
// so an aggregate over a year of call-home counters or every machine of a large installed base (the
// dashboard's read model, the hourly shared-licence scan) held up every request for seconds. Those
// reads run here instead: on SQLite in a worker thread with its own read-only connection (WAL lets it
// read while others write; it sees what was committed when each statement starts), on PostgreSQL and
// in-memory SQLite on the Kysely instance itself, where queries do not block the event loop or cannot
// be shared with another connection.

import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Compilable, CompiledQuery, Kysely } from 'kysely';

export interface ReadThread {
  /** The rows of one read-only statement (a query built with Kysely, compiled or not). */
  all<R>(query: Compilable<R> | CompiledQuery<R>): Promise<R[]>;
  close(): Promise<void>;
}

const compiled = <R>(q: Compilable<R> | CompiledQuery<R>): CompiledQuery<R> => ('compile' in q ? q.compile() : q);

/** Runs reads on the Kysely instance itself (PostgreSQL, or an SQLite database held in memory). */
export function inlineReads(db: Kysely<any>): ReadThread {
  return {
    async all<R>(query: Compilable<R> | CompiledQuery<R>) {
      return (await db.executeQuery(compiled(query))).rows;
    },
    async close() {},
  };
}

type Reply = { type: 'rows'; id: number; rows?: unknown[]; error?: string } | { type: 'closed' };

/** Runs reads on a read-only connection to `file`, in a worker thread started on first use. */
export function sqliteReadThread(file: string): ReadThread {
  let worker: Worker | null = null;
  let nextId = 1;
  const pending = new Map<number, { resolve: (rows: unknown[]) => void; reject: (e: Error) => void }>();

  const failAll = (err: Error) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    worker = null;
  };

  const start = (): Worker => {
    const w = new Worker(fileURLToPath(new URL('./read-thread.worker.cjs', import.meta.url)), {
      workerData: { file, driver: createRequire(import.meta.url).resolve('better-sqlite3') },
      // Keep the loaders of the parent (tsx) out: the worker is plain CommonJS.
      execArgv: [],
    });
    // A waiting read keeps the process alive through its caller; an idle thread must not.
    w.unref();
    w.on('message', (m: Reply) => {
      if (m.type !== 'rows') return;
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (m.error === undefined) p?.resolve(m.rows ?? []);
      else p?.reject(new Error(m.error));
    });
    w.on('error', (err) => failAll(err));
    w.on('exit', (code) => failAll(new Error(`the read thread stopped (exit code ${code})`)));
    return w;
  };

  return {
    all<R>(query: Compilable<R> | CompiledQuery<R>): Promise<R[]> {
      const q = compiled(query);
      worker ??= start();
      const id = nextId++;
      const rows = new Promise<R[]>((resolve, reject) => pending.set(id, { resolve: resolve as (rows: unknown[]) => void, reject }));
      worker.postMessage({ type: 'read', id, sql: q.sql, parameters: q.parameters });
      return rows;
    },
    async close() {
      const w = worker;
      if (!w) return;
      await new Promise<void>((resolve) => {
        w.once('exit', () => resolve());
        w.once('message', (m: Reply) => { if (m.type === 'closed') void w.terminate(); });
        w.postMessage({ type: 'close' });
      });
      worker = null;
    },
  };
}
