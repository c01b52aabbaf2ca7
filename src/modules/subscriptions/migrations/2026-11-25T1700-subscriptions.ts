import type { Kysely } from 'kysely';

// Frozen in time: never import application code here.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createTable('subscriptions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('customer_id', 'text', (c) => c.notNull())
    .addColumn('licence_id', 'text', (c) => c.notNull())
    .addColumn('item', 'text', (c) => c.notNull())
    .addColumn('product_code', 'text', (c) => c.notNull())
    .addColumn('addon_code', 'text')
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('period_start', 'bigint', (c) => c.notNull())
    .addColumn('period_end', 'bigint', (c) => c.notNull())
    .addColumn('renewal_mode', 'text', (c) => c.notNull())
    .addColumn('cancel_at_period_end', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_order_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('subscriptions_licence_item', ['licence_id', 'item'])
    .execute();
  await db.schema.createIndex('subscriptions_period_end').on('subscriptions').column('period_end').execute();
  await db.schema.createIndex('subscriptions_customer').on('subscriptions').column('customer_id').execute();

  // The primary key is the idempotency key of a reminder: a second node inserting the same row finds it taken.
  await db.schema.createTable('subscription_reminders')
    .addColumn('subscription_id', 'text', (c) => c.notNull())
    .addColumn('period_end', 'bigint', (c) => c.notNull())
    .addColumn('days_before', 'integer', (c) => c.notNull())
    .addColumn('sent_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('subscription_reminders_pk', ['subscription_id', 'period_end', 'days_before'])
    .execute();
}

