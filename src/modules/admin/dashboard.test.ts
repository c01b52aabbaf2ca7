import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { DAY_MS, ManualClock } from '../../kernel/clock.js';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { TEST_DIALECT } from '../../kernel/testing/db.js';
import { TestBrowser } from '../../kernel/testing/http.js';
import { DashboardService } from './dashboard.service.js';
import { buildCallhomeDay, buildInvoice, buildLicence, buildMachine, buildProduct } from './testing.js';

const NOW = Date.UTC(2026, 10, 25, 14, 0, 0);
const TODAY = Date.UTC(2026, 10, 25);
let t: TestApp;
let dash: DashboardService;
let a: string;
let b: string;

async function staff(role: string): Promise<TestBrowser> {
  const email = `${role}@vendor.example`;
  await t.modules.accounts.staff.createStaff({ email, name: role, role, password: 'correct horse battery 9' }, null);
  const br = new TestBrowser(t.app);
  await br.get('/admin/login');
  assert.equal((await br.post('/admin/login', { email, password: 'correct horse battery 9' })).statusCode, 303);
  return br;
}

before(async () => {
  t = await testApp({ clock: new ManualClock(NOW) });
  dash = new DashboardService(t.k, t.modules.licensing.abuse);
  const p = await buildProduct(t.k);
  a = (await buildLicence(t.k, p, { maxUsers: 10, maxMachines: 1, maintenanceUntil: NOW + 10 * DAY_MS })).id;
  b = (await buildLicence(t.k, p, { maxUsers: 10, maxMachines: 1, maintenanceUntil: NOW + 3 * DAY_MS })).id;
  await buildLicence(t.k, p, { status: 'suspended', maintenanceUntil: NOW + 3 * DAY_MS });
  await buildLicence(t.k, p, { maintenanceUntil: NOW + 200 * DAY_MS });
  const addon = 'ad' + a.slice(0, 6);
  await t.k.db.insertInto('addons').values({ id: addon, product_id: p, code: 'spam', name: 'Spam', created_at: NOW }).execute();
  await t.k.db.insertInto('licence_addons').values({ licence_id: a, addon_id: addon, until: NOW + 20 * DAY_MS }).execute();

  const d3 = TODAY - 3 * DAY_MS;
  await buildCallhomeDay(t.k, d3, a, '1.0.0', 5, 3);
  await buildCallhomeDay(t.k, d3, b, '2.0.0', 2, 12);
  await buildCallhomeDay(t.k, d3, b, '1.0.0', 1, 4);
  await buildCallhomeDay(t.k, d3, '', '1.0.0', 7, null);
  await buildCallhomeDay(t.k, TODAY, a, '2.0.0', 1, 2);
  await buildCallhomeDay(t.k, TODAY - 400 * DAY_MS, a, '0.9.0', 99, 1);

  for (let i = 0; i < 3; i++) await buildMachine(t.k, b, `${i}`.repeat(64), NOW - i * DAY_MS);
  await buildMachine(t.k, a, 'a'.repeat(64), NOW - DAY_MS);

  await buildInvoice(t.k, { number: 1, currency: 'GBP', gross: 12000, issuedAt: Date.UTC(2026, 10, 3) });
  await buildInvoice(t.k, { number: 2, currency: 'GBP', gross: 2000, issuedAt: Date.UTC(2026, 10, 20), kind: 'credit_note' });
  await buildInvoice(t.k, { number: 3, currency: 'EUR', gross: 5000, issuedAt: Date.UTC(2026, 9, 31, 23, 59) });
  await buildInvoice(t.k, { number: 4, currency: 'USD', gross: 999, issuedAt: Date.UTC(2025, 9, 1) });
});
after(async () => { await t.close(); });

describe('dashboard numbers', () => {
  test('per-day totals: calls (unknown keys included), installations per version, users in use against licensed users', async () => {
    const d = await dash.data();
    assert.equal(d.days.length, 90);
    assert.equal(d.days.at(-1)!.day, TODAY);
    const d3 = d.days.find((x) => x.day === TODAY - 3 * DAY_MS)!;
    assert.equal(d3.calls, 15);
    assert.deepEqual(Object.fromEntries(d3.installs), { '1.0.0': 2, '2.0.0': 1 });
    assert.equal(d3.usersInUse, 3 + 12, 'a licence counts its highest report of the day once');
    assert.equal(d3.usersLicensed, 20);
    const today = d.days.at(-1)!;
    assert.equal(today.calls, 1, 'today is read live');
    assert.equal(d.days.filter((x) => x.calls > 0).length, 2, 'nothing older than the window, nothing invented');
    assert.deepEqual(d.versions, ['2.0.0']);
  });

  test('completed days are stored once and not recomputed; today never is', async () => {
    assert.equal(await dash.rollUp(), 0, 'the earlier read built every day already');
    const stored = await t.k.db.selectFrom('admin_daily').select(['day', 'metric', 'key', 'value']).where('day', '=', TODAY - 3 * DAY_MS).where('metric', '=', 'calls').execute();
    assert.equal(Number(stored[0]!.value), 15);
    assert.equal((await t.k.db.selectFrom('admin_daily').select('day').where('day', '>=', TODAY).execute()).length, 0);
    assert.equal((await t.k.db.selectFrom('admin_daily').select('day').where('day', '>', 0).where('day', '<', TODAY - 366 * DAY_MS).execute()).length, 0, 'history stops at a year (day 0 holds the shared-licence list)');
  });

  test('renewals: active licences\' maintenance ends and add-on ends, per week, next 90 days only', async () => {
    const r = await dash.renewals(NOW);
    assert.equal(r.length, 13);
    assert.equal(r[0]!.maintenance, 1, 'licence b; the suspended one is not counted');
    assert.equal(r[1]!.maintenance, 1);
    assert.equal(r[2]!.addons, 1);
    assert.equal(r.reduce((s, w) => s + w.maintenance + w.addons, 0), 3);
  });

  test('revenue per month by currency, credit notes subtracted, last 12 months only', async () => {
    const { revenue, currencies } = await dash.revenue(NOW);
    assert.deepEqual(currencies, ['EUR', 'GBP']);
    assert.deepEqual(revenue.at(-1), { month: '2026-11', byCurrency: { GBP: 10000 } });
    assert.deepEqual(revenue.at(-2), { month: '2026-10', byCurrency: { EUR: 5000 } });
    assert.equal(revenue[0]!.month, '2025-12');
  });

  test('licences that look shared: the list is stored by the job, a render refreshes only the listed licences', async () => {
    const s = await dash.sharedLicences(NOW, true);
    assert.deepEqual(s.rows.map((r) => r.licenceId), [b]);
    assert.equal(s.total, 1);
    assert.equal(s.asOf, NOW);
    // A second computer for licence a: not in the stored list until the job runs again.
    await buildMachine(t.k, a, 'b'.repeat(64), NOW - DAY_MS);
    assert.deepEqual((await dash.sharedLicences(NOW)).rows.map((r) => r.licenceId), [b]);
    const again = await dash.sharedLicences(NOW, true);
    assert.deepEqual(new Set(again.rows.map((r) => r.licenceId)), new Set([a, b]));
    assert.equal(again.total, 2);
    // A listed licence that no longer looks shared drops out at once.
    await t.k.db.updateTable('licences').set({ max_machines: 5 }).where('id', '=', a).execute();
    assert.deepEqual((await dash.sharedLicences(NOW)).rows.map((r) => r.licenceId), [b]);
    await t.k.db.updateTable('licences').set({ max_machines: 1 }).where('id', '=', a).execute();
    await t.k.db.deleteFrom('machines').where('licence_id', '=', a).where('computer_id', '=', 'b'.repeat(64)).execute();
    await dash.sharedLicences(NOW, true);
  });

  test('the page: SVG charts drawn on the server with their numbers in tables; revenue only for roles that see billing', async () => {
    const owner = await staff('owner');
    const res = await owner.get('/admin');
    assert.equal(res.statusCode, 200);
    assert.equal((res.body.match(/<svg /g) ?? []).length, 6);
    assert.equal((res.body.match(/<figure class="chart"/g) ?? []).length, 6);
    assert.match(res.body, /<td>2026-11<\/td><td class="num">0\.00<\/td><td class="num">100\.00<\/td>/, 'GBP 100.00 in November');
    assert.match(res.body, new RegExp(`href="/admin/licences/${b}"`));
    assert.doesNotMatch(res.body, /<script/);
    const support = await staff('support');
    const s = await support.get('/admin');
    assert.equal(s.statusCode, 200);
    assert.doesNotMatch(s.body, /Revenue/);
    assert.equal((s.body.match(/<svg /g) ?? []).length, 5);
  });

  test('a render builds only a few missing days itself and says the rest is coming; the job builds them', async () => {
    await buildCallhomeDay(t.k, TODAY - 60 * DAY_MS, a, '1.0.0', 4, 2);
    await t.k.db.deleteFrom('admin_daily').where('day', '>', 0).execute();
    const d = await dash.data();
    assert.equal(d.pendingDays, 60 - 3, 'yesterday and the two days before are built, the rest waits');
    assert.equal(d.days.find((x) => x.day === TODAY - 60 * DAY_MS)!.calls, 0);
    assert.equal(await dash.rollUp(), 60 - 3);
    const after = await dash.data();
    assert.equal(after.pendingDays, 0);
    assert.equal(after.days.find((x) => x.day === TODAY - 60 * DAY_MS)!.calls, 4);
    const owner = new TestBrowser(t.app);
    await owner.get('/admin/login');
    await owner.post('/admin/login', { email: 'owner@vendor.example', password: 'correct horse battery 9' });
    await t.k.db.deleteFrom('admin_daily').where('day', '>', 0).execute();
    assert.match((await owner.get('/admin')).body, /57 earlier day\(s\) are still being summarised/);
  });

  test('the aggregates are index range scans, not table scans (SQLite query plans)', { skip: TEST_DIALECT !== 'sqlite' && 'query plans are checked on SQLite' }, async () => {
    const plan = async (q: string) => (await sql.raw<{ detail: string }>(`explain query plan ${q}`).execute(t.k.db)).rows.map((r) => r.detail).join(' | ');
    assert.match(await plan(`select version, sum(calls) from callhome_daily where day = ${TODAY} group by version`), /USING (COVERING )?INDEX|PRIMARY KEY/);
    assert.match(await plan(`select count(*) from licences where maintenance_until >= 1 and maintenance_until < 2`), /admin_licences_maintenance/);
    assert.match(await plan(`select count(*) from licence_addons where until >= 1 and until < 2`), /admin_licence_addons_until/);
    assert.match(await plan(`select currency, sum(total_gross) from invoices where issue_date >= 1 and issue_date < 2 group by currency`), /admin_invoices_issue_date/);
    assert.match(await plan(`select * from admin_daily where day >= 1 and day < 2`), /PRIMARY KEY|INDEX/);
  });
});
