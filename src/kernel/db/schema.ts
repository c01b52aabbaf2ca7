/**
 * The database's table types. The kernel declares its own tables here; every module adds its own through
 * declaration merging in its `<module>.tables.ts` (`declare module '…/kernel/db/schema.js'`), so the kernel
 * never imports a module and every query is still fully typed.
 *
 * Conventions shared by both dialects (one code path for SQLite and PostgreSQL):
 *  - times are integer milliseconds since the epoch (`bigint`), parsed to numbers on PostgreSQL;
 *  - booleans are integers 0/1;
 *  - JSON is text; money is integer minor units plus a currency code;
 *  - ids are random text, so no dialect-specific auto-increment is needed.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface Database {
  settings: SettingsTable;
  jobs: JobsTable;
  job_schedules: JobSchedulesTable;
  mail_outbox: MailOutboxTable;
  audit_log: AuditLogTable;
  rate_limits: RateLimitsTable;
  signing_keys: SigningKeysTable;
}

export interface SettingsTable {
  key: string;
  value: string;
  updated_at: number;
  updated_by: string | null;
}

export interface JobsTable {
  id: string;
  name: string;
  payload: string;
  status: 'queued' | 'running' | 'done' | 'dead';
  attempts: number;
  max_attempts: number;
  run_at: number;
  locked_by: string | null;
  locked_until: number | null;
  last_error: string | null;
  idempotency_key: string | null;
  created_at: number;
  finished_at: number | null;
}

export interface JobSchedulesTable {
  name: string;
  interval_ms: number;
  next_run_at: number;
  last_run_at: number | null;
}

export interface MailOutboxTable {
  id: string;
  to_addr: string;
  from_addr: string;
  subject: string;
  text_body: string;
  html_body: string | null;
  headers: string;
  attachments: string;
  category: string;
  /**
   * held: waiting for SMTP to be configured; queued: to be sent; sending: claimed by one worker for its SMTP
   * conversation; sent; uncertain: a conversation that ended without a clear answer (its node died, or the
   * link broke after the message was handed over), never re-sent by itself; failed.
   */
  status: 'held' | 'queued' | 'sending' | 'sent' | 'uncertain' | 'failed';
  attempts: number;
  last_error: string | null;
  message_id: string;
  created_at: number;
  sent_at: number | null;
  /** SMTP envelope sender (Return-Path) when it differs from From: a per-recipient bounce address (VERP). */
  envelope_from: string | null;
  /** The worker (host:pid:random) that claimed the message for its SMTP conversation, when, and until when. */
  claimed_by: string | null;
  claimed_at: number | null;
  claim_until: number | null;
}

export interface AuditLogTable {
  id: string;
  at: number;
  actor_kind: string;
  actor_id: string | null;
  action: string;
  target: string | null;
  detail: string;
  ip: string | null;
}

export interface RateLimitsTable {
  key: string;
  window_start: number;
  count: number;
}

export interface SigningKeysTable {
  kid: string;
  algorithm: 'ed25519';
  public_key: string;
  private_key_sealed: string;
  status: 'active' | 'retired';
  created_at: number;
  retired_at: number | null;
}
