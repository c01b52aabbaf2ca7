// Releases and content packs per product, cached briefly: they change when staff publish (a few
// times a month) and are read by every call. A publish on this node invalidates at once; other nodes
// converge within the TTL.

import type { Db } from '../../../kernel/db/database.js';
import { newestPacks } from '../validation/offers.js';
import type { ContentPackSnapshot, FileRef, ReleaseSnapshot } from '../validation/snapshot.js';

export interface ProductCatalog {
  /** Every release of the product, any channel and date (the rules filter by date). */
  readonly releases: readonly ReleaseSnapshot[];
  /** The newest content pack of each of the product's add-ons. */
  readonly packs: readonly ContentPackSnapshot[];
}

/** `ref` of a stored file: `<kind>/<row id>/<file name>`, the path a download URL is built on. */
export function fileRef(kind: 'r' | 'c', id: string, name: string, sha256: string, size: number): FileRef {
  return { ref: `${kind}/${id}/${encodeURIComponent(name)}`, sha256, size: Number(size) };
}

interface CatalogEntry {
  at: number;
  value: Promise<ProductCatalog>;
  /** Set once `value` has resolved (peek() answers from it). */
  loaded?: ProductCatalog;
}

export class CatalogCache {
  private readonly entries = new Map<string, CatalogEntry>();

  constructor(
    private readonly db: Db,
    private readonly ttlMs = 10_000,
  ) {}

  get(productId: string): Promise<ProductCatalog> {
    const hit = this.fresh(productId);
    if (hit) return hit.value;
    const value = this.load(productId);
    const entry: CatalogEntry = { at: Date.now(), value };
    this.entries.set(productId, entry);
    value.then((loaded) => { entry.loaded = loaded; }, () => {
      // A failed load must not be served from the cache until the TTL passes.
      if (this.entries.get(productId) === entry) this.entries.delete(productId);
    });
    return value;
  }

  /** The cached catalog when it is loaded and fresh, else undefined (get() would wait for a read). */
  peek(productId: string): ProductCatalog | undefined {
    return this.fresh(productId)?.loaded;
  }

  /** The entry while it is within the TTL (real time, not the kernel clock: a cache lifetime, not a business rule). */
  private fresh(productId: string): CatalogEntry | undefined {
    const hit = this.entries.get(productId);
    return hit && Date.now() - hit.at < this.ttlMs ? hit : undefined;
  }

  invalidate(productId?: string): void {
    if (productId === undefined) this.entries.clear();
    else this.entries.delete(productId);
  }

  private async load(productId: string): Promise<ProductCatalog> {
    const [releases, packs] = await Promise.all([
      this.db.selectFrom('releases')
        .select(['id', 'version', 'channel', 'released_at', 'security', 'notes', 'file_sha256', 'file_size', 'file_name'])
        .where('product_id', '=', productId).execute(),
      this.db.selectFrom('content_packs as c').innerJoin('addons as a', 'a.id', 'c.addon_id')
        .select(['c.id', 'a.code', 'c.version', 'c.file_sha256', 'c.file_size', 'c.file_name'])
        .where('a.product_id', '=', productId).execute(),
    ]);
    return {
      releases: releases.map((r) => ({
        version: r.version,
        channel: r.channel,
        releasedAt: new Date(Number(r.released_at)),
        security: r.security === 1,
        notes: r.notes,
        file: r.file_sha256 !== null && r.file_name !== null ? fileRef('r', r.id, r.file_name, r.file_sha256, r.file_size ?? 0) : null,
      })),
      packs: [...newestPacks(packs.map((p) => ({
        addon: p.code,
        version: p.version,
        file: fileRef('c', p.id, p.file_name, p.file_sha256, p.file_size),
      }))).values()],
    };
  }
}
