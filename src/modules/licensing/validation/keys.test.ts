import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { describe, it } from 'node:test';

import {
  CROCKFORD_ALPHABET,
  formatLicenceKey,
  generateLicenceKey,
  hashLicenceKey,
  licenceKeyHasher,
  isKeyTooLong,
  normaliseLicenceKey,
} from './keys.js';

const KEY_FORMAT = new RegExp(`^[${CROCKFORD_ALPHABET}]{5}(-[${CROCKFORD_ALPHABET}]{5}){4}$`);

describe('generateLicenceKey', () => {
  it('five hyphenated groups of five Crockford symbols (125 bits)', () => {
    for (let i = 0; i < 200; i++) assert.match(generateLicenceKey(), KEY_FORMAT);
  });

  it('is already in normal form apart from the hyphens', () => {
    const key = generateLicenceKey();
    assert.equal(normaliseLicenceKey(key), key.replace(/-/g, ''));
    assert.equal(formatLicenceKey(normaliseLicenceKey(key)), key);
  });

  it('does not repeat, and uses every symbol in every position', () => {
    const keys = Array.from({ length: 2000 }, generateLicenceKey);
    assert.equal(new Set(keys).size, keys.length);
    // 2000 draws from 32 symbols: each symbol misses a given position with probability (31/32)^2000 ≈ 0.
    const first = new Set(keys.map((k) => k[0]));
    const last = new Set(keys.map((k) => k[k.length - 1]));
    assert.equal(first.size, 32);
    assert.equal(last.size, 32);
  });
});

describe('normaliseLicenceKey', () => {
  const canonical = '7H2KQ9QWXM4TRZP8DA1C5NB3E';
  const variants = [
    '7H2KQ-9QWXM-4TRZP-8DA1C-5NB3E',
    '7h2kq-9qwxm-4trzp-8da1c-5nb3e',
    ' 7H2KQ 9QWXM\t4TRZP\n8DA1C\r\n5NB3E ',
    '7H2KQ\u00A09QWXM\u20034TRZP\u30008DA1C\u20285NB3E', // NBSP, em space, ideographic space, line separator
    '7H2KQ\u00859QWXM\uFEFF4TRZP\u202F8DA1C\u205F5NB3E', // NEL, BOM, narrow NBSP, math space
    '7H2KQ\u00AD9QWXM\u20104TRZP\u20118DA1C--5NB3E', // soft hyphen, hyphen, non-breaking hyphen
    '7H2KQ-9QWXM-4TRZP-8DAIC-5NB3E', // I for 1
    '7H2KQ-9QWXM-4TRZP-8DAlC-5NB3E', // l for 1
    '7H2KQ-9QWXM-4TRZP-8DALC-5NB3E', // L for 1
  ];
  for (const v of variants) it(`${JSON.stringify(v)} matches`, () => assert.equal(normaliseLicenceKey(v), canonical));

  it('O and o map to 0', () => assert.equal(normaliseLicenceKey('oO0-iIlL1'), '00011111'));
  it('is idempotent', () => {
    for (const v of [...variants, 'ß', 'ſ', 'ı', '😀 x', '']) assert.equal(normaliseLicenceKey(normaliseLicenceKey(v)), normaliseLicenceKey(v));
  });
  it('leaves other characters alone (they simply match nothing)', () => {
    assert.equal(normaliseLicenceKey('7H2KQ–9QWXM'), '7H2KQ–9QWXM'); // en dash is not a hyphen
    assert.equal(normaliseLicenceKey(''), '');
  });
});

describe('isKeyTooLong', () => {
  it('counts Unicode code points, not UTF-16 units', () => {
    assert.equal(isKeyTooLong(''), false);
    assert.equal(isKeyTooLong('x'.repeat(128)), false);
    assert.equal(isKeyTooLong('x'.repeat(129)), true);
    assert.equal(isKeyTooLong('😀'.repeat(128)), false); // 256 units
    assert.equal(isKeyTooLong('😀'.repeat(127) + 'xx'), true); // 129 code points, 256 units
    assert.equal(isKeyTooLong('😀'.repeat(129)), true);
    assert.equal(isKeyTooLong('\uD800'.repeat(128)), false); // lone surrogates count one each
    assert.equal(isKeyTooLong('\uD800'.repeat(129)), true);
  });
});

describe('hashLicenceKey', () => {
  it('SHA-256 hex of the normalised key', () => {
    const expected = createHash('sha256').update('7H2KQ9QWXM4TRZP8DA1C5NB3E').digest('hex');
    assert.equal(hashLicenceKey('7H2KQ9QWXM4TRZP8DA1C5NB3E'), expected);
    assert.equal(hashLicenceKey('7h2kq-9qwxm-4trzp-8da1c-5nb3e'), expected);
    assert.match(expected, /^[0-9a-f]{64}$/);
  });

  it('HMAC-SHA256 with a pepper, different from the unpeppered hash', () => {
    const expected = createHmac('sha256', 'pepper').update('ABC').digest('hex');
    assert.equal(hashLicenceKey('abc', 'pepper'), expected);
    assert.notEqual(hashLicenceKey('abc', 'pepper'), hashLicenceKey('abc'));
  });
});

describe('licenceKeyHasher', () => {
  it('gives hashLicenceKey with the same pepper, for issued, typed and hostile keys', () => {
    const pepper = Buffer.from('0123456789abcdef0123456789abcdef');
    const hash = licenceKeyHasher(pepper);
    const keys = [generateLicenceKey(), generateLicenceKey().toLowerCase().replace(/-/g, ' '), 'ß-straße-\u00ad-O0IL', '', '😀'.repeat(64)];
    for (const key of keys) assert.equal(hash(key), hashLicenceKey(key, pepper));
    assert.notEqual(hash(keys[0]!), licenceKeyHasher(Buffer.from('another pepper'))(keys[0]!));
  });
});
