// POST /api/v1/callhome, one or more cases per code (spec/callhome.md, "Codes"): each checks the
// status, the body, the signature (inside h.call) and exactly what was stored.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestApp } from '../../kernel/testing/app.js';
import { licensingApp, callBody, computerId, createLicence, seedProduct, type Harness } from './testing.js';

let t: TestApp;
let h: Harness;
before(async () => {
  h = await licensingApp();
  t = h.t;
  await seedProduct(h, 'webmail');
});
after(async () => { await t.close(); });

const NOW = '2026-11-25T10:00:00.000Z';
const MACHINE_COLUMNS = ['computer_id', 'first_seen', 'last_ip', 'last_seen', 'last_users_in_use', 'last_version', 'licence_id', 'status'];

async function machines(licenceId: string) {
  await t.modules.licensing.flush();
  return t.k.db.selectFrom('machines').selectAll().where('licence_id', '=', licenceId).orderBy('computer_id').execute();
}

interface Case {
  name: string;
  licence?: Record<string, unknown>;
  /** Staff actions or earlier calls before the call under test. */
  setup?: (key: string) => Promise<void>;
  call?: Record<string, unknown>;
  code: string;
  valid: boolean;
  flags: string[];
  /** Status of the caller's machine row afterwards; null: no row. */
  stored: string | null;
  /** Seats in the answer. */
  active?: number;
}

const other = (key: string, n: number) => h.call(callBody(key, { computerId: computerId(`other-${n}`) }));

const CASES: Case[] = [
  { name: 'a valid call takes the seat', code: 'VALID', valid: true, flags: [], stored: 'active', active: 1 },
  { name: 'a product code of another product', call: { product: 'webmail' }, code: 'PRODUCT_MISMATCH', valid: false, flags: ['PRODUCT_MISMATCH'], stored: null },
  { name: 'revoked', setup: (key) => patch(key, { status: 'revoked' }), code: 'REVOKED', valid: false, flags: ['REVOKED'], stored: null },
  { name: 'suspended', setup: (key) => patch(key, { status: 'suspended' }), code: 'SUSPENDED', valid: false, flags: ['SUSPENDED'], stored: null },
  { name: 'suspended and expired: every condition is flagged, the first is the code', licence: { expiresAt: '2026-11-01T00:00:00Z' }, setup: (key) => patch(key, { status: 'suspended' }), code: 'SUSPENDED', valid: false, flags: ['SUSPENDED', 'EXPIRED'], stored: null },
  { name: 'a term licence past expiresAt', licence: { expiresAt: '2026-11-25T10:00:00Z' }, code: 'EXPIRED', valid: false, flags: ['EXPIRED'], stored: null },
  {
    name: 'a blocked computer ID', setup: async (key) => { await block(key, computerId(1)); },
    code: 'MACHINE_BLOCKED', valid: false, flags: ['MACHINE_BLOCKED'], stored: 'blocked', active: 0,
  },
  {
    name: 'one machine too many under "flag": valid, recorded over the limit', setup: async (key) => { await other(key, 1); },
    code: 'TOO_MANY_MACHINES', valid: true, flags: ['TOO_MANY_MACHINES'], stored: 'over-limit', active: 1,
  },
  {
    name: 'one machine too many under "deny"', licence: { policy: { enforcement: 'deny' } }, setup: async (key) => { await other(key, 1); },
    code: 'TOO_MANY_MACHINES', valid: false, flags: ['TOO_MANY_MACHINES'], stored: 'over-limit', active: 1,
  },
  {
    name: 'users over the limit within the overage', licence: { policy: { userOverage: 1.15 } }, call: { usersInUse: 57 },
    code: 'TOO_MANY_USERS', valid: true, flags: ['TOO_MANY_USERS'], stored: 'active', active: 1,
  },
  { name: 'users over the limit', call: { usersInUse: 51 }, code: 'TOO_MANY_USERS', valid: false, flags: ['TOO_MANY_USERS'], stored: 'active', active: 1 },
  {
    name: 'tolerated machines and invalid users: the invalid one is the code', setup: async (key) => { await other(key, 1); }, call: { usersInUse: 51 },
    code: 'TOO_MANY_USERS', valid: false, flags: ['TOO_MANY_MACHINES', 'TOO_MANY_USERS'], stored: 'over-limit', active: 1,
  },
  {
    name: 'a version released after maintenance ended', licence: { maintenanceUntil: '2026-07-01T00:00:00Z' }, call: { version: '8.6.0' },
    code: 'VERSION_NOT_COVERED', valid: false, flags: ['VERSION_NOT_COVERED'], stored: 'active', active: 1,
  },
  {
    name: 'a version the server does not know is never VERSION_NOT_COVERED', licence: { maintenanceUntil: '2026-07-01T00:00:00Z' }, call: { version: '99.0.0' },
    code: 'VALID', valid: true, flags: [], stored: 'active', active: 1,
  },
  { name: 'unlimited machines and users', licence: { maxUsers: null, maxMachines: null }, call: { usersInUse: 1_000_000 }, code: 'VALID', valid: true, flags: [], stored: 'active', active: 1 },
];

async function patch(key: string, body: Record<string, unknown>): Promise<void> {
  const r = await h.admin('PATCH', `/api/v1/admin/licences/${key}`, body);
  assert.equal(r.statusCode, 200, r.body);
}
async function block(key: string, cid: string): Promise<void> {
  const r = await h.admin('POST', `/api/v1/admin/licences/${key}/machines/${cid}/block`);
  assert.equal(r.statusCode, 200, r.body);
}

describe('call-home codes', () => {
  for (const c of CASES) {
    test(`${c.code}: ${c.name}`, async () => {
      const lic = await createLicence(h, c.licence);
      await c.setup?.(lic.key);
      const body = callBody(lic.key, { ...c.call, ip: '198.51.100.1', hostname: 'reception-pc' });
      const { status, json, res } = await h.call(body, { ip: '203.0.113.9' });
      assert.equal(status, 200);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      assert.equal(json.code, c.code);
      assert.equal(json.valid, c.valid);
      assert.deepEqual(json.flags, c.flags);
      assert.equal(json.nonce, body.nonce);
      assert.equal(json.ts, NOW);
      assert.equal(typeof json.detail, 'string');
      assert.equal(json.nextCheckSeconds, 86400);
      assert.equal(json.licence.product, 'mailserver');
      if (c.active !== undefined) assert.deepEqual(json.machines, { active: c.active, max: json.licence.maxMachines });
      assert.equal('offlineUntil' in json, c.valid, 'offlineUntil only when valid');
      assert.ok('update' in json && 'content' in json, 'update and content are present for a found licence');
      if (!c.valid && json.update.available) assert.equal(json.update.entitled, false);

      const rows = await machines(lic.licenceId);
      const mine = rows.find((r) => r.computer_id === computerId(1));
      if (c.stored === null) {
        assert.equal(mine, undefined, 'a call decided before MACHINE_BLOCKED stores no new machine');
        return;
      }
      assert.ok(mine);
      assert.deepEqual(Object.keys(mine).sort(), MACHINE_COLUMNS, 'only the contract\'s fields are stored');
      assert.equal(mine.status, c.stored);
      assert.equal(mine.last_seen, Date.parse(NOW));
      assert.equal(mine.last_ip, '203.0.113.9', 'the connection\'s address, not one the body claims');
      if (c.stored === 'blocked') {
        assert.equal(mine.last_version, null, 'a blocked machine records no usage');
      } else {
        assert.equal(mine.first_seen, Date.parse(NOW));
        assert.equal(mine.last_version, body.version);
        assert.equal(mine.last_users_in_use, body.usersInUse);
      }
    });
  }

  test('NOT_FOUND: an unknown key, the empty string and a 128-code-point key store nothing', async () => {
    const before = await t.k.db.selectFrom('machines').select('computer_id').execute();
    for (const licence of ['7H2KQ-9QWXM-4TRZP-8DA1C-5NB3E', '', '😀'.repeat(128), 'x'.repeat(128)]) {
      const body = callBody(licence);
      const { status, json } = await h.call(body);
      assert.equal(status, 200);
      assert.deepEqual(Object.keys(json), ['ts', 'nonce', 'valid', 'code', 'detail', 'flags', 'nextCheckSeconds']);
      assert.deepEqual({ valid: json.valid, code: json.code, flags: json.flags, nonce: json.nonce }, { valid: false, code: 'NOT_FOUND', flags: ['NOT_FOUND'], nonce: body.nonce });
    }
    assert.deepEqual(await t.k.db.selectFrom('machines').select('computer_id').execute(), before);
  });

  test('a key typed from an email still matches: case, spaces, hyphens, O/0 and I/L/1', async () => {
    const lic = await createLicence(h);
    const typed = ` ${lic.key.toLowerCase().replace(/-/g, ' - ').replace(/0/g, 'o').replace(/1/g, 'l')}\n`;
    const { json } = await h.call(callBody(typed, { computerId: computerId('typed') }));
    assert.equal(json.code, 'VALID');
  });

  test('a known machine calling a revoked licence only refreshes its last-seen', async () => {
    const lic = await createLicence(h);
    await h.call(callBody(lic.key));
    t.clock.advance(3_600_000);
    await patch(lic.key, { status: 'revoked' });
    const { json } = await h.call(callBody(lic.key, { version: '8.6.0', usersInUse: 3 }));
    assert.equal(json.code, 'REVOKED');
    assert.deepEqual(json.machines, { active: 1, max: 1 }, 'the seat is unchanged');
    const [m] = await machines(lic.licenceId);
    assert.equal(m.status, 'active');
    assert.equal(m.last_seen, Date.parse(NOW) + 3_600_000);
    assert.equal(m.last_version, '8.5.0', 'usage is not recorded by a refused call');
    t.clock.set(Date.parse(NOW));
  });

  test('nothing a client sends beyond the contract\'s fields is stored anywhere', async () => {
    const lic = await createLicence(h);
    const marker = 'CANARY-7f3a9c';
    await h.call(callBody(lic.key, { computerId: computerId('canary'), userAgent: marker, hostname: marker, email: `${marker}@example.com`, content: {}, channel: 'beta' }),
      { headers: { 'user-agent': marker, 'x-forwarded-for': '192.0.2.77' } });
    await t.modules.licensing.flush();
    const tables = ['machines', 'callhome_daily', 'licence_networks', 'licences', 'audit_log', 'jobs', 'settings'] as const;
    for (const table of tables) {
      const rows = await t.k.db.selectFrom(table).selectAll().execute();
      const text = JSON.stringify(rows);
      assert.ok(!text.includes(marker), `${table} holds something the client sent beyond the contract`);
      assert.ok(!text.includes('192.0.2.77'), `${table} holds an X-Forwarded-For address from an untrusted peer`);
    }
    const net = await t.k.db.selectFrom('licence_networks').selectAll().where('licence_id', '=', lic.licenceId).execute();
    assert.deepEqual(net.map((n) => n.network), ['127.0.0.0/24']);
  });
});
