import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestBrowser } from '../../kernel/testing/http.js';
import { hashPassword } from '../accounts/passwords.js';
import { shopTestApp, planIdBySku, StripeStandIn, type ShopTestApp } from './testing.js';
import { staffBrowser } from '../newsletter/testing.js';

let t: ShopTestApp;
const stripe = new StripeStandIn();
before(async () => { t = await shopTestApp(); await stripe.configure(t); });
after(async () => { await t.close(); await stripe.stop(); });

const UK = { billing_name: 'Card Buyer', company: '', line1: '3 Card Street', line2: '', city: 'York', region: '', postcode: 'YO1 1AA', country: 'GB', phone: '+44 1904 000000', vat_number: '' };
const nowS = () => Math.floor(t.clock.now() / 1000);

async function customerBrowser(email: string): Promise<TestBrowser> {
  const now = t.clock.now();
  await t.k.db.insertInto('customers').values({
    id: `c-${email}`, email, name: 'Card Buyer', company: null, phone: null, address_line1: null, address_line2: null, city: null, region: null,
    postcode: null, country: null, vat_number: null, password_hash: await hashPassword('customer password 1'), email_verified_at: now,
    created_at: now, updated_at: now, last_login_at: null, closed_at: null,
  }).execute();
  const b = new TestBrowser(t.app);
  await b.get('/account/login');
  await b.post('/account/login', { email, password: 'customer password 1' });
  return b;
}

/** Basket → checkout with card → review → pay; returns the order id and the stand-in's session id. */
async function cardOrder(b: TestBrowser, sku = 'ms-5'): Promise<{ orderId: string; sessionId: string; redirect: string }> {
  await b.get('/shop');
  await b.post('/basket/add', { plan_id: await planIdBySku(t.k.db, sku), quantity: '1', currency: 'GBP' });
  await b.get('/checkout');
  assert.match(b.lastHtml, /Card \(Stripe Checkout\)/);
  const hidden = { checkout_key: /name="checkout_key" value="([^"]+)"/.exec(b.lastHtml)![1]!, basket_version: /name="basket_version" value="([^"]+)"/.exec(b.lastHtml)![1]! };
  const placed = await b.post('/checkout', { ...hidden, ...UK, payment_method: 'stripe' });
  const orderId = /review\/(.+)$/.exec(String(placed.headers.location))![1]!;
  await b.get(`/checkout/review/${orderId}`);
  const pay = await b.post(`/checkout/pay/${orderId}`, {});
  assert.equal(pay.statusCode, 303);
  const redirect = String(pay.headers.location);
  const sessionId = /\/pay\/(cs_test_[A-Za-z0-9_-]+)$/.exec(redirect)![1]!;
  return { orderId, sessionId, redirect };
}

const webhook = (body: string, signature?: string) => t.app.inject({
  method: 'POST', url: '/webhooks/stripe', payload: body,
  headers: { 'content-type': 'application/json; charset=utf-8', ...(signature ? { 'stripe-signature': signature } : {}) },
});
const status = async (id: string) => (await t.k.db.selectFrom('orders').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;
const invoices = async (id: string) => (await t.k.db.selectFrom('invoices').select('id').where('order_id', '=', id).where('kind', '=', 'invoice').execute()).length;

describe('Stripe Checkout against the local stand-in', () => {
  test('stand-in: paying creates one Checkout Session for the exact total, with the order id as idempotency key', async () => {
    const b = await customerBrowser('card1@example.com');
    const { orderId, sessionId, redirect } = await cardOrder(b);
    assert.match(redirect, /^https:\/\/checkout\.stripe\.test\/c\/pay\//);
    assert.equal(await status(orderId), 'awaiting_payment');
    const req = stripe.requests.find((r) => r.path === '/v1/checkout/sessions' && r.body.get('client_reference_id') === orderId)!;
    assert.equal(req.idempotencyKey, `checkout-session-${orderId}`);
    assert.equal(req.body.get('line_items[0][price_data][unit_amount]'), '35880', '£299 + 20% VAT, decided by us');
    assert.equal(req.body.get('line_items[0][price_data][currency]'), 'gbp');
    assert.equal(req.body.get('customer_email'), 'card1@example.com', 'only the declared fields go to the processor');
    assert.equal(req.body.get('metadata[order_id]'), orderId);
    assert.deepEqual([...req.body.keys()].filter((k) => /name|address|phone|vat/i.test(k) && !k.includes('product_data')), []);
    // Pressing "Pay" again reuses the session (Stripe replays the idempotent request).
    await b.get(`/account/orders/${orderId}`);
    const again = await t.modules.orders.payments.start(orderId, { kind: 'customer', id: 'c-card1@example.com' });
    assert.equal(again.redirectUrl, redirect, 'the same session again: a buyer who closed the tab can still pay');
    assert.equal((await t.k.db.selectFrom('payments').select('id').where('order_id', '=', orderId).execute()).length, 1);
    assert.ok(stripe.sessions.has(sessionId));
  });

  test('stand-in: webhook signature failures are refused and change nothing', async () => {
    const b = await customerBrowser('card2@example.com');
    const { orderId, sessionId } = await cardOrder(b);
    const ev = stripe.completedEvent(sessionId);
    const bad: Array<[string, string | undefined]> = [
      ['no header', undefined],
      ['malformed header', 'nonsense'],
      ['no v1', `t=${nowS()}`],
      ['wrong secret', stripe.sign(ev.body, nowS(), 'whsec_wrong')],
      ['older than 300 s', stripe.sign(ev.body, nowS() - 301)],
      ['more than 300 s in the future', stripe.sign(ev.body, nowS() + 301)],
      ['signature of another body', stripe.sign(ev.body.replace('"paid"', '"unpaid"'), nowS())],
      ['v1 of the wrong length', `t=${nowS()},v1=abcdef`],
    ];
    for (const [name, sig] of bad) {
      const res = await webhook(ev.body, sig);
      assert.equal(res.statusCode, 400, name);
      assert.equal(res.json().error.code, 'ORD_WEBHOOK_REJECTED', name);
    }
    const tampered = await webhook(ev.body.replace('35880', '1'), stripe.sign(ev.body, nowS()));
    assert.equal(tampered.statusCode, 400, 'a body changed after signing');
    assert.equal(await status(orderId), 'awaiting_payment');
    assert.equal(await invoices(orderId), 0);
    assert.equal((await t.k.db.selectFrom('payment_events').select('event_id').where('event_id', '=', ev.id).execute()).length, 0, 'a refused event is not recorded as handled');
    // Within the tolerance (299 s old) and with several v1 values (secret rotation), it is accepted.
    const ok = await webhook(ev.body, `${stripe.sign(ev.body, nowS() - 299)},v1=${'0'.repeat(64)}`);
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(await status(orderId), 'fulfilled');
  });

  test('stand-in: a verified event fulfils the order once, however often it is delivered', async () => {
    const b = await customerBrowser('card3@example.com');
    const { orderId, sessionId } = await cardOrder(b, 'ms-25');
    const ev = stripe.completedEvent(sessionId);
    const sig = stripe.sign(ev.body, nowS());
    const first = await webhook(ev.body, sig);
    assert.equal(first.statusCode, 200);
    assert.deepEqual(first.json(), { received: true, duplicate: false });
    const replays = await Promise.all([1, 2, 3, 4].map(() => webhook(ev.body, sig)));
    for (const r of replays) assert.deepEqual(r.json(), { received: true, duplicate: true });
    // Stripe may also send a second, different event for the same payment.
    const ev2 = stripe.completedEvent(sessionId);
    assert.equal((await webhook(ev2.body, stripe.sign(ev2.body, nowS()))).statusCode, 200);
    assert.equal(await status(orderId), 'fulfilled');
    assert.equal(await invoices(orderId), 1);
    const lic = await t.issuer.listForCustomer(t.k.db, 'c-card3@example.com');
    assert.equal(lic.length, 1);
    assert.equal(lic[0]!.maxUsers, 25);
    const pay = await t.k.db.selectFrom('payments').selectAll().where('order_id', '=', orderId).executeTakeFirstOrThrow();
    assert.equal(pay.status, 'succeeded');
    assert.equal(pay.provider_payment_ref, stripe.sessions.get(sessionId)!.payment_intent);
  });

  test('stand-in: concurrent deliveries of one event make one invoice and one licence', async () => {
    const b = await customerBrowser('card4@example.com');
    const { orderId, sessionId } = await cardOrder(b);
    const ev = stripe.completedEvent(sessionId);
    const sig = stripe.sign(ev.body, nowS());
    const results = await Promise.all(Array.from({ length: 6 }, () => webhook(ev.body, sig)));
    assert.ok(results.every((r) => r.statusCode === 200), results.map((r) => r.body).join());
    assert.equal(results.filter((r) => !r.json().duplicate).length, 1);
    assert.equal(await invoices(orderId), 1);
    assert.equal((await t.issuer.listForCustomer(t.k.db, 'c-card4@example.com')).length, 1);
  });

  test('stand-in: a paid event for the wrong amount fulfils nothing', async () => {
    const b = await customerBrowser('card5@example.com');
    const { orderId, sessionId } = await cardOrder(b);
    const ev = stripe.completedEvent(sessionId, { amount_total: 100 });
    const res = await webhook(ev.body, stripe.sign(ev.body, nowS()));
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error.code, 'ORD_INVALID_INPUT');
    assert.equal(await status(orderId), 'awaiting_payment');
    assert.equal(await invoices(orderId), 0);
  });

  test('stand-in: an outage while starting payment leaves the order to retry; nothing is charged twice', async () => {
    const b = await customerBrowser('card6@example.com');
    await b.get('/shop');
    await b.post('/basket/add', { plan_id: await planIdBySku(t.k.db, 'ms-5'), quantity: '1', currency: 'GBP' });
    await b.get('/checkout');
    const hidden = { checkout_key: /name="checkout_key" value="([^"]+)"/.exec(b.lastHtml)![1]!, basket_version: /name="basket_version" value="([^"]+)"/.exec(b.lastHtml)![1]! };
    const orderId = /review\/(.+)$/.exec(String((await b.post('/checkout', { ...hidden, ...UK, payment_method: 'stripe' })).headers.location))![1]!;
    await b.get(`/checkout/review/${orderId}`);
    stripe.failNext = 1;
    const failed = await b.post(`/checkout/pay/${orderId}`, {});
    assert.equal(failed.statusCode, 502);
    assert.match(failed.body, /could not be reached.*Nothing was charged/s);
    assert.equal(await status(orderId), 'draft');
    await b.get(`/checkout/review/${orderId}`);
    const retry = await b.post(`/checkout/pay/${orderId}`, {});
    assert.equal(retry.statusCode, 303);
    assert.match(String(retry.headers.location), /checkout\.stripe\.test/);
  });

  test('stand-in: a payment for an order cancelled meanwhile is acknowledged, recorded for staff, and fulfils nothing', async () => {
    const b = await customerBrowser('card8@example.com');
    const { orderId, sessionId } = await cardOrder(b);
    await t.modules.orders.payments.cancel(orderId, { kind: 'staff', id: 'staff-1' }, 'customer phoned');
    const ev = stripe.completedEvent(sessionId);
    const res = await webhook(ev.body, stripe.sign(ev.body, nowS()));
    assert.equal(res.statusCode, 200);
    assert.equal(await status(orderId), 'cancelled');
    assert.equal(await invoices(orderId), 0);
    assert.ok(await t.k.db.selectFrom('audit_log').select('id').where('action', '=', 'order.paid_after_cancel').where('target', '=', orderId).executeTakeFirst());
  });

  test('stand-in: a card payment for an order staff marked paid meanwhile is recorded, flagged and shown, not dropped', async () => {
    const b = await customerBrowser('card9@example.com');
    const { orderId, sessionId } = await cardOrder(b);
    const total = Number((await t.k.db.selectFrom('orders').select('total_gross').where('id', '=', orderId).executeTakeFirstOrThrow()).total_gross);
    await t.modules.orders.fulfilment.markPaid(orderId, { kind: 'staff', id: 'staff-1' }, { provider: 'bank_transfer', providerRef: null, providerPaymentRef: null, amount: total, currency: 'GBP', note: 'transfer seen' });
    const ev = stripe.completedEvent(sessionId);
    const res = await webhook(ev.body, stripe.sign(ev.body, nowS()));
    assert.equal(res.statusCode, 200);
    const pays = await t.k.db.selectFrom('payments').select(['provider', 'status']).where('order_id', '=', orderId).orderBy('provider').execute();
    assert.deepEqual(pays, [{ provider: 'bank_transfer', status: 'succeeded' }, { provider: 'stripe', status: 'succeeded' }]);
    assert.equal(await invoices(orderId), 1, 'one sale, one invoice');
    assert.ok(await t.k.db.selectFrom('audit_log').select('id').where('action', '=', 'order.paid_twice').where('target', '=', orderId).executeTakeFirst());
    const staff = await staffBrowser(t, 'owner');
    const page = await staff.get(`/admin/orders/${orderId}`);
    assert.match(page.body, /class="card warning"[^]*was paid twice/);

    // The same payment reported again under another event type is the same money: no second flag.
    const again = JSON.parse(stripe.completedEvent(sessionId).body);
    again.type = 'checkout.session.async_payment_succeeded';
    const body = JSON.stringify(again);
    assert.equal((await webhook(body, stripe.sign(body, nowS()))).statusCode, 200);
    assert.equal((await t.k.db.selectFrom('audit_log').select('id').where('action', '=', 'order.paid_twice').where('target', '=', orderId).execute()).length, 1);
  });

  test('stand-in: a signed body that is JSON but no object (null, an array) is refused with 400, not a 500', async () => {
    for (const body of ['null', '[]', '[{"id":"evt_x"}]']) {
      const res = await webhook(body, stripe.sign(body, nowS()));
      assert.equal(res.statusCode, 400, body);
    }
  });

  test('stand-in: a refund goes to Stripe once, with a credit note quoting the invoice', async () => {
    const b = await customerBrowser('card7@example.com');
    const { orderId, sessionId } = await cardOrder(b);
    const ev = stripe.completedEvent(sessionId);
    await webhook(ev.body, stripe.sign(ev.body, nowS()));
    const r1 = await t.modules.orders.payments.refund(orderId, 10000, 'Goodwill', 'staff-1', 'refund-key-aaaaaaaaaaaaaaaa');
    const r2 = await t.modules.orders.payments.refund(orderId, 10000, 'Goodwill', 'staff-1', 'refund-key-aaaaaaaaaaaaaaaa');
    assert.equal(r1.creditNoteNumber, r2.creditNoteNumber);
    // The same form sent again with another amount is not a retry: refused, nothing more refunded.
    await assert.rejects(t.modules.orders.payments.refund(orderId, 20000, 'Goodwill', 'staff-1', 'refund-key-aaaaaaaaaaaaaaaa'), /another amount or reason/);
    await assert.rejects(t.modules.orders.payments.refund(orderId, 10000, 'Other reason', 'staff-1', 'refund-key-aaaaaaaaaaaaaaaa'), /another amount or reason/);
    const sent = stripe.refunds.filter((r) => r.payment_intent === stripe.sessions.get(sessionId)!.payment_intent);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.amount, 10000);
    assert.equal(await status(orderId), 'partly_refunded');
  });
});
