import type { Kysely } from 'kysely';

// Frozen in time: never import application code here.
// Table names carry the `catalog_` prefix because licensing already owns `products` (the licensed
// product codes); a catalogue product points at one of those by its code.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createTable('catalog_products')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('code', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('sort', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema.createTable('catalog_editions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('product_id', 'text', (c) => c.notNull().references('catalog_products.id'))
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('sort', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
    .addUniqueConstraint('catalog_editions_code', ['product_id', 'code'])
    .execute();

  await db.schema.createTable('catalog_tiers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('product_id', 'text', (c) => c.notNull().references('catalog_products.id'))
    .addColumn('max_users', 'integer')
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('rank', 'integer', (c) => c.notNull())
    .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
    .addUniqueConstraint('catalog_tiers_rank', ['product_id', 'rank'])
    .execute();

  await db.schema.createTable('catalog_plans')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('sku', 'text', (c) => c.notNull().unique())
    .addColumn('product_id', 'text', (c) => c.notNull().references('catalog_products.id'))
    .addColumn('edition_id', 'text', (c) => c.references('catalog_editions.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('tier_id', 'text', (c) => c.references('catalog_tiers.id'))
    .addColumn('from_tier_id', 'text', (c) => c.references('catalog_tiers.id'))
    .addColumn('addon_code', 'text')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('term_months', 'integer')
    .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('sort', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('catalog_plans_product').on('catalog_plans').columns(['product_id', 'kind']).execute();

  await db.schema.createTable('catalog_prices')
    .addColumn('plan_id', 'text', (c) => c.notNull().references('catalog_plans.id'))
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('amount', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('catalog_prices_pk', ['plan_id', 'currency'])
    .execute();

  await db.schema.createTable('catalog_coupons')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('code', 'text', (c) => c.notNull().unique())
    .addColumn('percent_off', 'integer', (c) => c.notNull())
    .addColumn('valid_from', 'bigint')
    .addColumn('valid_until', 'bigint')
    .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
}
