// Malformed and hostile input: every one is a signed 4xx with the contract's error object, never a
// 500, and nothing is stored. Plus the signing of errors, 404s and other answers under /api/v1.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { assertSigned, callBody, computerId, createLicence, harness, nonce, seedProduct, type Harness } from './testing.js';

let t: TestApp;
let h: Harness;
let key: string;
before(async () => {
  t = await testApp();
  h = await harness(t);
  await seedProduct(h);
  key = (await createLicence(h)).key;
});
after(async () => { await t.close(); });

/** Everything a call could have written. */
async function stored(): Promise<string> {
  await t.modules.licensing.flush();
  const [m, d, n] = await Promise.all([
    t.k.db.selectFrom('machines').selectAll().execute(),
    t.k.db.selectFrom('callhome_daily').selectAll().execute(),
    t.k.db.selectFrom('licence_networks').selectAll().execute(),
  ]);
  return JSON.stringify([m, d, n]);
}

const valid = () => callBody(key, { computerId: computerId('hostile') });

const BAD_FIELDS: Array<[string, Record<string, unknown>, string]> = [
  ['licence missing', { licence: undefined }, 'licence'],
  ['licence a number', { licence: 12345 }, 'licence'],
  ['licence null', { licence: null }, 'licence'],
  ['licence of 129 code points', { licence: '😀'.repeat(129) }, 'licence'],
  ['licence of 129 ASCII characters', { licence: 'A'.repeat(129) }, 'licence'],
  ['product a number', { product: 7 }, 'product'],
  ['product null', { product: null }, 'product'],
  ['version missing', { version: undefined }, 'version'],
  ['version with build metadata', { version: '8.5.0+build.1' }, 'version'],
  ['version with a leading zero', { version: '08.5.0' }, 'version'],
  ['version two parts', { version: '8.5' }, 'version'],
  ['version a number', { version: 8.5 }, 'version'],
  ['channel unknown', { channel: 'nightly' }, 'channel'],
  ['computerId uppercase', { computerId: computerId(1).toUpperCase() }, 'computerId'],
  ['computerId short', { computerId: 'abc' }, 'computerId'],
  ['usersInUse a string', { usersInUse: '5' }, 'usersInUse'],
  ['usersInUse negative', { usersInUse: -1 }, 'usersInUse'],
  ['usersInUse fractional', { usersInUse: 1.5 }, 'usersInUse'],
  ['usersInUse over a million', { usersInUse: 1_000_001 }, 'usersInUse'],
  ['usersInUse huge', { usersInUse: 1e300 }, 'usersInUse'],
  ['usersInUse boolean', { usersInUse: true }, 'usersInUse'],
  ['usersInUse missing', { usersInUse: undefined }, 'usersInUse'],
  ['content an array', { content: ['1.0'] }, 'content'],
  ['content version not numeric', { content: { 'mailserver-spam': 'latest' } }, 'content.mailserver-spam'],
  ['content version a number', { content: { 'mailserver-spam': 2026 } }, 'content.mailserver-spam'],
  ['nonce too short', { nonce: 'short' }, 'nonce'],
  ['nonce with a space', { nonce: 'abcdefgh ijklmnopq' }, 'nonce'],
  ['nonce too long', { nonce: 'a'.repeat(129) }, 'nonce'],
  ['nonce missing', { nonce: undefined }, 'nonce'],
];

const RAW_BODIES: Array<[string, string, string?]> = [
  ['not JSON', '{"licence": '],
  ['a JSON array', '[1,2,3]'],
  ['a JSON string', '"hello"'],
  ['JSON null', 'null'],
  ['an empty body', ''],
  ['a huge number literal', JSON.stringify(valid()).replace('"usersInUse":10', '"usersInUse":1e400')],
  ['deeply nested arrays', `{"licence":${'['.repeat(5000)}${']'.repeat(5000)}}`],
  ['__proto__ pollution attempt', '{"__proto__":{"licence":"x"},"constructor":{"prototype":{"valid":true}}}'],
];

describe('hostile call-home input', () => {
  for (const [name, override, field] of BAD_FIELDS) {
    test(`400 ${name}`, async () => {
      const before = await stored();
      const { status, json } = await h.call({ ...valid(), ...override });
      assert.equal(status, 400);
      assert.deepEqual(Object.keys(json.error).sort(), ['code', 'field', 'message']);
      assert.equal(json.error.code, 'BAD_REQUEST');
      assert.equal(json.error.field, field);
      assert.equal(await stored(), before, 'nothing stored');
    });
  }

  for (const [name, raw] of RAW_BODIES) {
    test(`400 ${name}`, async () => {
      const before = await stored();
      const { status, json } = await h.call(null, { raw });
      assert.equal(status, 400, JSON.stringify(json));
      assert.equal(json.error.code, 'BAD_REQUEST');
      assert.equal(await stored(), before);
    });
  }

  test('a body over 16 KiB is 413 BODY_TOO_LARGE, signed, on /callhome and /licence-file', async () => {
    const before = await stored();
    const big = JSON.stringify({ ...valid(), padding: 'x'.repeat(16 * 1024) });
    for (const url of ['/api/v1/callhome', '/api/v1/licence-file']) {
      const res = await t.app.inject({ method: 'POST', url, payload: big, headers: { 'content-type': 'application/json' } });
      assert.equal(res.statusCode, 413);
      assert.equal(JSON.parse(res.body).error.code, 'BODY_TOO_LARGE');
      await assertSigned(h, res);
    }
    // Exactly 16 KiB is still read (and answered as a normal call).
    const body = valid();
    const exact = JSON.stringify({ ...body, padding: '' });
    const fill = JSON.stringify({ ...body, padding: 'x'.repeat(16 * 1024 - Buffer.byteLength(exact)) });
    assert.equal(Buffer.byteLength(fill), 16 * 1024);
    assert.equal((await h.call(null, { raw: fill })).status, 200);
    assert.notEqual(await stored(), before);
  });

  test('unicode keys and fields are answered, not crashed on', async () => {
    for (const licence of ['ＫＥＹ－１２３', 'clé-été', '\u0000\u0001', '\ud800', 'ﷺ'.repeat(100), '😀-😀-😀']) {
      const { status, json } = await h.call({ ...valid(), licence });
      assert.equal(status, 200);
      assert.equal(json.code, 'NOT_FOUND');
    }
    const raw = JSON.stringify({ ...valid(), content: { 'ünïcødé': '1.2' } }).replace('"content":{', '"content":{"__proto__":"1",');
    assert.equal((await h.call(null, { raw })).status, 200);
    // Bytes that are not UTF-8 decode to replacement characters: a key that matches nothing.
    const bytes = Buffer.concat([Buffer.from('{"licence":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(JSON.stringify(valid()).replace(/^\{"licence":"[^"]*/, ''))]);
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/callhome', payload: bytes, headers: { 'content-type': 'application/json' } });
    assert.equal(res.statusCode, 200);
    assert.equal(JSON.parse(res.body).code, 'NOT_FOUND');
    await assertSigned(h, res);
  });

  test('a form-encoded or text body is read as JSON, or refused with 400', async () => {
    const form = await t.app.inject({ method: 'POST', url: '/api/v1/callhome', payload: 'licence=x&version=1.0.0', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(form.statusCode, 400);
    await assertSigned(h, form);
    const text = await t.app.inject({ method: 'POST', url: '/api/v1/callhome', payload: JSON.stringify(valid()), headers: { 'content-type': 'text/plain' } });
    assert.equal(text.statusCode, 200);
    await assertSigned(h, text);
  });

  test('a Content-Type that is no media type (empty, "json") is ignored like a missing one, not a 415', async () => {
    for (const type of ['', 'json', ';', 'application/json; charset']) {
      const call = await t.app.inject({ method: 'POST', url: '/api/v1/callhome', payload: JSON.stringify(valid()), headers: { 'content-type': type } });
      assert.equal(call.statusCode, 200, `callhome, ${JSON.stringify(type)}: ${call.body}`);
      await assertSigned(h, call);
      const file = await t.app.inject({ method: 'POST', url: '/api/v1/licence-file', payload: JSON.stringify({ licence: 'NOPE', computerId: valid().computerId, nonce: valid().nonce }), headers: { 'content-type': type } });
      assert.equal(file.statusCode, 200, `licence-file, ${JSON.stringify(type)}: ${file.body}`);
      assert.equal(JSON.parse(file.body).code, 'NOT_FOUND');
      await assertSigned(h, file);
    }
  });

  test('unknown routes and wrong methods under /api/v1 are signed 404s; the admin API is not signed', async () => {
    for (const [method, url] of [['GET', '/api/v1/nothing-here'], ['GET', '/api/v1/callhome'], ['DELETE', '/api/v1/keys'], ['GET', '/api/v1']] as const) {
      const res = await t.app.inject({ method, url });
      assert.equal(res.statusCode, 404, url);
      assert.equal(JSON.parse(res.body).error.code, 'NOT_FOUND');
      await assertSigned(h, res);
    }
    const admin = await t.app.inject({ method: 'GET', url: '/api/v1/admin/licences/x' });
    assert.equal(admin.statusCode, 401);
    assert.equal(admin.headers['keyward-signature'], undefined);
    const adminMissing = await h.admin('GET', '/api/v1/admin/no-such-route');
    assert.equal(adminMissing.statusCode, 404);
    assert.equal(adminMissing.headers['keyward-signature'], undefined);
  });

  test('GET /api/v1/keys is signed and lists the active key', async () => {
    const res = await h.get('/api/v1/keys');
    assert.equal(res.statusCode, 200);
    await assertSigned(h, res);
    const { keys } = JSON.parse(res.body);
    assert.equal(keys.length, 1);
    assert.deepEqual(Object.keys(keys[0]).sort(), ['algorithm', 'createdAt', 'kid', 'publicKey', 'status']);
    assert.equal(keys[0].status, 'active');
    assert.equal(keys[0].algorithm, 'ed25519');
    assert.equal(Buffer.from(keys[0].publicKey, 'base64').length, 32);
  });

  test('no cookies are set on the call-home surface', async () => {
    const { res } = await h.call({ ...valid(), nonce: nonce() });
    assert.equal(res.headers['set-cookie'], undefined);
  });
});
