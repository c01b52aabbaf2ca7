import type { Kysely } from 'kysely';

// Frozen in time: never import application code here.
const DEFAULT_RATES_BP: Record<string, number> = {
  GB: 2000, AT: 2000, BE: 2100, BG: 2000, CY: 1900, CZ: 2100, DE: 1900, DK: 2500, EE: 2400, GR: 2400, ES: 2100, FI: 2550,
  FR: 2000, HR: 2500, HU: 2700, IE: 2300, IT: 2200, LT: 2100, LU: 1700, LV: 2100, MT: 1800, NL: 2100, PL: 2300, PT: 2300,
  RO: 2100, SE: 2500, SI: 2200, SK: 2300,
};

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createTable('baskets')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('coupon_code', 'text')
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('baskets_updated').on('baskets').column('updated_at').execute();

  await db.schema.createTable('basket_lines')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('basket_id', 'text', (c) => c.notNull().references('baskets.id').onDelete('cascade'))
    .addColumn('plan_id', 'text', (c) => c.notNull())
    .addColumn('quantity', 'integer', (c) => c.notNull())
    .addColumn('target_licence_id', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('basket_lines_basket').on('basket_lines').column('basket_id').execute();

  await db.schema.createTable('orders')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('reference', 'text', (c) => c.notNull().unique())
    .addColumn('customer_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('reseller_id', 'text')
    .addColumn('placed_by_staff_id', 'text')
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('phone', 'text')
    .addColumn('billing_name', 'text', (c) => c.notNull())
    .addColumn('billing_company', 'text')
    .addColumn('billing_address_line1', 'text', (c) => c.notNull())
    .addColumn('billing_address_line2', 'text')
    .addColumn('billing_city', 'text', (c) => c.notNull())
    .addColumn('billing_region', 'text')
    .addColumn('billing_postcode', 'text')
    .addColumn('billing_country', 'text', (c) => c.notNull())
    .addColumn('vat_number', 'text')
    .addColumn('tax_treatment', 'text', (c) => c.notNull())
    .addColumn('tax_evidence', 'text', (c) => c.notNull())
    .addColumn('coupon_code', 'text')
    .addColumn('total_net', 'bigint', (c) => c.notNull())
    .addColumn('total_tax', 'bigint', (c) => c.notNull())
    .addColumn('total_gross', 'bigint', (c) => c.notNull())
    .addColumn('refunded_amount', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('payment_method', 'text', (c) => c.notNull())
    .addColumn('checkout_key', 'text', (c) => c.unique())
    .addColumn('checkout_hash', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('paid_at', 'bigint')
    .execute();
  await db.schema.createIndex('orders_customer').on('orders').columns(['customer_id', 'created_at']).execute();
  await db.schema.createIndex('orders_status').on('orders').columns(['status', 'created_at']).execute();

  await db.schema.createTable('order_lines')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('order_id', 'text', (c) => c.notNull().references('orders.id'))
    .addColumn('line_no', 'integer', (c) => c.notNull())
    .addColumn('plan_id', 'text', (c) => c.notNull())
    .addColumn('sku', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('product_code', 'text', (c) => c.notNull())
    .addColumn('max_users', 'integer')
    .addColumn('addon_code', 'text')
    .addColumn('term_months', 'integer')
    .addColumn('quantity', 'integer', (c) => c.notNull())
    .addColumn('unit_net', 'bigint', (c) => c.notNull())
    .addColumn('discount', 'bigint', (c) => c.notNull())
    .addColumn('net', 'bigint', (c) => c.notNull())
    .addColumn('tax_rate_bp', 'integer', (c) => c.notNull())
    .addColumn('tax', 'bigint', (c) => c.notNull())
    .addColumn('gross', 'bigint', (c) => c.notNull())
    .addColumn('target_licence_id', 'text')
    .addColumn('licence_ids', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('term_start', 'bigint')
    .addColumn('term_end', 'bigint')
    .addUniqueConstraint('order_lines_no', ['order_id', 'line_no'])
    .execute();

  await db.schema.createTable('order_transitions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('order_id', 'text', (c) => c.notNull().references('orders.id'))
    .addColumn('from_status', 'text')
    .addColumn('to_status', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('actor_kind', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text')
    .addColumn('note', 'text')
    .execute();
  await db.schema.createIndex('order_transitions_order').on('order_transitions').columns(['order_id', 'at']).execute();

  await db.schema.createTable('payments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('order_id', 'text', (c) => c.notNull().references('orders.id'))
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('provider_ref', 'text')
    .addColumn('provider_payment_ref', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('amount', 'bigint', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('payments_provider_ref', ['provider', 'provider_ref'])
    .execute();
  await db.schema.createIndex('payments_order').on('payments').column('order_id').execute();

  await db.schema.createTable('payment_events')
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('order_id', 'text')
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('payment_events_pk', ['provider', 'event_id'])
    .execute();

  await db.schema.createTable('refunds')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('order_id', 'text', (c) => c.notNull().references('orders.id'))
    .addColumn('payment_id', 'text')
    .addColumn('amount', 'bigint', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('provider_ref', 'text')
    .addColumn('credit_note_id', 'text')
    .addColumn('idempotency_key', 'text', (c) => c.unique())
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema.createTable('tax_rates')
    .addColumn('country', 'text', (c) => c.primaryKey())
    .addColumn('rate_bp', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_by', 'text')
    .execute();
  const now = Date.now();
  await db.insertInto('tax_rates').values(Object.entries(DEFAULT_RATES_BP).map(([country, rate_bp]) => ({ country, rate_bp, updated_at: now, updated_by: null }))).execute();
}
