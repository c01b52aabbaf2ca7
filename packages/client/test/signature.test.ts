import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSignatureHeader, verifySignature } from '../src/index.js';
import { newKeyPair, signatureHeader } from './stand-in-server.js';

const server = newKeyPair('k1');
const other = newKeyPair('k2');
const body = Buffer.from('{"ts":"2026-11-25T10:00:00.000Z","valid":true}');

test('a body signed by a pinned key verifies', () => {
  const result = verifySignature(body, signatureHeader(body, server.privateKey, 'k1'), [other.pinned, server.pinned]);
  assert.deepEqual(result, { ok: true, kid: 'k1' });
});

test('a tampered body is refused', () => {
  const header = signatureHeader(body, server.privateKey, 'k1');
  const tampered = Buffer.from(body.toString().replace('true', 'false'));
  assert.equal(verifySignature(tampered, header, [server.pinned]).ok, false);
  // Even one byte of whitespace counts: the signature covers the exact bytes.
  assert.equal(verifySignature(Buffer.concat([body, Buffer.from(' ')]), header, [server.pinned]).ok, false);
});

test('a signature by another key under a pinned key id is refused', () => {
  const header = signatureHeader(body, other.privateKey, 'k1');
  const result = verifySignature(body, header, [server.pinned]);
  assert.deepEqual(result, { ok: false, reason: 'signature does not match the body' });
});

test('an unknown key id is refused, even with a good signature for that key', () => {
  const header = signatureHeader(body, other.privateKey, 'k2');
  const result = verifySignature(body, header, [server.pinned]);
  assert.equal(result.ok, false);
  assert.match(!result.ok ? result.reason : '', /unknown key id/);
});

test('missing, malformed and non-Ed25519 headers are refused', () => {
  const good = signatureHeader(body, server.privateKey, 'k1');
  for (const header of [undefined, '', 'garbage', good.replace('ed25519', 'rsa'), good.replace(/signature="[^"]*"/, 'signature="AAAA"')]) {
    assert.equal(verifySignature(body, header, [server.pinned]).ok, false, String(header));
  }
});

test('the header parser reads the three parameters', () => {
  assert.deepEqual(parseSignatureHeader('keyid="a", algorithm="ed25519", signature="c2ln"'), {
    keyid: 'a',
    algorithm: 'ed25519',
    signature: 'c2ln',
  });
  assert.equal(parseSignatureHeader('keyid="a" junk'), undefined);
});
