// The My-account journey in Debian's Chromium (JavaScript off): a customer signs in with Remember me,
// closes the browser, comes back still signed in, releases a machine, downloads an invoice PDF.
// Screenshots of every account page at phone and desktop widths go to screenshots/.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { startJourney, skipWithoutChromium, type Journey } from './harness.js';
import { loadDemoCatalogue } from '../../src/modules/catalog/index.js';
import { SELLER_SETTING, RATES_SETTING } from '../../src/modules/billing/billing.settings.js';
import { buildCustomer, PASSWORD } from '../../src/modules/support/testing.js';
import { callBody, computerId, harness, seedProduct } from '../../src/modules/licensing/testing.js';

let j: Journey;
let adaId: string;
let licenceId: string;
let invoiceNumber: number;

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };

before(async () => {
  if (skipWithoutChromium) return;
  j = await startJourney();
  const t = j.t;
  await loadDemoCatalogue(t.k.db, t.clock.now());
  await t.k.settings.set(SELLER_SETTING, { name: 'Your Software Ltd', address: '1 High Street\nHuddersfield HD1 1AA\nUnited Kingdom', vatNumber: 'GB123456789', companyNumber: '01234567' });
  await t.k.settings.set(RATES_SETTING, { EUR: 856123, USD: 790000 });
  adaId = await buildCustomer(t, 'ada@example.com', 'Ada Lovelace');
  await t.k.db.updateTable('customers').set({ company: 'Analytical Engines Ltd', address_line1: '12 Old Street', city: 'Leeds', postcode: 'LS1 1AA', country: 'GB' }).where('id', '=', adaId).execute();

  // A paid order: an invoice (and a licence from the shop's catalogue).
  const plan = await t.k.db.selectFrom('catalog_plans').select('id').where('sku', '=', 'ms-5').executeTakeFirstOrThrow();
  const orderId = await t.modules.orders.checkout.createForCustomer({
    customer: { id: adaId, email: 'ada@example.com' },
    billing: { name: 'Ada Lovelace', company: 'Analytical Engines Ltd', line1: '12 Old Street', line2: null, city: 'Leeds', region: null, postcode: 'LS1 1AA', country: 'GB', phone: '+44 113 496 0000', vatNumber: null },
    currency: 'GBP', couponCode: null, items: [{ planId: plan.id, quantity: 1, licenceId: null }],
    paymentMethod: 'bank_transfer', channel: 'phone', actor: { kind: 'staff', id: 'staff-1' }, placedByStaffId: 'staff-1', checkoutKey: null, checkoutHash: null,
  });
  await t.modules.orders.payments.start(orderId, { kind: 'staff', id: 'staff-1' });
  const o = await t.k.db.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirstOrThrow();
  await t.modules.orders.fulfilment.markPaid(orderId, { kind: 'staff', id: 'staff-1' }, { provider: 'bank_transfer', providerRef: null, providerPaymentRef: null, amount: Number(o.total_gross), currency: o.currency, note: null });
  invoiceNumber = Number((await t.k.db.selectFrom('invoices').select('number').where('order_id', '=', orderId).executeTakeFirstOrThrow()).number);

  // A licence with add-on and two computers calling home.
  const h = await harness(t);
  await seedProduct(h, 'mailpro');
  const lic = await t.modules.licensing.licences.createLicence({
    product: 'mailpro', maxUsers: 50, maxMachines: 3, expiresAt: null, maintenanceUntil: Date.parse('2027-06-30T00:00:00Z'),
    addons: [{ code: 'mailpro-spam', until: Date.parse('2027-06-30T00:00:00Z') }], policy: {}, customerEmail: null, customerId: adaId,
  }, { kind: 'system', id: null });
  licenceId = lic.id;
  for (const [n, version, users] of [['office', '8.6.0', 37], ['old-server', '8.5.0', 4]] as const) {
    const r = await h.call(callBody(lic.key, { product: 'mailpro', computerId: computerId(n), version, usersInUse: users }));
    assert.equal(r.status, 200);
  }
  await t.modules.licensing.flush();
});
after(async () => { if (j) await j.close(); });

/** Full-page screenshots at phone and desktop widths; the page must not scroll sideways at either. */
async function shots(page: Page, name: string) {
  for (const [label, size] of [['phone', PHONE], ['desktop', DESKTOP]] as const) {
    await page.setViewportSize(size);
    await page.screenshot({ path: path.join(j.screenshotDir, `account-${name}-${label}.png`), fullPage: true });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `${name} at ${label} width scrolls sideways by ${overflow}px`);
  }
}

test('sign in with Remember me, close the browser, come back signed in, release a machine, download an invoice PDF', { skip: skipWithoutChromium }, async () => {
  const ctx = await j.newContext({});
  const page = await ctx.newPage();
  await page.goto('/account/licences');
  await page.waitForURL(/\/account\/login/);
  await page.getByLabel('Email address').fill('ada@example.com');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByLabel(/Remember me/).check();
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Your licences' }).waitFor();

  // Close the browser: only the persistent Remember-me cookie survives.
  const state = await ctx.storageState();
  await ctx.close();
  const persistent = { ...state, cookies: state.cookies.filter((c) => c.expires > 0) };
  assert.deepEqual(persistent.cookies.map((c) => c.name), ['kw_remember']);
  const again = await j.newContext({ storageState: persistent });
  const p = await again.newPage();
  await p.goto('/account');
  await p.getByRole('heading', { name: 'My account' }).waitFor();
  assert.match(await p.content(), /ada@example.com/);
  await shots(p, 'overview');

  // Licences: the key is hidden until asked for.
  await p.getByRole('navigation', { name: 'My account' }).getByRole('link', { name: 'Licences' }).click();
  await p.getByRole('heading', { name: 'Your licences' }).waitFor();
  // The licence with the two computers (the shop's licence is a Mail Server too): found by its id.
  const card = p.locator('section.licence', { has: p.locator(`[id="lic-${licenceId}"]`) });
  await card.getByRole('cell', { name: /8\.5\.0/ }).waitFor();
  await shots(p, 'licences');
  await card.getByRole('button', { name: /Show the key/ }).click();
  const key = (await j.t.modules.licensing.licences.view(licenceId)).key;
  await p.locator('code.licence-key', { hasText: key }).waitFor();
  await shots(p, 'licences-key-shown');

  // Release the old server.
  const oldServer = card.getByRole('row', { name: /8\.5\.0/ });
  await oldServer.getByRole('button', { name: /Release/ }).click();
  await p.getByText('The computer has been released').waitFor();
  const rows = await j.t.k.db.selectFrom('machines').select(['computer_id', 'status']).where('licence_id', '=', licenceId).execute();
  assert.equal(rows.find((r) => r.computer_id === computerId('old-server'))!.status, 'released');
  assert.equal(rows.find((r) => r.computer_id === computerId('office'))!.status, 'active');
  assert.equal(await card.getByRole('row', { name: /8\.5\.0/ }).count(), 0, 'the released computer is no longer listed');
  await shots(p, 'licences-released');

  // The offline licence file form, opened with a mistake in it.
  await card.locator('summary').click();
  await card.getByLabel('Computer ID').fill('not a computer id');
  await card.getByRole('button', { name: 'Download licence file' }).click();
  await p.getByRole('alert').getByText('A computer ID is 64 characters').waitFor();
  await shots(p, 'licences-file-error');

  // Invoices: download the PDF.
  await p.getByRole('navigation', { name: 'My account' }).getByRole('link', { name: 'Orders and invoices' }).click();
  await p.getByRole('heading', { name: 'Orders and invoices' }).waitFor();
  await shots(p, 'orders');
  const link = p.getByRole('row', { name: new RegExp(`Invoice ${invoiceNumber}`) }).getByRole('link', { name: 'PDF' });
  const href = await link.getAttribute('href');
  const [download] = await Promise.all([p.waitForEvent('download', { timeout: 10_000 }).catch(() => null), link.click().catch(() => undefined)]);
  let pdf: Buffer;
  if (download) {
    pdf = fs.readFileSync((await download.path())!);
  } else {
    // Chromium showed the PDF inline instead of downloading it: fetch it with the same cookies.
    const res = await p.request.get(href!);
    assert.equal(res.status(), 200);
    assert.equal(res.headers()['content-type'], 'application/pdf');
    pdf = await res.body();
  }
  assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
  fs.writeFileSync(path.join(j.screenshotDir, 'account-invoice.pdf'), pdf);

  // The other account pages, for the screenshots.
  await p.goto('/account/profile');
  await shots(p, 'profile');
  await p.goto('/account/security');
  await p.getByText('This device').first().waitFor();
  await shots(p, 'security');
  await again.close();
});
