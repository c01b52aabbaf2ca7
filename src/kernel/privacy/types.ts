/**
 * The shape of privacy declarations (spec/privacy-registry.md; vocabulary after fideslang). Every module
 * declares its personal columns, log fields and cookies in its own `privacy.ts`; the privacy module derives
 * the notice, cookie list, record of processing, subject-access export, erasure and retention from them,
 * and tests hold the declarations against the live schema and live HTTP answers.
 */
export type LawfulBasis = 'consent' | 'contract' | 'legal_obligation' | 'vital_interests' | 'public_task' | 'legitimate_interests';

export interface Purpose {
  id: string;
  dataUse: string;
  description: string;
  lawfulBasis: LawfulBasis;
  legitimateInterest?: string;
  legalObligation?: string;
  consent?: { recordKind: string; howToWithdraw: string };
}

export type Subject = 'customer' | 'reseller_contact' | 'support_user' | 'newsletter_subscriber' | 'installed_software' | 'staff';

export type RetentionStart = 'collection' | 'last_activity' | 'account_closure' | 'financial_year_end' | 'consent_withdrawn' | 'ticket_closed';

export interface PersonalField {
  location: { table: string; column: string } | { log: string; field: string };
  subjects: Subject[];
  category: string;
  label: string;
  purposes: string[];
  source: 'data_subject' | 'customer_admin' | 'installed_software' | 'staff' | { processor: string };
  provision: 'contractual' | 'statutory' | 'optional';
  recipients: string[];
  retention: { period: string; from: RetentionStart; rationale: string };
  onErasure: 'delete' | 'null' | 'pseudonymise' | 'truncate_ip' | 'suppression_list' | { retain: 'legal_obligation' | 'legal_claims' };
  access: boolean;
  portable: boolean;
  identity?: 'email' | 'customer_id' | 'licence_id';
  protection: 'argon2id' | 'sha256' | 'encrypted' | 'plain';
  logging: 'never' | 'masked' | 'allowed';
}

export interface NotPersonal { table: string; column: string; reason: string }

export interface Processor {
  id: string; name: string; service: string; country: string;
  role: 'processor' | 'independent_controller'; contractRef: string;
  transferSafeguard?: string;
  erasure: 'api' | 'manual';
}

export interface CookieDecl {
  /** The base name; over HTTPS it carries the `__Host-` prefix (kernel/http/cookies.ts). */
  name: string; purpose: string; holds: string;
  exemption: 'strictly_necessary' | 'remember_me' | 'consent';
  persistence: 'browser_session' | { maxAgeDays: number; onlyWhen: string };
  setWhen: string;
  httpOnly: boolean; sameSite: 'Strict' | 'Lax';
  /** Signing out deletes it (the notice says so only for these; a test holds sign-out to the list). */
  endsAtSignOut?: boolean;
}

/** What one module declares. */
export interface PrivacyDeclarations {
  module: string;
  purposes?: Purpose[];
  fields: PersonalField[];
  notPersonal: NotPersonal[];
  cookies?: CookieDecl[];
}

/** Shorthand for the many id/time/status columns that identify no one. */
export function notPersonal(table: string, columns: string[], reason: string): NotPersonal[] {
  return columns.map((column) => ({ table, column, reason }));
}
