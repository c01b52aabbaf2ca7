import type { Kernel } from '../../kernel/context.js';
import type { Db } from '../../kernel/db/database.js';
import { newId } from '../../kernel/crypto/tokens.js';
import { isUniqueViolation } from '../../kernel/db/dialect.js';
import { CURRENCIES, PLAN_KINDS, type Currency, type PlanKind } from './catalog.tables.js';
import { InvalidCatalogInput, NotFound } from './catalog.errors.js';
import * as repo from './catalog.repository.js';

type Input = Record<string, string | undefined>;

const text = (v: string | undefined, label: string, max = 200): string => {
  const s = (v ?? '').trim();
  if (!s || s.length > max) throw new InvalidCatalogInput(`Enter ${label} (at most ${max} characters).`);
  return s;
};
const code = (v: string | undefined, label: string): string => {
  const s = (v ?? '').trim();
  if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(s)) throw new InvalidCatalogInput(`${label} must be lower-case letters, digits, dots, dashes or underscores.`);
  return s;
};
const int = (v: string | undefined, label: string, min: number, max: number): number => {
  const s = (v ?? '').trim();
  if (!/^-?\d{1,12}$/.test(s) || Number(s) < min || Number(s) > max) throw new InvalidCatalogInput(`${label} must be a whole number from ${min} to ${max}.`);
  return Number(s);
};

/**
 * Parses a price typed by staff ("199", "199.00", "1,299.5") into minor units; never through floats.
 * A comma only groups thousands: "12,50" (a decimal comma) is refused, not read as 1250.
 */
export function parseMoney(v: string | undefined, label = 'The price'): number {
  const typed = (v ?? '').trim();
  const m = /^(\d{1,3}(?:,\d{3}){1,2}|\d{1,9})(?:\.(\d{1,2}))?$/.exec(typed);
  if (!m) throw new InvalidCatalogInput(`${label} must be an amount like 199 or 1,299.50 (a point before the pence).`);
  return Number(m[1]!.replace(/,/g, '')) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}

/** Staff edit the catalogue; everything is validated here and re-shown with a message when wrong. */
export class CatalogService {
  constructor(private readonly k: Kernel) {}

  async addProduct(input: Input, by: string | null): Promise<string> {
    const now = this.k.clock.now();
    const row = { code: code(input.code, 'The product code'), name: text(input.name, 'a product name'), description: (input.description ?? '').trim().slice(0, 2000) };
    if (await repo.productByCode(this.k.db, row.code)) throw new InvalidCatalogInput('A product with this code already exists.');
    const id = newId();
    await this.k.db.insertInto('catalog_products').values({ id, ...row, active: 1, sort: 0, created_at: now, updated_at: now }).execute();
    await this.k.audit.record({ actorKind: 'staff', actorId: by, action: 'catalog.product_added', target: id });
    return id;
  }

  async updateProduct(id: string, input: Input, by: string | null): Promise<void> {
    const res = await this.k.db.updateTable('catalog_products').set({
      name: text(input.name, 'a product name'), description: (input.description ?? '').trim().slice(0, 2000),
      active: input.active === '1' ? 1 : 0, updated_at: this.k.clock.now(),
    }).where('id', '=', id).executeTakeFirst();
    if (!Number(res.numUpdatedRows)) throw new NotFound();
    await this.k.audit.record({ actorKind: 'staff', actorId: by, action: 'catalog.product_updated', target: id });
  }

  async addEdition(productId: string, input: Input): Promise<string> {
    await this.requireProduct(productId);
    const id = newId();
    try {
      await this.k.db.insertInto('catalog_editions').values({ id, product_id: productId, code: code(input.code, 'The edition code'), name: text(input.name, 'an edition name'), sort: 0, active: 1 }).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new InvalidCatalogInput('Another edition of this product has this code; give each edition its own.');
      throw err;
    }
    return id;
  }

  async addTier(productId: string, input: Input): Promise<string> {
    await this.requireProduct(productId);
    const unlimited = (input.max_users ?? '').trim().toLowerCase() === 'unlimited' || (input.max_users ?? '').trim() === '';
    const maxUsers = unlimited ? null : int(input.max_users, 'Users', 1, 1_000_000);
    const rank = int(input.rank, 'The order', 0, 10_000);
    const dup = await this.k.db.selectFrom('catalog_tiers').select('id').where('product_id', '=', productId).where('rank', '=', rank).executeTakeFirst();
    if (dup) throw new InvalidCatalogInput('Another tier of this product has the same order; give each tier its own.');
    const id = newId();
    await this.k.db.insertInto('catalog_tiers').values({ id, product_id: productId, max_users: maxUsers, label: text(input.label, 'a label', 60), rank, active: 1 }).execute();
    return id;
  }

  async addPlan(productId: string, input: Input, by: string | null): Promise<string> {
    await this.requireProduct(productId);
    const kind = input.kind as PlanKind;
    if (!PLAN_KINDS.includes(kind)) throw new InvalidCatalogInput('Choose the kind of plan.');
    const tiers = await this.k.db.selectFrom('catalog_tiers').selectAll().where('product_id', '=', productId).execute();
    const tierOf = (id: string | undefined, label: string) => {
      const t = tiers.find((x) => x.id === id);
      if (!t) throw new InvalidCatalogInput(`Choose ${label}.`);
      return t;
    };
    const tier = kind === 'addon' ? null : tierOf(input.tier_id, 'the user tier');
    const fromTier = kind === 'upgrade' ? tierOf(input.from_tier_id, 'the tier upgraded from') : null;
    if (fromTier && tier && fromTier.rank >= tier.rank) throw new InvalidCatalogInput('An upgrade must go to a higher tier.');
    const addonCode = kind === 'addon' ? code(input.addon_code, 'The add-on code') : null;
    const editionId = input.edition_id ? input.edition_id : null;
    if (editionId && !(await this.k.db.selectFrom('catalog_editions').select('id').where('id', '=', editionId).where('product_id', '=', productId).executeTakeFirst())) {
      throw new InvalidCatalogInput('Choose an edition of this product.');
    }
    const sku = code(input.sku, 'The SKU');
    if (await this.k.db.selectFrom('catalog_plans').select('id').where('sku', '=', sku).executeTakeFirst()) throw new InvalidCatalogInput('Another plan has this SKU.');
    const now = this.k.clock.now();
    const id = newId();
    await this.k.db.transaction().execute(async (trx) => {
      await trx.insertInto('catalog_plans').values({
        id, sku, product_id: productId, edition_id: editionId, kind, tier_id: tier?.id ?? null, from_tier_id: fromTier?.id ?? null,
        addon_code: addonCode, name: text(input.name, 'a plan name'), term_months: kind === 'upgrade' ? null : 12,
        active: 1, sort: int(input.sort || '0', 'The order', 0, 10_000), created_at: now, updated_at: now,
      }).execute();
      await this.writePrices(trx, id, input, now);
    });
    await this.k.audit.record({ actorKind: 'staff', actorId: by, action: 'catalog.plan_added', target: id });
    return id;
  }

  /** Prices of a plan: one field per currency (`price_GBP`…); an empty field removes that currency. */
  async updatePlan(planId: string, input: Input, by: string | null): Promise<void> {
    const now = this.k.clock.now();
    await this.k.db.transaction().execute(async (trx) => {
      const res = await trx.updateTable('catalog_plans').set({ name: text(input.name, 'a plan name'), active: input.active === '1' ? 1 : 0, updated_at: now })
        .where('id', '=', planId).executeTakeFirst();
      if (!Number(res.numUpdatedRows)) throw new NotFound();
      await this.writePrices(trx, planId, input, now);
    });
    await this.k.audit.record({ actorKind: 'staff', actorId: by, action: 'catalog.plan_updated', target: planId });
  }

  private async writePrices(trx: Db, planId: string, input: Input, now: number): Promise<void> {
    const prices: Array<[Currency, number | null]> = CURRENCIES.map((c) => {
      const raw = input[`price_${c}`];
      return [c, raw === undefined || raw.trim() === '' ? null : parseMoney(raw, `The ${c} price`)];
    });
    if (!prices.some(([, a]) => a !== null)) throw new InvalidCatalogInput('Give the plan a price in at least one currency.');
    for (const [currency, amount] of prices) {
      await trx.deleteFrom('catalog_prices').where('plan_id', '=', planId).where('currency', '=', currency).execute();
      if (amount !== null) await trx.insertInto('catalog_prices').values({ plan_id: planId, currency, amount, updated_at: now }).execute();
    }
  }

  async addCoupon(input: Input, by: string | null): Promise<string> {
    const c = (input.code ?? '').trim().toUpperCase();
    if (!/^[A-Z0-9-]{3,32}$/.test(c)) throw new InvalidCatalogInput('A coupon code is 3 to 32 letters, digits or dashes.');
    if (await this.k.db.selectFrom('catalog_coupons').select('id').where('code', '=', c).executeTakeFirst()) throw new InvalidCatalogInput('That coupon code exists already.');
    const until = (input.valid_until ?? '').trim();
    if (until && !/^\d{4}-\d{2}-\d{2}$/.test(until)) throw new InvalidCatalogInput('The end date must look like 2027-01-31.');
    const id = newId();
    await this.k.db.insertInto('catalog_coupons').values({
      id, code: c, percent_off: int(input.percent_off, 'The discount', 1, 100), valid_from: null,
      valid_until: until ? Date.parse(`${until}T00:00:00Z`) + 86_400_000 : null, active: 1, created_at: this.k.clock.now(),
    }).execute();
    await this.k.audit.record({ actorKind: 'staff', actorId: by, action: 'catalog.coupon_added', target: id });
    return id;
  }

  async setCouponActive(id: string, active: boolean): Promise<void> {
    await this.k.db.updateTable('catalog_coupons').set({ active: active ? 1 : 0 }).where('id', '=', id).execute();
  }

  private async requireProduct(id: string): Promise<void> {
    if (!(await this.k.db.selectFrom('catalog_products').select('id').where('id', '=', id).executeTakeFirst())) throw new NotFound();
  }
}
