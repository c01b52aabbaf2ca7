// The resellers module's tables (frozen DDL in migrations/).
import type { Currency } from '../catalog/index.js';

/** A customer account staff made a reseller: its pricing, payment terms and public listing details. */
export interface ResellersTable {
  /** The reseller's customer account (customers.id); the reseller signs in with it. */
  customer_id: string;
  status: 'active' | 'suspended';
  /** Whole percent off catalogue prices for plans not on its price list. */
  discount_percent: number;
  /** Days to pay an invoice; 0: pays before delivery (bank transfer, pro forma). */
  payment_terms_days: number;
  currency: Currency;
  /** Shown on the public resellers page, only while the reseller's permission is in the consent ledger. */
  public_name: string;
  public_url: string | null;
  public_country: string | null;
  created_at: number;
  updated_at: number;
  updated_by: string | null;
}

/** A reseller's own price for a plan (net, minor units), instead of the discount. */
export interface ResellerPricesTable {
  reseller_id: string;
  plan_id: string;
  currency: Currency;
  unit_net: number;
  updated_at: number;
}

/** One row per reseller order: the end customer whose details go on the licences, and the terms it was sold on. */
export interface ResellerSalesTable {
  order_id: string;
  reseller_id: string;
  end_name: string;
  end_company: string | null;
  end_email: string;
  end_country: string;
  terms_days: number;
  created_at: number;
}

declare module '../../kernel/db/schema.js' {
  interface Database {
    resellers: ResellersTable;
    reseller_prices: ResellerPricesTable;
    reseller_sales: ResellerSalesTable;
  }
}
