import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { KeywardClient, KeywardClientError, computerIdFrom, type KeywardClientOptions } from '../src/index.js';
import { StandInServer, newKeyPair } from './stand-in-server.js';

const standIn = new StandInServer();
const computerId = computerIdFrom('machine-1', 'mailserver-secret');

before(() => standIn.start());
after(() => standIn.close());
beforeEach(() => {
  standIn.behaviour = {};
});

function client(overrides: Partial<KeywardClientOptions> = {}): KeywardClient {
  return new KeywardClient({
    serverUrl: standIn.url,
    licence: '7H2KQ-9QWXM-4TRZP-8DA1C-5NB3E',
    product: 'mailserver',
    computerId,
    pinnedKeys: standIn.pinnedKeys,
    ...overrides,
  });
}

const input = { usersInUse: 12, version: '8.5.1' };

async function rejects(promise: Promise<unknown>, code: string): Promise<KeywardClientError> {
  const error = await promise.then(
    () => assert.fail(`expected ${code}`),
    (error: unknown) => error,
  );
  assert.ok(error instanceof KeywardClientError, String(error));
  assert.equal(error.code, code, error.message);
  return error;
}

test('stand-in: a signed answer is verified and returned', async () => {
  const result = await client().check({ ...input, channel: 'beta', content: { spamfilter: '2026.11.1' } });
  assert.equal(result.offline, false);
  assert.equal(result.answer.code, 'VALID');
  const sent = standIn.requests.at(-1)!;
  assert.equal(sent.path, '/api/v1/callhome');
  // Exactly the fields of the contract, nothing more.
  assert.deepEqual(Object.keys(sent.body).sort(), ['channel', 'computerId', 'content', 'licence', 'nonce', 'product', 'usersInUse', 'version']);
  assert.match(String(sent.body.nonce), /^[A-Za-z0-9_-]{32}$/);
  assert.equal(sent.body.computerId, computerId);
});

test('stand-in: every call sends a fresh nonce', async () => {
  const keyward = client();
  await keyward.check(input);
  await keyward.check(input);
  const [first, second] = standIn.requests.slice(-2).map((request) => request.body.nonce);
  assert.notEqual(first, second);
});

test('stand-in: a body tampered after signing is refused', async () => {
  standIn.behaviour = { answer: () => ({ valid: false, code: 'REVOKED' }), tamper: (body) => Buffer.from(body.toString().replace('"valid":false', '"valid":true ')) };
  await rejects(client().check(input), 'SIGNATURE_INVALID');
});

test('stand-in: an answer signed by a key that is not pinned is refused', async () => {
  standIn.behaviour = { signingKey: newKeyPair('x').privateKey };
  await rejects(client().check(input), 'SIGNATURE_INVALID');
});

test('stand-in: an answer naming an unknown key id is refused', async () => {
  const intruder = newKeyPair('intruder');
  standIn.behaviour = { signingKey: intruder.privateKey, kid: 'intruder' };
  await rejects(client().check(input), 'SIGNATURE_INVALID');
});

test('stand-in: a replayed old answer is caught by its nonce', async () => {
  const keyward = client();
  const first = await keyward.check(input);
  standIn.behaviour = { replayPrevious: true };
  // This client holds a valid answer, so it keeps running offline on that one, and says why.
  const replayed = await keyward.check(input);
  assert.equal(replayed.offline, true);
  assert.equal(replayed.offline && replayed.error.code, 'NONCE_MISMATCH');
  assert.deepEqual(replayed.answer, first.answer);
  // A client with nothing cached refuses it outright: the nonce was never its own.
  await rejects(client().check(input), 'NONCE_MISMATCH');
});

test('stand-in: the same signed answer is never accepted twice, even when it echoes the nonce sent', async () => {
  // A broken random source repeats its nonce; only the accepted-nonce guard stops the replay.
  const keyward = client({ nonce: () => 'the-same-nonce-every-time' });
  assert.equal((await keyward.check(input)).offline, false);
  standIn.behaviour = { replayPrevious: true };
  const replayed = await keyward.check(input);
  assert.equal(replayed.offline && replayed.error.code, 'NONCE_MISMATCH');
});

test('stand-in: an answer outside the clock skew is refused, inside it accepted', async () => {
  standIn.behaviour = { tsOffsetMs: 10 * 60_000 };
  await rejects(client().check(input), 'CLOCK_SKEW');
  await rejects(client({ now: () => new Date(Date.now() - 10 * 60_000) }).check(input), 'CLOCK_SKEW');
  standIn.behaviour = { tsOffsetMs: 4 * 60_000 };
  assert.equal((await client().check(input)).answer.code, 'VALID');
  standIn.behaviour = { tsOffsetMs: 10 * 60_000 };
  assert.equal((await client({ clockSkewSeconds: 900 }).check(input)).answer.code, 'VALID');
});

test('stand-in: a 429 Retry-After is honoured: no call goes out before it passes', async () => {
  let clock = Date.now();
  const keyward = client({ now: () => new Date(clock) });
  standIn.behaviour = { rateLimit: { retryAfter: '120' } };
  const error = await rejects(keyward.check(input), 'RATE_LIMITED');
  assert.equal(error.retryAt?.getTime(), clock + 120_000);
  assert.deepEqual(keyward.retryAt, error.retryAt);

  standIn.behaviour = {};
  const before = standIn.requests.length;
  clock += 119_000;
  const refused = await rejects(keyward.check(input), 'RATE_LIMITED');
  assert.equal(refused.retryAt?.getTime(), error.retryAt?.getTime());
  assert.equal(standIn.requests.length, before, 'no request may be sent before Retry-After');
  // The next scheduled check also waits for it, even though the answer asks for sooner.
  assert.ok(keyward.nextCheckAt({ nextCheckSeconds: 60 }).getTime() > error.retryAt!.getTime());

  clock += 2_000;
  assert.equal(keyward.retryAt, undefined);
  assert.equal((await keyward.check(input)).offline, false);
});

test('stand-in: a huge Retry-After is capped', async () => {
  const keyward = client({ maxRetryAfterSeconds: 3600 });
  standIn.behaviour = { rateLimit: { retryAfter: String(365 * 86_400) } };
  const error = await rejects(keyward.check(input), 'RATE_LIMITED');
  assert.ok(error.retryAt!.getTime() <= Date.now() + 3600_000);
});

test('stand-in: a signed error answer surfaces its status and code', async () => {
  const keyward = client({ serverUrl: `${standIn.url}/nowhere` });
  const error = await rejects(keyward.check(input), 'SERVER_ERROR');
  assert.equal(error.status, 404);
  assert.equal(error.serverCode, 'NOT_FOUND');
});

test('stand-in: an unreachable server is a network error that says why', async () => {
  standIn.behaviour = { hangUp: true };
  await rejects(client().check(input), 'NETWORK_ERROR');
  const closed = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address() as net.AddressInfo; s.close(() => resolve(port)); });
  });
  const refused = await rejects(client({ serverUrl: `http://127.0.0.1:${closed}`, timeoutMs: 2000 }).check(input), 'NETWORK_ERROR');
  assert.match(refused.message, /ECONNREFUSED/);
});

test('stand-in: an unsigned error page (a reverse proxy\'s 502) is a server error, not tampering', async () => {
  standIn.behaviour = { proxyError: 502 };
  const error = await rejects(client().check(input), 'SERVER_ERROR');
  assert.equal(error.status, 502);
  standIn.behaviour = { tamper: (body) => Buffer.from(body.toString().replace('VALID', 'VALIX')) };
  await rejects(client().check(input), 'SIGNATURE_INVALID');
});

test('stand-in: a callback that throws does not end the loop or the program', async () => {
  const keyward = client({ serverUrl: 'http://127.0.0.1:9', timeoutMs: 1000 });
  let errors = 0;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    keyward.start({ input: () => input, onError: () => { errors++; throw new Error('the program\'s handler failed'); } });
    while (errors === 0) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(unhandled, []);
  } finally {
    keyward.stop();
    process.off('unhandledRejection', onUnhandled);
  }
});

test('stand-in: after an offline result, nextCheckAt is an hour away, not the cached answer\'s day', async () => {
  const now = new Date('2026-12-01T00:00:07Z'); // not on a whole minute, which the jitter moves off
  const keyward = client({ now: () => now, random: () => 0.5 });
  const answer = { nextCheckSeconds: 86_400 } as never;
  const error = new KeywardClientError('NETWORK_ERROR', 'down');
  assert.equal(keyward.nextCheckAt({ offline: true, answer, error }).getTime() - now.getTime(), 3_600_000);
  assert.equal(keyward.nextCheckAt({ offline: false, answer }).getTime() - now.getTime(), 86_400_000);
  assert.equal(keyward.nextCheckAt(answer).getTime() - now.getTime(), 86_400_000);
});

test('stand-in: start() checks at once, schedules the next check, and stop() ends the loop', async () => {
  const keyward = client();
  const before = standIn.requests.length;
  const result = await new Promise<unknown>((resolve, reject) => {
    keyward.start({ input: () => input, onResult: resolve, onError: reject });
  });
  keyward.stop();
  assert.equal((result as { answer: { code: string } }).answer.code, 'VALID');
  assert.equal(standIn.requests.length, before + 1);
  const timer = (keyward as unknown as { timer?: NodeJS.Timeout }).timer;
  assert.equal(timer, undefined, 'stop() clears the pending timer');
});
