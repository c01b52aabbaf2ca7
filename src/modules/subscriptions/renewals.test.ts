// Subscriptions end to end over real HTTP and a real database (SQLite and PostgreSQL), with a ManualClock:
// terms made by paid orders, every reminder once, the grace period, early and late renewal, pro-rata
// upgrades and add-ons, My account controls and the admin lists. Licences live in the shop's in-memory
// issuer here; callhome.test.ts proves the same against real licensing and call-home.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestBrowser } from '../../kernel/testing/http.js';
import { hashPassword } from '../accounts/passwords.js';
import { shopTestApp, planIdBySku, UK_BILLING, StripeStandIn, type ShopTestApp } from '../orders/testing.js';
import { DAY_MS } from './rules.js';
import { addMonths } from './rules.js';

let t: ShopTestApp;
const START = Date.parse('2026-11-25T10:00:00.000Z');
const YEAR_END = addMonths(START, 12);

before(async () => {
  t = await shopTestApp();
  t.clock.set(START);
  const link = (await t.modules.accounts.staff.firstRunLink())!;
  const owner = new TestBrowser(t.app);
  const path = new URL(link).pathname;
  await owner.get(path);
  assert.equal((await owner.post(path, { name: 'Olive Owner', email: 'olive@vendor.example', password: 'owner password 1' })).statusCode, 303);
});
const stripe = new StripeStandIn();
after(async () => { await t.close(); await stripe.stop(); });

/** Sessions end after a day idle, and the tests move the clock by months: each step signs in afresh. */
async function as(c: { email: string }): Promise<TestBrowser> {
  const browser = new TestBrowser(t.app);
  await browser.get('/account/login');
  assert.equal((await browser.post('/account/login', { email: c.email, password: 'customer password 1' })).statusCode, 303);
  return browser;
}

async function staff(): Promise<TestBrowser> {
  const b = new TestBrowser(t.app);
  await b.get('/admin/login');
  assert.equal((await b.post('/admin/login', { email: 'olive@vendor.example', password: 'owner password 1' })).statusCode, 303);
  return b;
}

async function customer(email: string): Promise<{ id: string; email: string }> {
  const id = `c-${email}`;
  const now = t.clock.now();
  await t.k.db.insertInto('customers').values({
    id, email, name: 'Renew Buyer', company: null, phone: null, address_line1: null, address_line2: null, city: null, region: null, postcode: null,
    country: null, vat_number: null, password_hash: await hashPassword('customer password 1'), email_verified_at: now, created_at: now, updated_at: now, last_login_at: null, closed_at: null,
  }).execute();
  return { id, email };
}

/** An order paid by bank transfer, marked paid by staff, at the clock's time. */
async function buy(c: { id: string }, items: Array<{ sku: string; licenceId?: string }>): Promise<string> {
  const orderId = await t.modules.orders.checkout.createForCustomer({
    customer: { id: c.id, email: `${c.id.slice(2)}` }, billing: UK_BILLING, currency: 'GBP', couponCode: null, paymentMethod: 'bank_transfer', channel: 'web',
    items: await Promise.all(items.map(async (i) => ({ planId: await planIdBySku(t.k.db, i.sku), quantity: 1, licenceId: i.licenceId ?? null }))),
    actor: { kind: 'customer', id: c.id }, placedByStaffId: null, checkoutKey: null, checkoutHash: null,
  });
  await pay(orderId);
  return orderId;
}

async function pay(orderId: string): Promise<void> {
  const o = await t.k.db.selectFrom('orders').select(['total_gross']).where('id', '=', orderId).executeTakeFirstOrThrow();
  assert.equal(await t.modules.orders.fulfilment.markPaid(orderId, { kind: 'staff', id: null }, { provider: 'bank_transfer', providerRef: null, providerPaymentRef: null, amount: Number(o.total_gross), currency: 'GBP', note: null }), 'paid');
}

/** The order a renew or upgrade form made, from its redirect to the review page. */
const reviewedOrder = (res: { headers: Record<string, unknown> }) => /\/checkout\/review\/(.+)$/.exec(String(res.headers.location))![1]!;
const subsOf = (customerId: string) => t.k.db.selectFrom('subscriptions').selectAll().where('customer_id', '=', customerId).orderBy('item').execute();
const reminders = (to: string) => t.k.db.selectFrom('mail_outbox').select(['subject', 'text_body']).where('to_addr', '=', to).where('category', '=', 'renewal').orderBy('created_at').execute();
const licenceOf = async (id: string) => (await t.issuer.find(t.k.db, id))!;

describe('subscriptions from paid orders', () => {
  test('a licence with an add-on makes a support and an add-on subscription; the licence carries the add-on to the end plus the 14-day default grace', async () => {
    t.clock.set(START);
    const c = await customer('both@example.com');
    await buy(c, [{ sku: 'ms-5' }, { sku: 'ms-spamfilter' }]);
    const subs = await subsOf(c.id);
    assert.deepEqual(subs.map((s) => [s.item, Number(s.period_start), Number(s.period_end), s.renewal_mode]), [
      ['addon:spamfilter', START, YEAR_END, 'invoice'], ['support', START, YEAR_END, 'invoice'],
    ]);
    const lic = await licenceOf(subs[0]!.licence_id);
    assert.equal(lic.maintenanceUntil, YEAR_END, 'maintenance covers releases up to the paid end');
    assert.deepEqual(lic.addons, [{ code: 'spamfilter', until: YEAR_END + 14 * DAY_MS }]);
    const page = await (await as(c)).get('/account/subscriptions');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Support and updates/);
    assert.match(page.body, /Add-on: spamfilter/);
    assert.doesNotMatch(page.body, /<option value="card"/, 'no card renewal while the shop takes no cards');
  });
});

describe('reminders (ManualClock)', () => {
  test('30, 7 and 0 days before the end, each once however often the job runs; none after the grace period', async () => {
    t.clock.set(START);
    const c = await customer('remind@example.com');
    await buy(c, [{ sku: 'ms-10' }]);
    const [sub] = await subsOf(c.id);
    const run = () => t.modules.subscriptions.subscriptions.runReminders();
    t.clock.set(YEAR_END - 30 * DAY_MS - 1);
    await run();
    assert.equal((await reminders('remind@example.com')).length, 0, 'nothing before 30 days');
    t.clock.set(YEAR_END - 30 * DAY_MS);
    await run(); await run();
    t.clock.advance(DAY_MS);
    await run();
    let mail = await reminders('remind@example.com');
    assert.equal(mail.length, 1);
    assert.match(mail[0]!.subject, /ends in 30 days/);
    assert.ok(mail[0]!.text_body.includes(`/account/subscriptions/${sub!.id}/renew`), 'the renewal link');
    t.clock.set(YEAR_END - 7 * DAY_MS);
    await run(); await run();
    t.clock.set(YEAR_END);
    await run(); await run();
    t.clock.set(YEAR_END + 13 * DAY_MS);
    await run();
    mail = await reminders('remind@example.com');
    assert.deepEqual(mail.map((m) => /ends in 7 days|has ended|ends in 30 days/.exec(m.subject)![0]), ['ends in 30 days', 'ends in 7 days', 'has ended']);
    assert.match(mail[2]!.text_body, /keeps working for 14 more days/);
    t.clock.set(YEAR_END + 14 * DAY_MS);
    await run();
    assert.equal((await reminders('remind@example.com')).length, 3);
    const ledger = await t.k.db.selectFrom('subscription_reminders').select('days_before').where('subscription_id', '=', sub!.id).orderBy('days_before', 'desc').execute();
    assert.deepEqual(ledger.map((r) => r.days_before), [30, 7, 0]);
  });

  test('a subscription cancelled at period end gets no reminders', async () => {
    t.clock.set(START);
    const c = await customer('quiet@example.com');
    await buy(c, [{ sku: 'ms-10' }]);
    const [sub] = await subsOf(c.id);
    const cb = await as(c);
    await cb.get('/account/subscriptions');
    assert.equal((await cb.post(`/account/subscriptions/${sub!.id}/cancel`, { cancel: '1' })).statusCode, 303);
    t.clock.set(YEAR_END - 7 * DAY_MS);
    await t.modules.subscriptions.subscriptions.runReminders();
    assert.equal((await reminders('quiet@example.com')).length, 0);
    assert.match((await (await as(c)).get('/account/subscriptions')).body, /Ends at period end/);
  });
});

describe('renewals', () => {
  test('renewing early (renew-now in My account) extends from the current end, not from today', async () => {
    t.clock.set(START);
    const c = await customer('early@example.com');
    await buy(c, [{ sku: 'ms-25' }]);
    const [sub] = await subsOf(c.id);
    t.clock.set(YEAR_END - 40 * DAY_MS);
    const cb = await as(c);
    const form = await cb.get(`/account/subscriptions/${sub!.id}/renew`);
    assert.equal(form.statusCode, 200);
    assert.match(form.body, /Support and updates renewal, 25 users, 1 year/);
    assert.match(form.body, /£250\.00/);
    assert.match(form.body, /from <strong>25 November 2027<\/strong> to <strong>25 November 2028<\/strong>/);
    const placed = await cb.post(`/account/subscriptions/${sub!.id}/renew`, { payment_method: 'bank_transfer' });
    assert.equal(placed.statusCode, 303);
    const orderId = reviewedOrder(placed);
    await cb.get(`/account/subscriptions/${sub!.id}/renew`);
    const again = await cb.post(`/account/subscriptions/${sub!.id}/renew`, { payment_method: 'bank_transfer' });
    assert.equal(String(again.headers.location), `/checkout/review/${orderId}`, 'a second click finds the same draft order');
    assert.doesNotMatch(form.body, /value="stripe"/, 'Stripe is not configured yet in this test: card is not offered');
    const review = await cb.get(`/checkout/review/${orderId}`);
    assert.match(review.body, /Ada Buyer/, 'pre-filled with the last order\'s billing details');
    assert.match(review.body, /£300\.00/, '£250 + 20% VAT');
    await pay(orderId);
    const [after] = await subsOf(c.id);
    assert.equal(Number(after!.period_start), YEAR_END);
    assert.equal(Number(after!.period_end), addMonths(YEAR_END, 12));
    assert.equal((await licenceOf(sub!.licence_id)).maintenanceUntil, addMonths(YEAR_END, 12));
  });

  test('a renewal ordered and awaiting its bank transfer: "Renew now" leads to that order, reminders ask for its payment, and the term moves once', async () => {
    t.clock.set(START);
    const c = await customer('pending@example.com');
    await buy(c, [{ sku: 'ms-25' }]);
    const [sub] = await subsOf(c.id);
    t.clock.set(YEAR_END - 40 * DAY_MS);
    let cb = await as(c);
    await cb.get(`/account/subscriptions/${sub!.id}/renew`);
    const placed = await cb.post(`/account/subscriptions/${sub!.id}/renew`, { payment_method: 'bank_transfer' });
    const orderId = reviewedOrder(placed);
    await t.modules.orders.payments.start(orderId, { kind: 'customer', id: c.id });
    const order = await t.k.db.selectFrom('orders').select(['status', 'reference']).where('id', '=', orderId).executeTakeFirstOrThrow();
    assert.equal(order.status, 'awaiting_payment');

    t.clock.set(YEAR_END - 30 * DAY_MS);
    cb = await as(c);
    await cb.get(`/account/subscriptions/${sub!.id}/renew`);
    const again = await cb.post(`/account/subscriptions/${sub!.id}/renew`, { payment_method: 'bank_transfer' });
    assert.equal(String(again.headers.location), `/checkout/review/${orderId}`, 'the order awaiting payment, not a second one');
    assert.equal(String((await cb.get(`/checkout/review/${orderId}`)).headers.location), `/account/orders/${orderId}`);
    assert.equal((await t.k.db.selectFrom('orders').select('id').where('customer_id', '=', c.id).execute()).length, 2, 'the first sale and one renewal');

    await t.modules.subscriptions.subscriptions.runReminders();
    const [mail] = await reminders('pending@example.com');
    assert.match(mail!.text_body, new RegExp(`order ${order.reference}, is waiting for its payment`));
    assert.ok(mail!.text_body.includes(`/account/orders/${orderId}`));
    assert.ok(!mail!.text_body.includes('/renew'), 'no invitation to order it again');

    await pay(orderId);
    const [after] = await subsOf(c.id);
    assert.equal(Number(after!.period_end), addMonths(YEAR_END, 12), 'one year added, once');
  });

  test('staff changes to a licence stand: an add-on taken off stays off, and a renewal adds its year after a goodwill extension', async () => {
    t.clock.set(START);
    const c = await customer('goodwill@example.com');
    await buy(c, [{ sku: 'ms-5' }, { sku: 'ms-antivirus' }]);
    const [addon, support] = await subsOf(c.id);
    assert.equal(addon!.item, 'addon:antivirus');
    await t.k.db.transaction().execute((trx) => t.issuer.removeAddon(trx, addon!.licence_id, 'antivirus'));
    await t.modules.subscriptions.subscriptions.syncEntitlements();
    assert.deepEqual((await licenceOf(addon!.licence_id)).addons, [], 'the daily sync does not put it back');

    const goodwill = YEAR_END + 90 * DAY_MS;
    await t.k.db.transaction().execute((trx) => t.issuer.extendMaintenance(trx, support!.licence_id, { until: goodwill }));
    t.clock.set(YEAR_END - 20 * DAY_MS);
    const cb = await as(c);
    const form = await cb.get(`/account/subscriptions/${support!.id}/renew`);
    assert.match(form.body, /from <strong>23 February 2028<\/strong> to <strong>23 February 2029<\/strong>/);
    const placed = await cb.post(`/account/subscriptions/${support!.id}/renew`, { payment_method: 'bank_transfer' });
    await pay(reviewedOrder(placed));
    assert.equal((await licenceOf(support!.licence_id)).maintenanceUntil, addMonths(goodwill, 12), 'a year after the extended end, not after the paid one');
  });

  test('an add-on that lapsed while support runs: the renew page shows the price and end the order then charges (to the support end)', async () => {
    t.clock.set(START);
    const c = await customer('coterm@example.com');
    await buy(c, [{ sku: 'ms-5' }, { sku: 'ms-antivirus' }]);
    let [addon, support] = await subsOf(c.id);
    t.clock.set(YEAR_END - 40 * DAY_MS);
    let cb = await as(c);
    await cb.get(`/account/subscriptions/${support!.id}/renew`);
    await pay(reviewedOrder(await cb.post(`/account/subscriptions/${support!.id}/renew`, { payment_method: 'bank_transfer' })));
    await cb.get('/account/subscriptions');
    await cb.post(`/account/subscriptions/${addon!.id}/cancel`, { cancel: '1' });
    t.clock.set(YEAR_END + 30 * DAY_MS);
    [addon, support] = await subsOf(c.id);
    assert.equal(Number(support!.period_end), addMonths(YEAR_END, 12));
    cb = await as(c);
    const form = await cb.get(`/account/subscriptions/${addon!.id}/renew`);
    assert.equal(form.statusCode, 200);
    const shownPrice = /<strong>[^<]+<\/strong>: £([0-9.,]+) plus any VAT/.exec(form.body)?.[1];
    assert.match(form.body, /from <strong>25 December 2027<\/strong> to <strong>25 November 2028<\/strong>/, 'from today to the support end');
    const placed = await cb.post(`/account/subscriptions/${addon!.id}/renew`, { payment_method: 'bank_transfer' });
    const orderId = reviewedOrder(placed);
    const line = await t.k.db.selectFrom('order_lines').select(['unit_net', 'term_end']).where('order_id', '=', orderId).executeTakeFirstOrThrow();
    assert.equal(shownPrice, (Number(line.unit_net) / 100).toFixed(2), 'the price shown is the price charged');
    const full = Number((await t.k.db.selectFrom('catalog_prices').select('amount').where('plan_id', '=', await planIdBySku(t.k.db, 'ms-antivirus')).where('currency', '=', 'GBP').executeTakeFirstOrThrow()).amount);
    assert.ok(Number(line.unit_net) < full, `less than a full year: ${line.unit_net} of ${full}`);
    assert.equal(Number(line.term_end), Number(support!.period_end));
  });

  test('a suspended or revoked licence is neither reminded about nor renewed', async () => {
    t.clock.set(START);
    const c = await customer('revoked@example.com');
    await buy(c, [{ sku: 'ms-10' }]);
    const [sub] = await subsOf(c.id);
    await t.k.db.transaction().execute((trx) => t.issuer.setStatus(trx, sub!.licence_id, 'revoked'));
    t.clock.set(YEAR_END - 30 * DAY_MS);
    await t.modules.subscriptions.subscriptions.runReminders();
    assert.equal((await reminders('revoked@example.com')).length, 0);
    const cb = await as(c);
    await cb.get('/account/subscriptions');
    const refused = await cb.post(`/account/subscriptions/${sub!.id}/renew`, { payment_method: 'bank_transfer' });
    assert.equal(refused.statusCode, 409);
    assert.match(refused.body, /suspended or revoked/);
    assert.equal((await t.k.db.selectFrom('orders').select('id').where('customer_id', '=', c.id).execute()).length, 1, 'no renewal order');
    // Reinstated: renewable again.
    await t.k.db.transaction().execute((trx) => t.issuer.setStatus(trx, sub!.licence_id, 'active'));
    await cb.get('/account/subscriptions');
    assert.equal((await cb.post(`/account/subscriptions/${sub!.id}/renew`, { payment_method: 'bank_transfer' })).statusCode, 303);
  });

  test('within the grace period a renewal continues from the paid end; after lapse it starts on the day of payment', async () => {
    t.clock.set(START);
    const c = await customer('late@example.com');
    await buy(c, [{ sku: 'ms-5' }, { sku: 'ms-antivirus' }]);
    const subs = await subsOf(c.id);
    const addon = subs.find((s) => s.item === 'addon:antivirus')!;
    t.clock.set(YEAR_END + 10 * DAY_MS);
    assert.match((await (await as(c)).get('/account/subscriptions')).body, /Past due/);
    await buy(c, [{ sku: 'ms-antivirus', licenceId: addon.licence_id }]);
    let row = (await subsOf(c.id)).find((s) => s.item === 'addon:antivirus')!;
    assert.equal(Number(row.period_start), YEAR_END, 'in grace: from the paid end');
    assert.deepEqual((await licenceOf(addon.licence_id)).addons.find((a) => a.code === 'antivirus'), { code: 'antivirus', until: addMonths(YEAR_END, 12) + 14 * DAY_MS });
    // Support lapses (14 days after its end), then is renewed 30 days late.
    const support = subs.find((s) => s.item === 'support')!;
    t.clock.set(YEAR_END + 30 * DAY_MS);
    assert.match((await (await as(c)).get('/account/subscriptions')).body, /Expired/);
    await buy(c, [{ sku: 'ms-5-renew', licenceId: support.licence_id }]);
    row = (await subsOf(c.id)).find((s) => s.item === 'support')!;
    assert.equal(Number(row.period_start), YEAR_END + 30 * DAY_MS, 'lapsed: from the day of payment');
    assert.equal(Number(row.period_end), addMonths(YEAR_END + 30 * DAY_MS, 12));
  });

  test('the vendor sets the grace period: a shorter one lapses sooner and moves the licence\'s add-on end; bad values are refused', async () => {
    t.clock.set(START);
    const c = await customer('grace@example.com');
    await buy(c, [{ sku: 'ms-5' }, { sku: 'ms-spamfilter' }]);
    const addon = (await subsOf(c.id)).find((s) => s.item === 'addon:spamfilter')!;
    const owner = await staff();
    await owner.get('/admin/subscriptions');
    const bad = await owner.post('/admin/subscriptions/settings', { grace_days: '365' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /0 to 90/);
    const saved = await owner.post('/admin/subscriptions/settings', { grace_days: '3' });
    assert.equal(saved.statusCode, 303);
    assert.match((await owner.get(String(saved.headers.location))).body, /Grace period saved: 3 days\./, 'the page says it was saved');
    assert.deepEqual((await licenceOf(addon.licence_id)).addons, [{ code: 'spamfilter', until: YEAR_END + 3 * DAY_MS }]);
    t.clock.set(YEAR_END + 3 * DAY_MS);
    assert.match((await (await as(c)).get('/account/subscriptions')).body, /Expired/);
    const owner2 = await staff();
    const lapsed = await owner2.get('/admin/subscriptions?view=lapsed');
    assert.match(lapsed.body, /grace@example\.com/);
    assert.equal((await owner2.post('/admin/subscriptions/settings', { grace_days: '14' })).statusCode, 303);
    assert.deepEqual((await licenceOf(addon.licence_id)).addons, [{ code: 'spamfilter', until: YEAR_END + 14 * DAY_MS }]);
  });

  test('cancel at period end ends the add-on at the paid end (no grace); resuming restores it', async () => {
    t.clock.set(START);
    const c = await customer('cancel@example.com');
    await buy(c, [{ sku: 'ms-5' }, { sku: 'ms-spamfilter' }]);
    const addon = (await subsOf(c.id)).find((s) => s.item === 'addon:spamfilter')!;
    const cb = await as(c);
    await cb.get('/account/subscriptions');
    await cb.post(`/account/subscriptions/${addon.id}/cancel`, { cancel: '1' });
    assert.deepEqual((await licenceOf(addon.licence_id)).addons, [{ code: 'spamfilter', until: YEAR_END }]);
    await cb.get('/account/subscriptions');
    await cb.post(`/account/subscriptions/${addon.id}/cancel`, { cancel: '0' });
    assert.deepEqual((await licenceOf(addon.licence_id)).addons, [{ code: 'spamfilter', until: YEAR_END + 14 * DAY_MS }]);
  });
});

describe('renewal by card (Stripe\'s servers faked by the local stand-in)', () => {
  test('a card subscription renews through Stripe Checkout; only the signed webhook extends it', async () => {
    await stripe.configure(t);
    t.clock.set(START);
    const c = await customer('card-renew@example.com');
    await buy(c, [{ sku: 'ms-5' }]);
    const [sub] = await subsOf(c.id);
    const cb = await as(c);
    assert.match((await cb.get('/account/subscriptions')).body, /<option value="card"/, 'offered once cards are taken');
    assert.equal((await cb.post(`/account/subscriptions/${sub!.id}/mode`, { mode: 'card' })).statusCode, 303);
    assert.equal((await subsOf(c.id))[0]!.renewal_mode, 'card');
    assert.equal((await cb.post(`/account/subscriptions/${sub!.id}/mode`, { mode: 'cheque' })).statusCode, 400);
    t.clock.set(YEAR_END - 5 * DAY_MS);
    const cb2 = await as(c);
    const form = await cb2.get(`/account/subscriptions/${sub!.id}/renew`);
    assert.match(form.body, /value="stripe" checked/, 'the renewal mode preselects card');
    const placed = await cb2.post(`/account/subscriptions/${sub!.id}/renew`, { payment_method: 'stripe' });
    const orderId = reviewedOrder(placed);
    await cb2.get(`/checkout/review/${orderId}`);
    const payRes = await cb2.post(`/checkout/pay/${orderId}`, {});
    const sessionId = /\/pay\/(cs_test_[A-Za-z0-9_-]+)$/.exec(String(payRes.headers.location))![1]!;
    assert.equal(stripe.sessions.get(sessionId)!.amount_total, 9000, '£75 renewal + 20% VAT');
    assert.equal(Number((await subsOf(c.id))[0]!.period_end), YEAR_END, 'not extended before Stripe says it is paid');
    const ev = stripe.completedEvent(sessionId);
    const res = await t.app.inject({ method: 'POST', url: '/webhooks/stripe', payload: ev.body, headers: { 'content-type': 'application/json', 'stripe-signature': stripe.sign(ev.body, Math.floor(t.clock.now() / 1000)) } });
    assert.equal(res.statusCode, 200, res.body);
    const [after] = await subsOf(c.id);
    assert.equal(Number(after!.period_start), YEAR_END, 'five days early: from the paid end');
    assert.equal(Number(after!.period_end), addMonths(YEAR_END, 12));
    assert.equal(after!.renewal_mode, 'card');
  });
});

describe('pro-rata upgrades', () => {
  test('a tier upgrade and an add-on mid-term: previewed in exact pennies, charged as shown, applied on payment; the add-on ends with the support term', async () => {
    t.clock.set(START);
    const c = await customer('upgrade@example.com');
    await buy(c, [{ sku: 'ms-5' }]);
    const [support] = await subsOf(c.id);
    // 365-day term, 100 days left (the clock 265 days in).
    t.clock.set(YEAR_END - 100 * DAY_MS + 3_600_000);
    const cb = await as(c);
    const preview = await cb.get(`/account/subscriptions/${support!.id}/upgrade`);
    assert.equal(preview.statusCode, 200);
    // Upgrade 5 → 10 users: £200.00 for a whole term; 20000 × 100 / 365 = 5479.45 → £54.79.
    assert.match(preview.body, /Upgrade from 5 users to 10 users<\/strong><\/td><td class="num"[^>]*>£200\.00<\/td><td class="num"[^>]*>£54\.79 <small>\(100\/365 days\)/);
    // Spam filter £99.00: 9900 × 100 / 365 = 2712.33 → £27.12.
    assert.match(preview.body, /Spam filter updates, 1 year<\/strong><\/td><td class="num"[^>]*>£99\.00<\/td><td class="num"[^>]*>£27\.12/);
    const spamPlan = await planIdBySku(t.k.db, 'ms-spamfilter');
    const placed = await cb.post(`/account/subscriptions/${support!.id}/upgrade`, { plan_id: spamPlan, payment_method: 'bank_transfer' });
    assert.equal(placed.statusCode, 303, placed.body);
    const orderId = reviewedOrder(placed);
    const review = await cb.get(`/checkout/review/${orderId}`);
    assert.match(review.body, /£27\.12/);
    const order = await t.k.db.selectFrom('orders').select(['total_net', 'total_tax', 'total_gross']).where('id', '=', orderId).executeTakeFirstOrThrow();
    assert.deepEqual([Number(order.total_net), Number(order.total_tax), Number(order.total_gross)], [2712, 542, 3254]);
    await pay(orderId);
    const addon = (await subsOf(c.id)).find((s) => s.item === 'addon:spamfilter')!;
    assert.equal(Number(addon.period_end), YEAR_END, 'co-termed with support');
    assert.deepEqual((await licenceOf(support!.licence_id)).addons, [{ code: 'spamfilter', until: YEAR_END + 14 * DAY_MS }]);
    const invoice = await t.k.db.selectFrom('invoices').select(['id', 'total_net']).where('order_id', '=', orderId).executeTakeFirstOrThrow();
    assert.equal(Number(invoice.total_net), 2712);

    const upPlan = await planIdBySku(t.k.db, 'ms-up-5-10');
    await cb.get(`/account/subscriptions/${support!.id}/upgrade`);
    assert.doesNotMatch(cb.lastHtml, /Spam filter updates/, 'an add-on already running is not offered again');
    const up = await cb.post(`/account/subscriptions/${support!.id}/upgrade`, { plan_id: upPlan, payment_method: 'bank_transfer' });
    const upOrder = reviewedOrder(up);
    assert.equal(Number((await t.k.db.selectFrom('orders').select('total_net').where('id', '=', upOrder).executeTakeFirstOrThrow()).total_net), 5479);
    await pay(upOrder);
    assert.equal((await licenceOf(support!.licence_id)).maxUsers, 10);
    // The next renewal is at the new tier's price.
    assert.match((await cb.get(`/account/subscriptions/${support!.id}/renew`)).body, /10 users, 1 year/);
  });

  test('the shop\'s basket and checkout price a mid-term upgrade and add-on for a licence the same way (pro rata, add-on co-termed)', async () => {
    t.clock.set(START);
    const c = await customer('basket-up@example.com');
    await buy(c, [{ sku: 'ms-5' }]);
    const [support] = await subsOf(c.id);
    t.clock.set(YEAR_END - 100 * DAY_MS + 3_600_000);
    const cb = await as(c);
    await cb.get(`/shop/licence/${support!.licence_id}`);
    assert.equal((await cb.post('/basket/add', { plan_id: await planIdBySku(t.k.db, 'ms-up-5-10'), quantity: '1', currency: 'GBP', licence_id: support!.licence_id })).statusCode, 303);
    await cb.get(`/shop/licence/${support!.licence_id}`);
    await cb.post('/basket/add', { plan_id: await planIdBySku(t.k.db, 'ms-antivirus'), quantity: '1', currency: 'GBP', licence_id: support!.licence_id });
    const basket = await cb.get('/basket');
    assert.match(basket.body, /£54\.79/, '20000 × 100 / 365, as on the upgrade page');
    assert.match(basket.body, /£40\.82/, 'antivirus: 14900 × 100 / 365 = 4082.19 → 4082');
    await cb.get('/checkout');
    const hidden = { checkout_key: /name="checkout_key" value="([^"]+)"/.exec(cb.lastHtml)![1]!, basket_version: /name="basket_version" value="([^"]+)"/.exec(cb.lastHtml)![1]! };
    const placed = await cb.post('/checkout', { ...hidden, billing_name: 'Ada Buyer', company: '', line1: '2 Mill Lane', line2: '', city: 'Leeds', region: '', postcode: 'LS1 1AA', country: 'GB', phone: '+44 113 496 0000', vat_number: '', payment_method: 'bank_transfer' });
    const orderId = /review\/(.+)$/.exec(String(placed.headers.location))![1]!;
    const lines = await t.k.db.selectFrom('order_lines').select(['sku', 'unit_net', 'term_end']).where('order_id', '=', orderId).orderBy('line_no').execute();
    // Both went in at the same (manual) clock time, so their order is not defined: compare by SKU.
    assert.deepEqual(lines.map((l) => [l.sku, Number(l.unit_net), l.term_end === null ? null : Number(l.term_end)]).sort(), [['ms-antivirus', 4082, YEAR_END], ['ms-up-5-10', 5479, null]]);
    await pay(orderId);
    const lic = await licenceOf(support!.licence_id);
    assert.equal(lic.maxUsers, 10);
    assert.deepEqual(lic.addons, [{ code: 'antivirus', until: YEAR_END + 14 * DAY_MS }]);
    // A running add-on bought again is a renewal: full price, a year from its end.
    t.clock.set(YEAR_END - 50 * DAY_MS);
    const cb2 = await as(c);
    await cb2.get(`/shop/licence/${support!.licence_id}`);
    await cb2.post('/basket/add', { plan_id: await planIdBySku(t.k.db, 'ms-antivirus'), quantity: '1', currency: 'GBP', licence_id: support!.licence_id });
    assert.match((await cb2.get('/basket')).body, /£149\.00/);
  });

  test('a forged plan id, another customer\'s subscription, and an upgrade with no running term are refused with clear errors', async () => {
    t.clock.set(START);
    const a = await customer('alice-up@example.com');
    const b = await customer('bob-up@example.com');
    await buy(a, [{ sku: 'ms-5' }]);
    const [sub] = await subsOf(a.id);
    const ab = await as(a);
    const bb = await as(b);
    await ab.get(`/account/subscriptions/${sub!.id}/upgrade`);
    const forged = await ab.post(`/account/subscriptions/${sub!.id}/upgrade`, { plan_id: await planIdBySku(t.k.db, 'ms-up-25-50') });
    assert.equal(forged.statusCode, 400);
    assert.match(forged.body, /not available for this licence/);
    const other = await bb.get(`/account/subscriptions/${sub!.id}/renew`);
    assert.equal(other.statusCode, 404);
    await bb.get('/account/subscriptions');
    assert.equal((await bb.post(`/account/subscriptions/${sub!.id}/cancel`, { cancel: '1' })).statusCode, 404);
    assert.equal((await subsOf(a.id))[0]!.cancel_at_period_end, 0);
    t.clock.set(YEAR_END + DAY_MS);
    const noTerm = await (await as(a)).get(`/account/subscriptions/${sub!.id}/upgrade`);
    assert.equal(noTerm.statusCode, 409);
    assert.match(noTerm.body, /Renew support first/);
    const anon = await new TestBrowser(t.app).get(`/account/subscriptions/${sub!.id}/renew`);
    assert.equal(anon.statusCode, 303);
    assert.match(String(anon.headers.location), /^\/account\/login\?next=/);
  });
});

describe('admin', () => {
  test('renewals due, past due and lapsed lists; revenue per month; a customer\'s timeline; customers are kept out', async () => {
    t.clock.set(START);
    const c = await customer('admin-view@example.com');
    await buy(c, [{ sku: 'ms-5' }]);
    let owner = await staff();
    const nav = await owner.get('/admin');
    assert.match(nav.body, /href="\/admin\/subscriptions"/);
    t.clock.set(YEAR_END - 10 * DAY_MS);
    owner = await staff();
    assert.match((await owner.get('/admin/subscriptions?view=due')).body, /admin-view@example\.com/);
    assert.doesNotMatch((await owner.get('/admin/subscriptions?view=past_due')).body, /admin-view@example\.com/);
    t.clock.set(YEAR_END + DAY_MS);
    owner = await staff();
    assert.match((await owner.get('/admin/subscriptions?view=past_due')).body, /admin-view@example\.com/);
    assert.doesNotMatch((await owner.get('/admin/subscriptions?view=due')).body, /admin-view@example\.com/);
    assert.equal((await owner.get('/admin/subscriptions?view=nonsense')).statusCode, 200);
    // A name every object inherits is no view: the default one is shown, as for any unknown name.
    for (const inherited of ['constructor', 'toString']) {
      assert.match((await owner.get(`/admin/subscriptions?view=${inherited}`)).body, /<strong>Renewals due<\/strong>/, inherited);
    }
    t.clock.set(START + 40 * DAY_MS);
    owner = await staff();
    const revenue = await owner.get('/admin/subscriptions/revenue');
    assert.equal(revenue.statusCode, 200);
    assert.match(revenue.body, /<svg/);
    const nov = /<tr><td>2026-11<\/td><td class="num">(\d+)<\/td><td class="num">(\d+)<\/td><td class="num">([^<]+)<\/td>/.exec(revenue.body)!;
    const expected = await t.k.db.selectFrom('invoices').select(['total_net_gbp', 'kind']).where('issue_date', '>=', Date.UTC(2026, 10, 1)).where('issue_date', '<', Date.UTC(2026, 11, 1)).execute();
    assert.equal(Number(nov[1]), expected.filter((e) => e.kind === 'invoice').length);
    const net = expected.reduce((s, e) => s + (e.kind === 'invoice' ? 1 : -1) * Number(e.total_net_gbp), 0);
    assert.equal(nov[3], `£${(net / 100).toLocaleString('en-GB', { minimumFractionDigits: 2 })}`);
    const timeline = await owner.get(`/admin/customers/${c.id}/timeline`);
    assert.equal(timeline.statusCode, 200);
    for (const kind of ['Order', 'Invoice', 'Licence', 'Subscription']) assert.match(timeline.body, new RegExp(`<td>${kind}</td>`));
    assert.equal((await owner.get('/admin/customers/nobody/timeline')).statusCode, 404);
    await t.modules.accounts.staff.createStaff({ email: 'sam@vendor.example', name: 'Sam Sales', role: 'sales', password: 'sales password 1' }, null);
    const sales = new TestBrowser(t.app);
    await sales.get('/admin/login');
    await sales.post('/admin/login', { email: 'sam@vendor.example', password: 'sales password 1' });
    const list = await sales.get('/admin/subscriptions');
    assert.equal(list.statusCode, 200);
    assert.match(list.body, /Grace period: 14 days \(owners and admins change it\)/);
    assert.equal((await sales.post('/admin/subscriptions/settings', { grace_days: '0' })).statusCode, 403, 'sales may not change the grace period');
    assert.equal((await t.modules.subscriptions.subscriptions.graceDays()), 14);
    const cust = await (await as(c)).get('/admin/subscriptions');
    assert.equal(cust.statusCode, 303);
    assert.match(String(cust.headers.location), /^\/admin\/login/);
  });
});
