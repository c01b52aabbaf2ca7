import type { Transaction } from 'kysely';
import type { Db } from '../../kernel/db/database.js';
import type { Database } from '../../kernel/db/schema.js';

/**
 * What orders needs from licensing, defined here so the shop does not depend on licensing's insides.
 * The app wires licensing's implementation in app.tsx. Every call that changes a licence takes the
 * payment's transaction, so a licence exists if and only if its payment and invoice committed.
 */
export interface IssueLicenceRequest {
  /** The licensing product code (catalogue product code). */
  productCode: string;
  /** The catalogue's name for it, for a product licensing first meets in this sale. */
  productName?: string;
  /** The tier's users; null: unlimited. */
  maxUsers: number | null;
  /** null: the licensing policy's default. */
  maxMachines: number | null;
  /** End of support and updates: one year after payment for a perpetual licence. */
  maintenanceUntil: number | null;
  addons: Array<{ code: string; until: number | null }>;
  customerId: string;
  customerEmail: string;
  /** The order that pays for it, so licensing can show and trace where a licence came from. */
  orderId: string;
}

export interface LicenceSummary {
  licenceId: string;
  productCode: string;
  customerId: string | null;
  maxUsers: number | null;
  maintenanceUntil: number | null;
  addons: Array<{ code: string; until: number | null }>;
  /** The vendor's status: a suspended or revoked licence is not renewed, upgraded or reminded about. */
  status: 'active' | 'suspended' | 'revoked';
  /** A short, non-secret label for lists ("…-7Q4F"), never the key. */
  label: string;
}

export interface LicenceIssuer {
  issue(trx: Transaction<Database>, req: IssueLicenceRequest): Promise<{ licenceId: string; key: string }>;
  /** Upgrade: the licence's user limit becomes the higher tier's (null: unlimited). */
  raiseTier(trx: Transaction<Database>, licenceId: string, change: { maxUsers: number | null }): Promise<void>;
  /** Support renewal: maintenance runs until `until`. */
  extendMaintenance(trx: Transaction<Database>, licenceId: string, change: { until: number }): Promise<void>;
  /** Adds the add-on, or moves its end date. */
  setAddon(trx: Transaction<Database>, licenceId: string, addon: { code: string; until: number | null }): Promise<void>;
  find(db: Db, licenceId: string): Promise<LicenceSummary | null>;
  listForCustomer(db: Db, customerId: string): Promise<LicenceSummary[]>;
}

/**
 * Stands in until app.tsx wires licensing's implementation: reads find nothing, and a payment that
 * would issue a licence fails (its transaction rolls back, so nothing is half-done and it can be retried).
 */
export const unwiredLicenceIssuer: LicenceIssuer = {
  async issue() { throw new Error('The shop is not connected to licensing yet (LicenceIssuer not wired in app.tsx).'); },
  async raiseTier() { throw new Error('LicenceIssuer not wired in app.tsx.'); },
  async extendMaintenance() { throw new Error('LicenceIssuer not wired in app.tsx.'); },
  async setAddon() { throw new Error('LicenceIssuer not wired in app.tsx.'); },
  async find() { return null; },
  async listForCustomer() { return []; },
};
