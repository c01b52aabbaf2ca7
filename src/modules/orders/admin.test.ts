import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestBrowser } from '../../kernel/testing/http.js';
import { shopTestApp, planIdBySku, makeCustomer, UK_BILLING, type ShopTestApp } from './testing.js';

let t: ShopTestApp;
let owner: TestBrowser;
before(async () => {
  t = await shopTestApp({ demo: false });
  const link = (await t.modules.accounts.staff.firstRunLink())!;
  owner = new TestBrowser(t.app);
  const path = new URL(link).pathname;
  await owner.get(path);
  const res = await owner.post(path, { name: 'Olive Owner', email: 'olive@vendor.example', password: 'owner password 1', demo: '1' });
  assert.equal(res.statusCode, 303);
});
after(async () => { await t.close(); });

const UKF = { billing_name: 'Phone Buyer', company: 'Phone Ltd', line1: '9 Dial Road', line2: '', city: 'Hull', region: '', postcode: 'HU1 1AA', country: 'GB', phone: '+44 1482 000000', vat_number: '' };

describe('admin', () => {
  test('the first-run "demo catalogue" box loads it; the shop lists it', async () => {
    assert.ok((await t.k.db.selectFrom('catalog_plans').select('id').execute()).length >= 20);
    assert.match((await new TestBrowser(t.app).get('/shop')).body, /Keyward Demo Mail Server/);
    const nav = await owner.get('/admin');
    assert.match(nav.body, /href="\/admin\/orders"/);
    assert.match(nav.body, /href="\/admin\/catalog"/);
  });

  test('staff edit the catalogue: product, tier, plan with prices; bad input is re-shown with a message', async () => {
    await owner.get('/admin/catalog');
    const add = await owner.post('/admin/catalog/products', { name: 'Fax Server', code: 'faxserver', description: 'Faxes.' });
    assert.equal(add.statusCode, 303);
    const [productPath, query] = String(add.headers.location).split('?');
    assert.equal(query, 'done=product-added');
    assert.match((await owner.get(String(add.headers.location))).body, /Product added\./, 'the page it returns to says what was done');
    const addTier = await owner.post(`${productPath}/tiers`, { max_users: '5', label: '5 users', rank: '10' });
    assert.equal(addTier.statusCode, 303);
    assert.match((await owner.get(String(addTier.headers.location))).body, /Tier added\./);
    for (const odd of ['constructor', '__proto__', 'nonsense']) {
      const page = await owner.get(`${productPath}?done=${odd}`);
      assert.equal(page.statusCode, 200);
      assert.doesNotMatch(page.body, /class="flash/, `?done=${odd} says nothing`);
    }
    await owner.get(productPath);
    const dupRank = await owner.post(`${productPath}/tiers`, { max_users: '10', label: '10 users', rank: '10' });
    assert.equal(dupRank.statusCode, 400);
    assert.match(dupRank.body, /same order/);
    const tier = await t.k.db.selectFrom('catalog_tiers').select('id').where('product_id', '=', productPath.split('/').pop()!).execute();
    assert.equal(tier.length, 1);
    await owner.get(productPath);
    assert.equal((await owner.post(`${productPath}/editions`, { name: 'Pro', code: 'pro' })).statusCode, 303);
    await owner.get(productPath);
    const dupEdition = await owner.post(`${productPath}/editions`, { name: 'Pro again', code: 'pro' });
    assert.equal(dupEdition.statusCode, 400, 'a reused edition code is a message beside the form, not a 500');
    assert.match(dupEdition.body, /Another edition of this product has this code/);
    await owner.get(productPath);
    const badPrice = await owner.post(`${productPath}/plans`, { kind: 'perpetual', name: 'Fax 5', sku: 'fax-5', tier_id: tier.at(-1)!.id, price_GBP: '-10', price_EUR: '', price_USD: '' });
    assert.equal(badPrice.statusCode, 400);
    assert.match(badPrice.body, /amount like 199/);
    await owner.get(productPath);
    const ok = await owner.post(`${productPath}/plans`, { kind: 'perpetual', name: 'Fax 5', sku: 'fax-5', tier_id: tier.at(-1)!.id, price_GBP: '149.50', price_EUR: '', price_USD: '' });
    assert.equal(ok.statusCode, 303);
    const price = await t.k.db.selectFrom('catalog_prices').selectAll().where('plan_id', '=', await planIdBySku(t.k.db, 'fax-5')).execute();
    assert.deepEqual(price.map((p) => [p.currency, Number(p.amount)]), [['GBP', 14950]]);
  });

  test('a phone order: draft → pro forma → marked paid in the admin → invoice and licence; then a refund', async () => {
    await makeCustomer(t.k.db, 'caller@example.com', t.clock.now());
    await owner.get('/admin/orders/new');
    const bad = await owner.post('/admin/orders/new', { email: 'nobody@example.com', currency: 'GBP', plan_0: await planIdBySku(t.k.db, 'ms-50'), qty_0: '1', ...UKF });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /No customer account/);
    await owner.get('/admin/orders/new');
    const neg = await owner.post('/admin/orders/new', { email: 'caller@example.com', currency: 'GBP', plan_0: await planIdBySku(t.k.db, 'ms-50'), qty_0: '-2', ...UKF });
    assert.equal(neg.statusCode, 400);
    await owner.get('/admin/orders/new');
    const res = await owner.post('/admin/orders/new', { email: 'caller@example.com', currency: 'GBP', plan_0: await planIdBySku(t.k.db, 'ms-50'), qty_0: '1', ...UKF });
    assert.equal(res.statusCode, 303);
    const orderPath = String(res.headers.location);
    const id = orderPath.split('/').pop()!;
    const o = await t.k.db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal(o.channel, 'phone');
    assert.equal(o.status, 'draft');
    // An unknown status filter, an inherited name included, lists every order.
    for (const filter of ['nonsense', 'constructor']) assert.ok((await owner.get(`/admin/orders?status=${filter}`)).body.includes(o.reference), filter);
    const orderPage = await owner.get(orderPath);
    // The tax evidence one fact a line (a single JSON line ran out of the Buyer card).
    assert.match(orderPage.body, /<dl class="facts muted"><dt>[^<]+<\/dt><dd class="pre-wrap">/);
    // In words for staff: no internal codes or field names.
    assert.match(orderPage.body, /Tax: UK VAT\./);
    assert.match(orderPage.body, /<dt>Billing country<\/dt><dd class="pre-wrap">United Kingdom \(GB\)<\/dd>/);
    assert.doesNotMatch(orderPage.body, /uk_vat|billingCountry|rateBp|<td>customer [0-9a-f]{8}/);
    assert.doesNotMatch(orderPage.body, /<code class="mono">\{/);
    assert.match((await owner.post(`${orderPath}/proforma`, {})).body, /pro forma has been emailed/);
    const paid = await owner.post(`${orderPath}/paid`, { note: 'BACS ref 991' });
    assert.match(paid.body, /Marked paid/);
    assert.equal((await t.k.db.selectFrom('orders').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status, 'fulfilled');
    const who = await t.k.db.selectFrom('order_transitions').selectAll().where('order_id', '=', id).where('to_status', '=', 'paid').executeTakeFirstOrThrow();
    assert.equal(who.actor_kind, 'staff');
    assert.equal(who.note, 'BACS ref 991');
    assert.match(paid.body, /Invoice \d+/);
    const refund = await owner.post(`${orderPath}/refund`, { amount: '10.00', reason: 'Discount agreed on the phone', refund_key: /name="refund_key" value="([^"]+)"/.exec(owner.lastHtml)![1]! });
    assert.match(refund.body, /credit note \d+ issued/);
    const again = await owner.post(`${orderPath}/refund`, { amount: 'ten pounds', reason: 'x', refund_key: 'k'.repeat(24) });
    assert.equal(again.statusCode, 400);
    assert.match(again.body, /amount like/);
    // One refund form sent several times at once (a double click, a retry): one refund, the same answer to each.
    await owner.get(orderPath);
    const form = { _csrf: owner.csrf(), amount: '5.00', reason: 'Goodwill', refund_key: /name="refund_key" value="([^"]+)"/.exec(owner.lastHtml)![1]! };
    const burst = await Promise.all(Array.from({ length: 5 }, () => owner.post(`${orderPath}/refund`, form)));
    const notes = burst.map((r) => /credit note (\d+) issued/.exec(r.body)?.[1]);
    assert.deepEqual(burst.map((r) => r.statusCode), [200, 200, 200, 200, 200], notes.join(','));
    assert.equal(new Set(notes).size, 1, notes.join(','));
    assert.equal((await t.k.db.selectFrom('refunds').select('id').where('idempotency_key', '=', form.refund_key).execute()).length, 1);
  });

  test('VAT rates are edited in the admin and used at the next checkout', async () => {
    await owner.get('/admin/tax-rates');
    const bad = await owner.post('/admin/tax-rates', { rate_DE: 'nineteen' });
    assert.equal(bad.statusCode, 400);
    const rows = await t.k.db.selectFrom('tax_rates').selectAll().execute();
    const form = Object.fromEntries(rows.map((r) => [`rate_${r.country}`, r.country === 'DE' ? '16' : String(r.rate_bp / 100)]));
    await owner.get('/admin/tax-rates');
    assert.match((await owner.post('/admin/tax-rates', form)).body, /Saved 1 change/);
    const customerId = await makeCustomer(t.k.db, 'berlin@example.com', t.clock.now());
    const id = await t.modules.orders.checkout.createForCustomer({
      customer: { id: customerId, email: 'berlin@example.com' }, billing: { ...UK_BILLING, country: 'DE', postcode: '10115', city: 'Berlin' }, currency: 'EUR', couponCode: null,
      items: [{ planId: await planIdBySku(t.k.db, 'ms-5'), quantity: 1, licenceId: null }], paymentMethod: 'bank_transfer', channel: 'phone',
      actor: { kind: 'staff', id: null }, placedByStaffId: null, checkoutKey: null, checkoutHash: null,
    });
    const line = await t.k.db.selectFrom('order_lines').selectAll().where('order_id', '=', id).executeTakeFirstOrThrow();
    assert.equal(line.tax_rate_bp, 1600);
  });

  test('an upgrade raises the tier of the existing licence; a renewal extends support from its current end', async () => {
    const customerId = await makeCustomer(t.k.db, 'grow@example.com', t.clock.now());
    const order = async (sku: string, licenceId: string | null) => {
      const id = await t.modules.orders.checkout.createForCustomer({
        customer: { id: customerId, email: 'grow@example.com' }, billing: UK_BILLING, currency: 'GBP', couponCode: null,
        items: [{ planId: await planIdBySku(t.k.db, sku), quantity: 1, licenceId }], paymentMethod: 'bank_transfer', channel: 'phone',
        actor: { kind: 'staff', id: null }, placedByStaffId: null, checkoutKey: null, checkoutHash: null,
      });
      const o = await t.k.db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      await t.modules.orders.fulfilment.markPaid(id, { kind: 'staff', id: null }, { provider: 'bank_transfer', providerRef: null, providerPaymentRef: null, amount: Number(o.total_gross), currency: 'GBP', note: null });
      return id;
    };
    const addonsWithout = (items: Array<[string, number]>) => t.modules.orders.checkout.createForCustomer({
      customer: { id: customerId, email: 'grow@example.com' }, billing: UK_BILLING, currency: 'GBP', couponCode: null,
      items: items.map(([sku, quantity]) => ({ planId: sku, quantity, licenceId: null })), paymentMethod: 'bank_transfer', channel: 'phone',
      actor: { kind: 'staff', id: null }, placedByStaffId: null, checkoutKey: null, checkoutHash: null,
    });
    await assert.rejects(addonsWithout([[await planIdBySku(t.k.db, 'ms-spamfilter'), 1]]), /needs a licence/);
    await assert.rejects(addonsWithout([[await planIdBySku(t.k.db, 'ms-5'), 1], [await planIdBySku(t.k.db, 'ms-spamfilter'), 2]]), /one per licence/);
    await order('ms-5', null);
    const [lic] = await t.issuer.listForCustomer(t.k.db, customerId);
    const firstEnd = lic!.maintenanceUntil!;
    await assert.rejects(order('ms-up-10-25', lic!.licenceId), { code: 'ORD_LICENCE_NOT_YOURS' }, 'the upgrade must start from the licence\'s tier');
    const other = await makeCustomer(t.k.db, 'other@example.com', t.clock.now());
    await assert.rejects(t.modules.orders.checkout.createForCustomer({
      customer: { id: other, email: 'other@example.com' }, billing: UK_BILLING, currency: 'GBP', couponCode: null,
      items: [{ planId: await planIdBySku(t.k.db, 'ms-up-5-25'), quantity: 1, licenceId: lic!.licenceId }], paymentMethod: 'bank_transfer', channel: 'phone',
      actor: { kind: 'staff', id: null }, placedByStaffId: null, checkoutKey: null, checkoutHash: null,
    }), { code: 'ORD_LICENCE_NOT_YOURS' }, 'nobody upgrades someone else\'s licence');
    const up = await order('ms-up-5-25', lic!.licenceId);
    const after = await t.issuer.listForCustomer(t.k.db, customerId);
    assert.equal(after.length, 1, 'no new licence');
    assert.equal(after[0]!.maxUsers, 25);
    assert.ok(t.issuer.calls.includes('raiseTier'));
    const mail = await t.k.db.selectFrom('mail_outbox').select('text_body').where('to_addr', '=', 'grow@example.com').where('category', '=', 'invoice').execute();
    assert.ok(mail.some((m) => /now 25 users/.test(m.text_body)));
    assert.deepEqual(JSON.parse((await t.k.db.selectFrom('order_lines').select('licence_ids').where('order_id', '=', up).executeTakeFirstOrThrow()).licence_ids), [lic!.licenceId]);
    await order('ms-25-renew', lic!.licenceId);
    const renewed = await t.issuer.find(t.k.db, lic!.licenceId);
    assert.equal(renewed!.maintenanceUntil, Date.UTC(new Date(firstEnd).getUTCFullYear() + 1, new Date(firstEnd).getUTCMonth(), new Date(firstEnd).getUTCDate(), new Date(firstEnd).getUTCHours()), 'early renewal extends from the current end');
    await order('ms-antivirus', lic!.licenceId);
    assert.deepEqual((await t.issuer.find(t.k.db, lic!.licenceId))!.addons.map((a) => a.code), ['antivirus']);
  });

  test('drafts left at the review step are cancelled after a week; baskets untouched for a week are removed', async () => {
    const customerId = await makeCustomer(t.k.db, 'leaver@example.com', t.clock.now());
    const id = await t.modules.orders.checkout.createForCustomer({
      customer: { id: customerId, email: 'leaver@example.com' }, billing: UK_BILLING, currency: 'GBP', couponCode: null,
      items: [{ planId: await planIdBySku(t.k.db, 'ms-5'), quantity: 1, licenceId: null }], paymentMethod: 'bank_transfer', channel: 'web',
      actor: { kind: 'customer', id: customerId }, placedByStaffId: null, checkoutKey: null, checkoutHash: null,
    });
    await t.modules.orders.baskets.add(undefined, { planId: await planIdBySku(t.k.db, 'ms-5'), quantity: '1', currency: 'GBP' }, null);
    assert.equal(await t.modules.orders.payments.cancelStaleDrafts(), 0);
    t.clock.advance(8 * 86_400_000);
    assert.ok(await t.modules.orders.payments.cancelStaleDrafts() >= 1);
    assert.equal((await t.k.db.selectFrom('orders').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status, 'cancelled');
    assert.ok(await t.modules.orders.baskets.purgeStale() >= 1);
    assert.equal((await t.k.db.selectFrom('baskets').select('id').execute()).length, 0);
  });
});
