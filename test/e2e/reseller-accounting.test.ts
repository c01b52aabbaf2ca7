import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startJourney, skipWithoutChromium, type Journey, staffSignIn } from './harness.js';
import { loadDemoCatalogue } from '../../src/modules/catalog/index.js';
import { SELLER_SETTING } from '../../src/modules/billing/billing.settings.js';
import { hashPassword } from '../../src/modules/accounts/passwords.js';
import { newId } from '../../src/kernel/crypto/tokens.js';

let j: Journey;
before(async () => {
  if (skipWithoutChromium) return;
  j = await startJourney();
  await loadDemoCatalogue(j.t.k.db, j.t.clock.now());
  await j.t.k.settings.set(SELLER_SETTING, { name: 'Your Software Ltd', address: '1 High Street, Huddersfield, HD1 1AA, United Kingdom', vatNumber: 'GB123456789', companyNumber: '01234567' });
  await j.t.modules.accounts.staff.createStaff({ email: 'owner@vendor.example', name: 'Olive Owner', role: 'owner', password: 'counter staff pass 9' }, null);
  const now = j.t.clock.now();
  await j.t.k.db.insertInto('customers').values({
    id: newId(), email: 'rex@alpha.example', name: 'Rex Seller', company: 'Alpha Licensing Ltd', phone: '+44 1904 000000', address_line1: '1 Trade Street', address_line2: null,
    city: 'York', region: null, postcode: 'YO1 1AA', country: 'GB', vat_number: null, password_hash: await hashPassword('reseller pass 12'), email_verified_at: now,
    created_at: now, updated_at: now, last_login_at: null, closed_at: null,
  }).execute();
});
after(async () => { if (j) await j.close(); });

const shot = (p: import('playwright-core').Page, name: string) => p.screenshot({ path: path.join(j.screenshotDir, `${name}.png`), fullPage: true });

test('staff make a reseller → it orders on net 30 for an end customer → asks to be listed → staff download the Xero file', { skip: skipWithoutChromium }, async () => {
  const staff = await j.newContext();
  const sp = await staff.newPage();
  await staffSignIn(sp, 'owner@vendor.example', 'counter staff pass 9');
  await sp.goto('/admin/resellers');
  await sp.getByLabel("Reseller's account email").fill('rex@alpha.example');
  await sp.getByLabel(/Business name/).fill('Alpha Licensing Ltd');
  await sp.getByLabel('Website').fill('https://alpha.example');
  await sp.getByLabel(/Discount/).fill('20');
  await sp.getByLabel(/Payment terms/).fill('30');
  await sp.getByRole('button', { name: 'Add reseller' }).click();
  await sp.waitForURL(/\/admin\/resellers\/[0-9a-f-]+$/);
  await shot(sp, 'admin-reseller');

  const reseller = await j.newContext();
  const rp = await reseller.newPage();
  await rp.goto('/account/login');
  await rp.getByLabel('Email address').fill('rex@alpha.example');
  await rp.getByLabel('Password').fill('reseller pass 12');
  await rp.getByRole('button', { name: 'Sign in' }).click();
  await rp.goto('/account/reseller');
  await rp.getByRole('link', { name: 'Order for an end customer' }).click();
  await rp.getByLabel('Product').selectOption({ index: 1 });
  await rp.getByLabel('Quantity').fill('3');
  await rp.getByLabel('Name', { exact: true }).fill('Edna End');
  await rp.getByLabel('Email', { exact: true }).fill('edna@enduser.example');
  await rp.locator('#f-end_country').selectOption('DE');
  await shot(rp, 'reseller-order');
  await rp.getByRole('button', { name: 'Place order' }).click();
  await rp.waitForURL(/\/account\/reseller\/sales\//);
  await shot(rp, 'reseller-sale');
  const body = await rp.content();
  assert.match(body, /Edna End/);
  assert.match(body, /payable within 30 days/);
  const orderId = rp.url().split('/').pop()!;
  const licences = await j.t.k.db.selectFrom('licences').select(['customer_email', 'customer_id']).where('order_id', '=', orderId).execute();
  assert.equal(licences.length, 3);
  assert.ok(licences.every((l) => l.customer_email === 'edna@enduser.example'), 'the end customer is on the licences');
  const inv = await j.t.k.db.selectFrom('invoices').select(['id', 'number']).where('order_id', '=', orderId).executeTakeFirstOrThrow();
  const pdf = await reseller.request.get(`/account/invoices/${inv.id}/pdf`);
  assert.equal(pdf.status(), 200);
  assert.equal((await pdf.body()).subarray(0, 5).toString(), '%PDF-');

  await rp.goto('/account/reseller');
  await rp.getByRole('button', { name: 'List me' }).click();
  await rp.goto('/resellers');
  assert.match(await rp.content(), /Alpha Licensing Ltd/);
  await shot(rp, 'resellers-public');

  await sp.goto('/admin/accounting');
  await shot(sp, 'admin-accounting');
  const href = await sp.getByRole('link', { name: 'download' }).getAttribute('href');
  const csv = await staff.request.get(href!);
  assert.equal(csv.status(), 200);
  const lines = (await csv.text()).split('\r\n');
  assert.match(lines[0]!, /^\*ContactName,EmailAddress,/);
  assert.ok(lines.some((l) => l.startsWith('Alpha Licensing Ltd,rex@alpha.example,') && l.includes(`,${inv.number},`)));
});
