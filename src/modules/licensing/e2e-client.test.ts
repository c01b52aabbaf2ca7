// End to end: the real SDK (packages/client) against this server listening on a port. It verifies
// real answers and licence files, and refuses a tampered body, a wrong pinned key and a replayed nonce.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { KeywardClient, KeywardClientError, computerIdFrom, verifyLicenceFile, verifySignature, type KeywardClientOptions, type PinnedKey } from '../../../packages/client/src/index.js';
import { LICENSING_SETTINGS_KEY } from './index.js';
import { createLicence, harness, seedProduct, type Harness } from './testing.js';

let t: TestApp;
let h: Harness;
let serverUrl: string;
let pinned: PinnedKey[];
let key: string;
const computerId = computerIdFrom('e2e-machine-serial', 'mailserver-product-secret');
const input = { usersInUse: 12, version: '8.5.0' };

before(async () => {
  t = await testApp();
  // The SDK checks the answer's time against its own clock: the server runs on real time here.
  t.clock.set(Date.now());
  h = await harness(t);
  await seedProduct(h);
  key = (await createLicence(h, { maxMachines: 3, maintenanceUntil: null })).key;
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  serverUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  const keys = (await (await fetch(`${serverUrl}/api/v1/keys`)).json()) as { keys: PinnedKey[] };
  pinned = keys.keys.map((k) => ({ kid: k.kid, publicKey: k.publicKey }));
});
after(async () => { await t.close(); });

function client(overrides: Partial<KeywardClientOptions> = {}): KeywardClient {
  return new KeywardClient({ serverUrl, licence: key, product: 'mailserver', computerId, pinnedKeys: pinned, ...overrides });
}

/** A fetch that lets a test change the server's answer on its way to the SDK. */
function intercepting(change: (body: Uint8Array, res: Response) => Uint8Array): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    const body = change(new Uint8Array(await res.arrayBuffer()), res);
    return new Response(new Uint8Array(body), { status: res.status, headers: res.headers });
  };
}

async function refused(promise: Promise<unknown>, code: string): Promise<void> {
  const err = await promise.then(() => assert.fail(`expected ${code}`), (e: unknown) => e);
  assert.ok(err instanceof KeywardClientError, String(err));
  assert.equal(err.code, code, err.message);
}

describe('the SDK against the real server', () => {
  test('verifies a real answer: signature, nonce and time', async () => {
    const result = await client().check({ ...input, channel: 'beta' });
    assert.equal(result.offline, false);
    assert.equal(result.answer.code, 'VALID');
    assert.equal(result.answer.valid, true);
    assert.equal(result.answer.update?.version, '8.7.0-beta.1');
    assert.ok(result.answer.offlineUntil);

    // And the exported verifier accepts the raw bytes the server sent, with the pinned keys.
    const res = await fetch(`${serverUrl}/api/v1/products/mailserver/channels/stable/latest`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    assert.deepEqual(verifySignature(bytes, res.headers.get('keyward-signature'), pinned), { ok: true, kid: pinned[0].kid });
  });

  test('refuses a body changed after signing', async () => {
    const tamper = intercepting((body) => Buffer.from(Buffer.from(body).toString('utf8').replace('"maxUsers":50', '"maxUsers":99')));
    await refused(client({ fetch: tamper }).check(input), 'SIGNATURE_INVALID');
  });

  test('refuses answers when the pinned key is not the server\'s', async () => {
    const other = crypto.generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('base64');
    await refused(client({ pinnedKeys: [{ kid: pinned[0].kid, publicKey: other }] }).check(input), 'SIGNATURE_INVALID');
    await refused(client({ pinnedKeys: [{ kid: 'k-someone-else', publicKey: other }] }).check(input), 'SIGNATURE_INVALID');
  });

  test('refuses a replayed answer (another call\'s nonce)', async () => {
    let recorded: Uint8Array | null = null;
    let recordedHeaders: Headers | null = null;
    const replay: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      const body = new Uint8Array(await res.arrayBuffer());
      if (recorded === null) { recorded = body; recordedHeaders = res.headers; }
      return new Response(new Uint8Array(recorded), { status: 200, headers: recordedHeaders! });
    };
    const keyward = client({ fetch: replay });
    assert.equal((await keyward.check(input)).offline, false);
    // The second call gets the first answer back, validly signed but for another nonce; the SDK
    // falls back to its last verified answer and reports why.
    const second = await keyward.check(input);
    assert.equal(second.offline, true);
    assert.ok(second.offline && second.error.code === 'NONCE_MISMATCH');
    await refused(client({ fetch: replay }).check(input), 'NONCE_MISMATCH');
  });

  test('gets and verifies an offline licence file; an edited file is refused', async () => {
    const result = await client().requestLicenceFile();
    assert.equal(result.kind, 'file');
    assert.ok(result.kind === 'file');
    assert.equal(result.payload.computerId, computerId);
    assert.equal(result.payload.licence.product, 'mailserver');
    assert.deepEqual(verifyLicenceFile(result.text, pinned, { computerId }).licence, result.payload.licence);
    const lines = result.text.split('\n');
    const envelope = JSON.parse(Buffer.from(lines[1], 'base64').toString('utf8'));
    const payload = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
    payload.licence.maxUsers = 1000;
    envelope.payload = Buffer.from(JSON.stringify(payload)).toString('base64');
    const edited = [lines[0], Buffer.from(JSON.stringify(envelope)).toString('base64'), lines[2], ''].join('\n');
    assert.throws(() => verifyLicenceFile(edited, pinned, { computerId }), (e: unknown) => e instanceof KeywardClientError && e.code === 'LICENCE_FILE_INVALID');
  });

  test('honours a signed 429 and its Retry-After', async () => {
    await t.k.settings.set(LICENSING_SETTINGS_KEY, { perLicence: 1 });
    try {
      const fresh = await createLicence(h);
      const keyward = client({ licence: fresh.key });
      assert.equal((await keyward.check(input)).offline, false);
      const limited = await keyward.check(input);
      assert.ok(limited.offline && limited.error.code === 'RATE_LIMITED');
      assert.ok(keyward.retryAt && keyward.retryAt.getTime() > Date.now());
    } finally {
      await t.k.settings.delete(LICENSING_SETTINGS_KEY);
    }
  });

  test('a signed error answer reaches the program with its code and field', async () => {
    await refused(client({ licence: 'x'.repeat(129) }).check(input), 'SERVER_ERROR');
    const err = await client({ licence: 'x'.repeat(129) }).check(input).catch((e: KeywardClientError) => e);
    assert.ok(err instanceof KeywardClientError);
    assert.deepEqual({ status: err.status, serverCode: err.serverCode, field: err.field }, { status: 400, serverCode: 'BAD_REQUEST', field: 'licence' });
  });
});
