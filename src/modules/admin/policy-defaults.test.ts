// Settings → Licence policy defaults: the owner edits them (validated, audited), and call-home applies them
// to licences without their own policy, while a licence's own policy still wins.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DAY_MS } from '../../kernel/clock.js';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { TestBrowser } from '../../kernel/testing/http.js';
import { callBody, computerId, createLicence, harness, seedProduct, type Harness } from '../licensing/testing.js';

let t: TestApp;
let h: Harness;
const browsers: Record<string, TestBrowser> = {};
const START = Date.parse('2026-11-25T10:00:00.000Z');
const GOOD = { enforcement: 'deny', user_overage: '1.5', machine_inactive_days: '7', offline_grace_days: '3', offline_file_days: '14', check_interval_seconds: '3600' };

async function signIn(role: string): Promise<TestBrowser> {
  const email = `${role}@vendor.example`;
  await t.modules.accounts.staff.createStaff({ email, name: `${role} person`, role, password: `staff pass ${role.length} words 123` }, null);
  const b = new TestBrowser(t.app);
  await b.get('/admin/login');
  assert.equal((await b.post('/admin/login', { email, password: `staff pass ${role.length} words 123` })).statusCode, 303);
  return b;
}

const call = async (key: string, cid: string, extra: Record<string, unknown> = {}) => (await h.call(callBody(key, { computerId: cid, ...extra }))).json;

before(async () => {
  t = await testApp();
  t.clock.set(START);
  h = await harness(t);
  await seedProduct(h);
  for (const role of ['owner', 'admin']) browsers[role] = await signIn(role);
});
after(async () => { await t.close(); });

describe('licence policy defaults in Settings', () => {
  test('the contract\'s defaults are shown; bad values come back beside their fields and nothing is stored', async () => {
    const owner = browsers.owner!;
    const page = await owner.get('/admin/settings');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /id="policy"/);
    assert.match(page.body, /name="machine_inactive_days"[^>]*value="30"|value="30"[^>]*name="machine_inactive_days"/);
    const bad = await owner.post('/admin/settings/policy', { enforcement: 'maybe', user_overage: '0.5', machine_inactive_days: '0', offline_grace_days: 'x', offline_file_days: '99999', check_interval_seconds: '5' });
    assert.equal(bad.statusCode, 400);
    for (const f of ['enforcement', 'user_overage', 'machine_inactive_days', 'offline_grace_days', 'offline_file_days', 'check_interval_seconds']) {
      assert.match(bad.body, new RegExp(`id="f-${f}-error"`), f);
    }
    assert.match(bad.body, /value="0\.5"/, 'what was typed is shown again');
    assert.equal((await t.k.db.selectFrom('settings').select('key').where('key', '=', 'licensing.policy_defaults').executeTakeFirst()), undefined);
  });

  test('only the owner may change them', async () => {
    const admin = browsers.admin!;
    await admin.get('/admin/security');
    assert.equal((await admin.post('/admin/settings/policy', GOOD)).statusCode, 403);
    assert.equal((await t.k.db.selectFrom('settings').select('key').where('key', '=', 'licensing.policy_defaults').executeTakeFirst()), undefined);
  });

  test('saved defaults (audited) govern licences without their own policy at once; a licence\'s own policy still wins', async () => {
    t.clock.set(START);
    const plain = await createLicence(h); // one machine, no policy of its own
    const own = await createLicence(h, { policy: { enforcement: 'flag', machineInactiveDays: 30 } });
    // Before: the contract's defaults (flag: a second computer is recorded over the limit, still valid).
    await call(plain.key, computerId('a'));
    assert.equal((await call(plain.key, computerId('b'))).valid, true);

    const owner = browsers.owner!;
    await owner.get('/admin/settings');
    const saved = await owner.post('/admin/settings/policy', GOOD);
    assert.equal(saved.statusCode, 200);
    assert.match(saved.body, /Policy defaults saved/);
    const staff = await t.k.db.selectFrom('staff').select('id').where('email', '=', 'owner@vendor.example').executeTakeFirstOrThrow();
    const audit = await t.k.db.selectFrom('audit_log').selectAll().where('action', '=', 'admin.settings_changed').where('target', '=', 'policy').executeTakeFirstOrThrow();
    assert.equal(audit.actor_id, staff.id);
    assert.equal(Number(audit.at), START);

    const denied = await call(plain.key, computerId('c'));
    assert.equal(denied.code, 'TOO_MANY_MACHINES');
    assert.equal(denied.valid, false, 'deny is now the default');
    const seat = await call(plain.key, computerId('a'));
    assert.equal(seat.code, 'VALID');
    assert.equal(seat.nextCheckSeconds, 3600);
    // 1.5 × 50 users tolerated.
    assert.equal((await call(plain.key, computerId('a'), { usersInUse: 75 })).valid, true);
    assert.equal((await call(plain.key, computerId('a'), { usersInUse: 76 })).valid, false);

    await call(own.key, computerId('a'));
    const flagged = await call(own.key, computerId('b'));
    assert.equal(flagged.code, 'TOO_MANY_MACHINES');
    assert.equal(flagged.valid, true, 'its own enforcement wins');

    // Seats free after the default 7 days for the plain licence, not for the one with its own 30.
    t.clock.set(START + 8 * DAY_MS);
    assert.equal((await call(plain.key, computerId('d'))).code, 'VALID');
    assert.equal((await call(own.key, computerId('d'))).code, 'TOO_MANY_MACHINES');

    // The admin API shows the policy in force.
    const view = JSON.parse((await h.admin('GET', `/api/v1/admin/licences/${plain.key}`)).body);
    assert.equal(view.policy.enforcement, 'deny');
    assert.equal(view.policy.machineInactiveDays, 7);
    assert.equal(view.policy.userOverage, 1.5);
    t.clock.set(START);
  });
});
