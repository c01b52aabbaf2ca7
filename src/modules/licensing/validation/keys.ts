// Licence keys: generation, the normalisation that lets a key typed from an email still match,
// and the hash under which a key is stored and looked up (keys are never stored in clear).

import { createHash, createHmac, randomBytes } from 'node:crypto';
import { HmacSha256 } from '../../../kernel/crypto/hmac-sha256.js';

/** Crockford base32: no I, L, O or U, so the letters people misread cannot appear in a key. */
export const CROCKFORD_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** 25 symbols × 5 bits = 125 bits of CSPRNG randomness (the contract asks for at least 100). */
export const KEY_SYMBOLS = 25;
const GROUP = 5;

/** A key longer than this (in Unicode code points, as sent) is a bad request, not NOT_FOUND. */
export const MAX_KEY_CODE_POINTS = 128;

/** A fresh key shown as five hyphenated groups of five, e.g. `7H2KQ-9QWXM-4TRZP-8DA1C-5NB3E`. */
export function generateLicenceKey(): string {
  // 16 random bytes hold 128 bits; we use the low 125. Since 32 is a power of two, each 5-bit
  // chunk maps to a symbol with no modulo bias.
  let n = BigInt('0x' + randomBytes(16).toString('hex'));
  let symbols = '';
  for (let i = 0; i < KEY_SYMBOLS; i++) {
    symbols = CROCKFORD_ALPHABET[Number(n & 31n)] + symbols;
    n >>= 5n;
  }
  return formatLicenceKey(symbols);
}

/** Groups a normalised key in fives for display; the hyphens carry no meaning. */
export function formatLicenceKey(normalised: string): string {
  const groups: string[] = [];
  for (let i = 0; i < normalised.length; i += GROUP) groups.push(normalised.slice(i, i + GROUP));
  return groups.join('-');
}

// Any Unicode whitespace: JS `\s` misses U+0085 (NEL) and `\p{White_Space}` misses U+FEFF (BOM),
// so both are listed. Besides the ASCII hyphen-minus we drop the soft hyphen (U+00AD, invisible and
// copied along from HTML mail) and U+2010/U+2011 (HYPHEN, NON-BREAKING HYPHEN), which mail clients and
// word processors substitute for `-`. Other dashes are left alone: they are not hyphens.
const IGNORED = /[\s\p{White_Space}\u002D\u00AD\u2010\u2011]/gu;

/**
 * The form keys are compared in: upper-cased, all whitespace and hyphens removed, `O`→`0` and
 * `I`,`L`→`1`. Idempotent. Any string is accepted; one that is not a key simply matches nothing.
 */
export function normaliseLicenceKey(input: string): string {
  // Nearly every call home sends the key as issued: five groups of five symbols with hyphens between.
  // Then only the hyphens go, without the four passes over the string (this runs twice per call).
  if (input.length === 29 && ISSUED.test(input)) {
    return input.slice(0, 5) + input.slice(6, 11) + input.slice(12, 17) + input.slice(18, 23) + input.slice(24, 29);
  }
  return input.toUpperCase().replace(IGNORED, '').replace(/O/g, '0').replace(/[IL]/g, '1');
}

/** A key exactly as generateLicenceKey() formats it: nothing to upper-case, map or strip but hyphens. */
const ISSUED = /^[0-9A-HJKMNP-TV-Z]{5}(?:-[0-9A-HJKMNP-TV-Z]{5}){4}$/;

/** True when the key as sent has more than 128 code points (an astral character counts once). */
export function isKeyTooLong(input: string): boolean {
  // A code point takes one or two UTF-16 units, so most strings are decided without counting.
  if (input.length <= MAX_KEY_CODE_POINTS) return false;
  if (input.length > 2 * MAX_KEY_CODE_POINTS) return true;
  let count = 0;
  // String iteration yields code points (a lone surrogate counts as one, as it does when sent).
  for (const _ of input) if (++count > MAX_KEY_CODE_POINTS) return true;
  return false;
}

/**
 * The look-up hash of a key: SHA-256 hex of the normalised key, or HMAC-SHA256 keyed with the pepper
 * when one is configured (so a stolen database alone cannot confirm a guessed key). The key is
 * normalised here too (normalising is idempotent), so a formatted key and its typed variants hash
 * alike whichever form the caller passes.
 */
export function hashLicenceKey(key: string, pepper?: string | Buffer): string {
  const normalised = normaliseLicenceKey(key);
  const h = pepper === undefined ? createHash('sha256') : createHmac('sha256', pepper);
  return h.update(normalised, 'utf8').digest('hex');
}

/**
 * hashLicenceKey with one pepper, for the call-home path: the same hash, with the HMAC's key blocks
 * hashed once instead of at every call (kernel/crypto/hmac-sha256.ts).
 */
export function licenceKeyHasher(pepper: string | Buffer): (key: string) => string {
  const hmac = new HmacSha256(pepper);
  return (key) => hmac.hex(normaliseLicenceKey(key));
}
