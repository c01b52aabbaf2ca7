// My account over real HTTP: the profile (invoice address and VAT number apply to future invoices only),
// password and devices (sessions and remembered devices, each revocable, and "sign out everywhere
// else"), and that another customer's invoices and devices are out of reach by changing an id.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestBrowser } from '../../kernel/testing/http.js';
import { ACCOUNT_LINKS } from './account-nav.js';
import { shopTestApp, planIdBySku, UK_BILLING, type ShopTestApp } from '../orders/testing.js';
import { buildCustomer, PASSWORD, signIn } from '../support/testing.js';

let t: ShopTestApp;
let adaId: string;
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

before(async () => {
  t = await shopTestApp();
  adaId = await buildCustomer(t, 'ada@example.com', 'Ada Lovelace');
  await buildCustomer(t, 'bob@example.com', 'Bob Builder');
});
after(async () => { await t.close(); });

/** A paid order of the customer's, so they have an invoice (issued with the billing details given). */
async function paidOrder(customerId: string, email: string) {
  const id = await t.modules.orders.checkout.createForCustomer({
    customer: { id: customerId, email }, billing: { ...UK_BILLING, name: 'Ada Lovelace', line1: '12 Old Street', city: 'Leeds', postcode: 'LS1 1AA' },
    currency: 'GBP', couponCode: null, items: [{ planId: await planIdBySku(t.k.db, 'ms-5'), quantity: 1, licenceId: null }],
    paymentMethod: 'bank_transfer', channel: 'phone', actor: { kind: 'staff', id: 'staff-1' }, placedByStaffId: 'staff-1', checkoutKey: null, checkoutHash: null,
  });
  await t.modules.orders.payments.start(id, { kind: 'staff', id: 'staff-1' });
  const o = await t.k.db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  assert.equal(await t.modules.orders.fulfilment.markPaid(id, { kind: 'staff', id: 'staff-1' }, { provider: 'bank_transfer', providerRef: null, providerPaymentRef: null, amount: Number(o.total_gross), currency: o.currency, note: null }), 'paid');
  return t.k.db.selectFrom('invoices').selectAll().where('order_id', '=', id).executeTakeFirstOrThrow();
}

const VALID = { name: 'Ada King', company: 'Analytical Engines GmbH', phone: '+49 30 1234567', line1: '1 Neue Strasse', line2: '', city: 'Berlin', region: '', postcode: '10115', country: 'DE', vat_number: 'de 123 456 789' };

describe('profile, invoice address and VAT number', () => {
  test('changes are saved and shown, but an invoice already issued keeps its address and its PDF is byte-for-byte the same', async () => {
    const inv = await paidOrder(adaId, 'ada@example.com');
    const ada = await signIn(t, 'customer', 'ada@example.com');
    const pdfBefore = await ada.get(`/account/invoices/${inv.id}/pdf`);
    assert.equal(pdfBefore.statusCode, 200);
    assert.equal(pdfBefore.rawPayload.subarray(0, 5).toString(), '%PDF-');

    await ada.get('/account/profile');
    const saved = await ada.post('/account/profile', VALID);
    assert.equal(saved.statusCode, 200, saved.body.slice(0, 500));
    assert.match(saved.body, /Your details have been saved/);
    const row = await t.k.db.selectFrom('customers').selectAll().where('id', '=', adaId).executeTakeFirstOrThrow();
    assert.deepEqual([row.name, row.company, row.address_line1, row.address_line2, row.city, row.postcode, row.country, row.vat_number],
      ['Ada King', 'Analytical Engines GmbH', '1 Neue Strasse', null, 'Berlin', '10115', 'DE', 'DE123456789']);
    const audit = await t.k.db.selectFrom('audit_log').selectAll().where('action', '=', 'customer.profile_updated').executeTakeFirstOrThrow();
    assert.equal(audit.actor_id, adaId);
    assert.ok(!audit.detail.includes('Berlin') && audit.detail.includes('city'), 'field names, not values, in the audit log');
    assert.match((await ada.get('/account')).body, /1 Neue Strasse\nBerlin\n10115\nGermany/);

    const invAfter = await t.k.db.selectFrom('invoices').selectAll().where('id', '=', inv.id).executeTakeFirstOrThrow();
    assert.deepEqual(invAfter, inv, 'the issued invoice is untouched');
    assert.match(inv.buyer_address, /12 Old Street/);
    const pdfAfter = await ada.get(`/account/invoices/${inv.id}/pdf`);
    assert.ok(Buffer.compare(pdfAfter.rawPayload, pdfBefore.rawPayload) === 0, 'the old invoice\'s PDF is unchanged');

    // A future order starts from the new details (the checkout form is prefilled from the profile).
    const next = await paidOrderFromProfile();
    assert.equal(next.buyer_vat_number, 'DE123456789');
    assert.match(next.buyer_address, /1 Neue Strasse/);
    assert.equal(next.tax_treatment, 'eu_reverse_charge');

    // Saving the same again changes nothing and records nothing.
    await ada.get('/account/profile');
    const same = await ada.post('/account/profile', { ...VALID, vat_number: 'DE123456789' });
    assert.match(same.body, /Nothing to change/);
    assert.equal((await t.k.db.selectFrom('audit_log').select('id').where('action', '=', 'customer.profile_updated').execute()).length, 1);
  });

  test('bad input re-shows the form with a clear message on the field; nothing is saved', async () => {
    const ada = await signIn(t, 'customer', 'ada@example.com');
    const before = await t.k.db.selectFrom('customers').selectAll().where('id', '=', adaId).executeTakeFirstOrThrow();
    const cases: Array<[Record<string, string>, string, RegExp]> = [
      [{ ...VALID, name: '  ' }, 'name', /Enter your name/],
      [{ ...VALID, vat_number: 'DE12' }, 'vat_number', /not a VAT number in the format used in DE/],
      [{ ...VALID, country: 'GB', postcode: '', vat_number: '' }, 'postcode', /Enter your postcode/],
      [{ ...VALID, country: '' }, 'country', /Choose your country/],
      [{ ...VALID, country: 'XX' }, 'country', /Choose your country/],
      [{ ...VALID, line1: '' }, 'line1', /first line of the address/],
      [{ ...VALID, phone: 'call me maybe' }, 'phone', /telephone number/],
      [{ ...VALID, company: 'x'.repeat(201) }, 'company', /too long/],
    ];
    for (const [form, field, message] of cases) {
      await ada.get('/account/profile');
      const res = await ada.post('/account/profile', form);
      assert.equal(res.statusCode, 400, `${field}: ${res.statusCode}`);
      assert.match(res.body, message);
      assert.match(res.body, new RegExp(`href="#f-${field}"`), `${field}: the summary links to the field`);
      assert.match(res.body, /<\/form>/);
    }
    await ada.get('/account/profile');
    const huge = await ada.post('/account/profile', { ...VALID, name: 'x'.repeat(5000) });
    assert.equal(huge.statusCode, 400, 'over the body limit is a 400, not a 500');
    await ada.get('/account/profile');
    const extra = await ada.post('/account/profile', { ...VALID, email: 'mallory@example.com' });
    assert.equal(extra.statusCode, 400, 'the email address cannot be changed through this form');
    assert.deepEqual(await t.k.db.selectFrom('customers').selectAll().where('id', '=', adaId).executeTakeFirstOrThrow(), before);
  });

  test('an empty address is allowed (a customer who never bought); signing in is needed', async () => {
    const bob = await signIn(t, 'customer', 'bob@example.com');
    await bob.get('/account/profile');
    const res = await bob.post('/account/profile', { name: 'Bob Builder', company: '', phone: '', line1: '', line2: '', city: '', region: '', postcode: '', country: '', vat_number: '' });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /Nothing to change/);
    const anon = new TestBrowser(t.app);
    assert.equal((await anon.get('/account/profile')).statusCode, 303);
    assert.equal((await anon.get('/account/security')).statusCode, 303);
  });
});

async function paidOrderFromProfile() {
  const c = await t.k.db.selectFrom('customers').selectAll().where('id', '=', adaId).executeTakeFirstOrThrow();
  const id = await t.modules.orders.checkout.createForCustomer({
    customer: { id: adaId, email: c.email },
    billing: { name: c.name, company: c.company, line1: c.address_line1!, line2: c.address_line2, city: c.city!, region: c.region, postcode: c.postcode, country: c.country!, phone: c.phone!, vatNumber: c.vat_number },
    currency: 'EUR', couponCode: null, items: [{ planId: await planIdBySku(t.k.db, 'ms-5'), quantity: 1, licenceId: null }],
    paymentMethod: 'bank_transfer', channel: 'phone', actor: { kind: 'staff', id: 'staff-1' }, placedByStaffId: 'staff-1', checkoutKey: null, checkoutHash: null,
  });
  await t.modules.orders.payments.start(id, { kind: 'staff', id: 'staff-1' });
  const o = await t.k.db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  await t.modules.orders.fulfilment.markPaid(id, { kind: 'staff', id: 'staff-1' }, { provider: 'bank_transfer', providerRef: null, providerPaymentRef: null, amount: Number(o.total_gross), currency: o.currency, note: null });
  return t.k.db.selectFrom('invoices').selectAll().where('order_id', '=', id).executeTakeFirstOrThrow();
}

/** Signs in with a given browser identity, optionally ticking Remember me. */
async function signInAs(email: string, ua: string, remember = false): Promise<TestBrowser> {
  const b = new TestBrowser(t.app, { 'user-agent': ua });
  await b.get('/account/login');
  const r = await b.post('/account/login', { email, password: PASSWORD, ...(remember ? { remember: '1' } : {}) });
  assert.equal(r.statusCode, 303);
  return b;
}
const refs = (html: string) => [...html.matchAll(/name="ref" value="([0-9a-f]{32})"/g)].map((m) => m[1]!);

describe('password and devices', () => {
  test('lists sessions and remembered devices by browser and system; each can be signed out; the current one is marked', async () => {
    const laptop = await signInAs('ada@example.com', FIREFOX);
    const phone = await signInAs('ada@example.com', IPHONE, true);
    const page = await laptop.get('/account/security');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Firefox on Linux <span class="badge ok">This device<\/span>/);
    assert.match(page.body, /Safari on iOS/);
    assert.ok(!page.body.includes('Mozilla/5.0'), 'the user agent itself is not shown or kept');
    const stored = await t.k.db.selectFrom('sessions').select('device').where('subject_id', '=', adaId).execute();
    assert.ok(stored.every((s) => s.device === null || !s.device.includes('Mozilla')));

    // The phone's session: the only "Sign out" other than ours whose device is Safari on iOS.
    const sessionsPart = page.body.split('Remembered devices')[0]!;
    const phoneRow = sessionsPart.split('<tr>').find((r) => r.includes('Safari on iOS'))!;
    const phoneRef = refs(phoneRow)[0]!;
    assert.ok(phoneRef);
    const ended = await laptop.post('/account/security/sessions/end', { ref: phoneRef });
    assert.equal(ended.statusCode, 200);
    assert.match(ended.body, /has been signed out/);
    // The phone's session is gone, but it is still remembered: it signs straight back in...
    assert.equal((await phone.get('/account')).statusCode, 200, 'the remembered device signs in again');
    // ...until the laptop forgets it too.
    const again = await laptop.get('/account/security');
    const devicesPart = again.body.split('Remembered devices')[1]!;
    const deviceRef = refs(devicesPart.split('<tr>').find((r) => r.includes('Safari on iOS'))!)[0]!;
    const sessionRef = refs(again.body.split('Remembered devices')[0]!.split('<tr>').find((r) => r.includes('Safari on iOS'))!)[0]!;
    assert.equal((await laptop.post('/account/security/devices/forget', { ref: deviceRef })).statusCode, 200);
    await laptop.get('/account/security');
    assert.equal((await laptop.post('/account/security/sessions/end', { ref: sessionRef })).statusCode, 200);
    assert.equal((await phone.get('/account')).statusCode, 303, 'signed out for good');
    await laptop.get('/account/security');
    assert.equal((await laptop.post('/account/security/devices/forget', { ref: deviceRef })).statusCode, 404, 'already forgotten');
    await laptop.get('/account/security');
    assert.equal((await laptop.post('/account/security/sessions/end', { ref: 'not-a-ref' })).statusCode, 404);
    const actions = (await t.k.db.selectFrom('audit_log').select('action').where('actor_id', '=', adaId).execute()).map((a) => a.action);
    assert.ok(actions.includes('customer.session_ended') && actions.includes('customer.remembered_device_revoked'));
  });

  test('the current session cannot be ended from the list (use Sign out)', async () => {
    const b = await signInAs('ada@example.com', FIREFOX);
    const html = (await b.get('/account/security')).body;
    const current = await t.k.db.selectFrom('sessions').select('id_hash').where('subject_id', '=', adaId).execute();
    assert.ok(current.length >= 1);
    const { rowRef } = await import('./sessions.js');
    const own = current.map((s) => rowRef(s.id_hash)).find((r) => !refs(html).includes(r));
    assert.ok(own, 'the current session has no Sign out button');
    const res = await b.post('/account/security/sessions/end', { ref: own! });
    assert.equal(res.statusCode, 400);
    assert.equal((await b.get('/account')).statusCode, 200);
  });

  test('"Sign out everywhere else" ends every other session and remembered device, and keeps this one', async () => {
    const keep = await signInAs('ada@example.com', FIREFOX, true);
    const other1 = await signInAs('ada@example.com', IPHONE, true);
    const other2 = await signInAs('ada@example.com', FIREFOX);
    await keep.get('/account/security');
    const res = await keep.post('/account/security/sign-out-others', {});
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /signed out everywhere else/);
    assert.match(res.body, /You are not signed in anywhere else/);
    assert.equal((await other1.get('/account')).statusCode, 303);
    other1.closeBrowser();
    assert.equal((await other1.get('/account')).statusCode, 303, 'the other remembered device is forgotten');
    assert.equal((await other2.get('/account')).statusCode, 303);
    assert.equal((await keep.get('/account')).statusCode, 200);
    keep.closeBrowser();
    assert.equal((await keep.get('/account')).statusCode, 200, 'this device is still remembered');
    assert.equal((await t.k.db.selectFrom('remember_tokens').select('selector').where('subject_id', '=', adaId).execute()).length, 1);
  });

  test('without the CSRF token nothing is signed out', async () => {
    const keep = await signInAs('ada@example.com', FIREFOX);
    const other = await signInAs('ada@example.com', IPHONE);
    await keep.get('/account/security');
    assert.equal((await keep.post('/account/security/sign-out-others', { _csrf: null })).statusCode, 403);
    assert.equal((await other.get('/account')).statusCode, 200);
  });

  test('once signed in, an anonymous form token (anybody can fetch one) is refused even on forms usable before sign-in', async () => {
    const ada = await signInAs('ada@example.com', FIREFOX);
    const stranger = new TestBrowser(t.app);
    await stranger.get('/account/login');
    const anonToken = stranger.csrf();
    assert.match(anonToken, /^a\./);
    const baskets = await t.k.db.selectFrom('baskets').select('id').execute();
    const res = await ada.post('/basket/add', { _csrf: anonToken, plan_id: 'x', quantity: '1', currency: 'GBP' });
    assert.equal(res.statusCode, 403);
    assert.equal((await t.k.db.selectFrom('baskets').select('id').execute()).length, baskets.length, 'no basket made');
    assert.equal((await ada.get('/account')).statusCode, 200, 'still signed in');
  });
});

describe('access control: another customer\'s invoices and devices', () => {
  test('Bob gets 404 for Ada\'s invoice PDF, and cannot sign out Ada\'s sessions or devices with her references', async () => {
    const inv = await t.k.db.selectFrom('invoices').select(['id', 'number']).where('customer_id', '=', adaId).executeTakeFirstOrThrow();
    const ada = await signInAs('ada@example.com', IPHONE, true);
    const adaPage = (await (await signInAs('ada@example.com', FIREFOX)).get('/account/security')).body;
    const adaRefs = refs(adaPage);
    assert.ok(adaRefs.length >= 2);

    const bob = await signIn(t, 'customer', 'bob@example.com');
    const pdf = await bob.get(`/account/invoices/${inv.id}/pdf`);
    assert.equal(pdf.statusCode, 404);
    assert.ok(!pdf.rawPayload.subarray(0, 5).equals(Buffer.from('%PDF-')));
    assert.match(pdf.body, /Invoice not found/);
    assert.ok(!pdf.body.includes('Ada') && !pdf.body.includes('Old Street'), 'nothing of Ada\'s invoice on the page');
    assert.ok(!(await bob.get('/account/orders')).body.includes(inv.id));
    const orderRow = await t.k.db.selectFrom('invoices').select(['order_id', 'order_reference']).where('id', '=', inv.id).executeTakeFirstOrThrow();
    const peek = await bob.get(`/account/orders/${orderRow.order_id}`);
    assert.equal(peek.statusCode, 404, 'nor her order');
    assert.ok(!peek.body.includes(orderRow.order_reference) && !peek.body.includes('Old Street'));

    // A credit note is a PDF for its owner from the same list, and the same 404 for anyone else.
    const order = await t.k.db.selectFrom('invoices').select('order_id').where('id', '=', inv.id).executeTakeFirstOrThrow();
    const { creditNoteNumber } = await t.modules.orders.payments.refund(order.order_id, 1000, 'Goodwill', 'staff-1', 'refund-key-1');
    const credit = await t.k.db.selectFrom('invoices').select('id').where('number', '=', creditNoteNumber).executeTakeFirstOrThrow();
    const list = (await ada.get('/account/orders')).body;
    assert.match(list, new RegExp(`Credit note ${creditNoteNumber}<`));
    assert.match(list, new RegExp(`href="/account/invoices/${credit.id}/pdf"`));
    const mine = await ada.get(`/account/invoices/${credit.id}/pdf`);
    assert.equal(mine.statusCode, 200);
    assert.equal(mine.rawPayload.subarray(0, 5).toString(), '%PDF-');
    assert.match(String(mine.headers['content-disposition']), new RegExp(`credit-note-${creditNoteNumber}\\.pdf`));
    assert.equal((await bob.get(`/account/invoices/${credit.id}/pdf`)).statusCode, 404);
    assert.equal((await bob.get('/account/invoices/not-an-id/pdf')).statusCode, 404);

    const before = await t.k.db.selectFrom('sessions').select('id_hash').where('subject_id', '=', adaId).execute();
    const rememberedBefore = await t.k.db.selectFrom('remember_tokens').select('selector').where('subject_id', '=', adaId).execute();
    for (const ref of adaRefs) {
      await bob.get('/account/security');
      assert.equal((await bob.post('/account/security/sessions/end', { ref })).statusCode, 404);
      await bob.get('/account/security');
      assert.equal((await bob.post('/account/security/devices/forget', { ref })).statusCode, 404);
    }
    assert.deepEqual(await t.k.db.selectFrom('sessions').select('id_hash').where('subject_id', '=', adaId).execute(), before);
    assert.deepEqual(await t.k.db.selectFrom('remember_tokens').select('selector').where('subject_id', '=', adaId).execute(), rememberedBefore);
    assert.equal((await ada.get('/account')).statusCode, 200);
    assert.ok(!(await bob.get('/account/security')).body.includes('Safari on iOS'), 'Bob does not see Ada\'s devices');
  });
});

describe('My account navigation', () => {
  test('every My-account page shows the account navigation, with itself marked as the current page', async () => {
    const ada = await signIn(t, 'customer', 'ada@example.com');
    for (const { href } of ACCOUNT_LINKS) {
      const res = await ada.get(href);
      assert.equal(res.statusCode, 200, href);
      assert.match(res.body, /<nav aria-label="My account"/, `${href} shows the navigation`);
      assert.ok(res.body.includes(`<a href="${href}" aria-current="page">`), `${href} is marked current`);
    }
  });
});
