// POST /api/v1/licence-file and the staff route for a typed computer ID: the file's format and
// signature, the seat it takes, and the signed JSON refusal.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { verifyEd25519 } from '../../kernel/crypto/signing.js';
import { DAY_MS } from '../../kernel/clock.js';
import { callBody, computerId, createLicence, harness, nonce, seedProduct, type Harness } from './testing.js';

let t: TestApp;
let h: Harness;
const START = Date.parse('2026-11-25T10:00:00.000Z');
before(async () => {
  t = await testApp();
  h = await harness(t);
  await seedProduct(h);
});
after(async () => { await t.close(); });

/** Decodes and verifies a licence file the way a program does, against GET /api/v1/keys. */
async function openFile(text: string) {
  const m = /^-----BEGIN KEYWARD LICENCE FILE-----\n([A-Za-z0-9+/=]+)\n-----END KEYWARD LICENCE FILE-----\n$/.exec(text);
  assert.ok(m, `not a licence file: ${text.slice(0, 80)}`);
  const envelope = JSON.parse(Buffer.from(m[1], 'base64').toString('utf8'));
  assert.deepEqual(Object.keys(envelope), ['alg', 'kid', 'payload', 'signature']);
  assert.equal(envelope.alg, 'ed25519');
  const key = (await h.keys()).find((k) => k.kid === envelope.kid);
  assert.ok(key);
  const payloadBytes = Buffer.from(envelope.payload, 'base64');
  assert.ok(verifyEd25519(key.publicKey, payloadBytes, envelope.signature), 'signed over the decoded payload bytes');
  assert.ok(!verifyEd25519(key.publicKey, envelope.payload, envelope.signature), 'not over the base64 text');
  return JSON.parse(payloadBytes.toString('utf8'));
}

describe('licence files', () => {
  test('a licence that validates gets a signed text/plain file, and the file takes a seat', async () => {
    t.clock.set(START);
    const lic = await createLicence(h, { addons: [{ code: 'mailserver-spam', until: '2027-01-01T00:00:00Z' }] });
    const n = nonce();
    const { status, json: text, res } = await h.licenceFile({ licence: lic.key, computerId: computerId('offline'), nonce: n, extra: 'ignored' });
    assert.equal(status, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    const payload = await openFile(text);
    assert.deepEqual(Object.keys(payload), ['licence', 'computerId', 'nonce', 'issuedAt', 'expiresAt']);
    assert.deepEqual(payload.licence, {
      product: 'mailserver', status: 'active', maxUsers: 50, maxMachines: 1, expiresAt: null, maintenanceUntil: '2027-03-01T00:00:00.000Z',
      addons: [{ code: 'mailserver-spam', until: '2027-01-01T00:00:00.000Z', active: true }],
    });
    assert.equal(payload.computerId, computerId('offline'));
    assert.equal(payload.nonce, n);
    assert.equal(payload.issuedAt, new Date(START).toISOString());
    assert.equal(payload.expiresAt, new Date(START + 30 * DAY_MS).toISOString());

    const row = await t.k.db.selectFrom('machines').selectAll().where('licence_id', '=', lic.licenceId).executeTakeFirstOrThrow();
    assert.equal(row.status, 'active', 'issuing a file takes a seat, durably');
    assert.equal(row.last_version, null);
    // So a second computer is over the limit.
    const second = await h.licenceFile({ licence: lic.key, computerId: computerId('second'), nonce: nonce() });
    assert.equal(typeof second.json, 'string', 'TOO_MANY_MACHINES is tolerated under "flag": still a file');
  });

  test('its expiresAt never passes the licence\'s own; offlineFileDays sets it', async () => {
    t.clock.set(START);
    const a = await createLicence(h, { expiresAt: '2026-12-01T00:00:00Z' });
    assert.equal((await openFile((await h.licenceFile({ licence: a.key, computerId: computerId(1), nonce: nonce() })).json)).expiresAt, '2026-12-01T00:00:00.000Z');
    const b = await createLicence(h, { policy: { offlineFileDays: 7 } });
    assert.equal((await openFile((await h.licenceFile({ licence: b.key, computerId: computerId(1), nonce: nonce() })).json)).expiresAt, new Date(START + 7 * DAY_MS).toISOString());
  });

  test('refusals are signed JSON with the call-home fields except update and offlineUntil', async () => {
    t.clock.set(START);
    const lic = await createLicence(h, { policy: { enforcement: 'deny' }, addons: [{ code: 'mailserver-spam', until: null }] });
    await h.licenceFile({ licence: lic.key, computerId: computerId('first'), nonce: nonce() });
    const n = nonce();
    const { status, json } = await h.licenceFile({ licence: lic.key, computerId: computerId('second'), nonce: n });
    assert.equal(status, 200);
    assert.deepEqual(Object.keys(json), ['ts', 'nonce', 'valid', 'code', 'detail', 'flags', 'licence', 'machines', 'content', 'nextCheckSeconds']);
    assert.deepEqual({ code: json.code, valid: json.valid, nonce: json.nonce, machines: json.machines }, { code: 'TOO_MANY_MACHINES', valid: false, nonce: n, machines: { active: 1, max: 1 } });
    assert.deepEqual(json.content, { 'mailserver-spam': { available: false, reason: 'NOT_ENTITLED' } });

    const revoked = await createLicence(h);
    await h.admin('PATCH', `/api/v1/admin/licences/${revoked.key}`, { status: 'revoked' });
    assert.equal((await h.licenceFile({ licence: revoked.key, computerId: computerId(1), nonce: nonce() })).json.code, 'REVOKED');
    const missing = await h.licenceFile({ licence: 'no-such-key', computerId: computerId(1), nonce: nonce() });
    assert.deepEqual(Object.keys(missing.json), ['ts', 'nonce', 'valid', 'code', 'detail', 'flags', 'nextCheckSeconds']);
    assert.equal(missing.json.code, 'NOT_FOUND');
  });

  test('bad requests are signed 400s', async () => {
    for (const [body, field] of [
      [{ computerId: computerId(1), nonce: nonce() }, 'licence'],
      [{ licence: 'x', computerId: 'nope', nonce: nonce() }, 'computerId'],
      [{ licence: 'x', computerId: computerId(1), nonce: '!' }, 'nonce'],
      [{ licence: 'Z'.repeat(129), computerId: computerId(1), nonce: nonce() }, 'licence'],
    ] as const) {
      const { status, json } = await h.licenceFile(body);
      assert.equal(status, 400);
      assert.deepEqual({ code: json.error.code, field: json.error.field }, { code: 'BAD_REQUEST', field });
    }
  });

  test('a file staff issue for a computer that calls home keeps the IP of its last call', async () => {
    t.clock.set(START);
    const lic = await createLicence(h);
    const cid = computerId('calls-and-gets-a-file');
    const row = async () => {
      await t.modules.licensing.flush();
      const r = await t.k.db.selectFrom('machines').select(['last_ip', 'last_seen', 'status']).where('licence_id', '=', lic.licenceId).executeTakeFirstOrThrow();
      return { ...r, last_seen: Number(r.last_seen) };
    };
    assert.equal((await h.call(callBody(lic.key, { computerId: cid }), { ip: '203.0.113.7' })).json.code, 'VALID');
    t.clock.set(START + 10 * 60_000);
    assert.equal((await h.admin('POST', `/api/v1/admin/licences/${lic.key}/licence-file`, { computerId: cid })).statusCode, 200);
    assert.deepEqual(await row(), { last_ip: '203.0.113.7', last_seen: START + 10 * 60_000, status: 'active' });

    // A call from another address and a file within the same bookkeeping batch: the call's address stays.
    t.clock.set(START + 20 * 60_000);
    await h.call(callBody(lic.key, { computerId: cid }), { ip: '198.51.100.9' });
    t.clock.set(START + 20 * 60_000 + 1000);
    assert.equal((await h.admin('POST', `/api/v1/admin/licences/${lic.key}/licence-file`, { computerId: cid })).statusCode, 200);
    assert.deepEqual(await row(), { last_ip: '198.51.100.9', last_seen: START + 20 * 60_000 + 1000, status: 'active' });
  });

  test('staff can issue a file for a computer ID typed in the admin; a refusal is 409 with the reason', async () => {
    t.clock.set(START);
    const lic = await createLicence(h);
    const typed = computerId('air-gapped').toUpperCase();
    const res = await h.admin('POST', `/api/v1/admin/licences/${lic.key}/licence-file`, { computerId: typed });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal((await openFile(res.body)).computerId, typed.toLowerCase());
    const machines = JSON.parse((await h.admin('GET', `/api/v1/admin/licences/${lic.key}`)).body).machines;
    assert.deepEqual(machines.map((m: { computerId: string; status: string }) => [m.computerId, m.status]), [[typed.toLowerCase(), 'active']]);
    const row = await t.k.db.selectFrom('machines').select('last_ip').where('licence_id', '=', lic.licenceId).executeTakeFirstOrThrow();
    assert.equal(row.last_ip, null, 'no call, no IP');

    await h.admin('PATCH', `/api/v1/admin/licences/${lic.key}`, { status: 'suspended' });
    const refused = await h.admin('POST', `/api/v1/admin/licences/${lic.key}/licence-file`, { computerId: typed });
    assert.equal(refused.statusCode, 409);
    assert.match(JSON.parse(refused.body).error.message, /^SUSPENDED/);
    assert.equal((await h.admin('POST', '/api/v1/admin/licences/nope/licence-file', { computerId: typed })).statusCode, 404);
    assert.equal((await h.admin('POST', `/api/v1/admin/licences/${lic.key}/licence-file`, { computerId: 'xyz' })).statusCode, 400);
  });
});
