import type { Db } from '../../kernel/db/database.js';

export function resellerById(db: Db, customerId: string) {
  return db.selectFrom('resellers').selectAll().where('customer_id', '=', customerId).executeTakeFirst();
}

export function allResellers(db: Db) {
  return db.selectFrom('resellers').innerJoin('customers', 'customers.id', 'resellers.customer_id')
    .select(['resellers.customer_id', 'resellers.status', 'resellers.discount_percent', 'resellers.payment_terms_days', 'resellers.currency', 'resellers.public_name', 'customers.email', 'customers.name'])
    .orderBy('resellers.public_name').execute();
}

export function priceList(db: Db, resellerId: string) {
  return db.selectFrom('reseller_prices').innerJoin('catalog_plans', 'catalog_plans.id', 'reseller_prices.plan_id')
    .select(['reseller_prices.plan_id', 'reseller_prices.currency', 'reseller_prices.unit_net', 'catalog_plans.name', 'catalog_plans.sku'])
    .where('reseller_id', '=', resellerId).orderBy('catalog_plans.name').execute();
}

/** A reseller's sales, newest first; always filtered by the signed-in reseller's own id. */
export function salesOf(db: Db, resellerId: string, limit = 200) {
  return db.selectFrom('reseller_sales').innerJoin('orders', 'orders.id', 'reseller_sales.order_id')
    .select(['reseller_sales.order_id', 'reseller_sales.end_name', 'reseller_sales.end_company', 'reseller_sales.end_email', 'reseller_sales.end_country', 'reseller_sales.created_at',
      'orders.reference', 'orders.status', 'orders.currency', 'orders.total_gross'])
    .where('reseller_sales.reseller_id', '=', resellerId).orderBy('reseller_sales.created_at', 'desc').limit(limit).execute();
}

export function saleOf(db: Db, resellerId: string, orderId: string) {
  return db.selectFrom('reseller_sales').innerJoin('orders', 'orders.id', 'reseller_sales.order_id')
    .selectAll('reseller_sales').select(['orders.reference', 'orders.status', 'orders.currency', 'orders.total_net', 'orders.total_tax', 'orders.total_gross', 'orders.customer_id'])
    .where('reseller_sales.reseller_id', '=', resellerId).where('reseller_sales.order_id', '=', orderId).executeTakeFirst();
}
