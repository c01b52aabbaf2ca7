import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DAY_MS, dueReminder, entitlementEnd, proRata, renewalStart, statusAt } from './rules.js';

const END = Date.parse('2027-11-25T10:00:00Z');
const live = { periodEnd: END, cancelAtPeriodEnd: false };

describe('status from the paid end, the clock and the grace period', () => {
  const cases: Array<[string, number, boolean, string]> = [
    ['31 days before', END - 31 * DAY_MS, false, 'active'],
    ['exactly 30 days before', END - 30 * DAY_MS, false, 'renewal_due'],
    ['one millisecond before the end', END - 1, false, 'renewal_due'],
    ['at the end', END, false, 'past_due'],
    ['last millisecond of a 14-day grace', END + 14 * DAY_MS - 1, false, 'past_due'],
    ['grace over', END + 14 * DAY_MS, false, 'expired'],
    ['cancelled, before the end', END - DAY_MS, true, 'cancelled_at_period_end'],
    ['cancelled, at the end: no grace', END, true, 'expired'],
  ];
  for (const [name, now, cancel, want] of cases) {
    test(name, () => assert.equal(statusAt({ periodEnd: END, cancelAtPeriodEnd: cancel }, now, 14), want));
  }
  test('grace 0: expired at the end', () => assert.equal(statusAt(live, END, 0), 'expired'));
});

describe('entitlement and renewal start', () => {
  test('an add-on is entitled to the paid end plus grace, or the paid end once cancelled', () => {
    assert.equal(entitlementEnd(live, 14), END + 14 * DAY_MS);
    assert.equal(entitlementEnd({ ...live, cancelAtPeriodEnd: true }, 14), END);
  });
  test('early and in-grace renewals continue from the paid end; after lapse from today', () => {
    assert.equal(renewalStart(live, END - 100 * DAY_MS, 14), END);
    assert.equal(renewalStart(live, END + 13 * DAY_MS, 14), END);
    assert.equal(renewalStart(live, END + 14 * DAY_MS, 14), END + 14 * DAY_MS);
    // Cancelled then renewed before the end: still continues from the paid end.
    assert.equal(renewalStart({ ...live, cancelAtPeriodEnd: true }, END - DAY_MS, 14), END);
    // Cancelled and lapsed at the paid end (no grace, the content stopped then): renewed later, from today.
    assert.equal(renewalStart({ ...live, cancelAtPeriodEnd: true }, END + 5 * DAY_MS, 14), END + 5 * DAY_MS);
  });
});

describe('which reminder is due', () => {
  test('30, 7 and 0 days before, the most urgent one whose time has come', () => {
    assert.equal(dueReminder(live, END - 31 * DAY_MS, 14), null);
    assert.equal(dueReminder(live, END - 30 * DAY_MS, 14), 30);
    assert.equal(dueReminder(live, END - 8 * DAY_MS, 14), 30);
    assert.equal(dueReminder(live, END - 7 * DAY_MS, 14), 7);
    assert.equal(dueReminder(live, END - 1, 14), 7);
    assert.equal(dueReminder(live, END, 14), 0);
    assert.equal(dueReminder(live, END + 14 * DAY_MS - 1, 14), 0);
    assert.equal(dueReminder(live, END + 14 * DAY_MS, 14), null, 'lapsed: no more reminders');
    assert.equal(dueReminder({ ...live, cancelAtPeriodEnd: true }, END - 7 * DAY_MS, 14), null, 'cancelled: none');
  });
});

describe('pro rata (exact pennies, half up)', () => {
  const start = Date.parse('2026-11-25T10:00:00Z');
  const end = Date.parse('2027-11-25T10:00:00Z'); // 365 days
  test('worked examples', () => {
    // £99.00 add-on with 100 days left: 9900 × 100 / 365 = 2712.33 → 2712
    assert.deepEqual(proRata(9900, end - 100 * DAY_MS, start, end), { unitNet: 2712, daysLeft: 100, daysInTerm: 365 });
    // £200.00 upgrade, 73 days left: exactly a fifth → 4000
    assert.equal(proRata(20000, end - 73 * DAY_MS, start, end).unitNet, 4000);
    // A started day counts: 99.5 days left is 100.
    assert.equal(proRata(9900, end - 99.5 * DAY_MS, start, end).daysLeft, 100);
    // Half a penny rounds up: 1 × 1 / 2 with a 2-day term = 0.5 → 1.
    assert.equal(proRata(1, start + DAY_MS, start, start + 2 * DAY_MS).unitNet, 1);
    // On the first day: the full price; after the end: nothing.
    assert.equal(proRata(9900, start, start, end).unitNet, 9900);
    assert.equal(proRata(9900, end, start, end).unitNet, 0);
  });
  test('a term renewed in advance: the days left run to its end, so the charge covers more than one term', () => {
    // Renewed early: the stored period is next year's (starting in 7 days); 372 days left of a 365-day term.
    const next = proRata(20000, end - 7 * DAY_MS, end, end + 365 * DAY_MS);
    assert.deepEqual(next, { unitNet: 20384, daysLeft: 372, daysInTerm: 365 }); // 20000 × 372 / 365 = 20383.56 → 20384
  });
  test('never negative, never more than the full price within the term, and matches exact rational rounding', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 1, max: 800 }), fc.integer({ min: -5, max: 1600 }), (price, termDays, leftDays) => {
      const r = proRata(price, start + (termDays - leftDays) * DAY_MS, start, start + termDays * DAY_MS);
      assert.ok(r.unitNet >= 0);
      if (leftDays <= termDays) assert.ok(r.unitNet <= price);
      const left = Math.max(0, leftDays);
      const exact = BigInt(price) * BigInt(left) * 2n + BigInt(termDays);
      assert.equal(BigInt(r.unitNet), exact / (2n * BigInt(termDays)));
    }));
  });
  test('refuses a non-integer price', () => assert.throws(() => proRata(99.5, start, start, end), RangeError));
});
