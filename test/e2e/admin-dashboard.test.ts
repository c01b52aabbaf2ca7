import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { DAY_MS } from '../../src/kernel/clock.js';
import { newId } from '../../src/kernel/crypto/tokens.js';
import { buildCallhomeDay, buildInvoice, buildLicence, buildMachine, buildProduct } from '../../src/modules/admin/testing.js';
import { startJourney, skipWithoutChromium, type Journey, staffSignIn } from './harness.js';

let j: Journey;
const PASSWORD = 'correct horse battery 9';

/** A small vendor's last quarter: three versions being adopted, a few shared keys, sales in three currencies. */
async function seed(j: Journey): Promise<void> {
  const k = j.t.k;
  const now = k.clock.now();
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  const product = await buildProduct(k, 'mailserver');
  const licences: string[] = [];
  for (let i = 0; i < 120; i++) {
    licences.push((await buildLicence(k, product, { keyHash: (key) => j.t.modules.licensing.callhome.keyHash(key), maxUsers: [10, 25, 50, 100][i % 4]!, maxMachines: 1, maintenanceUntil: now + ((i * i * 37) % 150) * DAY_MS })).id);
  }
  const addon = newId();
  await k.db.insertInto('addons').values({ id: addon, product_id: product, code: 'spamfilter', name: 'Spam filter', created_at: now }).execute();
  for (const [i, id] of licences.entries()) {
    if (i % 3 === 0) await k.db.insertInto('licence_addons').values({ licence_id: id, addon_id: addon, until: now + ((i * 53) % 150) * DAY_MS }).execute();
  }
  const rows: { day: number; licence_id: string; version: string; calls: number; max_users_in_use: number | null }[] = [];
  for (let d = 89; d >= 0; d--) {
    const day = today - d * DAY_MS;
    licences.forEach((id, i) => {
      if ((i + d) % 5 === 0) return; // not every installation calls every day
      const adopt86 = Math.max(0, Math.min(1, (60 - d) / 50));
      const adopt85 = Math.max(0, Math.min(1, (100 - d) / 40));
      const r = ((i * 7919) % 100) / 100;
      const version = r < adopt86 * 0.7 ? '8.6.0' : r < adopt85 * 0.9 ? '8.5.0' : '8.4.2';
      const max = [10, 25, 50, 100][i % 4]!;
      rows.push({ day, licence_id: id, version, calls: 1 + ((i + d) % 3), max_users_in_use: Math.round(max * (0.5 + ((i * 13 + d) % 40) / 100)) });
    });
    rows.push({ day, licence_id: '', version: '8.5.0', calls: 3 + (d % 4), max_users_in_use: null });
  }
  for (let i = 0; i < rows.length; i += 500) await k.db.insertInto('callhome_daily').values(rows.slice(i, i + 500)).execute();
  await buildCallhomeDay(k, today, licences[0]!, '8.6.1', 1, 3);
  for (const [n, id] of licences.slice(0, 4).entries()) {
    for (let m = 0; m < 2 + n; m++) await buildMachine(k, id, newId().padEnd(64, '0').toLowerCase().replace(/[^0-9a-f]/g, 'a').slice(0, 64), now - m * DAY_MS);
  }
  let number = 1000;
  for (let m = 11; m >= 0; m--) {
    const at = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth() - m, 5);
    for (const [currency, base] of [['GBP', 420000], ['EUR', 260000], ['USD', 150000]] as const) {
      await buildInvoice(k, { number: number++, currency, gross: Math.round(base * (0.7 + ((m * 17) % 9) / 10)), issuedAt: at });
    }
  }
}


before(async () => {
  if (skipWithoutChromium) return;
  j = await startJourney();
  for (const role of ['owner', 'support']) {
    await j.t.modules.accounts.staff.createStaff({ email: `${role}@vendor.example`, name: `${role[0]!.toUpperCase()}${role.slice(1)} Staff`, role, password: PASSWORD }, null);
  }
  await seed(j);
});
after(async () => { if (j) await j.close(); });

test('the owner sees the dashboard (screenshots at desktop and phone widths) and rotates the signing key', { skip: skipWithoutChromium }, async () => {
  const ctx = await j.newContext({ viewport: { width: 1280, height: 900 } } as never);
  const page = await ctx.newPage();
  await staffSignIn(page, 'owner@vendor.example', PASSWORD);
  assert.equal(await page.locator('figure.chart svg').count(), 6);
  assert.equal(await page.locator('figure.chart table').count(), 6, 'every chart has its numbers beside it');
  await page.screenshot({ path: path.join(j.screenshotDir, 'admin-dashboard.png'), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: path.join(j.screenshotDir, 'admin-dashboard-phone.png'), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });

  const before = (await (await fetch(`${j.baseUrl}/api/v1/keys`)).json()) as { keys: { kid: string; status: string }[] };
  assert.deepEqual(before.keys.map((k) => k.status), ['active']);
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('heading', { name: 'Signing keys' }).waitFor();
  await page.getByRole('button', { name: 'Rotate the signing key' }).click();
  await page.getByText('Tick the box to confirm').first().waitFor();
  await page.getByLabel(/I understand/).check();
  await page.getByRole('button', { name: 'Rotate the signing key' }).click();
  await page.getByText(/New active signing key: k/).waitFor();
  await page.locator('#keys').screenshot({ path: path.join(j.screenshotDir, 'admin-signing-keys.png') });
  const after = (await (await fetch(`${j.baseUrl}/api/v1/keys`)).json()) as { keys: { kid: string; status: string }[] };
  assert.equal(after.keys.length, 2);
  assert.equal(after.keys.find((k) => k.kid === before.keys[0]!.kid)!.status, 'retired');
  assert.equal(after.keys.filter((k) => k.status === 'active').length, 1);
  await ctx.close();
});

test('a support user sees no Settings link, is refused the settings page, finds a licence and releases a machine', { skip: skipWithoutChromium }, async () => {
  const ctx = await j.newContext({ viewport: { width: 1280, height: 900 } } as never);
  const page = await ctx.newPage();
  await staffSignIn(page, 'support@vendor.example', PASSWORD);
  assert.equal(await page.getByRole('link', { name: 'Settings' }).count(), 0);
  assert.equal(await page.getByRole('link', { name: 'Tickets' }).count(), 1);
  const res = await page.goto('/admin/settings');
  assert.equal(res!.status(), 403);
  await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
  assert.equal(await page.getByRole('heading', { name: 'Signing keys' }).count(), 0);
  await page.screenshot({ path: path.join(j.screenshotDir, 'admin-support-refused.png'), fullPage: true });

  // The search box on every admin page finds a shared licence by its id; support opens it and releases a machine.
  const shared = await j.t.k.db.selectFrom('machines').select('licence_id').groupBy('licence_id').having((eb) => eb.fn.countAll(), '>', 3).executeTakeFirstOrThrow();
  await page.getByLabel(/Search customers, orders/).fill(shared.licence_id.slice(0, 8));
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.getByRole('link', { name: new RegExp(shared.licence_id.slice(0, 8)) }).first().click();
  await page.getByRole('heading', { name: /^Licence / }).waitFor();
  assert.match(await page.content(), /Looks shared/);
  const before = await page.getByRole('button', { name: 'Release' }).count();
  await page.getByRole('button', { name: 'Release' }).first().click();
  await page.getByText('Machine released').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Release' }).count(), before - 1);
  // The offline licence file form: a mistyped computer ID is answered on the page, at the field.
  await page.getByLabel('Computer ID').fill('12345-not-an-id');
  await page.getByRole('button', { name: 'Download licence file' }).click();
  await page.getByText(/A computer ID is 64 characters/).waitFor();
  assert.equal(await page.getByLabel('Computer ID').inputValue(), '12345-not-an-id');
  await page.screenshot({ path: path.join(j.screenshotDir, 'admin-licence.png'), fullPage: true });
  await ctx.close();
});
