import type { Kernel } from '../context.js';

/**
 * The contract between the privacy module and every module that stores personal data about a person
 * (spec/privacy-registry.md, "Subject-access export" and "Erasure"). A module exports one
 * `SubjectDataProvider` and adds it to `src/modules/privacy/providers.ts`; the privacy module resolves the
 * person once, asks every provider for its rows, and labels each value from the registry's declarations
 * (purposes, recipients, retention), so a provider only has to find rows, never to describe them.
 *
 * Every table with a personal column about someone other than staff must be claimed by exactly one
 * provider (`tables`); privacy's tests fail otherwise, and plant data in every claimed table.
 */
export interface DataSubject {
  /** Normalised (trimmed, lower-case) email address: the request's key. */
  email: string;
  /** Customer accounts with this email (normally one). */
  customerIds: string[];
  /** Licences held by those accounts or issued to this email. */
  licenceIds: string[];
}

/** Raw rows of one table; the privacy module keeps only the columns declared personal with `access`. */
export interface SubjectRows { table: string; rows: Array<Record<string, unknown>> }

export interface ErasureOutcome {
  /** Rows removed or anonymised, per table (counts only: this goes into the request log). */
  counts: Record<string, number>;
  /** Plain sentences for the confirmation: what was kept and why (e.g. invoices for six years). */
  kept: string[];
}

export interface SubjectDataProvider {
  module: string;
  tables: string[];
  /** Everything held about the person in `tables`. Must not write. */
  export(k: Kernel, s: DataSubject): Promise<SubjectRows[]>;
  /**
   * Removes or anonymises per the declarations' `onErasure`. Must be idempotent: it runs again after a
   * restore from backup (erasure journal), possibly on data that is already gone.
   */
  erase(k: Kernel, s: DataSubject, ctx: { by: string | null }): Promise<ErasureOutcome>;
}

export const noOutcome = (): ErasureOutcome => ({ counts: {}, kept: [] });

/** Cuts an IPv4 address to its /24 and an IPv6 address to its /48 (the same rule as call-home retention). */
export function truncateIp(ip: string | null): string | null {
  if (!ip) return null;
  if (ip.includes('/')) return ip;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.\d{1,3}$/.exec(ip);
  if (v4) return `${v4[1]}.${v4[2]}.${v4[3]}.0/24`;
  if (ip.includes(':')) return `${ip.split(':').slice(0, 3).join(':')}::/48`;
  return null;
}
