import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { TestBrowser } from '../../kernel/testing/http.js';
import { harness, seedProduct, createLicence, callBody, computerId, type Harness } from '../licensing/testing.js';
import { buildInvoice } from './testing.js';

let t: TestApp;
let h: Harness;
const b: Record<string, TestBrowser> = {};
const ids: Record<string, string> = {};
let licence: { id: string; key: string };

before(async () => {
  t = await testApp();
  h = await harness(t);
  await seedProduct(h);
  const made = await createLicence(h, { maxMachines: 2, customerEmail: 'carol@customer.example' });
  licence = { id: made.licenceId, key: made.key };
  for (const seed of [1, 2]) {
    const res = await h.call(callBody(made.key, { computerId: computerId(seed) }));
    assert.equal(res.status, 200);
  }
  await t.modules.licensing.flush();
  await t.k.db.insertInto('customers').values({
    id: 'cust-carol', email: 'carol@customer.example', name: 'Carol Customer', company: 'Carol Ltd', phone: null, address_line1: null, address_line2: null,
    city: null, region: null, postcode: null, country: 'GB', vat_number: null, password_hash: null, email_verified_at: null,
    created_at: t.clock.now(), updated_at: t.clock.now(), last_login_at: null, closed_at: null,
  } as never).execute();
  await buildInvoice(t.k, { number: 4711, currency: 'GBP', gross: 1234, issuedAt: t.clock.now(), customerId: 'cust-carol', email: 'carol@customer.example' });
  for (const role of ['owner', 'support', 'sales']) {
    const email = `${role}@vendor.example`;
    ids[role] = await t.modules.accounts.staff.createStaff({ email, name: role, role, password: 'correct horse battery 9' }, null);
    b[role] = new TestBrowser(t.app);
    await b[role]!.get('/admin/login');
    assert.equal((await b[role]!.post('/admin/login', { email, password: 'correct horse battery 9' })).statusCode, 303);
  }
});
after(async () => { await t.close(); });

describe('search', () => {
  test('finds customers and licences by email prefix, invoices by number, a licence by its whole key, machines by computer ID', async () => {
    const byEmail = await b.owner!.get('/admin/search?q=carol%40cust');
    assert.match(byEmail.body, /href="\/admin\/customers\/cust-carol"/);
    assert.match(byEmail.body, new RegExp(`href="/admin/licences/${licence.id}"`));
    assert.match((await b.owner!.get('/admin/search?q=4711')).body, /Invoice<\/td><td><a href="\/admin\/invoices\/[^"]+\/pdf">4711/);
    assert.match((await b.owner!.get(`/admin/search?q=${encodeURIComponent(licence.key.toLowerCase())}`)).body, new RegExp(`/admin/licences/${licence.id}"`));
    assert.match((await b.owner!.get(`/admin/search?q=${computerId(2).slice(0, 12)}`)).body, /Machine<\/td>/);
    const nothing = await b.owner!.get('/admin/search?q=zz%25_nobody');
    assert.match(nothing.body, /Nothing found/);
    assert.match((await b.owner!.get('/admin/search?q=a')).body, /at least two characters/);
    assert.equal((await b.owner!.get(`/admin/search?q=${'x'.repeat(201)}`)).statusCode, 400);
  });

  test('results respect the role: support sees no invoices, sales sees no machines', async () => {
    assert.doesNotMatch((await b.support!.get('/admin/search?q=4711')).body, /Invoice<\/td>/);
    assert.doesNotMatch((await b.sales!.get(`/admin/search?q=${computerId(2).slice(0, 12)}`)).body, /Machine<\/td>/);
    assert.match((await b.sales!.get('/admin/search?q=4711')).body, /Invoice<\/td>/);
  });
});

describe('customers and licences', () => {
  test('a customer page lists their invoices for sales, not for support', async () => {
    assert.match((await b.sales!.get('/admin/customers/cust-carol')).body, /Invoice 4711/);
    const s = await b.support!.get('/admin/customers/cust-carol');
    assert.equal(s.statusCode, 200);
    assert.doesNotMatch(s.body, /Invoice 4711/);
    assert.equal((await b.owner!.get('/admin/customers/nobody')).statusCode, 404);
  });

  test('the licence page masks the key; revealing it is audited', async () => {
    const page = await b.support!.get(`/admin/licences/${licence.id}`);
    assert.equal(page.statusCode, 200);
    assert.doesNotMatch(page.body, new RegExp(licence.key));
    const shown = await b.support!.post(`/admin/licences/${licence.id}/reveal`, {});
    assert.match(shown.body, new RegExp(licence.key));
    const audit = await t.k.db.selectFrom('audit_log').selectAll().where('action', '=', 'admin.licence_key_revealed').executeTakeFirstOrThrow();
    assert.equal(audit.actor_id, ids.support);
    assert.equal(audit.target, licence.id);
  });

  test('support issues an offline licence file for a typed computer ID; a malformed ID is a 400 on the page; a refused one says why; sales cannot', async () => {
    const page = await b.support!.get(`/admin/licences/${licence.id}`);
    assert.match(page.body, /Offline licence file/);
    assert.doesNotMatch((await b.sales!.get(`/admin/licences/${licence.id}`)).body, /Offline licence file/);
    assert.equal((await b.sales!.post(`/admin/licences/${licence.id}/licence-file`, { computer_id: computerId(9) })).statusCode, 403);

    const bad = await b.support!.post(`/admin/licences/${licence.id}/licence-file`, { computer_id: 'not-an-id' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /64 characters/);
    assert.match(bad.body, /value="not-an-id"/);

    // Both seats are taken (computers 1 and 2) and the licence allows 2 under "flag": a tolerated
    // TOO_MANY_MACHINES still gets its file, as in the contract.
    const ok = await b.support!.post(`/admin/licences/${licence.id}/licence-file`, { computer_id: computerId(9).toUpperCase() });
    assert.equal(ok.statusCode, 200, ok.body.slice(0, 300));
    assert.match(String(ok.headers['content-disposition']), /^attachment; filename="licence-.{5}-[0-9a-f]{8}\.lic"$/);
    assert.match(ok.body, /^-----BEGIN KEYWARD LICENCE FILE-----\n/);
    const envelope = JSON.parse(Buffer.from(ok.body.split('\n')[1]!, 'base64').toString('utf8')) as { payload: string };
    assert.equal(JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')).computerId, computerId(9));
    const audit = await t.k.db.selectFrom('audit_log').select(['actor_id']).where('action', '=', 'licensing.licence_file.issued').where('target', '=', licence.id).executeTakeFirstOrThrow();
    assert.equal(audit.actor_id, ids.support);

    const suspended = await createLicence(h, { customerEmail: 'carol@customer.example' });
    assert.equal((await h.admin('PATCH', `/api/v1/admin/licences/${suspended.key}`, { status: 'suspended' })).statusCode, 200);
    await b.support!.get(`/admin/licences/${suspended.licenceId}`);
    const refused = await b.support!.post(`/admin/licences/${suspended.licenceId}/licence-file`, { computer_id: computerId(9) });
    assert.equal(refused.statusCode, 409);
    assert.match(refused.body, /No file: SUSPENDED/);
  });

  test('support releases a machine (audited); a wrong computer ID is a 400; sales cannot release', async () => {
    await b.sales!.get(`/admin/licences/${licence.id}`);
    assert.equal((await b.sales!.post(`/admin/licences/${licence.id}/release`, { computer_id: computerId(1) })).statusCode, 403);
    await b.support!.get(`/admin/licences/${licence.id}`);
    const wrong = await b.support!.post(`/admin/licences/${licence.id}/release`, { computer_id: 'f'.repeat(64) });
    assert.equal(wrong.statusCode, 400);
    assert.match(wrong.body, /not a machine of this licence/);
    const ok = await b.support!.post(`/admin/licences/${licence.id}/release`, { computer_id: computerId(1) });
    assert.equal(ok.statusCode, 200);
    assert.match(ok.body, /Machine released/);
    const m = await t.k.db.selectFrom('machines').select('status').where('licence_id', '=', licence.id).where('computer_id', '=', computerId(1)).executeTakeFirstOrThrow();
    assert.notEqual(m.status, 'active');
    const audit = await t.k.db.selectFrom('audit_log').selectAll().where('action', '=', 'licensing.machine.released').executeTakeFirstOrThrow();
    assert.equal(audit.actor_id, ids.support);
    assert.equal((await b.owner!.get('/admin/licences/no-such-licence')).statusCode, 404);
  });

  test('an over-limit machine can be released; support blocks a machine (its calls are refused) and unblocks it by releasing', async () => {
    const third = computerId(3);
    await h.call(callBody(licence.key, { computerId: computerId(1) })); // takes the seat back
    assert.equal((await h.call(callBody(licence.key, { computerId: third }))).json.code, 'TOO_MANY_MACHINES');
    await t.modules.licensing.flush();
    const statusOf = async (cid: string) => (await t.k.db.selectFrom('machines').select('status').where('licence_id', '=', licence.id).where('computer_id', '=', cid).executeTakeFirstOrThrow()).status;
    assert.equal(await statusOf(third), 'over-limit');
    const page = (await b.support!.get(`/admin/licences/${licence.id}`)).body;
    const row = page.split('<tr>').find((r) => r.includes(`${third.slice(0, 16)}…`))!.split('</tr>')[0]!;
    assert.match(row, /<td>over-limit<\/td>/);
    assert.match(row, /action="[^"]+\/release"[^]*>Release<\/button>/, 'an over-limit machine has its Release button');

    const blocked = await b.support!.post(`/admin/licences/${licence.id}/block`, { computer_id: computerId(2).toUpperCase() });
    assert.equal(blocked.statusCode, 200);
    assert.match(blocked.body, /Machine blocked/);
    assert.equal(await statusOf(computerId(2)), 'blocked');
    assert.equal((await h.call(callBody(licence.key, { computerId: computerId(2) }))).json.code, 'MACHINE_BLOCKED');
    assert.match(blocked.body, /Unblock \(release\)/);
    await b.support!.get(`/admin/licences/${licence.id}`);
    await b.support!.post(`/admin/licences/${licence.id}/release`, { computer_id: computerId(2) });
    assert.equal(await statusOf(computerId(2)), 'released');
    await b.sales!.get(`/admin/licences/${licence.id}`);
    assert.equal((await b.sales!.post(`/admin/licences/${licence.id}/block`, { computer_id: third })).statusCode, 403, 'sales cannot block');
    await b.support!.get(`/admin/licences/${licence.id}`);
    assert.equal((await b.support!.post(`/admin/licences/${licence.id}/block`, { computer_id: 'xyz' })).statusCode, 400);
  });
});
