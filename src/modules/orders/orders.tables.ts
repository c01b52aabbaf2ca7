// The orders module's tables (frozen DDL in migrations/). Money is integer minor units in the order's currency.
import type { Currency, PlanKind } from '../catalog/index.js';
import type { TaxTreatment } from './tax.js';

export type OrderStatus = 'draft' | 'awaiting_payment' | 'paid' | 'fulfilled' | 'cancelled' | 'refunded' | 'partly_refunded';
export type OrderChannel = 'web' | 'phone' | 'reseller';
export type PaymentMethod = 'bank_transfer' | 'stripe';

/** A basket lives only as long as the browser session that holds its token; the token is stored hashed. */
export interface BasketsTable {
  id: string;
  token_hash: string;
  currency: Currency;
  coupon_code: string | null;
  /** Bumped on every change, so a checkout form shown before a change is refused. */
  version: number;
  created_at: number;
  updated_at: number;
}

export interface BasketLinesTable {
  id: string;
  basket_id: string;
  plan_id: string;
  quantity: number;
  /** Upgrades, renewals and add-ons for a licence the buyer already has. */
  target_licence_id: string | null;
  created_at: number;
}

export interface OrdersTable {
  id: string;
  /** Short reference the buyer quotes on a bank transfer. */
  reference: string;
  customer_id: string;
  status: OrderStatus;
  channel: OrderChannel;
  /** Reserved for reseller orders (placed on behalf of an end customer). */
  reseller_id: string | null;
  placed_by_staff_id: string | null;
  currency: Currency;
  email: string;
  phone: string | null;
  billing_name: string;
  billing_company: string | null;
  billing_address_line1: string;
  billing_address_line2: string | null;
  billing_city: string;
  billing_region: string | null;
  billing_postcode: string | null;
  billing_country: string;
  vat_number: string | null;
  tax_treatment: TaxTreatment;
  /** JSON: the facts the tax decision rested on (country, VAT number and its check, rule version, time). */
  tax_evidence: string;
  coupon_code: string | null;
  total_net: number;
  total_tax: number;
  total_gross: number;
  refunded_amount: number;
  payment_method: PaymentMethod;
  /** The idempotency key of the checkout form that made the order; a second submit finds this order. */
  checkout_key: string | null;
  checkout_hash: string | null;
  created_at: number;
  updated_at: number;
  paid_at: number | null;
}

export interface OrderLinesTable {
  id: string;
  order_id: string;
  line_no: number;
  plan_id: string;
  sku: string;
  kind: PlanKind;
  description: string;
  product_code: string;
  max_users: number | null;
  addon_code: string | null;
  term_months: number | null;
  quantity: number;
  unit_net: number;
  discount: number;
  net: number;
  tax_rate_bp: number;
  tax: number;
  gross: number;
  target_licence_id: string | null;
  /** JSON array of the licences this line made or changed, filled at fulfilment. */
  licence_ids: string;
  /** The support or add-on term this line bought (subscriptions build on these). */
  term_start: number | null;
  term_end: number | null;
}

export interface OrderTransitionsTable {
  id: string;
  order_id: string;
  from_status: OrderStatus | null;
  to_status: OrderStatus;
  at: number;
  actor_kind: 'customer' | 'staff' | 'system' | 'provider';
  actor_id: string | null;
  note: string | null;
}

export interface PaymentsTable {
  id: string;
  order_id: string;
  provider: PaymentMethod;
  /** Stripe: the Checkout Session id; bank transfer: null. */
  provider_ref: string | null;
  /** Stripe: the PaymentIntent id, needed for refunds. */
  provider_payment_ref: string | null;
  status: 'pending' | 'succeeded' | 'failed' | 'cancelled';
  amount: number;
  currency: Currency;
  created_at: number;
  updated_at: number;
}

/** Each provider event is handled once: the row is inserted in the same transaction as its effect. */
export interface PaymentEventsTable {
  provider: string;
  event_id: string;
  type: string;
  order_id: string | null;
  received_at: number;
}

export interface RefundsTable {
  id: string;
  order_id: string;
  payment_id: string | null;
  amount: number;
  reason: string;
  provider_ref: string | null;
  credit_note_id: string | null;
  idempotency_key: string | null;
  created_by: string | null;
  created_at: number;
}

export interface TaxRatesTable {
  country: string;
  rate_bp: number;
  updated_at: number;
  updated_by: string | null;
}

declare module '../../kernel/db/schema.js' {
  interface Database {
    baskets: BasketsTable;
    basket_lines: BasketLinesTable;
    orders: OrdersTable;
    order_lines: OrderLinesTable;
    order_transitions: OrderTransitionsTable;
    payments: PaymentsTable;
    payment_events: PaymentEventsTable;
    refunds: RefundsTable;
    tax_rates: TaxRatesTable;
  }
}
