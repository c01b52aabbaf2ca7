// Property tests of the small parsers: key normalisation round-trips, SemVer and content-version
// comparison are total orders, and what the request parser accepts always satisfies the field rules.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { compareContentVersions } from './content-version.js';
import { formatLicenceKey, generateLicenceKey, hashLicenceKey, isKeyTooLong, normaliseLicenceKey } from './keys.js';
import { parseCallhomeRequest } from './parse-request.js';
import { compareSemver, parseSemver } from './semver.js';

const RUNS = { numRuns: 2000 };
const sign = (n: number) => (n > 0 ? 1 : n < 0 ? -1 : 0);

const numeric = fc.oneof(fc.nat({ max: 12 }), fc.constantFrom(99, 100, 2 ** 53 + 1)).map(String);
const identifier = fc.oneof(numeric, fc.constantFrom('alpha', 'beta', 'rc', 'a1', '0a', '-', 'A', 'x-y'));
const semverText = fc
  .tuple(numeric, numeric, numeric, fc.array(identifier, { maxLength: 3 }))
  .map(([a, b, c, pre]) => `${a}.${b}.${c}${pre.length ? '-' + pre.join('.') : ''}`);

const contentText = fc
  .array(fc.oneof(fc.nat({ max: 20 }).map(String), fc.constantFrom('0', '00', '007', '123456789012345678901234567890')), { minLength: 1, maxLength: 5 })
  .map((parts) => parts.join('.'));

function checkTotalOrder(arb: fc.Arbitrary<string>, cmp: (a: string, b: string) => number): void {
  fc.assert(
    fc.property(arb, arb, arb, (a, b, c) => {
      assert.equal(cmp(a, a), 0);
      assert.equal(sign(cmp(a, b)) + sign(cmp(b, a)), 0); // antisymmetric
      if (cmp(a, b) <= 0 && cmp(b, c) <= 0) assert.ok(cmp(a, c) <= 0); // transitive
      if (cmp(a, b) === 0) assert.equal(sign(cmp(a, c)), sign(cmp(b, c))); // equality is consistent
    }),
    RUNS,
  );
}

describe('SemVer', () => {
  it('every generated version parses back to itself', () => {
    fc.assert(fc.property(semverText, (v) => assert.equal(parseSemver(v)?.raw, v)), RUNS);
  });

  it('compareSemver is a total order, and equal precedence means equal text', () => {
    const cmp = (a: string, b: string) => compareSemver(parseSemver(a)!, parseSemver(b)!);
    checkTotalOrder(semverText, cmp);
    fc.assert(fc.property(semverText, semverText, (a, b) => assert.equal(cmp(a, b) === 0, a === b)), RUNS);
  });

  it('a pre-release precedes its release', () => {
    fc.assert(
      fc.property(semverText.filter((v) => !v.includes('-')), fc.array(identifier, { minLength: 1, maxLength: 3 }), (v, pre) => {
        assert.ok(compareSemver(parseSemver(`${v}-${pre.join('.')}`)!, parseSemver(v)!) < 0);
      }),
      RUNS,
    );
  });

  it('arbitrary strings never throw, and anything accepted re-parses identically', () => {
    fc.assert(fc.property(fc.string({ maxLength: 20 }), (s) => {
      const v = parseSemver(s);
      if (v) assert.deepEqual(parseSemver(v.raw), v);
    }), RUNS);
  });
});

describe('content versions', () => {
  it('compare is a total order; trailing zero parts change nothing', () => {
    checkTotalOrder(contentText, compareContentVersions);
    fc.assert(fc.property(contentText, (v) => assert.equal(compareContentVersions(v, `${v}.0.00`), 0)), RUNS);
  });
});

describe('licence keys', () => {
  it('normalisation is idempotent on any string', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => {
      assert.equal(normaliseLicenceKey(normaliseLicenceKey(s)), normaliseLicenceKey(s));
    }), RUNS);
  });

  it('a key shaped like an issued one normalises as the contract says, whatever its symbols', () => {
    // The rule written out plainly (spec: upper-case, drop whitespace and hyphens, O→0, I and L→1),
    // against strings of the issued shape built from symbols, look-alikes, lower case and a few others.
    const reference = (s: string) => s.toUpperCase().replace(/[\s\p{White_Space}\u002D\u00AD\u2010\u2011]/gu, '').replace(/O/g, '0').replace(/[IL]/g, '1');
    const symbol = fc.constantFrom(...'0123456789ABCDEFGHJKMNPQRSTVWXYZ', ...'OILUoilabz', '\u00E9', ' ', '_');
    const group = fc.array(symbol, { minLength: 5, maxLength: 5 }).map((a) => a.join(''));
    const shaped = fc.tuple(group, group, group, group, group, fc.constantFrom('-', '-', '-', ' ', '\u2010')).map(([a, b, c, d, e, sep]) => [a, b, c, d, e].join(sep));
    fc.assert(fc.property(shaped, (s) => assert.equal(normaliseLicenceKey(s), reference(s))), { numRuns: 2_000 });
    const issued = generateLicenceKey();
    assert.equal(normaliseLicenceKey(issued), reference(issued));
  });

  it('a key typed with any casing, spacing, hyphens and O/I/L look-alikes hashes like the key', () => {
    const typo = fc.record({
      lower: fc.array(fc.boolean(), { minLength: 25, maxLength: 25 }),
      gaps: fc.array(fc.constantFrom('', '', ' ', '-', '\t', '\u00A0', '\n', ' - '), { minLength: 25, maxLength: 25 }),
      lookAlike: fc.array(fc.boolean(), { minLength: 25, maxLength: 25 }),
    });
    fc.assert(
      fc.property(typo, ({ lower, gaps, lookAlike }) => {
        const key = generateLicenceKey();
        const symbols = normaliseLicenceKey(key);
        const typed = [...symbols]
          .map((ch, i) => {
            let c = ch;
            if (lookAlike[i] && c === '0') c = 'O';
            if (lookAlike[i] && c === '1') c = i % 2 ? 'I' : 'l';
            return (lower[i] ? c.toLowerCase() : c) + gaps[i];
          })
          .join('');
        assert.equal(normaliseLicenceKey(typed), symbols);
        assert.equal(hashLicenceKey(typed), hashLicenceKey(key));
        assert.equal(formatLicenceKey(symbols), key);
      }),
      { numRuns: 500 },
    );
  });

  it('isKeyTooLong agrees with counting code points', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
      assert.equal(isKeyTooLong(s), Array.from(s).length > 128);
    }), RUNS);
  });
});

describe('request parser', () => {
  it('never throws on arbitrary JSON, and what it accepts obeys the field rules', () => {
    const field = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('8.5.0', 'a'.repeat(64), 'n'.repeat(16), 5, 'beta'));
    const body = fc.record(
      { licence: field, product: field, version: field, channel: field, computerId: field, usersInUse: field, content: field, nonce: field, other: field },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(body, fc.jsonValue()), (b) => {
        const r = parseCallhomeRequest(b);
        if (!r.ok) return assert.ok(r.field.length > 0 && r.message.length > 0);
        const q = r.request;
        assert.ok(!isKeyTooLong(q.licence));
        assert.ok(parseSemver(q.version) !== null);
        assert.ok(q.channel === 'stable' || q.channel === 'beta');
        assert.match(q.computerId, /^[0-9a-f]{64}$/);
        assert.ok(Number.isInteger(q.usersInUse) && q.usersInUse >= 0 && q.usersInUse <= 1_000_000);
        assert.match(q.nonce, /^[A-Za-z0-9_-]{16,128}$/);
        assert.equal('other' in q, false);
      }),
      RUNS,
    );
  });
});
