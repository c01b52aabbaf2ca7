/** The newsletter module's tables (merged into the kernel's Database type below). */
export type ListId = 'newsletter' | 'advisories';
export type PostKind = 'release' | 'status' | 'tip' | 'advisory';
export type SubscriptionStatus = 'pending' | 'subscribed' | 'unsubscribed';
export type CampaignStatus = 'draft' | 'sending' | 'paused' | 'sent';
export type SendStatus = 'pending' | 'queued' | 'skipped';

export interface NewsletterPostsTable {
  id: string;
  slug: string;
  title: string;
  kind: PostKind;
  summary: string;
  body_md: string;
  status: 'draft' | 'published';
  published_at: number | null;
  created_at: number;
  updated_at: number;
  created_by: string | null;
  /** Bumped on every edit, so a campaign records which version it sent. */
  revision: number;
}

/** A person on one or more lists. Non-customers hold only an email and optionally a name. */
export interface NewsletterSubscribersTable {
  id: string;
  email: string;
  name: string | null;
  customer_id: string | null;
  created_at: number;
  updated_at: number;
  soft_bounces: number;
  last_bounce_at: number | null;
}

export interface NewsletterSubscriptionsTable {
  subscriber_id: string;
  list_id: ListId;
  status: SubscriptionStatus;
  /** SHA-256 of the double opt-in token while the subscription waits for confirmation. */
  confirm_token_hash: string | null;
  confirm_expires_at: number | null;
  created_at: number;
  updated_at: number;
  confirmed_at: number | null;
  unsubscribed_at: number | null;
}

/**
 * Permissions other than mailing lists kept in the consent ledger: a reseller's listing on the public
 * resellers page, and a customer's permission to show their comment on /testimonials (privacy module).
 */
export type ConsentTopic = 'reseller_directory' | 'testimonials';

/** Append-only proof of every consent action (no update or delete path; triggers refuse both). */
export interface NewsletterConsentEventsTable {
  id: string;
  at: number;
  subscriber_id: string | null;
  email: string;
  /** A mailing list, or another permission recorded in the same ledger (ConsentTopic). */
  list_id: ListId | ConsentTopic;
  action: 'subscribe' | 'confirm' | 'opt_in' | 'enrol' | 'unsubscribe';
  ip: string | null;
  user_agent: string | null;
  source: 'form' | 'account_page' | 'support_request' | 'staff' | 'email' | 'system';
  source_url: string | null;
  method: string;
  wording: string;
  wording_sha256: string;
  notice_version: string;
  actor_staff_id: string | null;
  note: string | null;
}

/** Addresses never mailed, stored as a keyed hash so the list itself reveals no address. */
export interface NewsletterSuppressionsTable {
  email_hash: string;
  reason: 'hard_bounce' | 'complaint' | 'erasure' | 'staff';
  created_at: number;
  created_by: string | null;
}

export interface NewsletterCampaignsTable {
  id: string;
  list_id: ListId;
  subject: string;
  intro_md: string;
  status: CampaignStatus;
  created_by: string | null;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
  /** Compare-and-set counter: each send batch runs once, and pausing makes queued batches stale. */
  batch_seq: number;
  total: number;
  /** The content frozen when sending starts, so later edits of posts never change what goes out. */
  body_html: string | null;
  body_text: string | null;
}

export interface NewsletterCampaignPostsTable {
  campaign_id: string;
  post_id: string;
  position: number;
}

/** One row per (post, list) that went out: the primary key is what stops a post being sent twice. */
export interface NewsletterPostSendsTable {
  post_id: string;
  list_id: ListId;
  campaign_id: string;
  post_revision: number;
  at: number;
}

/** One row per recipient of a campaign; the key `<campaign>:<subscriber>` is the idempotency key. */
export interface NewsletterCampaignSendsTable {
  idempotency_key: string;
  campaign_id: string;
  subscriber_id: string | null;
  status: SendStatus;
  skip_reason: 'suppressed' | 'unsubscribed' | 'gone' | null;
  outbox_id: string | null;
  bounce: 'hard' | 'soft' | 'complaint' | null;
  created_at: number;
  updated_at: number;
}

declare module '../../kernel/db/schema.js' {
  interface Database {
    newsletter_posts: NewsletterPostsTable;
    newsletter_subscribers: NewsletterSubscribersTable;
    newsletter_subscriptions: NewsletterSubscriptionsTable;
    newsletter_consent_events: NewsletterConsentEventsTable;
    newsletter_suppressions: NewsletterSuppressionsTable;
    newsletter_campaigns: NewsletterCampaignsTable;
    newsletter_campaign_posts: NewsletterCampaignPostsTable;
    newsletter_post_sends: NewsletterPostSendsTable;
    newsletter_campaign_sends: NewsletterCampaignSendsTable;
  }
}
