// The precomputed HMAC is plain HMAC-SHA256: whatever the key (short, one block, longer than a block)
// and whatever the text (empty, astral characters, longer than the first scratch buffer), it agrees
// with node:crypto, and one instance gives the same answer however many times it is reused.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { HmacSha256 } from './hmac-sha256.js';

const reference = (key: Buffer | string, text: string) => createHmac('sha256', key).update(text, 'utf8').digest('hex');

describe('HmacSha256', () => {
  test('agrees with createHmac for any key and any text', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.array(fc.string({ unit: 'grapheme', maxLength: 300 }), { minLength: 1, maxLength: 5 }), (key, texts) => {
      const hmac = new HmacSha256(Buffer.from(key));
      for (const t of texts) assert.equal(hmac.hex(t), reference(Buffer.from(key), t));
    }), { numRuns: 300 });
  });

  test('keys at the block boundary, string keys, and an empty text', () => {
    for (const key of [Buffer.alloc(64, 7), Buffer.alloc(65, 7), Buffer.alloc(0), 'pepper', 'ü'.repeat(40)]) {
      const hmac = new HmacSha256(key);
      for (const t of ['', 'ABC', 'x'.repeat(10_000), '7H2KQ9QWXM4TRZP8DA1C5NB3E']) assert.equal(hmac.hex(t), reference(key, t));
    }
  });

  test('a long text then a short one: the scratch buffer leaves nothing behind', () => {
    const hmac = new HmacSha256('k');
    hmac.hex('Z'.repeat(5000));
    assert.equal(hmac.hex('A'), reference('k', 'A'));
  });
});
