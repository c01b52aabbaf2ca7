// Which requests the fast lane may take, read from the raw header list: exactly one Content-Length of
// digits, and no Transfer-Encoding or Content-Encoding, in any letter case. Anything else goes to
// Fastify (NaN here).

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { plainLength } from './fast-lane.js';

describe('plainLength', () => {
  test('one Content-Length, whatever its case and place', () => {
    assert.equal(plainLength(['Host', 'x', 'Content-Length', '42']), 42);
    assert.equal(plainLength(['content-length', '0', 'Content-Type', 'application/json']), 0);
    assert.equal(plainLength(['CONTENT-LENGTH', '16384']), 16384);
  });

  test('no length, two lengths, or a coding: not plain', () => {
    for (const raw of [
      [],
      ['Host', 'x'],
      ['Content-Length', '5', 'content-length', '5'],
      ['Content-Length', '5', 'Transfer-Encoding', 'chunked'],
      ['transfer-encoding', 'chunked', 'Content-Length', '5'],
      ['Content-Encoding', 'gzip', 'Content-Length', '5'],
      ['Content-Length', ''],
      ['Content-Length', '1e3'],
      ['Content-Length', '-1'],
      ['Content-Length', '0x10'],
    ]) assert.ok(Number.isNaN(plainLength(raw)), JSON.stringify(raw));
  });

  test('a header that only shares the length of a name is not that header', () => {
    assert.equal(plainLength(['Content-Lengtx', '9', 'Content-Length', '3']), 3);
    assert.equal(plainLength(['X-Transfer-Encodi', 'a', 'Content-Length', '3']), 3);
  });
});
