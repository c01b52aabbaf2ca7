/** The privacy module's own tables: requests, the erasure journal, processor notices, retention runs, testimonials. */
export interface PrivacyRequestsTable {
  id: string;
  kind: 'access' | 'erasure';
  /** Keyed hash of the normalised email (subjectHash()); the address itself is not kept here. */
  subject_hash: string;
  requested_by_kind: 'staff' | 'customer' | 'system';
  requested_by_id: string | null;
  /** JSON: counts per table, what was kept and why; never personal values. */
  summary: string;
  created_at: number;
}

export interface PrivacyErasureJournalTable {
  subject_hash: string;
  erased_at: number;
  reapplied_at: number | null;
}

export interface PrivacyProcessorNoticesTable {
  id: string;
  request_id: string;
  processor_id: string;
  method: 'api' | 'manual';
  status: 'to_do' | 'done';
  created_at: number;
  done_at: number | null;
}

export interface PrivacyRetentionRunsTable {
  id: string;
  started_at: number;
  finished_at: number;
  /** JSON: one entry per rule { rule, result | error }. */
  report: string;
  failures: number;
}

export interface PrivacyTestimonialsTable {
  id: string;
  customer_id: string;
  email: string;
  display_name: string;
  company: string | null;
  body: string;
  created_at: number;
  updated_at: number;
}

declare module '../../kernel/db/schema.js' {
  interface Database {
    privacy_requests: PrivacyRequestsTable;
    privacy_erasure_journal: PrivacyErasureJournalTable;
    privacy_processor_notices: PrivacyProcessorNoticesTable;
    privacy_retention_runs: PrivacyRetentionRunsTable;
    privacy_testimonials: PrivacyTestimonialsTable;
  }
}
