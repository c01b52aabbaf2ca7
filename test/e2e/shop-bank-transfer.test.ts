import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { startJourney, skipWithoutChromium, type Journey, staffSignIn } from './harness.js';
import { loadDemoCatalogue } from '../../src/modules/catalog/index.js';
import { SELLER_SETTING, BANK_SETTING } from '../../src/modules/billing/billing.settings.js';
import { verifyEd25519 } from '../../src/kernel/crypto/signing.js';

let j: Journey;
before(async () => {
  if (skipWithoutChromium) return;
  j = await startJourney();
  await loadDemoCatalogue(j.t.k.db, j.t.clock.now());
  await j.t.k.settings.set(SELLER_SETTING, { name: 'Your Software Ltd', address: '1 High Street, Huddersfield, HD1 1AA, United Kingdom', vatNumber: 'GB123456789', companyNumber: '01234567' });
  await j.t.k.settings.set(BANK_SETTING, { accountName: 'Your Software Ltd', bankName: 'Example Bank', sortCode: '12-34-56', accountNumber: '12345678', iban: 'GB00EXMP12345612345678', bic: 'EXMPGB2L', paymentTermsDays: 14 });
  await j.t.modules.accounts.staff.createStaff({ email: 'sales@vendor.example', name: 'Sally Sales', role: 'sales', password: 'counter staff pass 1' }, null);
});
after(async () => { if (j) await j.close(); });

const shot = (p: import('playwright-core').Page, name: string) => p.screenshot({ path: path.join(j.screenshotDir, `${name}.png`), fullPage: true });

test('storefront → basket → checkout by bank transfer → staff marks paid → invoice and a key that validates', { skip: skipWithoutChromium }, async () => {
  const buyer = await j.newContext();
  const page = await buyer.newPage();
  await page.goto('/shop');
  await shot(page, 'shop-storefront');
  assert.deepEqual(await buyer.cookies(), [], 'browsing the shop sets no cookie');
  await page.getByRole('button', { name: 'Add to basket' }).first().click();
  await page.waitForURL(/\/basket/);
  assert.deepEqual((await buyer.cookies()).map((c) => c.name), ['kw_basket'], 'the basket cookie appears with the first item');
  assert.equal((await buyer.cookies())[0]!.expires, -1, 'and dies with the browser');
  await shot(page, 'shop-basket');
  await page.getByRole('link', { name: /checkout/i }).first().click();
  await page.waitForURL(/\/checkout/);

  await page.getByLabel('Your name').fill('Grace Hopper');
  await page.getByLabel('Email address').fill('grace@example.com');
  await page.getByLabel('Choose a password').fill('correct horse battery');
  await page.getByLabel('Name for the invoice').fill('Grace Hopper');
  await page.getByLabel('Company').fill('Hopper Computing Ltd');
  await page.getByLabel('Address', { exact: true }).fill('2 Mill Lane');
  await page.getByLabel('Town or city').fill('Leeds');
  await page.getByLabel('Postcode').fill('LS1 1AA');
  await page.getByLabel('Country').selectOption('GB');
  await page.getByLabel('Telephone').fill('+44 113 000 0000');
  const bank = page.getByLabel(/bank transfer/i);
  if (await bank.count()) await bank.check();
  await shot(page, 'shop-checkout');
  await page.getByRole('button', { name: /continue|review|next/i }).click();
  await page.waitForURL(/\/checkout\/review\//);
  await shot(page, 'shop-review');
  assert.match(await page.content(), /20(\.0+)?%/, 'UK VAT at 20% is shown before paying');
  await page.getByRole('button', { name: /place order|pay|confirm/i }).click();
  await page.waitForLoadState();
  await shot(page, 'shop-ordered');

  await j.t.k.jobs.drain();
  const order = await j.t.k.db.selectFrom('orders').selectAll().executeTakeFirstOrThrow();
  assert.equal(order.status, 'awaiting_payment');

  // Staff mark the bank transfer received.
  const staff = await j.newContext();
  const sp = await staff.newPage();
  await staffSignIn(sp, 'sales@vendor.example', 'counter staff pass 1');
  await sp.goto(`/admin/orders/${order.id}`);
  await sp.getByLabel('Payment reference or note').fill('Bank statement 2026-11-25 HOPPER');
  await sp.getByRole('button', { name: /Mark paid/ }).click();
  await sp.waitForLoadState();
  await shot(sp, 'admin-order-paid');

  await j.t.k.jobs.drain();
  const paid = await j.t.k.db.selectFrom('orders').select('status').where('id', '=', order.id).executeTakeFirstOrThrow();
  assert.equal(paid.status, 'fulfilled');
  const mails = await j.t.k.db.selectFrom('mail_outbox').selectAll().where('to_addr', '=', 'grace@example.com').execute();
  const withInvoice = mails.find((m) => (JSON.parse(m.attachments) as Array<{ contentType: string }>).some((a) => a.contentType === 'application/pdf') && /[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}/.test(m.text_body));
  assert.ok(withInvoice, 'an email carries the invoice PDF and the licence key');
  const key = /([0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5})/.exec(withInvoice!.text_body)![1]!;
  const pdf = (JSON.parse(withInvoice!.attachments) as Array<{ contentType: string; contentBase64: string }>).find((a) => a.contentType === 'application/pdf')!;
  const pdfFile = path.join(j.screenshotDir, 'invoice.pdf');
  fs.writeFileSync(pdfFile, Buffer.from(pdf.contentBase64, 'base64'));
  assert.equal(fs.readFileSync(pdfFile).subarray(0, 5).toString(), '%PDF-');
  try { execFileSync('pdftoppm', ['-png', '-r', '80', '-singlefile', pdfFile, path.join(j.screenshotDir, 'invoice')]); } catch { /* poppler-utils not installed: the PDF itself is kept */ }

  // The key from the email validates at the call-home endpoint, with a signed answer.
  const res = await fetch(`${j.baseUrl}/api/v1/callhome`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ licence: key.toLowerCase(), version: '1.0.0', computerId: crypto.randomBytes(32).toString('hex'), usersInUse: 3, nonce: crypto.randomBytes(16).toString('hex') }),
  });
  const body = Buffer.from(await res.arrayBuffer());
  const answer = JSON.parse(body.toString());
  assert.equal(res.status, 200);
  assert.equal(answer.valid, true, JSON.stringify(answer));
  const keys = (await (await fetch(`${j.baseUrl}/api/v1/keys`)).json()) as { keys: Array<{ kid: string; publicKey: string }> };
  const sig = /keyid="([^"]+)", algorithm="ed25519", signature="([^"]+)"/.exec(res.headers.get('keyward-signature')!)!;
  assert.ok(verifyEd25519(keys.keys.find((k) => k.kid === sig[1])!.publicKey, body, sig[2]!));
  await buyer.close();
  await staff.close();
});
