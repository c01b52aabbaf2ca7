import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { KeywardClient, KeywardClientError, computerIdFrom, verifyLicenceFile } from '../src/index.js';
import { LICENCE, StandInServer, makeLicenceFile, newKeyPair } from './stand-in-server.js';

const DAY = 86_400_000;
const key = newKeyPair('k1');
const computerId = computerIdFrom('machine-1', 'mailserver-secret');
const now = new Date('2026-11-25T10:00:00.000Z');

function payload(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    licence: LICENCE,
    computerId,
    nonce: 'n'.repeat(32),
    issuedAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + 30 * DAY).toISOString(),
    ...overrides,
  };
}

function refusedWith(code: string) {
  return (error: unknown) => error instanceof KeywardClientError && error.code === code;
}

test('a licence file signed by a pinned key verifies and yields its payload', () => {
  const text = makeLicenceFile(payload(), key.privateKey, 'k1');
  const verified = verifyLicenceFile(`Keep this file.\n${text}`, [key.pinned], { computerId, now });
  assert.equal(verified.licence.product, 'mailserver');
  assert.equal(verified.computerId, computerId);
});

test('a tampered licence file is refused', () => {
  const text = makeLicenceFile(payload(), key.privateKey, 'k1');
  const base64 = text.split('\n').slice(1, -2).join('');
  const envelope = JSON.parse(Buffer.from(base64, 'base64').toString()) as { payload: string };
  const raised = Buffer.from(envelope.payload, 'base64').toString().replace('"maxUsers":50', '"maxUsers":500');
  const forged = Buffer.from(JSON.stringify({ ...envelope, payload: Buffer.from(raised).toString('base64') })).toString('base64');
  const forgedText = `-----BEGIN KEYWARD LICENCE FILE-----\n${forged}\n-----END KEYWARD LICENCE FILE-----\n`;
  assert.throws(() => verifyLicenceFile(forgedText, [key.pinned], { computerId, now }), refusedWith('LICENCE_FILE_INVALID'));
  assert.throws(() => verifyLicenceFile('hello', [key.pinned], { computerId, now }), refusedWith('LICENCE_FILE_INVALID'));
});

test('a licence file signed by another key is refused', () => {
  const other = newKeyPair('k1');
  const text = makeLicenceFile(payload(), other.privateKey, 'k1');
  assert.throws(() => verifyLicenceFile(text, [key.pinned], { computerId, now }), refusedWith('LICENCE_FILE_INVALID'));
});

test('an expired licence file is refused', () => {
  const text = makeLicenceFile(payload(), key.privateKey, 'k1');
  const later = new Date(now.getTime() + 31 * DAY);
  assert.throws(() => verifyLicenceFile(text, [key.pinned], { computerId, now: later }), refusedWith('LICENCE_FILE_EXPIRED'));
});

test('a licence file for another computer is refused', () => {
  const text = makeLicenceFile(payload(), key.privateKey, 'k1');
  const elsewhere = computerIdFrom('machine-2', 'mailserver-secret');
  assert.throws(() => verifyLicenceFile(text, [key.pinned], { computerId: elsewhere, now }), refusedWith('LICENCE_FILE_WRONG_COMPUTER'));
});

const standIn = new StandInServer();
before(() => standIn.start());
after(() => standIn.close());

function client(): KeywardClient {
  return new KeywardClient({
    serverUrl: standIn.url,
    licence: '7H2KQ-9QWXM-4TRZP-8DA1C-5NB3E',
    computerId,
    pinnedKeys: standIn.pinnedKeys,
  });
}

test('stand-in: requestLicenceFile returns a verified file for this machine', async () => {
  const result = await client().requestLicenceFile();
  assert.equal(result.kind, 'file');
  const request = standIn.requests.at(-1)!;
  assert.deepEqual(Object.keys(request.body).sort(), ['computerId', 'licence', 'nonce']);
  if (result.kind === 'file') {
    assert.equal(result.payload.nonce, request.body.nonce);
    assert.equal(client().verifyLicenceFile(result.text).computerId, computerId);
  }
});

test('stand-in: a licence file answering another nonce or another computer is refused', async () => {
  standIn.behaviour = { licenceFilePayload: { nonce: 'someone-elses-nonce-0123456789' } };
  await assert.rejects(client().requestLicenceFile(), refusedWith('NONCE_MISMATCH'));
  standIn.behaviour = { licenceFilePayload: { computerId: computerIdFrom('machine-2', 'x') } };
  await assert.rejects(client().requestLicenceFile(), refusedWith('LICENCE_FILE_WRONG_COMPUTER'));
  standIn.behaviour = {};
});
