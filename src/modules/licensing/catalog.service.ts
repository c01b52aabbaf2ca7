// What the vendor publishes: releases (with optional installers), add-ons and their content packs.
// Publishing invalidates the per-product catalog cache on this node.

import type { Kernel } from '../../kernel/context.js';
import { newId } from '../../kernel/crypto/tokens.js';
import { lockForUpdate } from '../../kernel/db/dialect.js';
import { badRequest } from '../../kernel/http/errors.js';
import { compareContentParts, parseContentVersion } from './validation/content-version.js';
import { isSemver } from './validation/semver.js';
import { AddonNotFound, Duplicate, duplicateOnUniqueViolation, ProductNotFound } from './licensing.errors.js';
import type { CatalogCache } from './callhome/catalog.js';
import type { StoredFile } from './files.js';
import type { Actor, LicencesService } from './licences.service.js';

export interface ReleaseInput {
  version: string;
  channel: 'stable' | 'beta';
  /** Epoch ms; defaults to now. */
  releasedAt?: number;
  security: boolean;
  notes: string | null;
}

export interface FileView {
  sha256: string;
  size: number;
  name: string;
}

export interface ReleaseView {
  product: string;
  version: string;
  channel: 'stable' | 'beta';
  releasedAt: string;
  security: boolean;
  notes: string | null;
  file: FileView | null;
}

export class CatalogService {
  constructor(
    private readonly k: Kernel,
    private readonly licences: LicencesService,
    private readonly cache: CatalogCache,
  ) {}

  async createRelease(productCode: string, input: ReleaseInput, file: StoredFile | null, actor: Actor): Promise<ReleaseView> {
    const productId = await this.licences.productId(productCode);
    if (!isSemver(input.version)) {
      throw badRequest('version must be a SemVer 2.0 version MAJOR.MINOR.PATCH with an optional -prerelease, no build metadata and no leading zeros', 'version');
    }
    const duplicate = `${productCode} ${input.version} is already released on the ${input.channel} channel.`;
    const dup = await this.k.db.selectFrom('releases').select('id')
      .where('product_id', '=', productId).where('channel', '=', input.channel).where('version', '=', input.version).executeTakeFirst();
    if (dup) throw new Duplicate(duplicate);
    const now = this.k.clock.now();
    const id = newId();
    const releasedAt = input.releasedAt ?? now;
    await this.k.db.insertInto('releases').values({
      id, product_id: productId, channel: input.channel, version: input.version, released_at: releasedAt,
      security: input.security ? 1 : 0, notes: input.notes, file_sha256: file?.sha256 ?? null, file_size: file?.size ?? null,
      file_path: file?.path ?? null, file_name: file?.name ?? null, created_at: now,
    }).execute().catch(duplicateOnUniqueViolation(duplicate));
    this.cache.invalidate(productId);
    await this.k.audit.record({ actorKind: actor.kind === 'customer' ? 'customer' : actor.kind, actorId: actor.id, action: 'licensing.release.created', target: id, detail: { product: productCode, version: input.version, channel: input.channel } });
    return {
      product: productCode, version: input.version, channel: input.channel, releasedAt: new Date(releasedAt).toISOString(),
      security: input.security, notes: input.notes, file: file ? { sha256: file.sha256, size: file.size, name: file.name } : null,
    };
  }

  async createAddon(input: { code: string; name: string; product: string }, actor: Actor): Promise<{ code: string; name: string; product: string }> {
    const productId = await this.licences.productId(input.product);
    const duplicate = `An add-on with the code ${input.code} exists already.`;
    const dup = await this.k.db.selectFrom('addons').select('id').where('code', '=', input.code).executeTakeFirst();
    if (dup) throw new Duplicate(duplicate);
    const id = newId();
    await this.k.db.insertInto('addons').values({ id, product_id: productId, code: input.code, name: input.name, created_at: this.k.clock.now() }).execute()
      .catch(duplicateOnUniqueViolation(duplicate));
    await this.k.audit.record({ actorKind: actor.kind === 'customer' ? 'customer' : actor.kind, actorId: actor.id, action: 'licensing.addon.created', target: id, detail: { code: input.code } });
    return { code: input.code, name: input.name, product: input.product };
  }

  /** Checks an add-on exists before a content upload is streamed to disk. */
  async requireAddon(code: string): Promise<{ id: string; productId: string }> {
    const row = await this.k.db.selectFrom('addons').select(['id', 'product_id']).where('code', '=', code).executeTakeFirst();
    if (!row) throw new AddonNotFound(`No add-on has the code ${code}.`);
    return { id: row.id, productId: row.product_id };
  }

  async createContentPack(addonCode: string, version: string, file: StoredFile, actor: Actor): Promise<{ addon: string; version: string } & FileView> {
    const addon = await this.requireAddon(addonCode);
    const parts = parseContentVersion(version);
    if (!parts) throw badRequest('version must be one or more dot-separated decimal numbers, e.g. 2026.11.25.1', 'version');
    const duplicate = `Content version ${version} of ${addonCode} exists already.`;
    const id = newId();
    await this.k.db.transaction().execute(async (trx) => {
      // 1.2 and 1.2.0 are the same content version to clients, so they are duplicates here too. No index
      // can see that, so uploads to one add-on take its row lock (SQLite's writer lock) and check in turn.
      await lockForUpdate(trx.selectFrom('addons').select('id').where('id', '=', addon.id), this.k.flags).execute();
      const existing = await trx.selectFrom('content_packs').select('version').where('addon_id', '=', addon.id).execute();
      if (existing.some((e) => { const p = parseContentVersion(e.version); return p !== null && compareContentParts(p, parts) === 0; })) {
        throw new Duplicate(duplicate);
      }
      await trx.insertInto('content_packs').values({
        id, addon_id: addon.id, version, file_sha256: file.sha256, file_size: file.size, file_path: file.path, file_name: file.name,
        created_at: this.k.clock.now(),
      }).execute().catch(duplicateOnUniqueViolation(duplicate));
      await this.k.audit.record({ actorKind: actor.kind === 'customer' ? 'customer' : actor.kind, actorId: actor.id, action: 'licensing.content.created', target: id, detail: { addon: addonCode, version } }, trx);
    });
    this.cache.invalidate(addon.productId);
    return { addon: addonCode, version, sha256: file.sha256, size: file.size, name: file.name };
  }

  /** The product's id, or ProductNotFound (used by the public `latest` manifest). */
  async productIdOrNull(code: string): Promise<string | null> {
    try {
      return await this.licences.productId(code);
    } catch (err) {
      if (err instanceof ProductNotFound) return null;
      throw err;
    }
  }
}
