// Settings → Team: the owner invites staff, who choose their own password from the emailed link;
// roles change, accounts switch off (signed out at once) and on; the last owner stays; only owners may.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { TestBrowser } from '../../kernel/testing/http.js';
import { staffBrowser } from '../newsletter/testing.js';

let t: TestApp;
let owner: TestBrowser;
before(async () => {
  t = await testApp();
  owner = await staffBrowser(t, 'owner', 'the.owner@vendor.example');
});
after(async () => { await t.close(); });

const member = (email: string) => t.k.db.selectFrom('staff').selectAll().where('email', '=', email).executeTakeFirst();

test('an invited member chooses a password from the email, signs in with the role given, and only then', async () => {
  await owner.get('/admin/settings/team');
  const res = await owner.post('/admin/settings/team', { name: 'Sam Support', email: 'Sam@Vendor.example', role: 'support' });
  assert.equal(res.statusCode, 200, res.body.slice(0, 300));
  assert.match(res.body, /Invitation sent/);
  assert.match(res.body, /sam@vendor\.example<\/td>[\s\S]*?invited, not signed in yet/, 'an invitation nobody took up is not an active account');
  assert.ok((await member('the.owner@vendor.example'))?.last_login_at, 'the owner, signed in, has a last sign-in');
  const row = await member('sam@vendor.example');
  assert.equal(row?.role, 'support');
  const mail = await t.k.db.selectFrom('mail_outbox').select('text_body').where('to_addr', '=', 'sam@vendor.example').executeTakeFirstOrThrow();
  const link = /(\/admin\/password\/reset\/[A-Za-z0-9_-]+)/.exec(mail.text_body)![1]!;
  assert.doesNotMatch(mail.text_body, /^\s*(temporary )?password\s*:/im, 'no password in the email');

  const sam = new TestBrowser(t.app);
  await sam.get('/admin/login');
  assert.notEqual((await sam.post('/admin/login', { email: 'sam@vendor.example', password: '' })).statusCode, 303, 'no password works before one is chosen');
  await sam.get(link);
  assert.match((await sam.post(link, { password: 'sams own password 1' })).body, /Password changed/);
  await sam.get('/admin/login');
  assert.equal((await sam.post('/admin/login', { email: 'sam@vendor.example', password: 'sams own password 1' })).statusCode, 303);
  assert.equal((await sam.get('/admin/tickets')).statusCode, 200, 'support reads tickets');
  assert.equal((await sam.get('/admin/settings/team')).statusCode, 403, 'only owners manage the team');
  await sam.get('/admin/tickets');
  assert.equal((await sam.post('/admin/settings/team', { name: 'X', email: 'x@vendor.example', role: 'owner' })).statusCode, 403);
  assert.equal(await member('x@vendor.example'), undefined);

  // Switched off: signed out at once; switched on again, the same password works.
  await owner.get('/admin/settings/team');
  assert.match((await owner.post(`/admin/settings/team/${row!.id}/disable`, {})).body, /switched off/);
  assert.equal((await sam.get('/admin/tickets')).statusCode, 303, 'the session ended');
  await sam.get('/admin/login');
  assert.notEqual((await sam.post('/admin/login', { email: 'sam@vendor.example', password: 'sams own password 1' })).statusCode, 303);
  await owner.get('/admin/settings/team');
  await owner.post(`/admin/settings/team/${row!.id}/enable`, {});
  await owner.get('/admin/settings/team');
  await owner.post(`/admin/settings/team/${row!.id}/role`, { role: 'sales' });
  assert.equal((await member('sam@vendor.example'))?.role, 'sales');
  const audit = (await t.k.db.selectFrom('audit_log').select('action').where('target', '=', row!.id).where('actor_kind', '=', 'staff').execute()).map((a) => a.action).sort();
  assert.deepEqual(audit, ['staff.disabled', 'staff.enabled', 'staff.invited', 'staff.role_changed']);
});

test('the last active owner cannot be demoted or switched off; a taken address and a bad role are refused', async () => {
  const me = (await member('the.owner@vendor.example'))!;
  await owner.get('/admin/settings/team');
  const demote = await owner.post(`/admin/settings/team/${me.id}/role`, { role: 'admin' });
  assert.equal(demote.statusCode, 400);
  assert.match(demote.body, /only active owner/);
  assert.equal((await member('the.owner@vendor.example'))?.role, 'owner');
  await owner.get('/admin/settings/team');
  assert.match((await owner.post(`/admin/settings/team/${me.id}/disable`, {})).body, /cannot switch off your own account/);
  await owner.get('/admin/settings/team');
  assert.equal((await owner.post('/admin/settings/team', { name: 'Dup', email: 'sam@vendor.example', role: 'sales' })).statusCode, 400);
  await owner.get('/admin/settings/team');
  const badRole = await owner.post('/admin/settings/team', { name: 'Eve', email: 'eve@vendor.example', role: 'root' });
  assert.equal(badRole.statusCode, 400);
  assert.match(badRole.body, /Choose a role/);
  assert.equal(await member('eve@vendor.example'), undefined);
});

test('an owner invitation nobody has taken up is no owner: the last owner who signed in stays until the invited one has signed in', async () => {
  const me = (await member('the.owner@vendor.example'))!;
  await owner.get('/admin/settings/team');
  assert.equal((await owner.post('/admin/settings/team', { name: 'Olive Owner', email: 'olive@vendor.example', role: 'owner' })).statusCode, 200);
  const olive = (await member('olive@vendor.example'))!;
  await owner.get('/admin/settings/team');
  const demote = await owner.post(`/admin/settings/team/${me.id}/role`, { role: 'admin' });
  assert.equal(demote.statusCode, 400);
  assert.match(demote.body, /only active owner who has signed in/);
  assert.equal((await member('the.owner@vendor.example'))?.role, 'owner');
  // The pending invitation itself may be switched off: another owner who signed in remains.
  await owner.get('/admin/settings/team');
  assert.match((await owner.post(`/admin/settings/team/${olive.id}/disable`, {})).body, /switched off/);
  await owner.get('/admin/settings/team');
  await owner.post(`/admin/settings/team/${olive.id}/enable`, {});

  // Once Olive has chosen her password and signed in, the first owner may step down.
  const mail = await t.k.db.selectFrom('mail_outbox').select('text_body').where('to_addr', '=', 'olive@vendor.example').executeTakeFirstOrThrow();
  const link = /(\/admin\/password\/reset\/[A-Za-z0-9_-]+)/.exec(mail.text_body)![1]!;
  const ob = new TestBrowser(t.app);
  await ob.get(link);
  assert.match((await ob.post(link, { password: 'a long secret for the new owner 7' })).body, /Password changed/);
  await ob.get('/admin/login');
  assert.equal((await ob.post('/admin/login', { email: 'olive@vendor.example', password: 'a long secret for the new owner 7' })).statusCode, 303);
  await owner.get('/admin/settings/team');
  assert.equal((await owner.post(`/admin/settings/team/${me.id}/role`, { role: 'admin' })).statusCode, 200);
  assert.equal((await member('the.owner@vendor.example'))?.role, 'admin');
  // And Olive, now the only owner, cannot step down in turn.
  await ob.get('/admin/settings/team');
  assert.equal((await ob.post(`/admin/settings/team/${olive.id}/role`, { role: 'admin' })).statusCode, 400);
  assert.equal((await member('olive@vendor.example'))?.role, 'owner');
});

test('an invitation sent after the settings cache has expired is sent (it hung the process on SQLite), and a burst of one address gives one member', async () => {
  const boss = await staffBrowser(t, 'owner', 'second.owner@vendor.example');
  await boss.get('/admin/settings/team');
  // As after two seconds of typing: the brand the invitation email needs is read again, inside the transaction.
  (t.k.settings as unknown as { cache: Map<string, unknown> }).cache.clear();
  const res = await Promise.race([
    boss.post('/admin/settings/team', { name: 'Slow Typist', email: 'slow@vendor.example', role: 'sales' }),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the invitation never answered')), 5000)),
  ]);
  assert.equal(res.statusCode, 200, res.body.slice(0, 300));
  assert.equal((await member('slow@vendor.example'))?.role, 'sales');

  await boss.get('/admin/settings/team');
  const burst = await Promise.all(Array.from({ length: 6 }, () => boss.post('/admin/settings/team', { name: 'Twin', email: 'twin@vendor.example', role: 'support' })));
  const codes = burst.map((r) => r.statusCode).sort();
  assert.equal(codes.filter((c) => c === 200).length, 1, `one invitation: ${codes.join(',')}`);
  assert.ok(codes.every((c) => c === 200 || c === 409 || c === 400), `the others are refused, not failed: ${codes.join(',')}`);
  assert.equal((await t.k.db.selectFrom('staff').select('id').where('email', '=', 'twin@vendor.example').execute()).length, 1);
});
