import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { TestBrowser } from '../../kernel/testing/http.js';
import { DAY_MS } from '../../kernel/clock.js';
import { enrolCustomerInAdvisories, eraseNewsletterData, exportNewsletterData } from './index.js';
import { unsubscribeToken } from './tokens.js';
import { customerBrowser, seedSubscribers, staffBrowser } from './testing.js';

let t: TestApp;
before(async () => { t = await testApp(); });
after(async () => { await t.close(); });

const statusOf = async (email: string) => Object.fromEntries((await t.k.db.selectFrom('newsletter_subscriptions as s').innerJoin('newsletter_subscribers as p', 'p.id', 's.subscriber_id')
  .select(['s.list_id', 's.status']).where('p.email', '=', email).execute()).map((r) => [r.list_id, r.status]));
const ledger = (email: string) => t.k.db.selectFrom('newsletter_consent_events').selectAll().where('email', '=', email).orderBy('at').execute();
const idOf = async (email: string) => (await t.k.db.selectFrom('newsletter_subscribers').select('id').where('email', '=', email).executeTakeFirstOrThrow()).id;

describe('security advisories: customers are enrolled by default and can opt out', () => {
  test('enrolment, My account → Email, and an opt-out that later enrolment respects', async () => {
    const { b, id } = await customerBrowser(t, 'cora@customer.example');
    assert.equal(await enrolCustomerInAdvisories(t.k, id), 'enrolled');
    assert.equal(await enrolCustomerInAdvisories(t.k, 'cora@customer.example'), 'already');
    assert.deepEqual(await statusOf('cora@customer.example'), { advisories: 'subscribed' });
    assert.equal((await ledger('cora@customer.example'))[0]!.method, 'customer_enrolment');

    const page = await b.get('/account/email');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /name="list_advisories" value="1" checked/);
    assert.doesNotMatch(page.body, /name="list_newsletter" value="1" checked/);
    const w = /name="w" value="([0-9a-f]{64})"/.exec(page.body)![1]!;
    const saved = await b.post('/account/email', { w, list_newsletter: '1' });
    assert.match(saved.body, /Your choices are saved/);
    assert.deepEqual(await statusOf('cora@customer.example'), { advisories: 'unsubscribed', newsletter: 'subscribed' }, 'a verified account joins without a second email');
    const events = await ledger('cora@customer.example');
    assert.deepEqual(events.slice(1).map((e) => [e.list_id, e.action, e.source]).sort(), [['advisories', 'unsubscribe', 'account_page'], ['newsletter', 'opt_in', 'account_page']]);
    assert.ok(events.every((e) => e.wording.length > 20 && e.wording_sha256.length === 64));
    assert.equal(await enrolCustomerInAdvisories(t.k, id), 'opted_out', 'the opt-out is respected');
    assert.equal((await b.post('/account/email', { w: 'stale' })).statusCode, 400);
    assert.equal((await new TestBrowser(t.app).get('/account/email')).statusCode, 303, 'sign-in needed');
  });
});

describe('the preference page reached from any email', () => {
  test('covers every list; changes are recorded; an unknown or forged token is handled', async () => {
    const [email] = await seedSubscribers(t.k, 1, { prefix: 'pref' });
    const token = unsubscribeToken(t.k.secrets, await idOf(email!), 'newsletter');
    const b = new TestBrowser(t.app);
    const page = await b.get(`/email/preferences/${token}`);
    assert.match(page.body, /Newsletter/);
    assert.match(page.body, /Security advisories/);
    const w = /name="w" value="([0-9a-f]{64})"/.exec(page.body)![1]!;
    await b.post(`/email/preferences/${token}`, { w, list_advisories: '1' });
    assert.deepEqual(await statusOf(email!), { newsletter: 'unsubscribed', advisories: 'subscribed' });
    const last = await ledger(email!);
    assert.ok(last.some((e) => e.action === 'unsubscribe' && e.method === 'preference_page' && e.source_url === 'http://127.0.0.1:3000/email/preferences'));
    assert.equal((await b.get('/email/preferences/abc')).statusCode, 400);
    const nobody = await b.get(`/email/preferences/${unsubscribeToken(t.k.secrets, '00000000-0000-0000-0000-000000000000', 'newsletter')}`);
    assert.match(nobody.body, /on none of our lists/);
  });
});

describe('support staff unsubscribe someone on request', () => {
  test('recorded in the consent ledger with the note, and in the audit log', async () => {
    const [email] = await seedSubscribers(t.k, 1, { prefix: 'phone' });
    const support = await staffBrowser(t, 'support', 'sam@vendor.example');
    const list = await support.get(`/admin/newsletter/subscribers?q=${encodeURIComponent('phone0@')}`);
    assert.match(list.body, new RegExp(email!.replace('.', '\\.')));
    const id = await idOf(email!);
    await support.get(`/admin/newsletter/subscribers/${id}`);
    const res = await support.post(`/admin/newsletter/subscribers/${id}/unsubscribe`, { list_newsletter: '1', note: 'Phoned on 25 Nov, ticket 1234' });
    assert.match(res.body, /Unsubscribed from: Newsletter/);
    assert.deepEqual(await statusOf(email!), { newsletter: 'unsubscribed' });
    const e = (await ledger(email!)).at(-1)!;
    assert.equal(e.source, 'support_request');
    assert.equal(e.method, 'staff_on_request');
    assert.equal(e.note, 'Phoned on 25 Nov, ticket 1234');
    const staffId = (await t.k.db.selectFrom('staff').select('id').where('email', '=', 'sam@vendor.example').executeTakeFirstOrThrow()).id;
    assert.equal(e.actor_staff_id, staffId);
    const audit = await t.k.db.selectFrom('audit_log').selectAll().where('action', '=', 'newsletter.unsubscribed_on_request').execute();
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.actor_id, staffId);
    assert.equal(audit[0]!.target, id);
    assert.match(res.body, /Phoned on 25 Nov/, 'the consent record is shown to staff');
    assert.equal((await support.post(`/admin/newsletter/subscribers/${id}/unsubscribe`, { note: 'x' })).statusCode, 400, 'no list chosen');
  });

  test('the suppression list: check, add (audited), lift (owners and admins only)', async () => {
    const support = await staffBrowser(t, 'support');
    await support.get('/admin/newsletter/suppressions');
    assert.match((await support.post('/admin/newsletter/suppressions/check', { email: 'x@nowhere.example' })).body, /is not suppressed/);
    assert.match((await support.post('/admin/newsletter/suppressions/add', { email: 'x@nowhere.example' })).body, /will never be mailed/);
    assert.match((await support.post('/admin/newsletter/suppressions/check', { email: 'X@Nowhere.example' })).body, /is suppressed \(added by staff\)/);
    assert.equal((await support.post('/admin/newsletter/suppressions/remove', { email: 'x@nowhere.example' })).statusCode, 403);
    assert.equal((await support.post('/admin/newsletter/suppressions/add', { email: 'not-an-address' })).statusCode, 400);
    const owner = await staffBrowser(t, 'owner');
    await owner.get('/admin/newsletter/suppressions');
    assert.match((await owner.post('/admin/newsletter/suppressions/remove', { email: 'x@nowhere.example' })).body, /may be mailed again/);
    assert.equal((await t.k.db.selectFrom('audit_log').select('id').where('action', 'like', 'newsletter.suppression_%').execute()).length, 2);
  });
});

describe('subject access, erasure and retention', () => {
  test('export holds everything for an address; erasure removes the subscriber, suppresses, keeps the consent record', async () => {
    const [email] = await seedSubscribers(t.k, 1, { prefix: 'erase' });
    const id = await idOf(email!);
    const token = unsubscribeToken(t.k.secrets, id, 'newsletter');
    await t.app.inject({ method: 'POST', url: `/u/${token}`, payload: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const data = await exportNewsletterData(t.k, email!);
    assert.equal(data.subscriber?.email, email);
    assert.deepEqual(data.lists.map((l) => [l.list, l.status]), [['newsletter', 'unsubscribed']]);
    assert.equal(data.consentRecords.length, 1);
    assert.equal(data.suppressed, null);

    const r = await eraseNewsletterData(t.k, email!, null);
    assert.deepEqual(r, { subscriberDeleted: true, suppressed: true, consentRecordsKept: 1 });
    assert.equal(await t.k.db.selectFrom('newsletter_subscribers').select('id').where('id', '=', id).executeTakeFirst(), undefined);
    assert.equal((await t.k.db.selectFrom('newsletter_subscriptions').select('list_id').where('subscriber_id', '=', id).execute()).length, 0);
    const after = await exportNewsletterData(t.k, email!);
    assert.equal(after.subscriber, null);
    assert.equal(after.suppressed, 'erasure');
    assert.equal(after.consentRecords.length, 1, 'kept under legal obligation');
    const page = await t.app.inject({ method: 'GET', url: `/u/${token}`, headers: { accept: 'text/html' } });
    assert.equal(page.statusCode, 200, 'old links still answer');
    const post = await t.app.inject({ method: 'POST', url: `/u/${token}`, payload: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(post.statusCode, 200);
    assert.equal(await enrolCustomerInAdvisories(t.k, email!), 'suppressed');
  });

  test('the daily job removes sign-ups not confirmed in time, and keeps confirmed ones', async () => {
    const b = new TestBrowser(t.app);
    const form = await b.get('/newsletter');
    const w = /name="w" value="([0-9a-f]{64})"/.exec(form.body)![1]!;
    await b.post('/newsletter', { email: 'late@never.example', w });
    const [kept] = await seedSubscribers(t.k, 1, { prefix: 'kept' });
    assert.deepEqual(await statusOf('late@never.example'), { newsletter: 'pending' });
    t.clock.advance(13 * DAY_MS);
    await t.k.jobs.drain();
    assert.deepEqual(await statusOf('late@never.example'), { newsletter: 'pending' }, 'not yet');
    t.clock.advance(2 * DAY_MS);
    await t.k.jobs.drain();
    assert.equal(await t.k.db.selectFrom('newsletter_subscribers').select('id').where('email', '=', 'late@never.example').executeTakeFirst(), undefined);
    assert.deepEqual(await statusOf(kept!), { newsletter: 'subscribed' });
  });
});
