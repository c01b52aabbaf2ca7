// isoString is toISOString: for any millisecond in years 1970–9999 (leap days, month and year ends
// included), and by falling back outside them (before 1970, six-digit years, invalid dates).

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isoOrNull, isoString } from './iso-date.js';

describe('isoString', () => {
  test('equals toISOString for any whole millisecond', () => {
    fc.assert(fc.property(fc.integer({ min: -8.64e15, max: 8.64e15 }), (ms) => {
      assert.equal(isoString(ms), new Date(ms).toISOString());
    }), { numRuns: 20_000 });
  });

  test('at the edges: leap days, year ends, the last millisecond before year 10000', () => {
    const edges = ['1970-01-01T00:00:00.000Z', '2000-02-29T23:59:59.999Z', '2100-03-01T00:00:00.000Z', '2024-12-31T23:59:59.999Z',
      '9999-12-31T23:59:59.999Z', '1600-02-29T12:00:00.000Z'].map((s) => Date.parse(s));
    for (const ms of [...edges, 253_402_300_800_000, -1, 0]) assert.equal(isoString(ms), new Date(ms).toISOString());
  });

  test('outside dates: invalid throws as toISOString does; fractions and null', () => {
    assert.throws(() => isoString(Number.NaN), RangeError);
    assert.equal(isoString(1.5), new Date(1.5).toISOString());
    assert.equal(isoOrNull(null), null);
    assert.equal(isoOrNull(new Date(86_400_000)), '1970-01-02T00:00:00.000Z');
  });
});
