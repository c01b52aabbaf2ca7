import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { computeTotals, divRoundHalfUp, formatMoney, rateLabel, rateTotalLabel, toGbp } from './money.js';
import { apportionRefund } from './credit.js';

describe('totals in minor units', () => {
  test('table of worked examples', () => {
    const cases = [
      { lines: [{ unitNet: 29900, quantity: 1, percentOff: 0, rateBp: 2000 }], net: 29900, tax: 5980, gross: 35880 },
      // Three lines of 33p at 20%: 6.6p each; per-rate rounding gives 20p (not 3 × 7p = 21p), shared 7+7+6.
      { lines: [1, 2, 3].map(() => ({ unitNet: 33, quantity: 1, percentOff: 0, rateBp: 2000 })), net: 99, tax: 20, gross: 119, lineTax: [7, 7, 6] },
      { lines: [{ unitNet: 1999, quantity: 3, percentOff: 10, rateBp: 2000 }], net: 5397, tax: 1079, gross: 6476 },
      { lines: [{ unitNet: 99999, quantity: 1, percentOff: 0, rateBp: 2550 }], net: 99999, tax: 25500, gross: 125499 },
      { lines: [{ unitNet: 12345, quantity: 2, percentOff: 0, rateBp: 0 }], net: 24690, tax: 0, gross: 24690 },
      { lines: [{ unitNet: 1, quantity: 1, percentOff: 0, rateBp: 2000 }, { unitNet: 1, quantity: 1, percentOff: 0, rateBp: 2000 }], net: 2, tax: 0, gross: 2 },
      { lines: [{ unitNet: 100, quantity: 1, percentOff: 100, rateBp: 2000 }], net: 0, tax: 0, gross: 0 },
    ];
    for (const c of cases) {
      const t = computeTotals(c.lines);
      assert.deepEqual([t.net, t.tax, t.gross], [c.net, c.tax, c.gross], JSON.stringify(c.lines));
      if (c.lineTax) assert.deepEqual(t.lines.map((l) => l.tax), c.lineTax);
    }
  });

  test('invalid lines are refused (negative, fractional, zero quantity)', () => {
    for (const l of [{ unitNet: -1, quantity: 1 }, { unitNet: 1.5, quantity: 1 }, { unitNet: 1, quantity: 0 }, { unitNet: 1, quantity: -2 }, { unitNet: 1, quantity: 1, percentOff: 101 }]) {
      assert.throws(() => computeTotals([{ percentOff: 0, rateBp: 2000, ...l }]), RangeError);
    }
  });

  test('no drift: line VAT sums to the per-rate VAT, which is the rounded VAT of the rate\'s net; totals add up', () => {
    const line = fc.record({ unitNet: fc.integer({ min: 0, max: 10_000_000 }), quantity: fc.integer({ min: 1, max: 100 }), percentOff: fc.integer({ min: 0, max: 100 }), rateBp: fc.constantFrom(0, 500, 1900, 2000, 2100, 2550, 2700) });
    fc.assert(fc.property(fc.array(line, { minLength: 1, maxLength: 12 }), (lines) => {
      const t = computeTotals(lines);
      for (const r of t.byRate) {
        const ls = t.lines.filter((l) => l.rateBp === r.rateBp);
        assert.equal(ls.reduce((s, l) => s + l.tax, 0), r.tax);
        assert.equal(ls.reduce((s, l) => s + l.net, 0), r.net);
        assert.equal(BigInt(r.tax), divRoundHalfUp(BigInt(r.net) * BigInt(r.rateBp), 10000n));
      }
      assert.equal(t.net + t.tax, t.gross);
      assert.equal(t.lines.reduce((s, l) => s + l.gross, 0), t.gross);
      assert.equal(t.byRate.reduce((s, r) => s + r.tax, 0), t.tax);
      for (const l of t.lines) assert.ok(Number.isSafeInteger(l.tax) && l.tax >= 0 && Math.abs(l.tax - (l.net * l.rateBp) / 10000) < 1);
    }), { numRuns: 500 });
  });

  test('refunds split over rates add up exactly; a full refund gives the invoice\'s own figures', () => {
    const byRate = [{ rateBp: 2000, net: 29900, tax: 5980 }, { rateBp: 0, net: 1000, tax: 0 }];
    assert.deepEqual(apportionRefund(byRate, 36880), byRate);
    const part = apportionRefund(byRate, 12000);
    assert.equal(part.reduce((s, p) => s + p.net + p.tax, 0), 12000);
    assert.throws(() => apportionRefund(byRate, 36881), RangeError);
    assert.throws(() => apportionRefund(byRate, 0), RangeError);
    fc.assert(fc.property(fc.integer({ min: 1, max: 36880 }), (amount) => {
      const p = apportionRefund(byRate, amount);
      assert.equal(p.reduce((s, x) => s + x.net + x.tax, 0), amount);
      for (const x of p) assert.ok(x.net >= 0 && x.tax >= 0);
    }));
  });

  test('sterling conversion and formatting', () => {
    assert.equal(toGbp(10000, 856123), 8561);
    assert.equal(toGbp(1, 500000), 1, 'half a penny rounds up');
    assert.equal(toGbp(-10000, 856123), -8561);
    assert.equal(formatMoney(123456, 'GBP'), '£1,234.56');
    assert.equal(formatMoney(5, 'EUR'), '€0.05');
    assert.equal(formatMoney(-100, 'USD'), '-$1.00');
  });
});

describe('rate labels on invoices', () => {
  test('0% under the reverse charge or outside the scope of UK VAT is not labelled like a zero-rated supply', () => {
    assert.equal(rateLabel(2000, 'uk_vat'), '20%');
    assert.equal(rateLabel(0, 'uk_vat'), '0%', 'a zero-rated UK supply is 0%');
    assert.equal(rateLabel(0, 'eu_reverse_charge'), 'RC');
    assert.equal(rateLabel(0, 'outside_scope'), 'n/a');
    assert.equal(rateTotalLabel(1900, 'eu_oss', '€66.50'), 'Net at 19% (VAT €66.50)');
    assert.equal(rateTotalLabel(0, 'eu_reverse_charge', '€0.00'), 'Net, reverse charge (no UK VAT)');
    assert.equal(rateTotalLabel(0, 'outside_scope', '$0.00'), 'Net, outside the scope of UK VAT');
  });
});
