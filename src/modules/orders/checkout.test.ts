import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestBrowser, setCookies } from '../../kernel/testing/http.js';
import { buildRegistry } from '../privacy/index.js';
import { hashPassword } from '../accounts/passwords.js';
import { shopTestApp, planIdBySku, type ShopTestApp } from './testing.js';

let t: ShopTestApp;
before(async () => { t = await shopTestApp(); });
after(async () => { await t.close(); });

const count = async (table: 'baskets' | 'orders' | 'customers' | 'invoices' | 'basket_lines') =>
  Number((await t.k.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
const UK = { billing_name: 'Ada Buyer', company: 'Buyer Ltd', line1: '2 Mill Lane', line2: '', city: 'Leeds', region: '', postcode: 'LS1 1AA', country: 'GB', phone: '+44 113 496 0000', vat_number: '' };
/** The hidden fields of the checkout form just read (the idempotency key and the basket version). */
const hidden = (b: TestBrowser) => ({
  checkout_key: /name="checkout_key" value="([^"]+)"/.exec(b.lastHtml)![1]!,
  basket_version: /name="basket_version" value="([^"]+)"/.exec(b.lastHtml)![1]!,
});
const reviewId = (location: unknown) => /\/checkout\/review\/([0-9a-f-]{36})$/.exec(String(location))?.[1];

async function signedInCustomer(email: string): Promise<TestBrowser> {
  const now = t.clock.now();
  await t.k.db.insertInto('customers').values({
    id: `c-${email}`, email, name: 'Signed In', company: null, phone: null, address_line1: null, address_line2: null, city: null, region: null,
    postcode: null, country: null, vat_number: null, password_hash: await hashPassword('customer password 1'), email_verified_at: now,
    created_at: now, updated_at: now, last_login_at: null, closed_at: null,
  }).execute();
  const b = new TestBrowser(t.app);
  await b.get('/account/login');
  assert.equal((await b.post('/account/login', { email, password: 'customer password 1' })).statusCode, 303);
  return b;
}

async function addToBasket(b: TestBrowser, sku: string, quantity = '1', extra: Record<string, string> = {}) {
  await b.get('/shop');
  return b.post('/basket/add', { plan_id: await planIdBySku(t.k.db, sku), quantity, currency: 'GBP', ...extra });
}

describe('storefront and basket', () => {
  test('browsing sets no cookie; the first item sets kw_basket for the browser session only, as declared', async () => {
    const b = new TestBrowser(t.app);
    const shop = await b.get('/shop');
    assert.equal(shop.statusCode, 200);
    assert.match(shop.body, /Mail Server, 10 users/);
    assert.match(shop.body, /£499\.00.*\+ VAT.*£598\.80 with UK VAT/s, 'GBP prices with and without VAT');
    assert.match((await b.get('/shop?currency=EUR')).body, /€584\.00.*excl\. VAT/s);
    assert.deepEqual(setCookies(shop), []);
    assert.doesNotMatch(shop.body, /href="\/basket"/, 'no basket link before there is a basket');
    const res = await addToBasket(b, 'ms-10');
    assert.equal(res.statusCode, 303);
    const cookies = setCookies(res);
    assert.equal(cookies.length, 1);
    assert.match(cookies[0]!, /^kw_basket=[A-Za-z0-9_-]{43};/);
    assert.doesNotMatch(cookies[0]!, /Max-Age|Expires/i, 'dies with the browser');
    const decl = buildRegistry().cookies.find((c) => c.name === 'kw_basket')!;
    assert.equal(decl.persistence, 'browser_session');
    assert.match(cookies[0]!, /HttpOnly/);
    assert.match(cookies[0]!, /SameSite=Lax/);
    assert.deepEqual(setCookies(await addToBasket(b, 'ms-spamfilter')), [], 'no new cookie for the second item');
    assert.match((await b.get('/support')).body, /<nav aria-label="Main"><ul><li><a href="\/shop">Shop<\/a><\/li><li><a href="\/basket">Basket<\/a>/, 'every page leads back to the basket');
    const basket = await b.get('/basket');
    assert.match(basket.body, /Mail Server, 10 users/);
    assert.match(basket.body, /Spam filter updates/);
    b.closeBrowser();
    assert.match((await b.get('/basket')).body, /Your basket is empty/, 'closing the browser loses the basket');
  });

  test('quantities, removal, currency and coupons', async () => {
    const b = new TestBrowser(t.app);
    await addToBasket(b, 'ms-5', '2');
    const basket = await t.modules.orders.baskets.find(b.cookies.get('kw_basket')!.value);
    const line = basket!.lines[0]!;
    await b.get('/basket');
    await b.post('/basket/update', { line_id: line.id, quantity: '3' });
    await b.post('/basket/coupon', { coupon: 'welcome10' });
    let page = await b.get('/basket');
    assert.match(page.body, /£807\.30/, '3 × £299 less 10%');
    assert.equal((await b.post('/basket/coupon', { coupon: 'NOPE' })).statusCode, 400);
    await b.get('/basket');
    await b.post('/basket/currency', { currency: 'USD' });
    page = await b.get('/basket');
    assert.match(page.body, /\$1,026\.00/, "USD list price 3 × $380 less 10%");
    await b.get('/basket');
    const removed = await b.post('/basket/remove', { line_id: line.id });
    assert.match(setCookies(removed).join(), /kw_basket=;/, 'an emptied basket clears its cookie');
    assert.equal(await t.modules.orders.baskets.find(basket!.row.id), null);
  });

  test('bad input gets a clear error and changes nothing', async () => {
    const b = new TestBrowser(t.app);
    const before = [await count('baskets'), await count('basket_lines')];
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ quantity: '-1' }, /whole numbers from 1 to 100/], [{ quantity: '0' }, /whole numbers/], [{ quantity: '1.5' }, /whole numbers/],
      [{ quantity: '101' }, /whole numbers/], [{ quantity: 'lots' }, /whole numbers/],
      [{ plan_id: 'no-such-plan' }, /not in the catalogue/], [{ currency: 'JPY' }, /GBP, EUR or USD/],
      [{ unit_price: '1' }, /./], [{ price: '0.01' }, /./], [{ total: '1' }, /./],
    ];
    for (const [fields, message] of cases) {
      await b.get('/shop');
      const res = await b.post('/basket/add', { plan_id: await planIdBySku(t.k.db, 'ms-10'), quantity: '1', currency: 'GBP', ...fields });
      assert.equal(res.statusCode, 400, JSON.stringify(fields));
      assert.match(res.body, message);
      assert.doesNotMatch(res.body, /at \w+ \(|stack/i, 'no stack trace');
      assert.deepEqual(setCookies(res), [], 'no cookie');
    }
    assert.deepEqual([await count('baskets'), await count('basket_lines')], before);
  });

  test('an upgrade needs one of your own licences on the right tier', async () => {
    const b = new TestBrowser(t.app);
    const res = await addToBasket(b, 'ms-up-5-10');
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /your own licences/);
    const c = await signedInCustomer('upgrader@example.com');
    assert.equal((await addToBasket(c, 'ms-up-5-10', '1', { licence_id: 'someone-elses' })).statusCode, 400);
  });
});

describe('checkout', () => {
  test('create an account on the way, bank transfer, pro forma, staff marks paid: invoice, licences and email', async () => {
    const b = new TestBrowser(t.app);
    await addToBasket(b, 'ms-10', '2');
    await addToBasket(b, 'ms-spamfilter', '2');
    await b.get('/basket');
    await b.post('/basket/coupon', { coupon: 'WELCOME10' });
    const form = await b.get('/checkout');
    assert.equal(form.statusCode, 200);
    assert.match(form.body, /Create your account|Choose a password/);
    const res = await b.post('/checkout', { ...hidden(b), name: 'Ada Buyer', email: 'ada@buyer.example', password: 'a long enough password', ...UK, payment_method: 'bank_transfer' });
    assert.equal(res.statusCode, 303, /error-summary.*?<\/div>/s.exec(res.body)?.[0] ?? res.body.slice(0, 500));
    const id = reviewId(res.headers.location)!;
    assert.ok(id);
    const cookies = setCookies(res).join('\n');
    assert.match(cookies, /kw_session=/, 'signed in after creating the account');
    assert.match(cookies, /kw_basket=;/, 'the basket is gone');
    const review = await b.get(`/checkout/review/${id}`);
    assert.match(review.body, /UK VAT at 20%/);
    // 2 × £499 − 10% = £898.20; 2 × £99 − 10% = £178.20; net £1,076.40, VAT £215.28, total £1,291.68.
    assert.match(review.body, /£1,076\.40/);
    assert.match(review.body, /£215\.28/);
    assert.match(review.body, /£1,291\.68/);
    const pay = await b.post(`/checkout/pay/${id}`, {});
    assert.equal(pay.statusCode, 303);
    assert.equal(pay.headers.location, `/account/orders/${id}`);
    let order = (await t.k.db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirstOrThrow());
    assert.equal(order.status, 'awaiting_payment');
    assert.equal(Number(order.total_gross), 129168);
    const proforma = await t.k.db.selectFrom('mail_outbox').selectAll().where('to_addr', '=', 'ada@buyer.example').where('category', '=', 'order').executeTakeFirstOrThrow();
    assert.match(proforma.subject, /not a VAT invoice/);
    assert.match(proforma.text_body, /Sort code: 12-34-56/);
    const att = JSON.parse(proforma.attachments) as Array<{ filename: string; contentBase64: string }>;
    assert.equal(Buffer.from(att[0]!.contentBase64, 'base64').subarray(0, 5).toString(), '%PDF-');
    assert.match((await b.get(`/account/orders/${id}`)).body, /How to pay/);

    t.clock.advance(2 * 3600_000);
    const paidAt = t.clock.now();
    assert.equal(await t.modules.orders.fulfilment.markPaid(id, { kind: 'staff', id: 'staff-1' }, { provider: 'bank_transfer', providerRef: null, providerPaymentRef: null, amount: 129168, currency: 'GBP', note: 'BACS 123' }), 'paid');
    order = (await t.k.db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirstOrThrow());
    assert.equal(order.status, 'fulfilled');
    const history = await t.k.db.selectFrom('order_transitions').selectAll().where('order_id', '=', id).orderBy('at').execute();
    assert.deepEqual(history.map((h) => [h.from_status, h.to_status, h.actor_kind]), [[null, 'draft', 'customer'], ['draft', 'awaiting_payment', 'customer'], ['awaiting_payment', 'paid', 'staff'], ['paid', 'fulfilled', 'system']]);
    const licences = await t.issuer.listForCustomer(t.k.db, order.customer_id);
    assert.equal(licences.length, 2);
    for (const l of licences) {
      assert.equal(l.maxUsers, 10);
      assert.equal(l.maintenanceUntil, Date.UTC(2027, 10, 25, 12), 'a year after payment');
      // The add-on's paid end is a year after payment; the licence carries it plus the 14-day default grace period (subscriptions).
      assert.deepEqual(l.addons, [{ code: 'spamfilter', until: Date.UTC(2027, 10, 25, 12) + 14 * 86_400_000 }]);
    }
    const invoice = await t.k.db.selectFrom('invoices').selectAll().where('order_id', '=', id).executeTakeFirstOrThrow();
    assert.equal(Number(invoice.tax_point), paidAt);
    assert.equal(Number(invoice.total_tax), 21528);
    const mail = await t.k.db.selectFrom('mail_outbox').selectAll().where('to_addr', '=', 'ada@buyer.example').where('category', '=', 'invoice').executeTakeFirstOrThrow();
    assert.match(mail.subject, new RegExp(`Invoice ${invoice.number}`));
    for (const l of licences) assert.ok(mail.text_body.includes((await t.issuer.state(t.k.db)).get(l.licenceId)!.key), 'each key is in the email');
    assert.equal((JSON.parse(mail.attachments) as Array<{ filename: string }>)[0]!.filename, `invoice-${invoice.number}.pdf`);
    const pdf = await b.get(`/account/invoices/${invoice.id}/pdf`);
    assert.equal(pdf.headers['content-type'], 'application/pdf');
    assert.equal(pdf.rawPayload.subarray(0, 5).toString(), '%PDF-');
    assert.equal((await new TestBrowser(t.app).get(`/account/invoices/${invoice.id}/pdf`)).statusCode, 303, 'only its owner');

    assert.equal(await t.modules.orders.fulfilment.markPaid(id, { kind: 'staff', id: 'staff-1' }, { provider: 'bank_transfer', providerRef: null, providerPaymentRef: null, amount: 129168, currency: 'GBP', note: null }), 'already');
    assert.equal((await t.k.db.selectFrom('invoices').select('id').where('order_id', '=', id).execute()).length, 1);
    assert.equal((await t.issuer.listForCustomer(t.k.db, order.customer_id)).length, 2);
  });

  test('a double submit, in sequence or at once, makes one order', async () => {
    const b = await signedInCustomer('double@example.com');
    await addToBasket(b, 'ms-25');
    await b.get('/checkout');
    const csrf = b.csrf();
    const key = /name="checkout_key" value="([^"]+)"/.exec(b.lastHtml)![1]!;
    const version = /name="basket_version" value="([^"]+)"/.exec(b.lastHtml)![1]!;
    const fields = { _csrf: csrf, checkout_key: key, basket_version: version, ...UK, payment_method: 'bank_transfer' };
    const before = await count('orders');
    const [r1, r2, r3] = await Promise.all([b.post('/checkout', fields), b.post('/checkout', fields), b.post('/checkout', fields)]);
    const r4 = await b.post('/checkout', fields);
    const ids = new Set([r1, r2, r3, r4].map((r) => reviewId(r.headers.location)));
    assert.equal(ids.size, 1, [r1, r2, r3, r4].map((r) => `${r.statusCode} ${r.headers.location}`).join(', '));
    assert.equal(await count('orders'), before + 1);
    const id = [...ids][0]!;
    await b.get(`/checkout/review/${id}`);
    await Promise.all([b.post(`/checkout/pay/${id}`, {}), b.post(`/checkout/pay/${id}`, {})]);
    assert.equal((await t.k.db.selectFrom('payments').select('id').where('order_id', '=', id).execute()).length, 1);
    assert.equal((await t.k.db.selectFrom('mail_outbox').select('id').where('to_addr', '=', 'double@example.com').where('category', '=', 'order').execute()).length, 1, 'one pro forma');
    // The same form sent again with other details is refused with a message, not an empty basket without a word.
    const changed = await b.post('/checkout', { ...fields, billing_name: 'Someone Else' });
    assert.equal(changed.statusCode, 409);
    assert.match(changed.body, /already used for a different order/);
    assert.equal(await count('orders'), before + 1);
  });

  test('absurd VAT numbers, missing fields and tampered forms are refused and change nothing', async () => {
    const b = new TestBrowser(t.app);
    await addToBasket(b, 'ms-5');
    const before = [await count('orders'), await count('customers'), await count('baskets')];
    const attempts: Array<[Record<string, string>, RegExp]> = [
      [{ country: 'DE', vat_number: 'DE12' }, /not a VAT number in the format used in DE/],
      [{ country: 'FR', vat_number: '<script>alert(1)</script>' }, /not a VAT number/],
      [{ country: 'XX' }, /Choose your country/],
      [{ billing_name: '' }, /Enter the name to put on the invoice/],
      [{ postcode: '' }, /Enter your postcode/],
      [{ phone: 'call me' }, /telephone number/],
      [{ payment_method: 'cash' }, /payment method is not available/],
      [{ basket_version: '999' }, /basket changed/],
      [{ email: 'not-an-email' }, /valid email address/],
      [{ password: 'short' }, /at least|characters/i],
    ];
    for (const [override, message] of attempts) {
      await b.get('/checkout');
      const res = await b.post('/checkout', { ...hidden(b), name: 'Eve', email: 'eve@example.com', password: 'a long enough password', ...UK, payment_method: 'bank_transfer', ...override });
      assert.equal(res.statusCode, 400, JSON.stringify(override));
      assert.match(res.body, message, JSON.stringify(override));
    }
    // An empty form names every missing field at once, each beside its field.
    await b.get('/checkout');
    const empty = await b.post('/checkout', { ...hidden(b), payment_method: 'bank_transfer' });
    assert.equal(empty.statusCode, 400);
    for (const message of [/Enter your name/, /Enter an email address/, /at least|characters/i, /Enter the name to put on the invoice/, /Enter the first line of the address/, /Enter the town or city/, /Choose your country/, /Enter a telephone number/]) {
      assert.match(empty.body, message);
    }
    assert.ok((empty.body.match(/aria-invalid="true"/g) ?? []).length >= 8, 'each field is marked');
    for (const tampered of [{ total_gross: '1' }, { unit_net: '1' }, { price_GBP: '0.01' }] as Array<Record<string, string>>) {
      await b.get('/checkout');
      const res = await b.post('/checkout', { name: 'Eve', email: 'eve@example.com', password: 'a long enough password', ...UK, payment_method: 'bank_transfer', ...tampered });
      assert.equal(res.statusCode, 400, 'unknown fields are refused');
    }
    assert.deepEqual([await count('orders'), await count('customers'), await count('baskets')], before);
  });

  test('an EU business with a VAT number is reverse-charged; an EU consumer pays their rate', async () => {
    const b = await signedInCustomer('eu@example.com');
    await addToBasket(b, 'ms-5');
    await b.get('/checkout');
    const rc = await b.post('/checkout', { ...hidden(b), ...UK, country: 'DE', postcode: '10115', city: 'Berlin', vat_number: 'DE 123456789', payment_method: 'bank_transfer' });
    const id = reviewId(rc.headers.location)!;
    const review = await b.get(`/checkout/review/${id}`);
    assert.match(review.body, /reverse charge/);
    const o = await t.k.db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal(o.tax_treatment, 'eu_reverse_charge');
    assert.equal(Number(o.total_tax), 0);
    assert.equal(JSON.parse(o.tax_evidence).vatNumber, 'DE123456789');

    await addToBasket(b, 'ms-5');
    // An EU consumer: the telephone's country code is the second piece of location evidence, and must agree.
    const orders = (await t.k.db.selectFrom('orders').select('id').execute()).length;
    for (const phone of ['+44 20 7946 0001', '09 1234 5678']) {
      await b.get('/checkout');
      const refused = await b.post('/checkout', { ...hidden(b), ...UK, country: 'FI', postcode: '00100', city: 'Helsinki', phone, payment_method: 'bank_transfer' });
      assert.equal(refused.statusCode, 400, phone);
      assert.match(refused.body, /second sign that you are in Finland[^<]*\+358/);
      assert.match(refused.body, /id="f-phone-error"/, 'the message is beside the telephone field');
    }
    assert.equal((await t.k.db.selectFrom('orders').select('id').execute()).length, orders, 'nothing placed');
    await b.get('/checkout');
    const oss = await b.post('/checkout', { ...hidden(b), ...UK, country: 'FI', postcode: '00100', city: 'Helsinki', phone: '+358 9 1234 5678', payment_method: 'bank_transfer' });
    const o2 = await t.k.db.selectFrom('orders').selectAll().where('id', '=', reviewId(oss.headers.location)!).executeTakeFirstOrThrow();
    assert.equal(o2.tax_treatment, 'eu_oss');
    assert.equal(Number(o2.total_tax), 7625, '25.5% of £299.00 = £76.245, rounded half up');
    const evidence = JSON.parse(o2.tax_evidence);
    assert.deepEqual([evidence.billingCountry, evidence.phonePrefix, evidence.phoneCountry, evidence.evidenceAgrees], ['FI', '+358', 'FI', true]);
  });
});

describe('one basket, several tabs', () => {
  test('checkout opened in four tabs and submitted from all at once makes one order; the other tabs find the basket spent', async () => {
    const b = await signedInCustomer('tabs@example.com');
    await addToBasket(b, 'ms-10');
    const forms = [];
    for (let i = 0; i < 4; i++) {
      await b.get('/checkout');
      forms.push({ _csrf: b.csrf(), ...hidden(b), ...UK, payment_method: 'bank_transfer' });
    }
    assert.equal(new Set(forms.map((f) => f.checkout_key)).size, 4, 'each tab has its own key');
    const res = await Promise.all(forms.map((f) => b.post('/checkout', f)));
    const placed = res.filter((r) => reviewId(r.headers.location));
    assert.equal(placed.length, 1, res.map((r) => `${r.statusCode} ${r.headers.location ?? ''}`).join(', '));
    assert.ok(res.every((r) => r === placed[0] || r.statusCode === 409), res.map((r) => r.statusCode).join(','));
    const orders = await t.k.db.selectFrom('orders').select('id').where('customer_id', '=', 'c-tabs@example.com').execute();
    assert.equal(orders.length, 1);
    // Coming back with no address in the profile: the last order's address is filled in.
    await addToBasket(b, 'ms-spamfilter');
    const again = await b.get('/checkout');
    assert.match(again.body, /name="line1"[^>]*value="2 Mill Lane"|value="2 Mill Lane"[^>]*name="line1"/);
    assert.match(again.body, /value="LS1 1AA"/);
  });
});

describe('two strangers, one new address', () => {
  test('two checkouts creating an account for the same address at once: one account, and the other buyer is not signed in to it', async () => {
    const buyers = [new TestBrowser(t.app), new TestBrowser(t.app)];
    for (const b of buyers) { await addToBasket(b, 'ms-10'); await b.get('/checkout'); }
    const names = ['First Twin', 'Second Twin'];
    const res = await Promise.all(buyers.map((b, i) => b.post('/checkout', {
      ...hidden(b), name: names[i]!, email: 'twin.buyer@example.com', password: `twin password number ${i}`,
      ...UK, billing_name: names[i]!, payment_method: 'bank_transfer',
    })));
    const won = res.map((r) => r.statusCode === 303);
    assert.equal(won.filter(Boolean).length, 1, `one account is made: ${res.map((r) => r.statusCode).join(',')}`);
    const loser = res[won.indexOf(false)]!;
    assert.equal(loser.statusCode, 400);
    assert.match(loser.body, /already an account with this email address/);
    assert.doesNotMatch(setCookies(loser).join('\n'), /kw_session=[^;]/, 'the other buyer gets no session');
    const account = await t.k.db.selectFrom('customers').select(['id', 'name']).where('email', '=', 'twin.buyer@example.com').execute();
    assert.equal(account.length, 1);
    assert.equal(account[0]!.name, names[won.indexOf(true)]);
    const orders = await t.k.db.selectFrom('orders').select('billing_name').where('customer_id', '=', account[0]!.id).execute();
    assert.deepEqual(orders.map((o) => o.billing_name), [names[won.indexOf(true)]], 'only the owner\'s order is in the account');
  });
});
