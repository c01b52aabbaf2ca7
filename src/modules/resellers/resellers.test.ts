import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_DIALECT } from '../../kernel/testing/db.js';
import type { TestBrowser } from '../../kernel/testing/http.js';
import { shopTestApp, planIdBySku, type ShopTestApp } from '../orders/testing.js';
import { staffBrowser, customerBrowser } from '../newsletter/testing.js';
import { parseRange } from '../accounting/index.js';
import type { IssueLicenceRequest } from '../orders/index.js';

let t: ShopTestApp;
let owner: TestBrowser;
let alpha: { b: TestBrowser; id: string };
let beta: { b: TestBrowser; id: string };
let plain: { b: TestBrowser; id: string };
const issued: IssueLicenceRequest[] = [];
let ms5 = '';
let listPrice = 0;

const BILLING = { billing_name: 'Rex Seller', company: 'Alpha Licensing Ltd', line1: '1 Trade Street', line2: '', city: 'York', region: '', postcode: 'YO1 1AA', country: 'GB', phone: '+44 1904 000000', vat_number: '' };
const END = { end_name: 'Edna End', end_company: 'End User GmbH', end_email: 'edna@enduser.example', end_country: 'DE' };

async function order(who: TestBrowser, extra: Record<string, string> = {}) {
  const form = await who.get('/account/reseller/order');
  assert.equal(form.statusCode, 200);
  const key = /name="checkout_key" value="([^"]+)"/.exec(form.body)![1]!;
  return { key, res: await who.post('/account/reseller/order', { plan_id: ms5, quantity: '2', ...END, ...BILLING, checkout_key: key, ...extra }) };
}

before(async () => {
  t = await shopTestApp();
  const inner = t.issuer.issue.bind(t.issuer);
  t.issuer.issue = async (trx, req) => { issued.push(req); return inner(trx, req); };
  owner = await staffBrowser(t, 'owner');
  alpha = await customerBrowser(t, 'rex@alpha.example');
  beta = await customerBrowser(t, 'bea@beta.example');
  plain = await customerBrowser(t, 'cora@plain.example');
  ms5 = await planIdBySku(t.k.db, 'ms-5');
  listPrice = Number((await t.k.db.selectFrom('catalog_prices').select('amount').where('plan_id', '=', ms5).where('currency', '=', 'GBP').executeTakeFirstOrThrow()).amount);
});
after(async () => { await t.close(); });

describe(`resellers (${TEST_DIALECT})`, () => {
  test('staff make customer accounts resellers: discount and terms, or a price list; bad input is re-shown; support staff may not', async () => {
    await owner.get('/admin/resellers');
    const bad = await owner.post('/admin/resellers', { email: 'rex@alpha.example', public_name: 'Alpha Licensing Ltd', discount_percent: '150', payment_terms_days: '30', currency: 'GBP', status: 'active', public_url: '', public_country: '' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /discount must be a whole number from 0 to 90/);
    const unknown = await owner.post('/admin/resellers', { email: 'nobody@nowhere.example', public_name: 'X', discount_percent: '10', payment_terms_days: '30', currency: 'GBP', status: 'active', public_url: '', public_country: '' });
    assert.equal(unknown.statusCode, 400);
    assert.match(unknown.body, /No customer account/);
    const ok = await owner.post('/admin/resellers', { email: 'rex@alpha.example', public_name: 'Alpha Licensing Ltd', discount_percent: '20', payment_terms_days: '30', currency: 'GBP', status: 'active', public_url: 'https://alpha.example', public_country: 'GB' });
    assert.equal(ok.statusCode, 303);
    assert.equal(ok.headers.location, `/admin/resellers/${alpha.id}`);
    await owner.get('/admin/resellers');
    assert.equal((await owner.post('/admin/resellers', { email: 'bea@beta.example', public_name: 'Beta Software Shop', discount_percent: '0', payment_terms_days: '0', currency: 'GBP', status: 'active', public_url: '', public_country: '' })).statusCode, 303);
    await owner.get(`/admin/resellers/${beta.id}`);
    const badPrice = await owner.post(`/admin/resellers/${beta.id}/prices`, { sku: 'ms-5', amount: '-3' });
    assert.equal(badPrice.statusCode, 400);
    assert.equal((await owner.post(`/admin/resellers/${beta.id}/prices`, { sku: 'ms-5', amount: '100.00' })).statusCode, 200);
    assert.equal(Number((await t.k.db.selectFrom('reseller_prices').select('unit_net').where('reseller_id', '=', beta.id).executeTakeFirstOrThrow()).unit_net), 10000);
    // A renewal or add-on price would never apply (resellers order new licences): refused, nothing stored.
    await owner.get(`/admin/resellers/${beta.id}`);
    const renewalPrice = await owner.post(`/admin/resellers/${beta.id}/prices`, { sku: 'ms-antivirus', amount: '10.00' });
    assert.equal(renewalPrice.statusCode, 400);
    assert.match(renewalPrice.body, /for new licences only/);
    assert.equal((await t.k.db.selectFrom('reseller_prices').select('plan_id').where('reseller_id', '=', beta.id).execute()).length, 1);
    const support = await staffBrowser(t, 'support');
    assert.equal((await support.get('/admin/resellers')).statusCode, 403);
  });

  test('a reseller on net 30 orders for an end customer: discounted, invoiced to the reseller at once with a due date, licences carry the end customer; a resubmit makes nothing new', async () => {
    const before = issued.length;
    const { key, res } = await order(alpha.b);
    assert.equal(res.statusCode, 303, res.body);
    const orderId = String(res.headers.location).split('/').pop()!;
    const o = await t.k.db.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirstOrThrow();
    assert.equal(o.channel, 'reseller');
    assert.equal(o.reseller_id, alpha.id);
    assert.equal(o.customer_id, alpha.id);
    assert.equal(o.status, 'awaiting_payment');
    assert.equal(Number(o.total_net), Math.round(listPrice * 2 * 0.8), '20% off the list price');
    const inv = await t.k.db.selectFrom('invoices').selectAll().where('order_id', '=', orderId).executeTakeFirstOrThrow();
    assert.equal(inv.customer_id, alpha.id);
    assert.equal(inv.buyer_company, 'Alpha Licensing Ltd');
    assert.match(inv.payment_note ?? '', /within 30 days/);
    assert.equal(issued.length - before, 2, 'two licences');
    for (const r of issued.slice(before)) { assert.equal(r.customerEmail, END.end_email); assert.equal(r.customerId, alpha.id); assert.equal(r.orderId, orderId); }
    // Their support terms are subscriptions from now, as for a paid order: reminded, renewable, listed.
    const sold = (await t.k.db.selectFrom('order_lines').select('licence_ids').where('order_id', '=', orderId).execute()).flatMap((l) => JSON.parse(l.licence_ids) as string[]);
    const subsOf = () => t.k.db.selectFrom('subscriptions').select(['licence_id', 'item', 'customer_id', 'period_start', 'period_end', 'renewal_mode', 'last_order_id']).where('licence_id', 'in', sold).orderBy('licence_id').execute();
    const subs = await subsOf();
    assert.deepEqual(subs.map((s) => [s.licence_id, s.item, s.customer_id, s.renewal_mode, s.last_order_id]), [...sold].sort().map((id) => [id, 'support', alpha.id, 'invoice', orderId]));
    assert.ok(subs.every((s) => Number(s.period_start) === t.clock.now() && Number(s.period_end) > t.clock.now()));
    const mail = await t.k.db.selectFrom('mail_outbox').select(['to_addr', 'subject', 'attachments']).execute();
    const invoiceMail = mail.filter((m) => m.subject.includes(String(inv.number)) || m.attachments.includes(String(inv.number)));
    assert.ok(invoiceMail.length >= 1, 'the invoice is emailed');
    assert.ok(invoiceMail.every((m) => m.to_addr === 'rex@alpha.example'), 'to the reseller, not the end customer');
    assert.ok(!mail.some((m) => m.to_addr === END.end_email));
    // The same form again finds the same order.
    const again = await alpha.b.post('/account/reseller/order', { plan_id: ms5, quantity: '2', ...END, ...BILLING, checkout_key: key });
    assert.equal(again.headers.location, `/account/reseller/sales/${orderId}`);
    assert.equal((await t.k.db.selectFrom('orders').select('id').where('reseller_id', '=', alpha.id).execute()).length, 1);
    assert.equal(issued.length - before, 2);
    // The sale page shows the end customer, the licences and the invoice.
    const sale = await alpha.b.get(`/account/reseller/sales/${orderId}`);
    assert.equal(sale.statusCode, 200);
    assert.match(sale.body, /Edna End/);
    assert.match(sale.body, new RegExp(`/account/invoices/${inv.id}/pdf`));
    const licenceIds = (await t.k.db.selectFrom('order_lines').select('licence_ids').where('order_id', '=', orderId).execute()).flatMap((l) => JSON.parse(l.licence_ids) as string[]);
    assert.equal(licenceIds.length, 2);
    for (const id of licenceIds) assert.ok(sale.body.includes((await t.issuer.find(t.k.db, id))!.label), 'each licence sold is shown');
    // Accounting: due 30 days after issue (Xero), "Net 30" (QuickBooks).
    const range = parseRange('2000-01-01', new Date(t.clock.now()).toISOString().slice(0, 10));
    const qbo = await t.modules.accounting.exports.text('quickbooks', range);
    const row = qbo.split('\r\n').find((l) => l.startsWith(`${inv.number},`))!;
    assert.match(row, /,Net 30,/);
    const d = (ms: number) => { const x = new Date(ms); return `${String(x.getUTCDate()).padStart(2, '0')}/${String(x.getUTCMonth() + 1).padStart(2, '0')}/${x.getUTCFullYear()}`; };
    assert.ok(row.includes(`${d(Number(inv.issue_date))},${d(Number(inv.issue_date) + 30 * 86_400_000)}`));
    // An invoiced order is not cancelled (its invoice and licences exist).
    await assert.rejects(t.modules.orders.payments.cancel(orderId, { kind: 'staff', id: null }, 'test'), (e: { code?: string }) => e.code === 'ORD_INVALID_INPUT');
    // Payment later: recorded, order fulfilled, nothing issued twice.
    assert.equal(await t.modules.orders.fulfilment.markPaid(orderId, { kind: 'staff', id: null }, { provider: 'bank_transfer', providerRef: null, providerPaymentRef: null, amount: Number(o.total_gross), currency: 'GBP', note: null }), 'paid');
    assert.equal((await t.k.db.selectFrom('orders').select('status').where('id', '=', orderId).executeTakeFirstOrThrow()).status, 'fulfilled');
    assert.equal((await t.k.db.selectFrom('invoices').select('id').where('order_id', '=', orderId).execute()).length, 1);
    assert.equal(issued.length - before, 2);
    assert.equal((await t.k.db.selectFrom('payments').select('status').where('order_id', '=', orderId).executeTakeFirstOrThrow()).status, 'succeeded');
    assert.deepEqual(await subsOf(), subs, 'the payment moves no term: it was counted when invoiced');
  });

  test('a reseller with a price list and no terms pays first: its price, no invoice until paid', async () => {
    const before = issued.length;
    const { res } = await order(beta.b, { end_name: 'Bruno Buyer', end_email: 'bruno@enduser.example', end_company: '' });
    assert.equal(res.statusCode, 303, res.body);
    const orderId = String(res.headers.location).split('/').pop()!;
    const o = await t.k.db.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirstOrThrow();
    assert.equal(Number(o.total_net), 20000, 'the price list, 2 × 100.00');
    assert.equal(o.status, 'awaiting_payment');
    assert.equal((await t.k.db.selectFrom('invoices').select('id').where('order_id', '=', orderId).execute()).length, 0);
    assert.equal(issued.length, before);
    await t.modules.orders.fulfilment.markPaid(orderId, { kind: 'staff', id: null }, { provider: 'bank_transfer', providerRef: null, providerPaymentRef: null, amount: Number(o.total_gross), currency: 'GBP', note: null });
    assert.equal(issued.length - before, 2);
    assert.ok(issued.slice(before).every((r) => r.customerEmail === 'bruno@enduser.example'));
  });

  test('bad order input is re-shown with a message; unknown fields are refused', async () => {
    for (const [extra, msg] of [[{ end_email: 'not-an-email' }, /end customer's email/], [{ quantity: '0' }, /quantity/], [{ end_country: 'XX' }, /end customer's country/], [{ plan_id: 'nope' }, /Choose a product/], [{ line1: '' }, /first line of the address/]] as const) {
      const { res } = await order(alpha.b, extra as Record<string, string>);
      assert.equal(res.statusCode, 400);
      assert.match(res.body, msg);
    }
    const { res } = await order(alpha.b, { reseller_id: beta.id });
    assert.equal(res.statusCode, 400, 'a planted reseller_id is refused by the schema');
    assert.equal((await t.k.db.selectFrom('orders').select('id').where('reseller_id', '=', beta.id).execute()).length, 1);
  });

  test('a reseller sees only its own end customers: other ids in URLs show nothing', async () => {
    const alphaSale = (await t.k.db.selectFrom('reseller_sales').select('order_id').where('reseller_id', '=', alpha.id).executeTakeFirstOrThrow()).order_id;
    const betaSale = (await t.k.db.selectFrom('reseller_sales').select('order_id').where('reseller_id', '=', beta.id).executeTakeFirstOrThrow()).order_id;
    const betaInvoice = (await t.k.db.selectFrom('invoices').select('id').where('order_id', '=', betaSale).executeTakeFirstOrThrow()).id;
    const home = await alpha.b.get('/account/reseller');
    assert.match(home.body, /Edna End/);
    assert.doesNotMatch(home.body, /Bruno Buyer/);
    const other = await alpha.b.get(`/account/reseller/sales/${betaSale}`);
    assert.equal(other.statusCode, 404);
    assert.doesNotMatch(other.body, /Bruno/);
    assert.equal((await alpha.b.get(`/account/invoices/${betaInvoice}/pdf`)).statusCode, 404);
    assert.equal((await alpha.b.get(`/account/orders/${betaSale}`)).statusCode, 404);
    assert.equal((await beta.b.get(`/account/reseller/sales/${alphaSale}`)).statusCode, 404);
    // Not a reseller: refused, with a stable code in JSON.
    assert.equal((await plain.b.get('/account/reseller')).statusCode, 403);
    assert.equal((await plain.b.get(`/account/reseller/sales/${alphaSale}`)).statusCode, 403);
    const json = await plain.b.get('/account/reseller', { accept: 'application/json' });
    assert.equal(JSON.parse(json.body).error.code, 'RSL_NOT_A_RESELLER');
    await plain.b.get('/account');
    assert.equal((await plain.b.post('/account/reseller/order', { plan_id: ms5, quantity: '1', ...END, ...BILLING, checkout_key: 'k'.repeat(32) })).statusCode, 403);
    // Signed out: to the sign-in page.
    const anon = await t.app.inject({ method: 'GET', url: `/account/reseller/sales/${alphaSale}` });
    assert.equal(anon.statusCode, 303);
  });

  test('the public resellers page lists only resellers whose permission is in the consent ledger, and drops them when withdrawn', async () => {
    assert.doesNotMatch((await t.app.inject({ method: 'GET', url: '/resellers' })).body, /Alpha Licensing Ltd/);
    await alpha.b.get('/account/reseller');
    assert.equal((await alpha.b.post('/account/reseller/listing', { listed: '1' })).statusCode, 200);
    const ledger = await t.k.db.selectFrom('newsletter_consent_events').selectAll().where('email', '=', 'rex@alpha.example').orderBy('at').execute();
    assert.equal(ledger.length, 1);
    assert.equal(ledger[0]!.list_id, 'reseller_directory');
    assert.equal(ledger[0]!.action, 'opt_in');
    assert.match(ledger[0]!.wording, /List Alpha Licensing Ltd on .*public resellers page/);
    assert.equal(ledger[0]!.source, 'account_page');
    const listed = (await t.app.inject({ method: 'GET', url: '/resellers' })).body;
    assert.match(listed, /href="https:\/\/alpha\.example"[^>]*>Alpha Licensing Ltd</);
    assert.doesNotMatch(listed, /Beta Software Shop/, 'no permission, no listing');
    // Suspended resellers are not listed even with permission.
    await owner.get(`/admin/resellers/${alpha.id}`);
    assert.equal((await owner.post(`/admin/resellers/${alpha.id}`, { public_name: 'Alpha Licensing Ltd', public_url: 'https://alpha.example', public_country: 'GB', discount_percent: '20', payment_terms_days: '30', currency: 'GBP', status: 'suspended' })).statusCode, 200);
    assert.doesNotMatch((await t.app.inject({ method: 'GET', url: '/resellers' })).body, /Alpha Licensing Ltd/);
    assert.equal((await alpha.b.get('/account/reseller')).statusCode, 403, 'a suspended reseller cannot order');
    await owner.get(`/admin/resellers/${alpha.id}`);
    await owner.post(`/admin/resellers/${alpha.id}`, { public_name: 'Alpha Licensing Ltd', public_url: 'https://alpha.example', public_country: 'GB', discount_percent: '20', payment_terms_days: '30', currency: 'GBP', status: 'active' });
    assert.match((await t.app.inject({ method: 'GET', url: '/resellers' })).body, /Alpha Licensing Ltd/);
    // Withdrawn: gone at once; the ledger keeps both entries.
    t.clock.advance(1000);
    await alpha.b.get('/account/reseller');
    assert.equal((await alpha.b.post('/account/reseller/listing', { listed: '0' })).statusCode, 200);
    assert.doesNotMatch((await t.app.inject({ method: 'GET', url: '/resellers' })).body, /Alpha Licensing Ltd/);
    const after = await t.k.db.selectFrom('newsletter_consent_events').select('action').where('email', '=', 'rex@alpha.example').orderBy('at').execute();
    assert.deepEqual(after.map((r) => r.action), ['opt_in', 'unsubscribe']);
    // Staff cannot list a reseller: there is no such form, and the listing form needs the reseller's session.
    assert.equal((await alpha.b.post('/account/reseller/listing', { _csrf: null, listed: '1' })).statusCode, 403);
    assert.doesNotMatch((await t.app.inject({ method: 'GET', url: '/resellers' })).body, /Alpha Licensing Ltd/);
  });
});
