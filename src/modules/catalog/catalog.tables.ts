// The catalogue's tables (frozen DDL in migrations/). Money is integer minor units per currency.

export const CURRENCIES = ['GBP', 'EUR', 'USD'] as const;
export type Currency = (typeof CURRENCIES)[number];

/**
 * perpetual: a licence for ever, with the first year of support and updates;
 * renewal: another term of support and updates for an existing licence;
 * addon: a yearly add-on subscription (spam filter, antivirus definitions);
 * upgrade: moves an existing licence from one user tier to a higher one.
 */
export const PLAN_KINDS = ['perpetual', 'renewal', 'addon', 'upgrade'] as const;
export type PlanKind = (typeof PLAN_KINDS)[number];

export interface CatalogProductsTable {
  id: string;
  /** The licensing product code the installed program sends; licences are issued for it. */
  code: string;
  name: string;
  description: string;
  active: number;
  sort: number;
  created_at: number;
  updated_at: number;
}

export interface CatalogEditionsTable {
  id: string;
  product_id: string;
  code: string;
  name: string;
  sort: number;
  active: number;
}

export interface CatalogTiersTable {
  id: string;
  product_id: string;
  /** null: unlimited users. */
  max_users: number | null;
  label: string;
  /** Order of tiers for upgrades: a higher rank is a bigger tier. */
  rank: number;
  active: number;
}

export interface CatalogPlansTable {
  id: string;
  /** Stable code used in forms, invoices and the accounting export. */
  sku: string;
  product_id: string;
  edition_id: string | null;
  kind: PlanKind;
  /** perpetual, renewal: the tier bought; upgrade: the tier reached. */
  tier_id: string | null;
  /** upgrade only: the tier the licence must be on now. */
  from_tier_id: string | null;
  /** addon only: the licensing add-on code (e.g. 'spamfilter'). */
  addon_code: string | null;
  name: string;
  /** Length of the support or add-on term the plan buys; perpetual plans include their first term. */
  term_months: number | null;
  active: number;
  sort: number;
  created_at: number;
  updated_at: number;
}

export interface CatalogPricesTable {
  plan_id: string;
  currency: Currency;
  /** Net of VAT, in minor units (pence, cents). */
  amount: number;
  updated_at: number;
}

export interface CatalogCouponsTable {
  id: string;
  code: string;
  percent_off: number;
  valid_from: number | null;
  valid_until: number | null;
  active: number;
  created_at: number;
}

declare module '../../kernel/db/schema.js' {
  interface Database {
    catalog_products: CatalogProductsTable;
    catalog_editions: CatalogEditionsTable;
    catalog_tiers: CatalogTiersTable;
    catalog_plans: CatalogPlansTable;
    catalog_prices: CatalogPricesTable;
    catalog_coupons: CatalogCouponsTable;
  }
}
