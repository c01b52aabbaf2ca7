import type { Db } from '../db/database.js';
import type { Database } from '../db/schema.js';
import { openTransaction } from '../db/transaction-context.js';
import type { Clock } from '../clock.js';

/**
 * Operational settings that staff edit in the admin (seller details, SMTP, bank details, tax rates…),
 * stored as JSON per key. Values are validated by the module that owns the key before they are saved.
 * A short cache keeps hot paths from reading the table on every request; several nodes converge within it.
 */
export class Settings {
  private cache = new Map<string, { value: unknown; at: number }>();
  constructor(private readonly db: Db, private readonly clock: Clock, private readonly ttlMs = 2000) {}

  /**
   * Read through `db`, else through the transaction the caller runs in (on SQLite a read through the
   * pool would wait for that transaction forever), else through the pool.
   */
  async get<T>(key: string, fallback: T, db: Db = openTransaction<Database>() ?? this.db): Promise<T> {
    const hit = this.fresh(key);
    if (hit) return (hit.value ?? fallback) as T;
    const now = Date.now();
    const row = await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
    const value = row ? JSON.parse(row.value) : undefined;
    this.cache.set(key, { value, at: now });
    return (value ?? fallback) as T;
  }

  /**
   * The cached value while it is fresh (`fallback` when the key is not set), or undefined when only a
   * read would tell: lets a hot path answer without waiting when the cache has it.
   */
  peek<T>(key: string, fallback: T): T | undefined {
    const hit = this.fresh(key);
    return hit ? ((hit.value ?? fallback) as T) : undefined;
  }

  /** The cache entry while it is within the TTL (real time: a cache lifetime, not a business rule). */
  private fresh(key: string): { value: unknown; at: number } | undefined {
    const hit = this.cache.get(key);
    return hit && Date.now() - hit.at < this.ttlMs ? hit : undefined;
  }

  async set(key: string, value: unknown, by: string | null = null, trx: Db = openTransaction<Database>() ?? this.db): Promise<void> {
    const json = JSON.stringify(value);
    const now = this.clock.now();
    await trx.insertInto('settings').values({ key, value: json, updated_at: now, updated_by: by })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: json, updated_at: now, updated_by: by }))
      .execute();
    this.cache.delete(key);
  }

  async delete(key: string): Promise<void> {
    await (openTransaction<Database>() ?? this.db).deleteFrom('settings').where('key', '=', key).execute();
    this.cache.delete(key);
  }
}
