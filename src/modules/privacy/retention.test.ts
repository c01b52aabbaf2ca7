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
