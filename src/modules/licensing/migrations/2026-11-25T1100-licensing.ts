import type { Kysely } from 'kysely';

// Frozen in time: never import application code here.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createTable('products')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('code', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema.createTable('licences')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('product_id', 'text', (c) => c.notNull().references('products.id'))
    .addColumn('key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('key_sealed', 'text', (c) => c.notNull())
    .addColumn('customer_id', 'text')
    .addColumn('customer_email', 'text')
    .addColumn('order_id', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('max_users', 'integer')
    .addColumn('max_machines', 'integer')
    .addColumn('expires_at', 'bigint')
    .addColumn('maintenance_until', 'bigint')
    .addColumn('policy', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('licences_product').on('licences').column('product_id').execute();
  await db.schema.createIndex('licences_customer').on('licences').column('customer_id').execute();

  await db.schema.createTable('addons')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('product_id', 'text', (c) => c.notNull().references('products.id'))
    .addColumn('code', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema.createTable('licence_addons')
    .addColumn('licence_id', 'text', (c) => c.notNull().references('licences.id'))
    .addColumn('addon_id', 'text', (c) => c.notNull().references('addons.id'))
    .addColumn('until', 'bigint')
    .addPrimaryKeyConstraint('licence_addons_pk', ['licence_id', 'addon_id'])
    .execute();

  await db.schema.createTable('machines')
    .addColumn('licence_id', 'text', (c) => c.notNull().references('licences.id'))
    .addColumn('computer_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('first_seen', 'bigint')
    .addColumn('last_seen', 'bigint')
    .addColumn('last_version', 'text')
    .addColumn('last_users_in_use', 'integer')
    .addColumn('last_ip', 'text')
    .addPrimaryKeyConstraint('machines_pk', ['licence_id', 'computer_id'])
    .execute();
  // Seat counting reads (licence, status, last_seen); the IP retention job scans by last_seen.
  await db.schema.createIndex('machines_seats').on('machines').columns(['licence_id', 'status', 'last_seen']).execute();
  await db.schema.createIndex('machines_last_seen').on('machines').column('last_seen').execute();

  await db.schema.createTable('releases')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('product_id', 'text', (c) => c.notNull().references('products.id'))
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('released_at', 'bigint', (c) => c.notNull())
    .addColumn('security', 'integer', (c) => c.notNull())
    .addColumn('notes', 'text')
    .addColumn('file_sha256', 'text')
    .addColumn('file_size', 'bigint')
    .addColumn('file_path', 'text')
    .addColumn('file_name', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('releases_version', ['product_id', 'channel', 'version'])
    .execute();

  await db.schema.createTable('content_packs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('addon_id', 'text', (c) => c.notNull().references('addons.id'))
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('file_sha256', 'text', (c) => c.notNull())
    .addColumn('file_size', 'bigint', (c) => c.notNull())
    .addColumn('file_path', 'text', (c) => c.notNull())
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('content_packs_version', ['addon_id', 'version'])
    .execute();

  await db.schema.createTable('licence_networks')
    .addColumn('licence_id', 'text', (c) => c.notNull().references('licences.id'))
    .addColumn('network', 'text', (c) => c.notNull())
    .addColumn('first_seen', 'bigint', (c) => c.notNull())
    .addColumn('last_seen', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('licence_networks_pk', ['licence_id', 'network'])
    .execute();
  await db.schema.createIndex('licence_networks_last_seen').on('licence_networks').column('last_seen').execute();

  // No foreign key: '' stands for "no licence has this key", and counters outlive nothing they point to.
  await db.schema.createTable('callhome_daily')
    .addColumn('day', 'bigint', (c) => c.notNull())
    .addColumn('licence_id', 'text', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('calls', 'integer', (c) => c.notNull())
    .addColumn('max_users_in_use', 'integer')
    .addPrimaryKeyConstraint('callhome_daily_pk', ['day', 'licence_id', 'version'])
    .execute();
  await db.schema.createIndex('callhome_daily_licence').on('callhome_daily').columns(['licence_id', 'day']).execute();
}

export async function down(): Promise<void> {
  throw new Error('forward-only migrations');
}
