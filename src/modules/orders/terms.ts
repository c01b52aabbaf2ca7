import type { Transaction } from 'kysely';
import type { Database } from '../../kernel/db/schema.js';
import type { Db } from '../../kernel/db/database.js';

type Trx = Transaction<Database>;

/**
 * What orders asks of the subscriptions module while fulfilling, inside the payment's transaction
 * (wired in app.tsx; without it orders keeps its own rules). `item` is 'support' or 'addon:<code>'.
 */
export interface TermHooks {
  /** Where another term of `item` on this licence starts; null: orders' own rule (the later of now and the licence's end). */
  renewalStart(trx: Trx, licenceId: string, item: string, now: number): Promise<number | null>;
  /** Called once the order's licences are issued or changed and its lines carry their terms. */
  fulfilled(trx: Trx, orderId: string): Promise<void>;
  /**
   * An upgrade or a new add-on for an existing licence, bought while its support term runs: the price for
   * the rest of that term and, for an add-on, the term's end. null: the catalogue price and orders' own term.
   */
  priceForLicence(db: Db, line: { kind: 'upgrade' | 'addon'; licenceId: string; addonCode: string | null; fullPrice: number; now: number }): Promise<{ unitNet: number; termEnd: number | null } | null>;
}
