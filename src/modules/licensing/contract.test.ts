// Black-box conformance to spec/callhome.md, read line by line: what the other licensing tests do not
// already pin down (field order and types of every answer, the signature header, defaults, the admin
// API's status codes and error object, hostile input on /licence-file, and the command line over real
// HTTP). Everything goes through HTTP (app.inject, or a spawned bin/keyward), as a checker would.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { promisify } from 'node:util';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { TEST_DIALECT, createTestDatabase } from '../../kernel/testing/db.js';
import { verifyEd25519 } from '../../kernel/crypto/signing.js';
import { DAY_MS } from '../../kernel/clock.js';
import {
  adminUpload, assertSigned, callBody, computerId, createLicence, harness, nonce, seedProduct, type Harness,
} from './testing.js';

const NOW = Date.parse('2026-11-25T10:00:00.000Z');
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const SIGNATURE = /^keyid="([^"]+)", algorithm="ed25519", signature="([A-Za-z0-9+/]+={0,2})"$/;

let t: TestApp;
let h: Harness;
before(async () => {
  t = await testApp();
  t.clock.set(NOW);
  h = await harness(t);
  await seedProduct(h);
  const pack = await adminUpload(h, '/api/v1/admin/addons/mailserver-spam/content', { version: '2026.11.25.1' }, { name: 'defs.bin', content: 'definitions' });
  assert.equal(pack.statusCode, 201, pack.body);
});
after(async () => { await t.close(); });

/** Everything a call could have written. */
async function stored(exceptUnmatchedCount = false): Promise<string> {
  await t.modules.licensing.flush();
  const [m, d, n, l] = await Promise.all([
    t.k.db.selectFrom('machines').selectAll().orderBy('computer_id').execute(),
    t.k.db.selectFrom('callhome_daily').selectAll().where((eb) => (exceptUnmatchedCount ? eb('licence_id', '!=', '') : eb.lit(true))).execute(),
    t.k.db.selectFrom('licence_networks').selectAll().execute(),
    t.k.db.selectFrom('licences').selectAll().orderBy('id').execute(),
  ]);
  return JSON.stringify([m, d, n, l]);
}

describe('POST /api/v1/callhome answer', () => {
  test('a valid answer has the contract\'s fields, in its order, with its types and defaults', async () => {
    const lic = await createLicence(h, { addons: [{ code: 'mailserver-spam', until: '2027-03-01T00:00:00Z' }] });
    const n = nonce();
    const { res, status, json } = await h.call(callBody(lic.key, { computerId: computerId('shape'), content: { 'mailserver-spam': '2026.1' }, nonce: n }));
    assert.equal(status, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    assert.match(String(res.headers['keyward-signature']), SIGNATURE);
    assert.deepEqual(Object.keys(json), ['ts', 'nonce', 'valid', 'code', 'detail', 'flags', 'licence', 'machines', 'update', 'content', 'nextCheckSeconds', 'offlineUntil']);
    assert.equal(json.ts, new Date(NOW).toISOString());
    assert.equal(json.nonce, n);
    assert.equal(json.valid, true);
    assert.equal(json.code, 'VALID');
    assert.equal(typeof json.detail, 'string');
    assert.ok(json.detail.length > 0);
    assert.deepEqual(json.flags, []);
    assert.deepEqual(Object.keys(json.licence), ['product', 'status', 'maxUsers', 'maxMachines', 'expiresAt', 'maintenanceUntil', 'addons']);
    assert.deepEqual(json.licence, {
      product: 'mailserver', status: 'active', maxUsers: 50, maxMachines: 1, expiresAt: null,
      maintenanceUntil: '2027-03-01T00:00:00.000Z',
      addons: [{ code: 'mailserver-spam', until: '2027-03-01T00:00:00.000Z', active: true }],
    });
    assert.deepEqual(json.machines, { active: 1, max: 1 });
    assert.deepEqual(Object.keys(json.update), ['available', 'version', 'channel', 'releasedAt', 'security', 'entitled', 'notes']);
    assert.deepEqual(json.update, {
      available: true, version: '8.6.0', channel: 'stable', releasedAt: '2026-11-01T00:00:00.000Z', security: false, entitled: true, notes: 'Release 8.6.0',
    }, 'no download: the release has no installer file');
    const entry = json.content['mailserver-spam'];
    assert.deepEqual(Object.keys(entry), ['available', 'version', 'url', 'sha256', 'size', 'expiresAt']);
    assert.equal(entry.available, true);
    assert.equal(entry.version, '2026.11.25.1');
    assert.match(entry.url, /^http:\/\/127\.0\.0\.1:3000\/downloads\//, 'absolute, from the default KEYWARD_PUBLIC_URL http://HOST:PORT');
    assert.match(entry.sha256, /^[0-9a-f]{64}$/);
    assert.equal(entry.size, 'definitions'.length);
    assert.match(entry.expiresAt, ISO);
    assert.ok(Date.parse(entry.expiresAt) > NOW && Date.parse(entry.expiresAt) <= NOW + 3_600_000, 'expires within one hour');
    assert.equal(json.nextCheckSeconds, 86400, 'checkIntervalSeconds defaults to 86400');
    assert.equal(json.offlineUntil, new Date(NOW + 30 * DAY_MS).toISOString(), 'offlineGraceDays defaults to 30');
    const dl = await t.app.inject({ method: 'GET', url: entry.url.replace('http://127.0.0.1:3000', '') });
    assert.equal(dl.statusCode, 200);
    assert.equal(dl.body, 'definitions');
  });

  test('a body starting with a UTF-8 byte-order mark is read like any other', async () => {
    const lic = await createLicence(h);
    const payload = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(callBody(lic.key, { computerId: computerId('bom') })))]);
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/callhome', payload, headers: { 'content-type': 'application/json' } });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(JSON.parse(res.body).code, 'VALID');
    await assertSigned(h, res);
    const admin = await t.app.inject({ method: 'POST', url: '/api/v1/admin/products', payload: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"code":"bom","name":"BOM"}')]), headers: { authorization: `Bearer ${h.apiKey}`, 'content-type': 'application/json' } });
    assert.equal(admin.statusCode, 201, admin.body);
  });

  test('NOT_FOUND has only ts, nonce, valid, code, detail, flags and nextCheckSeconds, and stores nothing the client sent', async () => {
    for (const licence of ['', 'AAAAA-BBBBB-CCCCC-DDDDD-EEEEE', ' ', 'x'.repeat(128), '😀'.repeat(128)]) {
      // The dashboard counts unmatched calls per day (licence '' and version '', no users): a count, not client data.
      const before = await stored(true);
      const { status, json } = await h.call(callBody(licence));
      assert.equal(status, 200);
      assert.deepEqual(Object.keys(json), ['ts', 'nonce', 'valid', 'code', 'detail', 'flags', 'nextCheckSeconds']);
      assert.equal(json.valid, false);
      assert.equal(json.code, 'NOT_FOUND');
      assert.deepEqual(json.flags, ['NOT_FOUND']);
      assert.equal(await stored(true), before);
    }
  });

  test('an invalid answer keeps update and content but offers nothing to download, and has no offlineUntil', async () => {
    const lic = await createLicence(h, { addons: [{ code: 'mailserver-spam', until: null }] });
    await h.call(callBody(lic.key, { computerId: computerId('invalid') }));
    assert.equal((await h.admin('PATCH', `/api/v1/admin/licences/${lic.key}`, { status: 'revoked' })).statusCode, 200);
    const { json } = await h.call(callBody(lic.key, { computerId: computerId('invalid'), content: { 'mailserver-spam': '1' } }));
    assert.equal(json.code, 'REVOKED');
    assert.equal(json.valid, false);
    assert.equal(json.licence.status, 'revoked');
    assert.equal('offlineUntil' in json, false);
    assert.equal(json.update.available, true);
    assert.equal(json.update.entitled, false);
    assert.equal('download' in json.update, false);
    assert.deepEqual(json.licence.addons, [{ code: 'mailserver-spam', until: null, active: false }]);
    assert.deepEqual(json.content, { 'mailserver-spam': { available: false, reason: 'NOT_ENTITLED' } });
  });

  test('content has entries only for add-ons the licence holds; the newest installed reads { available: false }', async () => {
    const lic = await createLicence(h, { addons: [{ code: 'mailserver-spam', until: null }] });
    const { json } = await h.call(callBody(lic.key, { computerId: computerId('content'), content: { 'mailserver-spam': '2026.11.25.1.0', 'not-held': '1.0' } }));
    assert.deepEqual(json.content, { 'mailserver-spam': { available: false } });
    const none = await h.call(callBody(lic.key, { computerId: computerId('content') }));
    assert.deepEqual(Object.keys(none.json.content), ['mailserver-spam'], 'a held add-on has an entry even when the program sent no content');
  });

  test('update is { available: false } on the newest release of the channel', async () => {
    const lic = await createLicence(h);
    const { json } = await h.call(callBody(lic.key, { computerId: computerId('newest'), version: '8.6.0' }));
    assert.deepEqual(json.update, { available: false });
    const beta = await h.call(callBody(lic.key, { computerId: computerId('newest'), version: '8.6.0', channel: 'beta' }));
    assert.equal(beta.json.update.version, '8.7.0-beta.1');
    assert.equal(beta.json.update.channel, 'beta');
  });

  test('a release dated in the future is offered neither in answers nor in latest until its releasedAt', async () => {
    await seedProduct(h, 'future');
    const r = await h.admin('POST', '/api/v1/admin/products/future/releases', { version: '9.0.0', releasedAt: new Date(NOW + 3_600_000).toISOString() });
    assert.equal(r.statusCode, 201, r.body);
    const lic = await createLicence(h, {}, 'future');
    const before = await h.call(callBody(lic.key, { product: 'future', computerId: computerId('future'), version: '8.6.0' }));
    assert.deepEqual(before.json.update, { available: false });
    const latest = await h.get('/api/v1/products/future/channels/stable/latest');
    assert.equal(JSON.parse(latest.body).version, '8.6.0');
    t.clock.set(NOW + 3_600_000);
    try {
      const after = await h.call(callBody(lic.key, { product: 'future', computerId: computerId('future'), version: '8.6.0' }));
      assert.equal(after.json.update.version, '9.0.0');
      const latestAfter = await h.get('/api/v1/products/future/channels/stable/latest', { 'if-none-match': String(latest.headers.etag) });
      assert.equal(latestAfter.statusCode, 200, 'the old ETag no longer matches');
      assert.equal(JSON.parse(latestAfter.body).version, '9.0.0');
      const beta = await h.get('/api/v1/products/future/channels/beta/latest');
      assert.equal(JSON.parse(beta.body).version, '9.0.0', 'beta sees stable releases too');
      assert.equal(JSON.parse(beta.body).channel, 'stable', 'channel is the release\'s own');
    } finally {
      t.clock.set(NOW);
    }
  });

  test('a lapsed add-on reads NOT_ENTITLED even when the installed content is the newest; TOO_MANY_MACHINES under flag keeps offlineUntil', async () => {
    const lic = await createLicence(h, { addons: [{ code: 'mailserver-spam', until: '2026-11-01T00:00:00Z' }] });
    await h.call(callBody(lic.key, { computerId: computerId('lapsed-1') }));
    const { json } = await h.call(callBody(lic.key, { computerId: computerId('lapsed-2'), content: { 'mailserver-spam': '2026.11.25.1' } }));
    assert.equal(json.code, 'TOO_MANY_MACHINES');
    assert.equal(json.valid, true);
    assert.equal(json.offlineUntil, new Date(NOW + 30 * DAY_MS).toISOString());
    assert.deepEqual(json.licence.addons, [{ code: 'mailserver-spam', until: '2026-11-01T00:00:00.000Z', active: false }]);
    assert.deepEqual(json.content, { 'mailserver-spam': { available: false, reason: 'NOT_ENTITLED' } });
  });

  test('a term licence\'s own expiresAt bounds offlineUntil', async () => {
    const lic = await createLicence(h, { expiresAt: '2026-11-30T00:00:00.000Z' });
    const { json } = await h.call(callBody(lic.key, { computerId: computerId('term') }));
    assert.equal(json.code, 'VALID');
    assert.equal(json.licence.expiresAt, '2026-11-30T00:00:00.000Z');
    assert.equal(json.offlineUntil, '2026-11-30T00:00:00.000Z');
  });

  test('usersInUse at the bounds 0 and 1,000,000 is accepted; maxUsers null never flags', async () => {
    const lic = await createLicence(h, { maxUsers: null, maxMachines: null });
    for (const usersInUse of [0, 1_000_000]) {
      const { status, json } = await h.call(callBody(lic.key, { computerId: computerId('bounds'), usersInUse }));
      assert.equal(status, 200);
      assert.equal(json.code, 'VALID');
      assert.deepEqual(json.machines, { active: 1, max: null });
      assert.equal(json.licence.maxUsers, null);
    }
  });
});

describe('download URLs', () => {
  test('403 after any change to the URL, added or reordered query parameters included', async () => {
    const lic = await createLicence(h, { addons: [{ code: 'mailserver-spam', until: null }] });
    const { json } = await h.call(callBody(lic.key, { computerId: computerId('dl-change'), content: { 'mailserver-spam': '1' } }));
    const url = new URL(json.content['mailserver-spam'].url);
    const local = url.pathname + url.search;
    assert.equal((await t.app.inject({ method: 'GET', url: local })).statusCode, 200);
    const [, l, e, s] = /^\?l=([^&]+)&e=([^&]+)&s=([^&]+)$/.exec(url.search)!;
    for (const changed of [
      `${local}&x=1`, `${local}&s=${s}`, `${url.pathname}?e=${e}&l=${l}&s=${s}`, `${local}#frag`.replace('#frag', '&'),
      `${url.pathname}/?l=${l}&e=${e}&s=${s}`, `${url.pathname}?l=${l}&e=${e}&s=${s.slice(0, -1)}`, url.pathname,
      `${url.pathname.replace(/.$/, (c) => (c === 'x' ? 'y' : 'x'))}?l=${l}&e=${e}&s=${s}`, `${url.pathname}?l=${l}&e=0${e}&s=${s}`,
    ]) {
      const res = await t.app.inject({ method: 'GET', url: changed });
      assert.equal(res.statusCode, 403, changed);
    }
  });
});

describe('external IP behind a trusted proxy', () => {
  test('only addresses count: an X-Forwarded-For entry that is not one is skipped, never stored', async () => {
    const p = await testApp({ config: { trustedProxies: ['127.0.0.1', '10.0.0.0/8'] } });
    try {
      p.clock.set(NOW);
      const ph = await harness(p);
      await seedProduct(ph);
      const lic = await createLicence(ph, { maxMachines: null });
      const cases: Array<[string, string]> = [
        ['garbage', '127.0.0.1'],
        ['198.51.100.7, garbage', '198.51.100.7'],
        ['garbage, 10.1.2.3', '127.0.0.1'],
        ['x'.repeat(4000), '127.0.0.1'],
        ['999.1.1.1', '127.0.0.1'],
        ['203.0.113.9:5555', '203.0.113.9'],
        ['[2001:db8::7]:443, 10.0.0.1', '2001:db8::7'],
        ['198.51.100.7, 203.0.113.5, 10.1.2.3', '203.0.113.5'],
      ];
      for (const [i, [xff, expected]] of cases.entries()) {
        const { status } = await ph.call(callBody(lic.key, { computerId: computerId(`xff-${i}`) }), { headers: { 'x-forwarded-for': xff } });
        assert.equal(status, 200);
        await p.modules.licensing.flush();
        const row = await p.k.db.selectFrom('machines').select('last_ip').where('computer_id', '=', computerId(`xff-${i}`)).executeTakeFirstOrThrow();
        assert.equal(row.last_ip, expected, xff.slice(0, 40));
      }
      // An untrusted peer's header is not believed at all.
      await ph.call(callBody(lic.key, { computerId: computerId('xff-untrusted') }), { ip: '192.0.2.50', headers: { 'x-forwarded-for': '198.51.100.99' } });
      await p.modules.licensing.flush();
      const row = await p.k.db.selectFrom('machines').select('last_ip').where('computer_id', '=', computerId('xff-untrusted')).executeTakeFirstOrThrow();
      assert.equal(row.last_ip, '192.0.2.50');
    } finally {
      await p.close();
    }
  });
});

describe('signature', () => {
  test('every /api/v1 answer (200, 400, 404, 413, text/plain) carries the exact header; the admin API\'s do not', async () => {
    const lic = await createLicence(h);
    const answers = [
      await h.t.app.inject({ method: 'POST', url: '/api/v1/callhome', payload: JSON.stringify(callBody(lic.key, { computerId: computerId('sig') })), headers: { 'content-type': 'application/json' } }),
      await h.t.app.inject({ method: 'POST', url: '/api/v1/callhome', payload: '{}', headers: { 'content-type': 'application/json' } }),
      await h.t.app.inject({ method: 'POST', url: '/api/v1/licence-file', payload: JSON.stringify({ licence: lic.key, computerId: computerId('sig'), nonce: nonce() }), headers: { 'content-type': 'application/json' } }),
      await h.t.app.inject({ method: 'POST', url: '/api/v1/licence-file', payload: 'x'.repeat(16 * 1024 + 1), headers: { 'content-type': 'application/json' } }),
      await h.t.app.inject({ method: 'GET', url: '/api/v1/keys' }),
      await h.t.app.inject({ method: 'GET', url: '/api/v1/products/mailserver/channels/stable/latest' }),
      await h.t.app.inject({ method: 'GET', url: '/api/v1/products/nope/channels/stable/latest' }),
    ];
    assert.deepEqual(answers.map((r) => r.statusCode), [200, 400, 200, 413, 200, 200, 404]);
    for (const res of answers) {
      const m = SIGNATURE.exec(String(res.headers['keyward-signature']));
      assert.ok(m, `${res.statusCode} ${res.body.slice(0, 80)}`);
      assert.equal(Buffer.from(m[2], 'base64').length, 64);
      await assertSigned(h, res);
    }
    const admin = await h.admin('GET', `/api/v1/admin/licences/${lic.key}`);
    assert.equal(admin.statusCode, 200);
    assert.equal(admin.headers['keyward-signature'], undefined);
  });

  test('GET /api/v1/keys: { keys: [{ kid, algorithm, publicKey, status, createdAt }] } in that order', async () => {
    const res = await h.get('/api/v1/keys');
    const body = JSON.parse(res.body);
    assert.deepEqual(Object.keys(body), ['keys']);
    for (const k of body.keys) {
      assert.deepEqual(Object.keys(k), ['kid', 'algorithm', 'publicKey', 'status', 'createdAt']);
      assert.equal(k.algorithm, 'ed25519');
      assert.equal(Buffer.from(k.publicKey, 'base64').length, 32);
      assert.ok(k.status === 'active' || k.status === 'retired');
      assert.match(k.createdAt, ISO);
    }
  });
});

describe('paths the router refuses', () => {
  test('bad percent-encoding and over-long parameters are signed 400s under /api/v1, unsigned in the admin API', async () => {
    for (const url of ['/api/v1/products/%E0%A4%A/channels/stable/latest', `/api/v1/products/${'p'.repeat(5000)}/channels/stable/latest`]) {
      const res = await h.get(url);
      assert.equal(res.statusCode, 400);
      assert.deepEqual(JSON.parse(res.body).error.code, 'BAD_REQUEST');
      assert.match(String(res.headers['keyward-signature']), SIGNATURE);
      await assertSigned(h, res);
    }
    const long = await h.get(`/api/v1/products/${'p'.repeat(200)}/channels/stable/latest`);
    assert.equal(long.statusCode, 404, 'an unknown product of a few hundred characters is simply not found');
    await assertSigned(h, long);
    const admin = await h.admin('GET', '/api/v1/admin/licences/%E0%A4%A');
    assert.equal(admin.statusCode, 400);
    assert.equal(admin.headers['keyward-signature'], undefined);
  });
});

describe('licence file', () => {
  test('hostile bodies are signed 400s (or 413) and store nothing', async () => {
    const lic = await createLicence(h);
    const good = { licence: lic.key, computerId: computerId('lf-hostile'), nonce: nonce() };
    const cases: Array<[unknown, string]> = [
      [{ ...good, licence: 42 }, 'licence'],
      [{ ...good, licence: 'K'.repeat(129) }, 'licence'],
      [{ ...good, computerId: 'ABC' }, 'computerId'],
      [{ ...good, computerId: 1e308 }, 'computerId'],
      [{ ...good, nonce: '☃'.repeat(20) }, 'nonce'],
      [{ ...good, nonce: undefined }, 'nonce'],
      [[good], 'body'],
      ['just a string', 'body'],
    ];
    const before = await stored();
    for (const [body, field] of cases) {
      const { status, json } = await h.licenceFile(body);
      assert.equal(status, 400, JSON.stringify(body));
      assert.deepEqual(json, { error: { code: 'BAD_REQUEST', message: json.error.message, field } });
    }
    const big = await t.app.inject({ method: 'POST', url: '/api/v1/licence-file', payload: JSON.stringify({ ...good, pad: 'é'.repeat(9000) }), headers: { 'content-type': 'application/json' } });
    assert.equal(big.statusCode, 413);
    assert.equal(JSON.parse(big.body).error.code, 'BODY_TOO_LARGE');
    await assertSigned(h, big);
    assert.equal(await stored(), before);
  });

  test('a refusal carries the /callhome fields except update and offlineUntil, in order', async () => {
    const lic = await createLicence(h, { addons: [{ code: 'mailserver-spam', until: null }] });
    await h.admin('PATCH', `/api/v1/admin/licences/${lic.key}`, { status: 'suspended' });
    const { status, res, json } = await h.licenceFile({ licence: lic.key, computerId: computerId('lf-refused'), nonce: nonce() });
    assert.equal(status, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    assert.deepEqual(Object.keys(json), ['ts', 'nonce', 'valid', 'code', 'detail', 'flags', 'licence', 'machines', 'content', 'nextCheckSeconds']);
    assert.equal(json.code, 'SUSPENDED');
    const missing = await h.licenceFile({ licence: 'nope', computerId: computerId('lf-refused'), nonce: nonce() });
    assert.deepEqual(Object.keys(missing.json), ['ts', 'nonce', 'valid', 'code', 'detail', 'flags', 'nextCheckSeconds']);
  });

  test('a tolerated condition (TOO_MANY_MACHINES under flag) still gets its file; the payload holds the contract\'s fields', async () => {
    const lic = await createLicence(h);
    await h.call(callBody(lic.key, { computerId: computerId('lf-first') }));
    const n = nonce();
    const { status, json: text, res } = await h.licenceFile({ licence: lic.key, computerId: computerId('lf-second'), nonce: n });
    assert.equal(status, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    const lines = (text as string).split('\n');
    assert.equal(lines[0], '-----BEGIN KEYWARD LICENCE FILE-----');
    assert.equal(lines[2], '-----END KEYWARD LICENCE FILE-----');
    const envelope = JSON.parse(Buffer.from(lines[1], 'base64').toString('utf8'));
    const payloadBytes = Buffer.from(envelope.payload, 'base64');
    const key = (await h.keys()).find((k) => k.kid === envelope.kid)!;
    assert.ok(verifyEd25519(key.publicKey, payloadBytes, envelope.signature));
    const payload = JSON.parse(payloadBytes.toString('utf8'));
    for (const field of ['licence', 'computerId', 'nonce', 'issuedAt', 'expiresAt']) assert.ok(field in payload, field);
    assert.equal(payload.computerId, computerId('lf-second'));
    assert.equal(payload.nonce, n);
    assert.equal(payload.issuedAt, new Date(NOW).toISOString());
    assert.equal(payload.expiresAt, new Date(NOW + 30 * DAY_MS).toISOString(), 'offlineFileDays defaults to 30');
    assert.deepEqual(Object.keys(payload.licence), ['product', 'status', 'maxUsers', 'maxMachines', 'expiresAt', 'maintenanceUntil', 'addons']);
  });
});

describe('GET /api/v1/products/{product}/channels/{channel}/latest', () => {
  test('fields in order, ETag, Cache-Control, 304 without body or signature, 404 for an unknown channel', async () => {
    const res = await h.get('/api/v1/products/mailserver/channels/beta/latest');
    assert.equal(res.statusCode, 200);
    const body = JSON.parse(res.body);
    assert.deepEqual(Object.keys(body), ['product', 'channel', 'version', 'releasedAt', 'security', 'notes']);
    assert.deepEqual(body, { product: 'mailserver', channel: 'beta', version: '8.7.0-beta.1', releasedAt: '2026-11-20T00:00:00.000Z', security: false, notes: 'Release 8.7.0-beta.1' });
    assert.equal(res.headers['cache-control'], 'public, max-age=300');
    const etag = String(res.headers.etag);
    assert.match(etag, /^(W\/)?"[^"]+"$/);
    const cached = await h.get('/api/v1/products/mailserver/channels/beta/latest', { 'if-none-match': etag });
    assert.equal(cached.statusCode, 304);
    assert.equal(cached.body, '');
    assert.equal(cached.headers['keyward-signature'], undefined);
    const other = await h.get('/api/v1/products/mailserver/channels/beta/latest', { 'if-none-match': '"something-else"' });
    assert.equal(other.statusCode, 200);
    for (const url of ['/api/v1/products/mailserver/channels/nightly/latest', '/api/v1/products/ghost/channels/stable/latest']) {
      const r = await h.get(url);
      assert.equal(r.statusCode, 404);
      assert.equal(JSON.parse(r.body).error.code, 'NOT_FOUND');
      await assertSigned(h, r);
    }
  });
});

describe('admin API', () => {
  const auth = (key: string) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });

  test('401 without a key, with a wrong key, or with another scheme', async () => {
    for (const headers of [{}, { authorization: 'Bearer kw_nothing' }, { authorization: `Basic ${h.apiKey}` }, { authorization: h.apiKey }]) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/admin/products', payload: JSON.stringify({ code: 'x1', name: 'X' }), headers: { ...headers, 'content-type': 'application/json' } });
      assert.equal(res.statusCode, 401, JSON.stringify(headers));
    }
  });

  test('400 answers use the error object with code BAD_REQUEST and the field', async () => {
    const cases: Array<[string, string, unknown, string]> = [
      ['POST', '/api/v1/admin/products', { name: 'No code' }, 'code'],
      ['POST', '/api/v1/admin/products', { code: 'ok', name: 7 }, 'name'],
      ['POST', '/api/v1/admin/licences', { product: 'mailserver' }, 'maxUsers'],
      ['POST', '/api/v1/admin/licences', { product: 'mailserver', maxUsers: '5' }, 'maxUsers'],
      ['POST', '/api/v1/admin/licences', { product: 'mailserver', maxUsers: 5, expiresAt: 'tomorrow' }, 'expiresAt'],
      ['POST', '/api/v1/admin/licences', { product: 'mailserver', maxUsers: 5, policy: { enforcement: 'maybe' } }, 'policy.enforcement'],
      ['POST', '/api/v1/admin/products/mailserver/releases', { version: '1.0' }, 'version'],
      ['POST', '/api/v1/admin/addons', { code: 'a1', name: 'A' }, 'product'],
    ];
    for (const [method, url, body, field] of cases) {
      const res = await h.admin(method as 'POST', url, body);
      assert.equal(res.statusCode, 400, `${url} ${JSON.stringify(body)}: ${res.body}`);
      const json = JSON.parse(res.body);
      assert.equal(json.error.code, 'BAD_REQUEST', res.body);
      assert.equal(typeof json.error.message, 'string');
      assert.equal(json.error.field, field, `${url} ${JSON.stringify(body)}: ${res.body}`);
    }
    const notJson = await t.app.inject({ method: 'POST', url: '/api/v1/admin/products', payload: '{"code":', headers: auth(h.apiKey) });
    assert.equal(notJson.statusCode, 400);
    assert.equal(JSON.parse(notJson.body).error.code, 'BAD_REQUEST');
  });

  test('404 for an unknown licence, product or add-on, in the path or in the body', async () => {
    const cases: Array<['GET' | 'POST' | 'PATCH', string, unknown?]> = [
      ['GET', '/api/v1/admin/licences/AAAAA-BBBBB-CCCCC-DDDDD-EEEEE'],
      ['PATCH', '/api/v1/admin/licences/AAAAA-BBBBB-CCCCC-DDDDD-EEEEE', { maxUsers: 5 }],
      ['POST', `/api/v1/admin/licences/AAAAA-BBBBB-CCCCC-DDDDD-EEEEE/machines/${computerId(1)}/release`],
      ['POST', `/api/v1/admin/licences/AAAAA-BBBBB-CCCCC-DDDDD-EEEEE/machines/${computerId(1)}/block`],
      ['POST', '/api/v1/admin/licences', { product: 'ghost', maxUsers: 5 }],
      ['POST', '/api/v1/admin/licences', { product: 'mailserver', maxUsers: 5, addons: [{ code: 'ghost-addon', until: null }] }],
      ['POST', '/api/v1/admin/products/ghost/releases', { version: '1.0.0' }],
      ['POST', '/api/v1/admin/addons', { code: 'ghost-a', name: 'A', product: 'ghost' }],
    ];
    for (const [method, url, body] of cases) {
      const res = await h.admin(method, url, body);
      assert.equal(res.statusCode, 404, `${method} ${url} ${JSON.stringify(body)}: ${res.body}`);
      // The contract fixes the status, not the code: the licensing module's own (LIC_…_NOT_FOUND).
      assert.match(JSON.parse(res.body).error.code, /NOT_FOUND$/, res.body);
    }
    const content = await adminUpload(h, '/api/v1/admin/addons/ghost-addon/content', { version: '1' }, { name: 'f', content: 'x' });
    assert.equal(content.statusCode, 404);
  });

  test('a JSON body is read whatever its Content-Type (curl -d, fetch with a string, none); anything else is a 400', async () => {
    for (const [i, type] of [['1', 'application/json'], ['2', 'application/x-www-form-urlencoded'], ['3', 'text/plain;charset=UTF-8'], ['4', undefined], ['5', ''], ['6', 'json']] as const) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/admin/products', payload: JSON.stringify({ code: `ct${i}`, name: 'CT' }), headers: { authorization: `Bearer ${h.apiKey}`, ...(type !== undefined ? { 'content-type': type } : {}) } });
      assert.equal(res.statusCode, 201, `${type}: ${res.body}`);
    }
    for (const payload of ['code=ct9&name=CT', '[1]', 'null', '']) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/admin/products', payload, headers: { authorization: `Bearer ${h.apiKey}`, 'content-type': 'application/x-www-form-urlencoded' } });
      assert.equal(res.statusCode, 400, `${payload}: ${res.body}`);
      assert.deepEqual(JSON.parse(res.body), { error: { code: 'BAD_REQUEST', message: JSON.parse(res.body).error.message, field: 'body' } });
    }
  });

  test('a NUL character anywhere (PostgreSQL text cannot hold it) is a 400 naming the field, on both databases, storing nothing', async () => {
    const N = '\u0000';
    const before = await stored(true);
    const cases: Array<['GET' | 'POST' | 'PATCH', string, unknown, string]> = [
      ['POST', '/api/v1/admin/products', { code: 'nul', name: `a${N}b` }, 'name'],
      ['POST', '/api/v1/admin/licences', { product: `mailserver${N}`, maxUsers: 1 }, 'product'],
      ['POST', '/api/v1/admin/licences', { product: 'mailserver', maxUsers: 1, customerEmail: `a${N}@example.com` }, 'customerEmail'],
      ['POST', '/api/v1/admin/licences', { product: 'mailserver', maxUsers: 1, addons: [{ code: `x${N}`, until: null }] }, 'addons.0.code'],
      ['POST', '/api/v1/admin/products/mailserver/releases', { version: '9.9.9', notes: `n${N}` }, 'notes'],
      ['POST', '/api/v1/admin/products/%00/releases', { version: '9.9.9' }, 'product'],
      ['POST', '/api/v1/admin/addons', { code: 'nul-a', name: 'A', product: `m${N}` }, 'product'],
      ['POST', '/api/v1/admin/addons/%00/content', undefined, 'code'],
      ['GET', '/api/v1/admin/licences/%00', undefined, 'key'],
    ];
    for (const [method, url, body, field] of cases) {
      const res = await h.admin(method, url, body);
      assert.equal(res.statusCode, 400, `${method} ${url}: ${res.body}`);
      assert.deepEqual(JSON.parse(res.body).error, { code: 'BAD_REQUEST', message: JSON.parse(res.body).error.message, field });
    }
    const upload = await adminUpload(h, '/api/v1/admin/products/mailserver/releases', { version: '9.9.8', notes: `n${N}` });
    assert.equal(upload.statusCode, 400, upload.body);
    assert.equal(JSON.parse(upload.body).error.field, 'notes');
    const latest = await h.get('/api/v1/products/%00/channels/stable/latest');
    assert.equal(latest.statusCode, 404);
    await assertSigned(h, latest);
    for (const body of [callBody(N), callBody('x', { product: N }), { licence: N, computerId: computerId('nul'), nonce: nonce() }]) {
      const { status, json } = 'version' in body ? await h.call(body) : await h.licenceFile(body);
      assert.equal(status, 200);
      assert.equal(json.code, 'NOT_FOUND');
    }
    assert.equal(await stored(true), before);
    const releases = await t.k.db.selectFrom('releases').select('version').where('version', 'in', ['9.9.9', '9.9.8']).execute();
    assert.deepEqual(releases, []);
  });

  test('409 for duplicates: product, add-on, release, content version', async () => {
    assert.equal((await h.admin('POST', '/api/v1/admin/products', { code: 'mailserver', name: 'Again' })).statusCode, 409);
    assert.equal((await h.admin('POST', '/api/v1/admin/addons', { code: 'mailserver-spam', name: 'Again', product: 'mailserver' })).statusCode, 409);
    assert.equal((await h.admin('POST', '/api/v1/admin/products/mailserver/releases', { version: '8.6.0' })).statusCode, 409);
    assert.equal((await adminUpload(h, '/api/v1/admin/addons/mailserver-spam/content', { version: '2026.11.25.1' }, { name: 'f', content: 'y' })).statusCode, 409);
  });

  test('create and GET: maxMachines defaults to 1, the licence carries its key, machines have the contract\'s fields', async () => {
    const res = await h.admin('POST', '/api/v1/admin/licences', { product: 'mailserver', maxUsers: null });
    assert.equal(res.statusCode, 201);
    const lic = JSON.parse(res.body);
    assert.match(lic.key, /^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){4,}$/);
    assert.equal(lic.maxUsers, null);
    assert.equal(lic.maxMachines, 1);
    assert.deepEqual(lic.policy, { enforcement: 'flag', userOverage: 1, machineInactiveDays: 30, offlineGraceDays: 30, offlineFileDays: 30, checkIntervalSeconds: 86400 });
    await h.call(callBody(lic.key, { computerId: computerId('admin-get'), usersInUse: 7, version: '8.5.0' }));
    const got = await h.admin('GET', `/api/v1/admin/licences/${lic.key.toLowerCase()}`);
    assert.equal(got.statusCode, 200);
    const body = JSON.parse(got.body);
    assert.equal(body.key, lic.key);
    assert.equal(body.machines.length, 1);
    assert.deepEqual(Object.keys(body.machines[0]), ['computerId', 'firstSeen', 'lastSeen', 'lastVersion', 'lastUsersInUse', 'status']);
    assert.deepEqual(body.machines[0], {
      computerId: computerId('admin-get'), firstSeen: new Date(NOW).toISOString(), lastSeen: new Date(NOW).toISOString(),
      lastVersion: '8.5.0', lastUsersInUse: 7, status: 'active',
    });
    const release = await h.admin('POST', `/api/v1/admin/licences/${lic.key}/machines/${computerId('admin-get')}/release`);
    assert.equal(release.statusCode, 200);
    const block = await h.admin('POST', `/api/v1/admin/licences/${lic.key}/machines/${computerId('never-called')}/block`);
    assert.equal(block.statusCode, 200);
    const patched = await h.admin('PATCH', `/api/v1/admin/licences/${lic.key}`, { policy: { enforcement: 'deny' } });
    assert.equal(patched.statusCode, 200);
    assert.equal(JSON.parse(patched.body).policy.enforcement, 'deny');
    assert.equal(JSON.parse(patched.body).policy.offlineGraceDays, 30, 'PATCH of policy merges');
  });

  test('a release (201) with its defaults; an add-on (201)', async () => {
    const r = await h.admin('POST', '/api/v1/admin/products/mailserver/releases', { version: '8.4.0' });
    assert.equal(r.statusCode, 201, r.body);
    const rel = JSON.parse(r.body);
    assert.equal(rel.channel, 'stable');
    assert.equal(rel.security, false);
    assert.equal(rel.releasedAt, new Date(NOW).toISOString(), 'releasedAt defaults to now');
    const a = await h.admin('POST', '/api/v1/admin/addons', { code: 'mailserver-av', name: 'Antivirus', product: 'mailserver' });
    assert.equal(a.statusCode, 201, a.body);
  });
});

// ---------------------------------------------------------------------------------------------------
// The command line, as a checker runs it: a temporary data directory, `apikey create`, `serve` with
// PORT/HOST/KEYWARD_PUBLIC_URL, then the admin API and a call home over real HTTP.

const BIN = path.resolve('bin/keyward');
const run = promisify(execFile);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

describe('bin/keyward', () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let drop = async () => {};
  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-contract-'));
    env = { ...process.env, KEYWARD_DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
    delete env.DATABASE_URL; delete env.PORT; delete env.HOST; delete env.KEYWARD_PUBLIC_URL;
    if (TEST_DIALECT === 'postgres') {
      const d = await createTestDatabase();
      drop = d.drop;
      env.DATABASE_URL = d.url;
    }
  });
  after(async () => { fs.rmSync(dataDir, { recursive: true, force: true }); await drop(); });

  test('apikey create → serve → admin API and a signed call home over HTTP; download URLs use KEYWARD_PUBLIC_URL', async () => {
    const { stdout } = await run(BIN, ['apikey', 'create', '--name', 'checker'], { env });
    const apiKey = stdout.trimEnd().split('\n').at(-1)!;
    assert.ok(apiKey.length >= 20 && !/\s/.test(apiKey), apiKey);
    if (TEST_DIALECT === 'sqlite') assert.ok(fs.existsSync(path.join(dataDir, 'keyward.sqlite')), 'the SQLite file lives in KEYWARD_DATA_DIR');

    const port = await freePort();
    const child = spawn(BIN, ['serve'], { env: { ...env, PORT: String(port), HOST: '127.0.0.1', KEYWARD_PUBLIC_URL: 'https://licensing.example.test/' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const base = `http://127.0.0.1:${port}`;
    try {
      const deadline = Date.now() + 120_000;
      while (!out.includes('Keyward is running') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
      assert.match(out, /Keyward is running at https:\/\/licensing\.example\.test/, out);
      const admin = async (url: string, body: unknown) => fetch(base + url, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal((await admin('/api/v1/admin/products', { code: 'cli', name: 'CLI' })).status, 201);
      assert.equal((await admin('/api/v1/admin/addons', { code: 'cli-defs', name: 'Defs', product: 'cli' })).status, 201);
      const form = new FormData();
      form.set('version', '1.0');
      form.set('file', new Blob(['defs']), 'defs.bin');
      const pack = await fetch(`${base}/api/v1/admin/addons/cli-defs/content`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}` }, body: form });
      assert.equal(pack.status, 201, await pack.text());
      const licence = await admin('/api/v1/admin/licences', { product: 'cli', maxUsers: 5, addons: [{ code: 'cli-defs', until: null }] });
      assert.equal(licence.status, 201);
      const { key } = await licence.json() as { key: string };
      assert.equal((await admin('/api/v1/admin/products/cli/releases', { version: '1.0.0' })).status, 201);
      const answer = await fetch(`${base}/api/v1/callhome`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ licence: key, version: '1.0.0', computerId: computerId('cli'), usersInUse: 1, nonce: nonce(), content: { 'cli-defs': '0.9' } }) });
      assert.equal(answer.status, 200);
      const bytes = Buffer.from(await answer.arrayBuffer());
      const m = SIGNATURE.exec(answer.headers.get('keyward-signature') ?? '');
      assert.ok(m);
      const keys = await (await fetch(`${base}/api/v1/keys`)).json() as { keys: { kid: string; publicKey: string }[] };
      assert.ok(verifyEd25519(keys.keys.find((k) => k.kid === m[1])!.publicKey, bytes, m[2]));
      const json = JSON.parse(bytes.toString('utf8'));
      assert.equal(json.code, 'VALID');
      assert.match(json.content['cli-defs'].url, /^https:\/\/licensing\.example\.test\/downloads\//);
      // keys rotate while serving: the old key stays listed as retired
      await run(BIN, ['keys', 'rotate'], { env });
      const after = await (await fetch(`${base}/api/v1/keys`)).json() as { keys: { kid: string; status: string }[] };
      assert.equal(after.keys.length, 2);
      assert.deepEqual(after.keys.map((k) => k.status).sort(), ['active', 'retired']);
      assert.equal(after.keys.find((k) => k.kid === m[1])!.status, 'retired');
      // …and the running server signs with the new key without a restart (it checks every two seconds;
      // the wait is generous so that a loaded machine does not fail it).
      const active = after.keys.find((k) => k.status === 'active')!.kid;
      let kid = m[1];
      const until = Date.now() + 20_000;
      while (kid !== active && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 250));
        kid = SIGNATURE.exec((await fetch(`${base}/api/v1/keys`)).headers.get('keyward-signature') ?? '')?.[1] ?? kid;
      }
      assert.equal(kid, active, 'answers are signed by the new active key');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    }
  });

  test('apikey create without --name is refused with a usage message', async () => {
    await assert.rejects(run(BIN, ['apikey', 'create'], { env }), (err: { code: number; stderr: string }) => {
      assert.notEqual(err.code, 0);
      assert.match(err.stderr, /--name/);
      return true;
    });
  });
});
