import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startJourney, skipWithoutChromium, type Journey, staffSignIn } from './harness.js';
import { ManualClock } from '../../src/kernel/clock.js';
import { loadDemoCatalogue } from '../../src/modules/catalog/index.js';
import { SELLER_SETTING, BANK_SETTING } from '../../src/modules/billing/billing.settings.js';
import { hashPassword } from '../../src/modules/accounts/passwords.js';
import { planIdBySku, UK_BILLING } from '../../src/modules/orders/testing.js';

const START = Date.parse('2026-11-25T10:00:00.000Z');
const DAY = 86_400_000;
let j: Journey;
let licenceYearEnd = 0;

before(async () => {
  if (skipWithoutChromium) return;
  j = await startJourney({ clock: new ManualClock(START) });
  const k = j.t.k;
  await loadDemoCatalogue(k.db, START);
  await k.settings.set(SELLER_SETTING, { name: 'Your Software Ltd', address: '1 High Street, Huddersfield, HD1 1AA, United Kingdom', vatNumber: 'GB123456789', companyNumber: '01234567' });
  await k.settings.set(BANK_SETTING, { accountName: 'Your Software Ltd', bankName: 'Example Bank', sortCode: '12-34-56', accountNumber: '12345678', iban: 'GB00EXMP12345612345678', bic: 'EXMPGB2L', paymentTermsDays: 14 });
  await j.t.modules.accounts.staff.createStaff({ email: 'sales@vendor.example', name: 'Sally Sales', role: 'sales', password: 'counter staff pass 1' }, null);
  await k.db.insertInto('customers').values({
    id: 'c-ada', email: 'ada@example.com', name: 'Ada Lovelace', company: null, phone: null, address_line1: null, address_line2: null, city: null, region: null, postcode: null,
    country: null, vat_number: null, password_hash: await hashPassword('analytical engine 1'), email_verified_at: START, created_at: START, updated_at: START, last_login_at: null, closed_at: null,
  }).execute();
  // Bought a year ago (on the clock): a 5-user licence with support and the spam-filter add-on, paid by transfer.
  const orderId = await j.t.modules.orders.checkout.createForCustomer({
    customer: { id: 'c-ada', email: 'ada@example.com' }, billing: UK_BILLING, currency: 'GBP', couponCode: null, paymentMethod: 'bank_transfer', channel: 'web',
    items: [{ planId: await planIdBySku(k.db, 'ms-5'), quantity: 1, licenceId: null }, { planId: await planIdBySku(k.db, 'ms-spamfilter'), quantity: 1, licenceId: null }],
    actor: { kind: 'customer', id: 'c-ada' }, placedByStaffId: null, checkoutKey: null, checkoutHash: null,
  });
  const o = await k.db.selectFrom('orders').select('total_gross').where('id', '=', orderId).executeTakeFirstOrThrow();
  await j.t.modules.orders.fulfilment.markPaid(orderId, { kind: 'staff', id: null }, { provider: 'bank_transfer', providerRef: null, providerPaymentRef: null, amount: Number(o.total_gross), currency: 'GBP', note: null });
  licenceYearEnd = Number((await k.db.selectFrom('subscriptions').select('period_end').where('item', '=', 'support').executeTakeFirstOrThrow()).period_end);
});
after(async () => { if (j) await j.close(); });

const shot = (p: import('playwright-core').Page, name: string) => p.screenshot({ path: path.join(j.screenshotDir, `${name}.png`), fullPage: true });

test('the 7-day reminder link → sign in → pre-filled renewal → review → order; paid early, the term runs on from the old end', { skip: skipWithoutChromium }, async () => {
  const k = j.t.k;
  j.t.clock.set(licenceYearEnd - 7 * DAY);
  await j.t.modules.subscriptions.subscriptions.runReminders();
  const reminder = await k.db.selectFrom('mail_outbox').select(['subject', 'text_body']).where('to_addr', '=', 'ada@example.com').where('category', '=', 'renewal').where('subject', 'like', 'Support%').executeTakeFirstOrThrow();
  assert.match(reminder.subject, /ends in 7 days/);
  const link = /Renew now: (\S+)/.exec(reminder.text_body)![1]!;
  assert.ok(link.startsWith(j.baseUrl));

  const ctx = await j.newContext();
  const page = await ctx.newPage();
  await page.goto(link);
  await page.waitForURL(/\/account\/login/);
  await page.getByLabel('Email address').fill('ada@example.com');
  await page.getByLabel('Password').fill('analytical engine 1');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/renew$/);
  await shot(page, 'subscriptions-renew');
  const text = await page.content();
  assert.match(text, /Support and updates renewal, 5 users, 1 year/);
  assert.match(text, /£75\.00/);
  await page.getByRole('button', { name: 'Continue to review' }).click();
  await page.waitForURL(/\/checkout\/review\//);
  await shot(page, 'subscriptions-renew-review');
  assert.match(await page.content(), /£90\.00/, '£75 + 20% VAT, before paying');
  await page.getByRole('button', { name: /place order/i }).click();
  await page.waitForLoadState();
  const order = await k.db.selectFrom('orders').select(['id', 'status', 'total_gross']).where('status', '=', 'awaiting_payment').executeTakeFirstOrThrow();
  await j.t.modules.orders.fulfilment.markPaid(order.id, { kind: 'staff', id: null }, { provider: 'bank_transfer', providerRef: null, providerPaymentRef: null, amount: Number(order.total_gross), currency: 'GBP', note: null });
  const sub = await k.db.selectFrom('subscriptions').selectAll().where('item', '=', 'support').executeTakeFirstOrThrow();
  assert.equal(Number(sub.period_start), licenceYearEnd, 'renewed early: from the old end');

  await page.goto('/account/subscriptions');
  await shot(page, 'subscriptions-account');
  assert.match(await page.content(), /Renew now/);
  await page.getByRole('link', { name: 'Upgrade' }).click();
  await page.waitForURL(/\/upgrade$/);
  await shot(page, 'subscriptions-upgrade');
  assert.match(await page.content(), /Upgrade from 5 users to 10 users/);
  await ctx.close();

  const staff = await j.newContext();
  const sp = await staff.newPage();
  await staffSignIn(sp, 'sales@vendor.example', 'counter staff pass 1');
  await sp.goto('/admin/subscriptions?view=due');
  await shot(sp, 'admin-subscriptions-due');
  assert.match(await sp.content(), /ada@example\.com/, 'the add-on is still due (only support was renewed)');
  await sp.goto('/admin/subscriptions/revenue');
  await shot(sp, 'admin-revenue');
  await sp.goto('/admin/customers/c-ada/timeline');
  await shot(sp, 'admin-customer-timeline');
  assert.match(await sp.content(), /Subscription/);
  await staff.close();
});
