// Call-home rate limits (spec: "Rate limits"): per licence and per external IP, counting only
// /callhome and /licence-file, answered with a signed 429, Retry-After and RATE_LIMITED.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { LICENSING_SETTINGS_KEY } from './index.js';
import { assertSigned, callBody, computerId, createLicence, harness, nonce, seedProduct, type Harness } from './testing.js';

let t: TestApp;
let h: Harness;
const START = Date.parse('2026-11-25T10:00:00.000Z');
before(async () => {
  t = await testApp();
  h = await harness(t);
  await seedProduct(h);
});
after(async () => { await t.close(); });

describe('rate limits', () => {
  test('30 calls a minute per licence are never refused; the next is a signed 429 with Retry-After', async () => {
    t.clock.set(START + 15_000);
    const lic = await createLicence(h, { maxMachines: null });
    for (let i = 0; i < 30; i++) {
      const body = i % 2 ? callBody(lic.key, { computerId: computerId(i) }) : { licence: lic.key, computerId: computerId(i), nonce: nonce() };
      const { status } = i % 2 ? await h.call(body) : await h.licenceFile(body);
      assert.equal(status, 200, `call ${i + 1}`);
    }
    // The same key typed differently is the same licence.
    const { status, json, res } = await h.call(callBody(lic.key.toLowerCase()));
    assert.equal(status, 429);
    assert.deepEqual(Object.keys(json.error), ['code', 'message']);
    assert.equal(json.error.code, 'RATE_LIMITED');
    assert.equal(res.headers['retry-after'], '45');
    await assertSigned(h, res);

    // Other licences from the same address are not affected; GET endpoints are not counted.
    const other = await createLicence(h);
    assert.equal((await h.call(callBody(other.key))).status, 200);
    for (let i = 0; i < 5; i++) assert.equal((await h.get('/api/v1/keys')).statusCode, 200);

    t.clock.set(START + 60_000);
    assert.equal((await h.call(callBody(lic.key))).status, 200, 'a new minute');
  });

  test('600 calls a minute per external IP are never refused; the 601st is', async () => {
    t.clock.set(START + 120_000);
    const ip = '192.0.2.10';
    for (let i = 0; i < 600; i++) {
      const { status } = await h.call(callBody(`unknown-key-${i}`), { ip });
      assert.equal(status, 200, `call ${i + 1}`);
    }
    const refused = await h.call(callBody('unknown-key-x'), { ip });
    assert.equal(refused.status, 429);
    assert.equal(refused.json.error.code, 'RATE_LIMITED');
    assert.equal((await h.call(callBody('unknown-key-y'), { ip: '192.0.2.11' })).status, 200, 'another address');
    // Malformed bodies from a flooding address are refused too, before they are parsed.
    assert.equal((await h.call(null, { ip, raw: '{"nope":1}' })).status, 429);
  });

  test('limits are configurable in the licensing.callhome setting', async () => {
    t.clock.set(START + 240_000);
    await t.k.settings.set(LICENSING_SETTINGS_KEY, { perLicence: 3, windowSeconds: 10 });
    try {
      const lic = await createLicence(h);
      for (let i = 0; i < 3; i++) assert.equal((await h.call(callBody(lic.key))).status, 200);
      const r = await h.call(callBody(lic.key));
      assert.equal(r.status, 429);
      assert.equal(r.res.headers['retry-after'], '10');
      t.clock.advance(10_000);
      assert.equal((await h.call(callBody(lic.key))).status, 200);
    } finally {
      await t.k.settings.delete(LICENSING_SETTINGS_KEY);
    }
  });
});

describe('external IP behind a trusted proxy', () => {
  test('the rightmost address in X-Forwarded-For that is not a trusted proxy is the one stored', async () => {
    const p = await testApp({ config: { trustedProxies: ['127.0.0.1', '10.0.0.0/8'] } });
    try {
      const ph = await harness(p);
      await seedProduct(ph);
      const lic = await createLicence(ph);
      await ph.call(callBody(lic.key), { headers: { 'x-forwarded-for': '198.51.100.7, 203.0.113.5, 10.1.2.3' } });
      const row = await p.k.db.selectFrom('machines').select('last_ip').where('licence_id', '=', lic.licenceId).executeTakeFirstOrThrow();
      assert.equal(row.last_ip, '203.0.113.5');
    } finally {
      await p.close();
    }
  });
});
