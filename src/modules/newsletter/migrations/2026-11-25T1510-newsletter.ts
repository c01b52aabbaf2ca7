import { sql, SqliteAdapter, type Kysely } from 'kysely';

// Frozen in time: never import application code here.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createTable('newsletter_posts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('summary', 'text', (c) => c.notNull())
    .addColumn('body_md', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('published_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('created_by', 'text')
    .addColumn('revision', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await db.schema.createIndex('newsletter_posts_published').on('newsletter_posts').columns(['status', 'published_at']).execute();

  await db.schema.createTable('newsletter_subscribers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text')
    .addColumn('customer_id', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('soft_bounces', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_bounce_at', 'bigint')
    .execute();
  await db.schema.createIndex('newsletter_subscribers_customer').on('newsletter_subscribers').column('customer_id').execute();

  await db.schema.createTable('newsletter_subscriptions')
    .addColumn('subscriber_id', 'text', (c) => c.notNull().references('newsletter_subscribers.id').onDelete('cascade'))
    .addColumn('list_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('confirm_token_hash', 'text', (c) => c.unique())
    .addColumn('confirm_expires_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('confirmed_at', 'bigint')
    .addColumn('unsubscribed_at', 'bigint')
    .addPrimaryKeyConstraint('newsletter_subscriptions_pk', ['subscriber_id', 'list_id'])
    .execute();
  await db.schema.createIndex('newsletter_subscriptions_list').on('newsletter_subscriptions').columns(['list_id', 'status']).execute();

  // The consent ledger has no foreign key: it outlives the subscriber (kept under legal obligation).
  await db.schema.createTable('newsletter_consent_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('subscriber_id', 'text')
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('list_id', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('source_url', 'text')
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('wording', 'text', (c) => c.notNull())
    .addColumn('wording_sha256', 'text', (c) => c.notNull())
    .addColumn('notice_version', 'text', (c) => c.notNull())
    .addColumn('actor_staff_id', 'text')
    .addColumn('note', 'text')
    .execute();
  await db.schema.createIndex('newsletter_consent_events_email').on('newsletter_consent_events').columns(['email', 'at']).execute();
  await db.schema.createIndex('newsletter_consent_events_subscriber').on('newsletter_consent_events').column('subscriber_id').execute();

  // Append-only in the database too: updates are refused always, deletes while the record is younger
  // than six years (the retention of proof of consent; older records may be purged by the retention job).
  if (db.getExecutor().adapter instanceof SqliteAdapter) {
    await sql`CREATE TRIGGER newsletter_consent_events_no_update BEFORE UPDATE ON newsletter_consent_events
      BEGIN SELECT RAISE(ABORT, 'newsletter_consent_events is append-only'); END`.execute(db);
    await sql`CREATE TRIGGER newsletter_consent_events_no_delete BEFORE DELETE ON newsletter_consent_events
      WHEN old.at > (CAST(strftime('%s', 'now') AS INTEGER) - 189345600) * 1000
      BEGIN SELECT RAISE(ABORT, 'newsletter_consent_events is append-only'); END`.execute(db);
  } else {
    await sql`CREATE FUNCTION newsletter_consent_events_guard() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'UPDATE' OR TG_OP = 'TRUNCATE' THEN RAISE EXCEPTION 'newsletter_consent_events is append-only'; END IF;
        IF OLD.at > extract(epoch from now()) * 1000 - 189345600000 THEN RAISE EXCEPTION 'newsletter_consent_events is append-only'; END IF;
        RETURN OLD;
      END $$`.execute(db);
    await sql`CREATE TRIGGER newsletter_consent_events_guard BEFORE UPDATE OR DELETE ON newsletter_consent_events
      FOR EACH ROW EXECUTE FUNCTION newsletter_consent_events_guard()`.execute(db);
    await sql`CREATE TRIGGER newsletter_consent_events_no_truncate BEFORE TRUNCATE ON newsletter_consent_events
      FOR EACH STATEMENT EXECUTE FUNCTION newsletter_consent_events_guard()`.execute(db);
  }

  await db.schema.createTable('newsletter_suppressions')
    .addColumn('email_hash', 'text', (c) => c.primaryKey())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('created_by', 'text')
    .execute();

  await db.schema.createTable('newsletter_campaigns')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('list_id', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('intro_md', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('started_at', 'bigint')
    .addColumn('finished_at', 'bigint')
    .addColumn('batch_seq', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('total', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('body_html', 'text')
    .addColumn('body_text', 'text')
    .execute();

  await db.schema.createTable('newsletter_campaign_posts')
    .addColumn('campaign_id', 'text', (c) => c.notNull().references('newsletter_campaigns.id').onDelete('cascade'))
    .addColumn('post_id', 'text', (c) => c.notNull().references('newsletter_posts.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('newsletter_campaign_posts_pk', ['campaign_id', 'post_id'])
    .execute();

  await db.schema.createTable('newsletter_post_sends')
    .addColumn('post_id', 'text', (c) => c.notNull())
    .addColumn('list_id', 'text', (c) => c.notNull())
    .addColumn('campaign_id', 'text', (c) => c.notNull())
    .addColumn('post_revision', 'integer', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('newsletter_post_sends_pk', ['post_id', 'list_id'])
    .execute();

  await db.schema.createTable('newsletter_campaign_sends')
    .addColumn('idempotency_key', 'text', (c) => c.primaryKey())
    .addColumn('campaign_id', 'text', (c) => c.notNull().references('newsletter_campaigns.id').onDelete('cascade'))
    .addColumn('subscriber_id', 'text', (c) => c.references('newsletter_subscribers.id').onDelete('set null'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('skip_reason', 'text')
    .addColumn('outbox_id', 'text')
    .addColumn('bounce', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('newsletter_campaign_sends_status').on('newsletter_campaign_sends').columns(['campaign_id', 'status']).execute();
  await db.schema.createIndex('newsletter_campaign_sends_subscriber').on('newsletter_campaign_sends').column('subscriber_id').execute();
}

export async function down(): Promise<void> {
  throw new Error('forward-only migrations');
}
