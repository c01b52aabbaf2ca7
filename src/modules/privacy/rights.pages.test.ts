import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { TestBrowser, setCookies } from '../../kernel/testing/http.js';
import { customerBrowser, staffBrowser } from '../newsletter/testing.js';
import { runRetention, type RetentionRule } from './retention.js';
import { TESTIMONIAL_SCOPE } from './testimonials.js';
import { eraseSubject, processorErasers } from './subject-rights.js';
import { ANOTHER_RECIPIENT } from '../../kernel/privacy/kernel.subject-data.js';

let t: TestApp;
before(async () => { t = await testApp(); });
after(async () => { await t.close(); });

const ledger = (email: string) => t.k.db.selectFrom('newsletter_consent_events').selectAll().where('email', '=', email).where('list_id', '=', TESTIMONIAL_SCOPE).orderBy('at').orderBy('id').execute();

describe('My account → Your data', () => {
  test('the export is one JSON file of the customer\'s own data, and it is logged', async () => {
    const { b, id } = await customerBrowser(t, 'export.me@example.com');
    const pageRes = await b.get('/account/privacy');
    assert.equal(pageRes.statusCode, 200);
    assert.match(pageRes.body, /Export my data/);
    assert.match(pageRes.body, /Close my account/);
    // A staff notice that quotes the customer's address: hers to see, but not the staff member's address.
    await t.k.mail.send({ to: 'agent.smith@vendor.example', subject: '[#1] New ticket', text: 'From export.me@example.com: it crashed.', category: 'support-staff' });
    await t.k.mail.send({ to: 'export.me@example.com', subject: 'Your receipt', text: 'Thanks.', category: 'order' });
    const res = await b.post('/account/privacy/export', {});
    assert.equal(res.statusCode, 200);
    assert.doesNotMatch(res.body, /agent\.smith/);
    assert.match(String(res.headers['content-type']), /application\/json/);
    assert.match(String(res.headers['content-disposition']), /attachment; filename="personal-data-/);
    const archive = JSON.parse(res.body);
    assert.equal(archive.subject.email, 'export.me@example.com');
    const customers = archive.sections.find((s: { table: string }) => s.table === 'customers');
    assert.equal(customers.records[0].email, 'export.me@example.com');
    assert.ok(customers.fields.email.purposes.length > 0);
    assert.ok(customers.fields.email.retention.period);
    const mail = archive.sections.find((s: { table: string }) => s.table === 'mail_outbox').records as { to_addr: string; subject: string }[];
    assert.deepEqual(mail.filter((m) => /New ticket|receipt/.test(m.subject)).map((m) => [m.subject, m.to_addr]), [
      ['[#1] New ticket', ANOTHER_RECIPIENT],
      ['Your receipt', 'export.me@example.com'],
    ]);
    const audit = await t.k.db.selectFrom('audit_log').selectAll().where('action', '=', 'privacy.subject_access').where('actor_id', '=', id).execute();
    assert.equal(audit.length, 1);
  });

  test('the export needs a signed-in customer and a CSRF token', async () => {
    const anon = new TestBrowser(t.app);
    const res = await anon.post('/account/privacy/export', { _csrf: 'forged' });
    assert.ok([303, 403].includes(res.statusCode), String(res.statusCode));
    assert.doesNotMatch(res.body, /"sections"/);
    const { b } = await customerBrowser(t, 'csrf.me@example.com');
    await b.get('/account/privacy');
    const forged = await b.post('/account/privacy/export', { _csrf: null });
    assert.equal(forged.statusCode, 403);
  });

  test('a comment is shown only while the consent ledger records permission, and disappears when withdrawn', async () => {
    const { b } = await customerBrowser(t, 'happy.customer@example.com');
    await b.get('/account/privacy');
    const quote = 'Keyward made our licensing painless; support answered within the hour.';
    // Saved without permission: not shown.
    let res = await b.post('/account/privacy/testimonial', { display_name: 'Hana Happy', company: 'Happy Ltd', body: quote });
    assert.equal(res.statusCode, 200);
    assert.doesNotMatch((await new TestBrowser(t.app).get('/testimonials')).body, /painless/);
    assert.equal((await ledger('happy.customer@example.com')).length, 0);
    // Permission given: shown, with the wording recorded.
    res = await b.post('/account/privacy/testimonial', { display_name: 'Hana Happy', company: 'Happy Ltd', body: quote, publish: '1' });
    assert.match(res.body, /shown on our testimonials page/);
    let pub = (await new TestBrowser(t.app).get('/testimonials')).body;
    assert.match(pub, /painless/);
    assert.match(pub, /Hana Happy, Happy Ltd/);
    let events = await ledger('happy.customer@example.com');
    assert.deepEqual(events.map((e) => e.action), ['opt_in']);
    assert.match(events[0]!.wording, /show this comment/);
    // Withdrawn: gone at once, and the ledger says so.
    t.clock.advance(60_000);
    await b.get('/account/privacy');
    res = await b.post('/account/privacy/testimonial/withdraw', {});
    assert.match(res.body, /no longer shown/);
    pub = (await new TestBrowser(t.app).get('/testimonials')).body;
    assert.doesNotMatch(pub, /painless/);
    events = await ledger('happy.customer@example.com');
    assert.deepEqual(events.map((e) => e.action), ['opt_in', 'unsubscribe']);
    // A withdrawal in the same millisecond as a permission still wins.
    t.clock.advance(60_000);
    await b.get('/account/privacy');
    await b.post('/account/privacy/testimonial', { display_name: 'Hana Happy', company: 'Happy Ltd', body: quote, publish: '1' });
    assert.match((await new TestBrowser(t.app).get('/testimonials')).body, /painless/);
    await b.get('/account/privacy');
    await b.post('/account/privacy/testimonial/withdraw', {});
    assert.doesNotMatch((await new TestBrowser(t.app).get('/testimonials')).body, /painless/);
    assert.equal((await ledger('happy.customer@example.com')).length, 4);
    // Withdrawing twice writes nothing more.
    await b.get('/account/privacy');
    await b.post('/account/privacy/testimonial/withdraw', {});
    assert.equal((await ledger('happy.customer@example.com')).length, 4);
  });

  test('a testimonial that is too short is refused with a message, not a 500', async () => {
    const { b } = await customerBrowser(t, 'short.comment@example.com');
    await b.get('/account/privacy');
    const res = await b.post('/account/privacy/testimonial', { display_name: 'S', body: 'ok', publish: '1' });
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /10 to 2,000 characters/);
    const tooLong = await b.post('/account/privacy/testimonial', { display_name: 'S', body: 'x'.repeat(5000) });
    assert.equal(tooLong.statusCode, 400);
  });

  test('closing the account needs the box ticked; then the data is erased, cookies cleared and the session dead', async () => {
    const { b, id } = await customerBrowser(t, 'leaving@example.com');
    await b.get('/account/privacy');
    let res = await b.post('/account/privacy/close', { password: 'customer password 1' });
    assert.equal(res.statusCode, 400);
    res = await b.post('/account/privacy/close', { confirm: 'yes', password: 'not my password' });
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /not your current password/);
    res = await b.post('/account/privacy/close', { confirm: 'yes' });
    assert.equal(res.statusCode, 400);
    assert.ok(await t.k.db.selectFrom('customers').select('id').where('id', '=', id).executeTakeFirst());
    const session = [...b.cookies.entries()];
    res = await b.post('/account/privacy/close', { confirm: 'yes', password: 'customer password 1' });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /Your account has been closed/);
    assert.ok(setCookies(res).some((c) => /^kw_session=;/.test(c)), setCookies(res).join('\n'));
    assert.equal(await t.k.db.selectFrom('customers').select('id').where('id', '=', id).executeTakeFirst(), undefined);
    // The records of the erasure itself do not name the person again: a pseudonym, the IP cut to its network.
    const erasure = await t.k.db.selectFrom('audit_log').select(['actor_id', 'ip']).where('action', '=', 'privacy.erasure').orderBy('at', 'desc').executeTakeFirstOrThrow();
    assert.match(erasure.actor_id ?? '', /^erased:[0-9a-f]{16}$/);
    assert.ok(erasure.ip === null || erasure.ip.includes('/'), `erasure entry IP ${erasure.ip}`);
    assert.deepEqual(await t.k.db.selectFrom('audit_log').select('id').where((eb) => eb.or([eb('actor_id', '=', id), eb('target', '=', id)])).execute(), []);
    assert.deepEqual(await t.k.db.selectFrom('privacy_requests').select('id').where('requested_by_id', '=', id).execute(), []);
    // The old cookie no longer signs anyone in.
    const replay = new TestBrowser(t.app);
    for (const [name, v] of session) replay.cookies.set(name, v);
    const acc = await replay.get('/account');
    assert.equal(acc.statusCode, 303);
  });
});

describe('Admin → Privacy', () => {
  test('staff export and erase by email; the confirmation says what was kept; support staff are refused', async () => {
    const staff = await staffBrowser(t, 'admin');
    const { id } = await customerBrowser(t, 'erase.by.staff@example.com');
    const now = t.clock.now();
    await t.k.db.insertInto('invoices').values({
      id: 'inv-x', number: 990001, kind: 'invoice', order_id: 'o-x', customer_id: id, refund_id: null, credited_invoice_id: null, credited_invoice_number: null,
      credited_invoice_date: null, issue_date: now, tax_point: now, currency: 'GBP', seller_name: 'V', seller_address: 'A', seller_vat_number: 'GB1', seller_company_number: null,
      buyer_name: 'Cora Customer', buyer_company: null, buyer_address: '1 Road', buyer_country: 'GB', buyer_vat_number: null, buyer_email: 'erase.by.staff@example.com',
      order_reference: 'R-1', tax_treatment: 'standard', total_net: 100, total_tax: 20, total_gross: 120, rate_totals: '[]', gbp_rate_micros: 1_000_000,
      total_net_gbp: 100, total_tax_gbp: 20, created_at: now,
    } as never).execute();
    let res = await staff.get('/admin/privacy');
    assert.equal(res.statusCode, 200);
    res = await staff.post('/admin/privacy/export', { email: 'erase.by.staff@example.com' });
    assert.equal(res.statusCode, 200);
    assert.ok(JSON.parse(res.body).sections.some((s: { table: string }) => s.table === 'invoices'));
    await staff.get('/admin/privacy');
    res = await staff.post('/admin/privacy/export', { email: 'not-an-email' });
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /valid email/);
    await staff.get('/admin/privacy');
    res = await staff.post('/admin/privacy/erase', { email: 'erase.by.staff@example.com' });
    assert.equal(res.statusCode, 400, 'needs the confirmation box');
    await staff.get('/admin/privacy');
    res = await staff.post('/admin/privacy/erase', { email: 'erase.by.staff@example.com', confirm: 'yes' });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /invoice\(s\).*six years/);
    assert.match(res.body, /KashFlow/);
    const page = await staff.get('/admin/privacy');
    assert.match(page.body, /accounting \(manual\)/);
    const support = await staffBrowser(t, 'support');
    assert.equal((await support.get('/admin/privacy')).statusCode, 403);
  });

  test('the retention run applies every rule, reports each, and one failing rule does not stop the others', async () => {
    const boom: RetentionRule = { id: 'test.boom', description: 'fails on purpose', run: async () => { throw new TypeError('nope'); } };
    const ok: RetentionRule = { id: 'test.ok', description: 'works', run: async () => ({ things: 2 }) };
    const r = await runRetention(t.k, [boom, ok]);
    assert.equal(r.failures, 1);
    assert.deepEqual(r.report.map((x) => x.rule), ['test.boom', 'test.ok']);
    assert.deepEqual(r.report[1]!.result, { things: 2 });
    const full = await runRetention(t.k);
    assert.equal(full.failures, 0, JSON.stringify(full.report));
    assert.deepEqual(full.report.map((x) => x.rule), ['kernel.outbox_jobs_counters', 'accounts.sessions', 'orders.baskets', 'licensing.callhome_ips', 'licensing.self_releases', 'support.tickets', 'newsletter.subscribers', 'privacy.testimonials', 'privacy.requests']);
    const staff = await staffBrowser(t, 'owner');
    const res = await staff.get('/admin/privacy/retention');
    assert.match(res.body, /licensing\.callhome_ips/);
    assert.match(res.body, /failed: TypeError/);
  });

  test('"Run now" queues a run for the job worker; the page reloads until its report is there; a second click queues nothing', async () => {
    const staff = await staffBrowser(t, 'admin');
    const runs = async () => (await t.k.db.selectFrom('privacy_retention_runs').select('id').execute()).length;
    const before = await runs();
    await staff.get('/admin/privacy/retention');
    assert.equal((await staff.post('/admin/privacy/retention/run', {})).statusCode, 303);
    assert.equal(await runs(), before, 'nothing ran in the web request');
    const waiting = await staff.get('/admin/privacy/retention');
    assert.match(waiting.body, /A run is queued or running/);
    assert.equal(waiting.headers.refresh, '5');
    assert.doesNotMatch(waiting.body, /action="\/admin\/privacy\/retention\/run"/);
    await staff.get('/admin/privacy');
    assert.equal((await staff.post('/admin/privacy/retention/run', {})).statusCode, 303);
    assert.equal((await t.k.db.selectFrom('jobs').select('id').where('name', '=', 'privacy.retention.now').execute()).length, 1, 'one run queued');
    await t.k.jobs.drain();
    assert.equal((await t.k.db.selectFrom('jobs').select('status').where('name', '=', 'privacy.retention.now').executeTakeFirstOrThrow()).status, 'done');
    assert.ok(await runs() > before, 'its report is written');
    const done = await staff.get('/admin/privacy/retention');
    assert.equal(done.headers.refresh, undefined);
    assert.match(done.body, /Run now/);
  });
});

describe('telling processors about an erasure', () => {
  test('the job calls a connected processor with the address and marks the notice done; unconnected ones stay for staff', async () => {
    const email = 'tell.processors@example.com';
    const now = t.clock.now();
    await t.k.db.insertInto('newsletter_subscribers').values({ id: 'sub-tell', email, name: null, customer_id: null, created_at: now, updated_at: now, soft_bounces: 0, last_bounce_at: null }).execute();
    await t.k.db.insertInto('support_users').values({ id: 'su-tell', email, name: 'Tess', created_at: now, last_seen_at: now }).execute();
    const told: string[] = [];
    processorErasers.set('mailing', async (_id, address) => { told.push(address); });
    try {
      const r = await eraseSubject(t.k, email, { kind: 'staff', id: 'staff-x' });
      assert.deepEqual(r.processors.map((p) => p.id).sort(), ['helpdesk', 'mailing']);
      await t.k.jobs.drain();
      // (Earlier tests' erasures were waiting for a mailing connection too.)
      assert.deepEqual(told.filter((x) => x === email), [email]);
      const before = told.length;
      const notices = await t.k.db.selectFrom('privacy_processor_notices').select(['processor_id', 'status']).where('request_id', '=', r.requestId).orderBy('processor_id').execute();
      assert.deepEqual(notices, [{ processor_id: 'helpdesk', status: 'to_do' }, { processor_id: 'mailing', status: 'done' }]);
      // The same job run again (a retry after a crash) tells no one twice.
      const job = await t.k.db.selectFrom('jobs').select('payload').where('name', '=', 'privacy.processor-erasure').where('idempotency_key', '=', `privacy-erasure:${r.requestId}:mailing`).executeTakeFirstOrThrow();
      await t.k.jobs.enqueue('privacy.processor-erasure', JSON.parse(job.payload));
      await t.k.jobs.drain();
      assert.equal(told.length, before);
    } finally {
      processorErasers.delete('mailing');
    }
  });
});
