// The fast lane (kernel/http/fast-lane.ts) and the Fastify route answer /callhome alike: same status,
// same body, both signed. Only plain requests take the lane; the rest reach the route. Answers sent
// together at the end of a turn of the event loop each reach their own caller.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net, { type AddressInfo } from 'node:net';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { verifyEd25519 } from '../../kernel/crypto/signing.js';
import { LICENSING_SETTINGS_KEY } from './index.js';
import { callBody, computerId, createLicence, harness, nonce, seedProduct, type Harness } from './testing.js';

let t: TestApp;
let h: Harness;
let url: string;
let key: string;

before(async () => {
  t = await testApp();
  h = await harness(t);
  await seedProduct(h);
  key = (await createLicence(h, { maxMachines: 100 })).key;
  // Every call here is for one licence from one address: lift the limits (a test below has its own).
  await t.k.settings.set(LICENSING_SETTINGS_KEY, { perLicence: 100_000, perIp: 100_000, windowSeconds: 60 });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}/api/v1/callhome`;
});
after(async () => { await t.close(); });

interface Answer { status: number; type: string; body: string; retryAfter: string | null }

async function verified(status: number, type: string, body: string, signature: string | null, retryAfter: string | null): Promise<Answer> {
  const m = /^keyid="([^"]+)", algorithm="ed25519", signature="([^"]+)"$/.exec(signature ?? '');
  assert.ok(m, `answer ${status} ${body.slice(0, 100)} is not signed`);
  const k = (await h.keys()).find((x) => x.kid === m[1]);
  assert.ok(k && verifyEd25519(k.publicKey, Buffer.from(body), m[2]!), 'the signature verifies over the body bytes');
  return { status, type, body, retryAfter };
}

async function overHttp(body: string | Buffer, init: RequestInit = {}, path = ''): Promise<Answer> {
  const res = await fetch(url + path, { method: 'POST', body: body as BodyInit, headers: { 'content-type': 'application/json' }, ...init });
  const text = await res.text();
  return verified(res.status, res.headers.get('content-type') ?? '', text, res.headers.get('keyward-signature'), res.headers.get('retry-after'));
}

async function injected(body: string | Buffer): Promise<Answer> {
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/callhome', payload: body, headers: { 'content-type': 'application/json' }, remoteAddress: '127.0.0.1' });
  return verified(res.statusCode, String(res.headers['content-type']), res.body, String(res.headers['keyward-signature']), (res.headers['retry-after'] as string | undefined) ?? null);
}

describe('call-home on the fast lane', () => {
  const cases: [string, () => string | Buffer][] = [
    ['a valid call', () => JSON.stringify(callBody(key, { computerId: computerId('lane-1'), nonce: 'same-nonce-for-both-doors' }))],
    ['an unknown key', () => JSON.stringify(callBody('NOPE-NOPE', { nonce: 'same-nonce-for-both-doors' }))],
    ['a body that is not JSON', () => '{"licence": '],
    ['an empty body', () => ''],
    ['a byte-order mark before the JSON', () => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(callBody(key, { computerId: computerId('lane-2'), nonce: 'same-nonce-for-both-doors' })))])],
    ['a wrong type', () => JSON.stringify(callBody(key, { usersInUse: '5' }))],
    ['a huge number', () => JSON.stringify(callBody(key, { usersInUse: 1e300 }))],
    ['a JSON array', () => '[1,2,3]'],
  ];
  for (const [name, body] of cases) {
    test(`${name}: the lane answers as the Fastify route does`, async () => {
      const before = t.modules.lane.handled;
      const lane = await overHttp(body());
      assert.equal(t.modules.lane.handled, before + 1, 'the lane took it');
      const route = await injected(body());
      assert.equal(lane.status, route.status);
      assert.equal(lane.type, route.type);
      assert.equal(lane.type, 'application/json; charset=utf-8');
      assert.deepEqual(JSON.parse(lane.body), JSON.parse(route.body));
    });
  }

  test('requests that are not plain reach the Fastify route, which answers them signed', async () => {
    const before = t.modules.lane.handled;
    const body = JSON.stringify(callBody(key, { computerId: computerId('lane-3') }));
    const query = await overHttp(body, {}, '?x=1');
    assert.equal(query.status, 200);
    assert.equal(JSON.parse(query.body).code, 'VALID');
    // A chunked body (no Content-Length).
    const chunked = await overHttp(Buffer.alloc(0), {
      body: new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode(body)); c.close(); } }),
      duplex: 'half',
    } as RequestInit);
    assert.equal(chunked.status, 200);
    // Over the contract's 16 KiB: the route's 413, signed.
    const big = await overHttp(JSON.stringify(callBody(key, { pad: 'x'.repeat(17 * 1024) })));
    assert.equal(big.status, 413);
    assert.equal(JSON.parse(big.body).error.code, 'BODY_TOO_LARGE');
    assert.equal(t.modules.lane.handled, before, 'none of them took the lane');
  });

  test('many answers sent together each reach their own caller', async () => {
    const calls = Array.from({ length: 200 }, (_, i) => callBody(key, { computerId: computerId(`lane-many-${i % 40}`), nonce: `${nonce()}-${i}` }));
    const answers = await Promise.all(calls.map((c) => overHttp(JSON.stringify(c))));
    answers.forEach((a, i) => {
      assert.equal(a.status, 200);
      assert.equal(JSON.parse(a.body).nonce, calls[i]!.nonce, `answer ${i} is the answer to call ${i}`);
    });
  });

  test('the rate limit answers a signed 429 with Retry-After on the lane too', async () => {
    const limited = await testApp();
    try {
      await limited.k.settings.set(LICENSING_SETTINGS_KEY, { perLicence: 1, windowSeconds: 60 });
      await limited.app.listen({ port: 0, host: '127.0.0.1' });
      const at = `http://127.0.0.1:${(limited.app.server.address() as AddressInfo).port}/api/v1/callhome`;
      const send = () => fetch(at, { method: 'POST', body: JSON.stringify(callBody('AAAAA-BBBBB', { nonce: nonce() })) });
      assert.equal((await send()).status, 200);
      const refused = await send();
      assert.equal(refused.status, 429);
      assert.ok(Number(refused.headers.get('retry-after')) > 0);
      assert.ok(refused.headers.get('keyward-signature'));
      assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'RATE_LIMITED');
      assert.ok(limited.modules.lane.handled >= 2);
    } finally {
      await limited.close();
    }
  });

  test('requests Node\'s HTTP parser refuses get the contract\'s signed 400, not Node\'s own answer', async () => {
    const { port } = t.app.server.address() as AddressInfo;
    const body = JSON.stringify(callBody(key, { computerId: computerId('lane-raw') }));
    const head = (extra: string) => `POST /api/v1/callhome HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${extra}`;
    const cases: [string, string, string][] = [
      ['headers over 16 KB', `${head(`X-Pad: ${'a'.repeat(20_000)}\r\nContent-Length: ${body.length}\r\n\r\n`)}${body}`, 'headers'],
      ['a Content-Length that is no number', `${head('Content-Length: abc\r\n\r\n')}${body}`, 'headers'],
      ['Content-Length with Transfer-Encoding', `${head(`Content-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n\r\n`)}${body}`, 'headers'],
      ['a bad chunk size', `${head('Transfer-Encoding: chunked\r\n\r\n')}zz\r\n${body}\r\n0\r\n\r\n`, 'body'],
    ];
    for (const [name, request, field] of cases) {
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1', () => socket.end(request));
        const chunks: Buffer[] = [];
        socket.on('data', (c) => chunks.push(c));
        socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
        socket.on('error', (err) => (chunks.length ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(err)));
      });
      const [headText, answer = ''] = raw.split('\r\n\r\n');
      assert.match(headText!, /^HTTP\/1\.1 400 /, name);
      const signature = /\r\nkeyward-signature: (.*)/i.exec(headText!)?.[1] ?? null;
      const a = await verified(400, '', answer, signature, null);
      assert.deepEqual(JSON.parse(a.body).error.code, 'BAD_REQUEST', name);
      assert.equal(JSON.parse(a.body).error.field, field, name);
    }
  });

  test('once the server is closing, calls go to Fastify', async () => {
    const before = t.modules.lane.handled;
    t.modules.lane.close();
    const a = await overHttp(JSON.stringify(callBody(key, { computerId: computerId('lane-4') })));
    assert.equal(a.status, 200);
    assert.equal(t.modules.lane.handled, before);
  });
});
