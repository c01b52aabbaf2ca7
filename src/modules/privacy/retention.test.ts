import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { DAY_MS } from '../../kernel/clock.js';
import { runRetention } from './retention.js';
import { plantEverywhere } from './testing.js';
import { buildRegistry } from './registry.js';

/** The daily retention run, on real data: what each rule removes, what it leaves, and the report it writes. */
let t: TestApp;
before(async () => { t = await testApp(); });
after(async () => { await t.close(); });

test('one run truncates old call-home IPs, drops expired sessions, stale baskets and unconfirmed sign-ups, and reports the counts', async () => {
  const reg = buildRegistry();
  await plantEverywhere(t.k, reg, { email: 'old.data@example.com', customerId: 'cust-old', licenceId: 'lic-old', key: 'o' }, t.k.dbh.schema);
  const now = t.clock.now();
  const old = now - 40 * DAY_MS;
  // Make the planted rows old or expired where a rule applies.
  await t.k.db.updateTable('machines').set({ last_seen: old, last_ip: '198.51.100.77' }).execute();
  await t.k.db.updateTable('sessions').set({ expires_at: now - 1 }).execute();
  await t.k.db.updateTable('baskets').set({ updated_at: old }).execute();
  await t.k.db.updateTable('newsletter_subscriptions').set({ status: 'pending', updated_at: old }).execute();
  // And a fresh machine and session that must survive.
  await t.k.db.insertInto('sessions').values({ id_hash: 'fresh', subject_kind: 'customer', subject_id: 'cust-old', created_at: now, last_seen_at: now, expires_at: now + DAY_MS }).execute();

  const r = await runRetention(t.k);
  assert.equal(r.failures, 0, JSON.stringify(r.report));
  const by = Object.fromEntries(r.report.map((x) => [x.rule, x.result ?? {}]));
  assert.equal(by['licensing.callhome_ips']!.truncated, 1);
  assert.equal(by['accounts.sessions']!.sessions, 1);
  assert.equal(by['orders.baskets']!.baskets, 1);
  assert.equal(by['newsletter.subscribers']!.unconfirmedSignups, 1);
  // The planted self-release is far older than the month it counts towards.
  assert.equal(by['licensing.self_releases']!.selfReleases, 1);
  assert.equal((await t.k.db.selectFrom('licence_self_releases').select('id').execute()).length, 0);

  const m = await t.k.db.selectFrom('machines').select('last_ip').executeTakeFirstOrThrow();
  assert.equal(m.last_ip, '198.51.100.0/24');
  assert.deepEqual((await t.k.db.selectFrom('sessions').select('id_hash').execute()).map((s) => s.id_hash), ['fresh']);
  assert.equal((await t.k.db.selectFrom('baskets').select('id').execute()).length, 0);
  assert.equal((await t.k.db.selectFrom('newsletter_subscriptions').select('list_id').execute()).length, 0);

  // The report row is stored and a second run finds nothing more to do.
  const rows = await t.k.db.selectFrom('privacy_retention_runs').selectAll().execute();
  assert.equal(rows.length, 1);
  assert.deepEqual(JSON.parse(rows[0]!.report).map((x: { rule: string }) => x.rule), r.report.map((x) => x.rule));
  const again = await runRetention(t.k);
  const by2 = Object.fromEntries(again.report.map((x) => [x.rule, x.result ?? {}]));
  assert.equal(by2['licensing.callhome_ips']!.truncated, 0);
  assert.equal(by2['accounts.sessions']!.sessions, 0);
});

test('the job is scheduled daily', async () => {
  await t.k.jobs.drain();
  const s = await t.k.db.selectFrom('job_schedules').selectAll().where('name', '=', 'privacy.retention').executeTakeFirst();
  assert.ok(s, 'privacy.retention has a schedule');
  assert.equal(Number(s.interval_ms), DAY_MS);
});

test('the one- and six-year rules: security-log addresses and entries, mailings sent, suppressions, consent records, request records', async () => {
  const now = t.clock.now();
  const ago = (years: number, extraDays = 0) => new Date(now).setUTCFullYear(new Date(now).getUTCFullYear() - years) - extraDays * DAY_MS;
  const audit = (id: string, at: number, ip: string | null) => ({ id, at, actor_kind: 'customer', actor_id: 'c-1', action: 'accounts.login', target: null, detail: '{}', ip });
  await t.k.db.insertInto('audit_log').values([
    audit('a-fresh', now - DAY_MS, '203.0.113.9'), audit('a-2y', ago(2), '203.0.113.10'), audit('a-2y-v6', ago(2), '2001:db8:1:2::5'),
    audit('a-7y', ago(7), '203.0.113.11'), audit('a-11m', ago(0, 330), '203.0.113.12'),
  ]).execute();
  await t.k.db.insertInto('newsletter_campaigns').values({
    id: 'camp-1', list_id: 'newsletter', subject: 'News', intro_md: '', status: 'finished', created_by: null, created_at: ago(2), updated_at: ago(2),
    started_at: ago(2), finished_at: ago(2), batch_seq: 0, total: 2, body_html: null, body_text: null,
  } as never).execute();
  const send = (key: string, at: number) => ({ idempotency_key: key, campaign_id: 'camp-1', subscriber_id: null, status: 'sent', skip_reason: null, outbox_id: null, bounce: null, created_at: at, updated_at: at });
  await t.k.db.insertInto('newsletter_campaign_sends').values([send('s-2y', ago(2)), send('s-fresh', now - DAY_MS)] as never).execute();
  await t.k.db.insertInto('newsletter_suppressions').values([
    { email_hash: 'h-7y', reason: 'hard_bounce', created_at: ago(7), created_by: null }, { email_hash: 'h-5y', reason: 'complaint', created_at: ago(5), created_by: null },
  ]).execute();
  const consent = (id: string, email: string, action: string, at: number) => ({
    id, at, subscriber_id: null, email, list_id: 'newsletter', action, ip: null, user_agent: null, source: 'form', source_url: null,
    method: 'double_opt_in', wording: 'Send me the newsletter', wording_sha256: 'x', notice_version: '1', actor_staff_id: null, note: null,
  });
  await t.k.db.insertInto('newsletter_consent_events').values([
    consent('c1', 'gone@example.com', 'subscribe', ago(9)), consent('c2', 'gone@example.com', 'confirm', ago(9)), consent('c3', 'gone@example.com', 'unsubscribe', ago(7)),
    consent('c4', 'still@example.com', 'confirm', ago(8)),
    consent('c5', 'back@example.com', 'unsubscribe', ago(8)), consent('c6', 'back@example.com', 'subscribe', ago(0, 10)),
    consent('c7', 'recent@example.com', 'subscribe', ago(6, -30)), consent('c8', 'recent@example.com', 'unsubscribe', ago(5)),
  ] as never).execute();
  const request = (id: string, at: number) => ({ id, kind: 'erasure' as const, subject_hash: `sh-${id}`, requested_by_kind: 'customer' as const, requested_by_id: null, summary: '{}', created_at: at });
  await t.k.db.insertInto('privacy_requests').values([request('r-7y', ago(7)), request('r-1y', ago(1))]).execute();
  await t.k.db.insertInto('privacy_processor_notices').values([
    { id: 'n-7y', request_id: 'r-7y', processor_id: 'accounting', method: 'manual', status: 'done', created_at: ago(7), done_at: ago(7) },
    { id: 'n-1y', request_id: 'r-1y', processor_id: 'accounting', method: 'manual', status: 'done', created_at: ago(1), done_at: ago(1) },
  ]).execute();
  await t.k.db.insertInto('privacy_erasure_journal').values([
    { subject_hash: 'j-7y', erased_at: ago(7), reapplied_at: null }, { subject_hash: 'j-7y-reapplied', erased_at: ago(7), reapplied_at: ago(2) },
    { subject_hash: 'j-2y', erased_at: ago(2), reapplied_at: null },
  ]).execute();

  const r = await runRetention(t.k);
  assert.equal(r.failures, 0, JSON.stringify(r.report));
  const by = Object.fromEntries(r.report.map((x) => [x.rule, x.result ?? {}]));

  const auditRows = Object.fromEntries((await t.k.db.selectFrom('audit_log').select(['id', 'ip']).where('id', 'like', 'a-%').execute()).map((a) => [a.id, a.ip]));
  assert.deepEqual(auditRows, { 'a-fresh': '203.0.113.9', 'a-2y': '203.0.113.0/24', 'a-2y-v6': '2001:db8:1::/48', 'a-11m': '203.0.113.12' });
  assert.equal(by['kernel.outbox_jobs_counters']!.auditIps, 2);
  assert.equal(by['kernel.outbox_jobs_counters']!.auditEntries, 1);
  assert.deepEqual((await t.k.db.selectFrom('newsletter_campaign_sends').select('idempotency_key').execute()).map((x) => x.idempotency_key), ['s-fresh']);
  assert.deepEqual((await t.k.db.selectFrom('newsletter_suppressions').select('email_hash').where('email_hash', 'like', 'h-%').execute()).map((x) => x.email_hash), ['h-5y']);
  // Only a history whose newest record withdrew consent more than six years ago goes, and all of it.
  assert.deepEqual((await t.k.db.selectFrom('newsletter_consent_events').select('id').where('id', 'in', ['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8']).orderBy('id').execute()).map((x) => x.id),
    ['c4', 'c5', 'c6', 'c7', 'c8']);
  assert.equal(by['newsletter.subscribers']!.consentRecords, 3);
  assert.deepEqual((await t.k.db.selectFrom('privacy_requests').select('id').where('id', 'in', ['r-7y', 'r-1y']).execute()).map((x) => x.id), ['r-1y']);
  assert.deepEqual((await t.k.db.selectFrom('privacy_processor_notices').select('id').where('id', 'in', ['n-7y', 'n-1y']).execute()).map((x) => x.id), ['n-1y']);
  assert.deepEqual((await t.k.db.selectFrom('privacy_erasure_journal').select('subject_hash').where('subject_hash', 'like', 'j-%').orderBy('subject_hash').execute()).map((x) => x.subject_hash),
    ['j-2y', 'j-7y-reapplied']);

  const again = await runRetention(t.k);
  const by2 = Object.fromEntries(again.report.map((x) => [x.rule, x.result ?? {}]));
  assert.deepEqual([by2['kernel.outbox_jobs_counters']!.auditIps, by2['newsletter.subscribers']!.consentRecords, by2['privacy.requests']!.requests], [0, 0, 0]);
});
