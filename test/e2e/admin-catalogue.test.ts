// Admin → Catalogue in a browser: the plans table has one row per plan with each field under its
// heading, which a form cannot do (a form may not span table cells): the fields name their row's form
// with the `form` attribute. This journey proves a browser submits them that way, row by row.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadDemoCatalogue } from '../../src/modules/catalog/demo.js';
import { startJourney, skipWithoutChromium, type Journey, staffSignIn } from './harness.js';

let j: Journey;
const PASSWORD = 'correct horse battery 9';

before(async () => {
  if (skipWithoutChromium) return;
  j = await startJourney();
  await j.t.modules.accounts.staff.createStaff({ email: 'owner@vendor.example', name: 'Owner Staff', role: 'owner', password: PASSWORD }, null);
  await loadDemoCatalogue(j.t.k.db, j.t.k.clock.now());
});
after(async () => { if (j) await j.close(); });

async function prices(sku: string): Promise<Record<string, number>> {
  const rows = await j.t.k.db.selectFrom('catalog_prices').innerJoin('catalog_plans', 'catalog_plans.id', 'catalog_prices.plan_id')
    .select(['catalog_prices.currency', 'catalog_prices.amount']).where('catalog_plans.sku', '=', sku).execute();
  return Object.fromEntries(rows.map((r) => [r.currency, Number(r.amount)]));
}

test('staff change one plan\'s price and name in the plans table; the other rows stay as they were (screenshot)', { skip: skipWithoutChromium }, async () => {
  const ctx = await j.newContext({ viewport: { width: 1280, height: 900 } } as never);
  const page = await ctx.newPage();
  await staffSignIn(page, 'owner@vendor.example', PASSWORD);
  await page.goto('/admin/catalog');
  await page.getByRole('link', { name: 'Keyward Demo Mail Server' }).click();
  await page.screenshot({ path: path.join(j.screenshotDir, 'admin-catalogue-plans.png') });

  const before10 = await prices('ms-10');
  await page.getByLabel('GBP price of ms-5', { exact: true }).fill('289.00');
  await page.getByLabel('Name of ms-5', { exact: true }).fill('Mail Server, 5 users');
  await page.getByLabel('GBP price of ms-10', { exact: true }).fill('1.00'); // typed, never saved
  await page.locator('tr', { has: page.getByLabel('Name of ms-5', { exact: true }) }).getByRole('button', { name: 'Save' }).click();
  await page.getByText('Plan saved.').waitFor();

  assert.equal((await prices('ms-5')).GBP, 28900);
  const plan = await j.t.k.db.selectFrom('catalog_plans').select(['name', 'active']).where('sku', '=', 'ms-5').executeTakeFirstOrThrow();
  assert.deepEqual(plan, { name: 'Mail Server, 5 users', active: 1 }, 'the row\'s checkbox went with it: still on sale');
  assert.deepEqual(await prices('ms-10'), before10, 'another row\'s fields are not part of this form');
  assert.equal(await page.getByLabel('GBP price of ms-5', { exact: true }).inputValue(), '289.00');
  await ctx.close();
});
