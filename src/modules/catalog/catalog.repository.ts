import type { Db } from '../../kernel/db/database.js';
import type { CatalogPlansTable, CatalogProductsTable, CatalogTiersTable, Currency } from './catalog.tables.js';

/** What a basket line or an order needs to know about one plan, read in one query. */
export interface PlanForSale {
  plan: CatalogPlansTable;
  product: Pick<CatalogProductsTable, 'id' | 'code' | 'name'>;
  edition: { code: string; name: string } | null;
  tier: Pick<CatalogTiersTable, 'id' | 'max_users' | 'label' | 'rank'> | null;
  fromTier: Pick<CatalogTiersTable, 'id' | 'max_users' | 'label' | 'rank'> | null;
  /** Net unit price in minor units; null when the plan has no price in that currency. */
  unitNet: number | null;
}

export async function plansForSale(db: Db, planIds: string[], currency: Currency): Promise<Map<string, PlanForSale>> {
  const out = new Map<string, PlanForSale>();
  if (planIds.length === 0) return out;
  const plans = await db.selectFrom('catalog_plans as pl')
    .innerJoin('catalog_products as p', 'p.id', 'pl.product_id')
    .leftJoin('catalog_editions as e', 'e.id', 'pl.edition_id')
    .leftJoin('catalog_prices as pr', (j) => j.onRef('pr.plan_id', '=', 'pl.id').on('pr.currency', '=', currency))
    .selectAll('pl')
    .select(['p.code as product_code', 'p.name as product_name', 'p.active as product_active', 'e.code as edition_code', 'e.name as edition_name', 'pr.amount as price'])
    .where('pl.id', 'in', planIds).execute();
  const tierIds = plans.flatMap((p) => [p.tier_id, p.from_tier_id]).filter((x): x is string => !!x);
  const tiers = tierIds.length ? await db.selectFrom('catalog_tiers').selectAll().where('id', 'in', tierIds).execute() : [];
  const tier = (id: string | null) => {
    const t = id ? tiers.find((x) => x.id === id) : undefined;
    return t ? { id: t.id, max_users: t.max_users, label: t.label, rank: t.rank } : null;
  };
  for (const r of plans) {
    if (!r.active || !r.product_active) continue;
    const { product_code, product_name, product_active: _pa, edition_code, edition_name, price, ...plan } = r;
    out.set(plan.id, {
      plan, product: { id: plan.product_id, code: product_code, name: product_name },
      edition: edition_code ? { code: edition_code, name: edition_name! } : null,
      tier: tier(plan.tier_id), fromTier: tier(plan.from_tier_id),
      unitNet: price === null || price === undefined ? null : Number(price),
    });
  }
  return out;
}

export async function productByCode(db: Db, code: string) {
  return db.selectFrom('catalog_products').selectAll().where('code', '=', code).executeTakeFirst();
}

export async function activeCoupon(db: Db, code: string, now: number) {
  const c = await db.selectFrom('catalog_coupons').selectAll().where('code', '=', code.trim().toUpperCase()).where('active', '=', 1).executeTakeFirst();
  if (!c) return null;
  if (c.valid_from !== null && now < c.valid_from) return null;
  if (c.valid_until !== null && now >= c.valid_until) return null;
  return c;
}

/** Everything the shop and the admin list: products, editions, tiers, plans and their prices. */
export async function loadCatalogue(db: Db, opts: { activeOnly: boolean }) {
  let pq = db.selectFrom('catalog_products').selectAll().orderBy('sort').orderBy('name');
  if (opts.activeOnly) pq = pq.where('active', '=', 1);
  const products = await pq.execute();
  const ids = products.map((p) => p.id);
  if (!ids.length) return [];
  const [editions, tiers, plans] = await Promise.all([
    db.selectFrom('catalog_editions').selectAll().where('product_id', 'in', ids).orderBy('sort').execute(),
    db.selectFrom('catalog_tiers').selectAll().where('product_id', 'in', ids).orderBy('rank').execute(),
    db.selectFrom('catalog_plans').selectAll().where('product_id', 'in', ids).orderBy('sort').orderBy('name').execute(),
  ]);
  const planIds = plans.map((p) => p.id);
  const prices = planIds.length ? await db.selectFrom('catalog_prices').selectAll().where('plan_id', 'in', planIds).execute() : [];
  return products.map((p) => ({
    product: p,
    editions: editions.filter((e) => e.product_id === p.id),
    tiers: tiers.filter((t) => t.product_id === p.id),
    plans: plans.filter((pl) => pl.product_id === p.id && (!opts.activeOnly || pl.active)).map((pl) => ({
      plan: pl,
      prices: Object.fromEntries(prices.filter((x) => x.plan_id === pl.id).map((x) => [x.currency, Number(x.amount)])) as Partial<Record<Currency, number>>,
    })),
  }));
}

export type CatalogueEntry = Awaited<ReturnType<typeof loadCatalogue>>[number];
