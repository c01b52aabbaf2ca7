import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import type { Clock } from '../clock.js';

type Cb = (err: Error | null, res?: { current: number; ttl: number }) => void;

/**
 * A @fastify/rate-limit store in the database, so every node behind a load balancer counts against the
 * same limit when no Redis is configured. One atomic upsert per hit (fixed window); rows are pruned by
 * the kernel's housekeeping job.
 */
export function dbRateLimitStore(db: Db, clock: Clock, prefix = 'rl:') {
  return class DbRateLimitStore {
    constructor(_options?: unknown) {}

    incr(key: string, cb: Cb, timeWindow: number): void {
      const now = clock.now();
      const k = prefix + key;
      sql<{ count: number; window_start: number }>`
        INSERT INTO rate_limits (key, window_start, count) VALUES (${k}, ${now}, 1)
        ON CONFLICT (key) DO UPDATE SET
          count = CASE WHEN rate_limits.window_start + ${timeWindow} <= ${now} THEN 1 ELSE rate_limits.count + 1 END,
          window_start = CASE WHEN rate_limits.window_start + ${timeWindow} <= ${now} THEN ${now} ELSE rate_limits.window_start END
        RETURNING count, window_start`.execute(db)
        .then((r) => {
          const row = r.rows[0]!;
          cb(null, { current: Number(row.count), ttl: Math.max(0, Number(row.window_start) + timeWindow - now) });
        }, (err: Error) => cb(err));
    }

    read(key: string, cb: Cb, timeWindow: number): void {
      const now = clock.now();
      db.selectFrom('rate_limits').select(['count', 'window_start']).where('key', '=', prefix + key).executeTakeFirst()
        .then((row) => {
          if (!row || row.window_start + timeWindow <= now) return cb(null, { current: 0, ttl: 0 });
          cb(null, { current: row.count, ttl: row.window_start + timeWindow - now });
        }, (err: Error) => cb(err));
    }

    /**
     * The store of one route's own limit (@fastify/rate-limit calls this for each route with a
     * `rateLimit` config): its counters are its own, keyed by method and path as the Redis store keys
     * them. Returning this store shared one counter per IP between every limited form, so ten
     * newsletter sign-ups locked the same address out of signing in.
     */
    child(routeOptions?: { routeInfo?: { method?: unknown; url?: unknown } }): DbRateLimitStore {
      const route = routeOptions?.routeInfo;
      if (route?.url === undefined) return this;
      return new (dbRateLimitStore(db, clock, `${prefix}${String(route.method)}${String(route.url)}-`))();
    }
  };
}

/** Forgets counters whose window ended long ago. Windows last at most an hour (the longest rate-limit window Keyward sets), so older counters are dead. */
export async function pruneRateLimits(db: Db, now: number, olderThanMs = 3600_000): Promise<number> {
  const r = await db.deleteFrom('rate_limits').where('window_start', '<', now - olderThanMs).executeTakeFirst();
  return Number(r.numDeletedRows);
}
