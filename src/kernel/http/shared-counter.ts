import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import type { Config } from '../config/config.js';
import type { Logger } from '../jobs/queue.js';

/**
 * Fixed-window counters shared by every node, for limits on hot paths (call-home).
 *
 * A node never waits on the shared store while answering: it decides from what it knows (the last total
 * the store told it, plus its own hits since), and a background sync adds its new hits to the store every
 * `syncMs` and reads back the totals (also of keys at or above `watchFrom`, hit here or not). So a node's view of the other nodes lags by at most one sync; the
 * limit is then briefly looser than configured, never stricter, which is what the call-home contract
 * allows ("never refuse while fewer than N calls were accepted"). If the store is unreachable the counters
 * keep working per process (fail open) and a warning is logged.
 *
 * Which store (sharedCounterStore below): Redis when REDIS_URL is set; otherwise the database on
 * PostgreSQL (one batched upsert per sync per node); on SQLite none, i.e. per process: SQLite means one
 * machine, its writes are serialised with the requests' own, and several processes on one file only make
 * the limit looser.
 */
export interface SharedCounterStore {
  readonly kind: 'redis' | 'database';
  /** Adds `deltas` to the counters of the window starting at `windowStart`; returns each key's total in it. */
  add(windowStart: number, windowMs: number, deltas: Map<string, number>): Promise<Map<string, number>>;
  close(): Promise<void>;
}

interface Entry { known: number; inflight: number; pending: number }

export class SharedWindowCounter {
  private window = -1;
  private entries = new Map<string, Entry>();
  private timer: NodeJS.Timeout | null = null;
  private syncing: Promise<void> | null = null;
  private warnedAt = 0;

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number,
    private readonly store: SharedCounterStore,
    private readonly name: string,
    private readonly opts: { syncMs?: number; log?: Logger; watchFrom?: () => number } = {},
  ) {}

  private roll(): number {
    const w = Math.floor(this.now() / this.windowMs);
    if (w !== this.window) { this.window = w; this.entries = new Map(); }
    return w;
  }

  count(key: string): number {
    this.roll();
    const e = this.entries.get(key);
    return e ? e.known + e.inflight + e.pending : 0;
  }

  hit(key: string): number {
    this.roll();
    let e = this.entries.get(key);
    if (!e) { e = { known: 0, inflight: 0, pending: 0 }; this.entries.set(key, e); }
    e.pending++;
    if (!this.timer) {
      this.timer = setTimeout(() => { this.timer = null; void this.sync(); }, this.opts.syncMs ?? 100);
      this.timer.unref();
    }
    return e.known + e.inflight + e.pending;
  }

  /** Sends this node's new hits to the store and takes back the totals (tests call it to skip the wait). */
  async sync(): Promise<void> {
    while (this.syncing) await this.syncing;
    const window = this.roll();
    const entries = this.entries;
    const deltas = new Map<string, number>();
    const watch = this.opts.watchFrom?.() ?? Infinity;
    for (const [key, e] of entries) {
      if (e.pending > 0) { deltas.set(key, e.pending); e.inflight += e.pending; e.pending = 0; }
      // A key near its limit is re-read even without new hits here, to learn the other nodes' hits.
      else if (e.inflight === 0 && e.known >= watch) deltas.set(key, 0);
    }
    if (deltas.size === 0) return;
    this.syncing = (async () => {
      let totals: Map<string, number> | null = null;
      try {
        totals = await this.store.add(window * this.windowMs, this.windowMs, new Map([...deltas].map(([k, n]) => [`${this.name}:${k}`, n])));
      } catch (err) {
        if (this.now() - this.warnedAt > 60_000) {
          this.warnedAt = this.now();
          this.opts.log?.warn({ err: (err as Error).message, store: this.store.kind }, 'shared rate-limit counters unreachable; counting per process');
        }
      }
      if (this.entries !== entries) return; // the window passed meanwhile
      for (const [key, n] of deltas) {
        const e = entries.get(key)!;
        e.inflight -= n;
        const total = totals?.get(`${this.name}:${key}`);
        // The store's total includes what we just sent; without an answer, keep counting our own.
        e.known = total === undefined ? e.known + n : Math.max(total, e.known);
      }
    })();
    try { await this.syncing; } finally { this.syncing = null; }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** Counters in Redis: INCRBY per key of the window, expiring two windows later. */
export function redisCounterStore(url: string, prefix = 'keyward:rl:'): SharedCounterStore & { client: import('ioredis').Redis } {
  // Loaded lazily so a deployment without Redis never opens a connection.
  let client: import('ioredis').Redis | null = null;
  const ready = import('ioredis').then((m) => {
    client = new m.Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1, enableOfflineQueue: true, connectTimeout: 2000 });
    client.on('error', () => { /* reported through the failing commands */ });
    return client;
  });
  const store = {
    kind: 'redis' as const,
    get client() { return client!; },
    async add(windowStart: number, windowMs: number, deltas: Map<string, number>) {
      const c = await ready;
      const p = c.pipeline();
      const keys = [...deltas.keys()];
      for (const k of keys) {
        const rk = `${prefix}${windowStart}:${k}`;
        p.incrby(rk, deltas.get(k)!);
        p.pexpire(rk, windowMs * 2);
      }
      const res = (await p.exec()) ?? [];
      const out = new Map<string, number>();
      keys.forEach((k, i) => {
        const [err, v] = res[i * 2] ?? [new Error('no answer'), null];
        if (err) throw err;
        out.set(k, Number(v));
      });
      return out;
    },
    async close() {
      const c = await ready;
      c.disconnect();
    },
  };
  return store;
}

/**
 * Counters in the rate_limits table (key `sc:<name>:<key>`): one multi-row upsert per sync, keys sorted
 * so concurrent nodes lock rows in the same order. Old rows are pruned by the kernel's housekeeping.
 */
export function dbCounterStore(db: Db, prefix = 'sc:'): SharedCounterStore {
  return {
    kind: 'database',
    async add(windowStart, _windowMs, deltas) {
      const out = new Map<string, number>();
      const keys = [...deltas.keys()].sort();
      for (let i = 0; i < keys.length; i += 500) {
        const chunk = keys.slice(i, i + 500);
        const rows = await db.insertInto('rate_limits')
          .values(chunk.map((k) => ({ key: prefix + k, window_start: windowStart, count: deltas.get(k)! })))
          .onConflict((oc) => oc.column('key').doUpdateSet({
            count: sql<number>`CASE WHEN rate_limits.window_start = excluded.window_start THEN rate_limits.count + excluded.count
              WHEN rate_limits.window_start < excluded.window_start THEN excluded.count ELSE rate_limits.count END`,
            window_start: sql<number>`CASE WHEN rate_limits.window_start < excluded.window_start THEN excluded.window_start ELSE rate_limits.window_start END`,
          }))
          .returning(['key', 'count', 'window_start'])
          .execute();
        for (const r of rows) {
          // A row already in a later window (another node's clock ran ahead) says nothing about ours.
          if (Number(r.window_start) === windowStart) out.set(r.key.slice(prefix.length), Number(r.count));
        }
      }
      return out;
    },
    async close() {},
  };
}

/** The store for this deployment: Redis when configured, else the database on PostgreSQL, else none (per process). */
export function sharedCounterStore(config: Pick<Config, 'redisUrl' | 'database'>, db: Db): SharedCounterStore | null {
  if (config.redisUrl) return redisCounterStore(config.redisUrl);
  if (config.database.kind === 'postgres') return dbCounterStore(db);
  return null;
}
