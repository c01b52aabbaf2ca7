// The subscriptions module's tables (frozen DDL in migrations/).

export type RenewalMode = 'card' | 'invoice';

/**
 * One support/updates term or one add-on on one licence. The row holds the paid period; the status
 * (active, renewal_due, past_due, expired, cancelled_at_period_end) follows from it, the clock and the
 * grace period (rules.ts), so it can never disagree with the dates.
 */
export interface SubscriptionsTable {
  id: string;
  customer_id: string;
  licence_id: string;
  /** 'support', or 'addon:<code>'. Unique per licence. */
  item: string;
  product_code: string;
  addon_code: string | null;
  currency: string;
  period_start: number;
  /** The paid end; the licence's add-on end is this plus the grace period (unless cancelled at period end). */
  period_end: number;
  renewal_mode: RenewalMode;
  cancel_at_period_end: number;
  /** The order that bought the current period. */
  last_order_id: string;
  created_at: number;
  updated_at: number;
}

/** The reminder ledger: a row per (subscription, period end, days before), claimed in the sending transaction. */
export interface SubscriptionRemindersTable {
  subscription_id: string;
  period_end: number;
  days_before: number;
  sent_at: number;
}

declare module '../../kernel/db/schema.js' {
  interface Database {
    subscriptions: SubscriptionsTable;
    subscription_reminders: SubscriptionRemindersTable;
  }
}
