export type SubjectKind = 'customer' | 'staff';
export type StaffRole = 'owner' | 'admin' | 'support' | 'sales';

export interface CustomersTable {
  id: string;
  email: string;
  name: string;
  company: string | null;
  phone: string | null;
  address_line1: string | null;
  address_line2: string | null;
  city: string | null;
  region: string | null;
  postcode: string | null;
  country: string | null;
  vat_number: string | null;
  password_hash: string | null;
  email_verified_at: number | null;
  created_at: number;
  updated_at: number;
  last_login_at: number | null;
  closed_at: number | null;
}

export interface StaffTable {
  id: string;
  email: string;
  name: string;
  role: StaffRole;
  password_hash: string;
  totp_secret_sealed: string | null;
  totp_enabled: number;
  totp_last_step: number | null;
  created_at: number;
  last_login_at: number | null;
  disabled_at: number | null;
}

export interface SessionsTable {
  id_hash: string;
  subject_kind: SubjectKind;
  subject_id: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  /** "Firefox on Linux": a coarse description from the user agent (device.ts), null when unknown. */
  device: string | null;
}

export interface RememberTokensTable {
  selector: string;
  validator_hash: string;
  subject_kind: SubjectKind;
  subject_id: string;
  created_at: number;
  expires_at: number;
  last_used_at: number | null;
  device: string | null;
}

export interface AccountTokensTable {
  token_hash: string;
  purpose: 'verify_email' | 'password_reset' | 'staff_setup';
  subject_kind: SubjectKind;
  subject_id: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface ApiKeysTable {
  id: string;
  name: string;
  key_hash: string;
  last4: string;
  created_by: string | null;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

declare module '../../kernel/db/schema.js' {
  interface Database {
    customers: CustomersTable;
    staff: StaffTable;
    sessions: SessionsTable;
    remember_tokens: RememberTokensTable;
    account_tokens: AccountTokensTable;
    api_keys: ApiKeysTable;
  }
}
