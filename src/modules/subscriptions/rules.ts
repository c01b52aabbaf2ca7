// The pure rules of subscriptions: status, the licence's entitlement, where a renewal starts, which
// reminder is due, and pro-rata prices. No queries here; the service loads the row and the setting.

export const DAY_MS = 86_400_000;
/** Reminders go out this many days before the paid end (0: on the day it ends). */
export const REMINDER_DAYS = [30, 7, 0] as const;
export const RENEWAL_DUE_DAYS = 30;

export type SubscriptionStatus = 'active' | 'renewal_due' | 'past_due' | 'expired' | 'cancelled_at_period_end';

export interface Term { periodEnd: number; cancelAtPeriodEnd: boolean }

/**
 * active → renewal_due (30 days before the end) → past_due (from the end, for the grace period) →
 * expired. A subscription cancelled at period end shows that until its end, then expires with no grace.
 */
export function statusAt(s: Term, now: number, graceDays: number): SubscriptionStatus {
  if (now >= s.periodEnd) return s.cancelAtPeriodEnd || now >= s.periodEnd + graceDays * DAY_MS ? 'expired' : 'past_due';
  if (s.cancelAtPeriodEnd) return 'cancelled_at_period_end';
  return now >= s.periodEnd - RENEWAL_DUE_DAYS * DAY_MS ? 'renewal_due' : 'active';
}

/** What the licence carries for an add-on: the paid end plus the grace period (none once cancelled). */
export function entitlementEnd(s: Term, graceDays: number): number {
  return s.cancelAtPeriodEnd ? s.periodEnd : s.periodEnd + graceDays * DAY_MS;
}

/**
 * A renewal continues from the paid end while the subscription has not lapsed (early, or late within
 * the grace period: the grace days were used, so they are paid for); once lapsed it starts today. One
 * cancelled at period end lapses at that end, with no grace used: renewed after it, it starts today.
 */
export function renewalStart(s: Term, now: number, graceDays: number): number {
  return statusAt(s, now, graceDays) === 'expired' ? now : s.periodEnd;
}

/**
 * The reminder due now, if any: the most urgent offset whose time has come (a subscription bought 5
 * days before its end gets the 7-day reminder, not also the 30-day one). Nothing once the grace period
 * is over or when it is cancelled at period end. The caller claims (subscription, end, offset) once.
 */
export function dueReminder(s: Term, now: number, graceDays: number): number | null {
  if (s.cancelAtPeriodEnd) return null;
  if (now >= s.periodEnd + Math.max(graceDays, 1) * DAY_MS) return null;
  let due: number | null = null;
  for (const d of REMINDER_DAYS) if (now >= s.periodEnd - d * DAY_MS) due = d;
  return due;
}

export interface ProRata { unitNet: number; daysLeft: number; daysInTerm: number }

/**
 * A full-term price charged for the days left to the paid end. Days are whole days: the days left are
 * rounded up (a started day counts), the term's days are rounded to the nearest. The amount is
 * price × daysLeft ÷ daysInTerm in minor units, rounded half up to the penny, in integer arithmetic.
 * When the next term was already renewed in advance, the period is that next term and the days left
 * run to its end, so the charge can exceed one term's price: the upgrade covers both.
 */
export function proRata(fullPrice: number, now: number, periodStart: number, periodEnd: number): ProRata {
  if (!Number.isSafeInteger(fullPrice) || fullPrice < 0) throw new RangeError('price must be a non-negative integer');
  const daysInTerm = Math.max(1, Math.round((periodEnd - periodStart) / DAY_MS));
  const daysLeft = Math.max(0, Math.ceil((periodEnd - now) / DAY_MS));
  const unitNet = Math.floor((2 * fullPrice * daysLeft + daysInTerm) / (2 * daysInTerm));
  return { unitNet, daysLeft, daysInTerm };
}

/** Calendar months in UTC, as orders counts them (one function for both: kernel/clock.ts). */
export { addMonths } from '../../kernel/clock.js';
