// Against real licensing: an add-on bought in the shop drives content offers at POST /api/v1/callhome;
// it keeps flowing through the grace period, stops when the subscription lapses, and a renewal restores it.
// Also: the reminder job run concurrently on two "nodes" (two kernels on one database) sends each once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { silentLog, TEST_DIALECT } from '../../kernel/testing/db.js';
import { createKernel, type Kernel } from '../../kernel/context.js';
import { SELLER_SETTING, RATES_SETTING } from '../billing/index.js';
import { loadDemoCatalogue } from '../catalog/index.js';
import { adminUpload, callBody, harness, type Harness } from '../licensing/testing.js';
import { makeCustomer, planIdBySku, UK_BILLING } from '../orders/testing.js';
import { SubscriptionsService } from './subscriptions.service.js';
import { addMonths, DAY_MS } from './rules.js';

let t: TestApp;
let h: Harness;
const START = Date.parse('2026-11-25T10:00:00.000Z');
const YEAR_END = addMonths(START, 12);

before(async () => {
  t = await testApp();
  t.clock.set(START);
  h = await harness(t);
  await t.k.settings.set(SELLER_SETTING, { name: 'Example Software Ltd', address: '1 High Street\nHuddersfield HD1 1AA', vatNumber: 'GB123456789', companyNumber: '01234567' });
  await t.k.settings.set(RATES_SETTING, { EUR: 856123, USD: 790000 });
  await loadDemoCatalogue(t.k.db, START);
});
after(async () => { await t.close(); });

async function buy(customerId: string, email: string, items: Array<{ sku: string; licenceId?: string }>): Promise<string> {
  const orderId = await t.modules.orders.checkout.createForCustomer({
    customer: { id: customerId, email }, billing: UK_BILLING, currency: 'GBP', couponCode: null, paymentMethod: 'bank_transfer', channel: 'web',
    items: await Promise.all(items.map(async (i) => ({ planId: await planIdBySku(t.k.db, i.sku), quantity: 1, licenceId: i.licenceId ?? null }))),
    actor: { kind: 'customer', id: customerId }, placedByStaffId: null, checkoutKey: null, checkoutHash: null,
  });
  const o = await t.k.db.selectFrom('orders').select('total_gross').where('id', '=', orderId).executeTakeFirstOrThrow();
  await t.modules.orders.fulfilment.markPaid(orderId, { kind: 'staff', id: null }, { provider: 'bank_transfer', providerRef: null, providerPaymentRef: null, amount: Number(o.total_gross), currency: 'GBP', note: null });
  return orderId;
}

const content = async (key: string) => {
  const { status, json } = await h.call(callBody(key, { usersInUse: 3, content: { spamfilter: '2026.11.1' } }));
  assert.equal(status, 200, JSON.stringify(json));
  assert.equal(json.valid, true, `the licence itself stays valid throughout: ${JSON.stringify(json)}`);
  return { addon: json.licence.addons.find((a: { code: string }) => a.code === 'spamfilter'), offer: json.content.spamfilter };
};

describe('lapse and restore at call-home (real licensing)', () => {
  test('content flows through the grace period, stops at lapse, and a renewal brings it back', async () => {
    t.clock.set(START);
    const customerId = await makeCustomer(t.k.db, 'content@example.com', START);
    const orderId = await buy(customerId, 'content@example.com', [{ sku: 'ms-5' }, { sku: 'ms-spamfilter' }]);
    // Licensing met the product in this sale: it is named as in the catalogue, which customers see on their licences.
    const named = await t.k.db.selectFrom('products as p').innerJoin('catalog_products as c', 'c.code', 'p.code').select(['p.name', 'c.name as catalogue']).where('p.code', '=', 'mailserver').executeTakeFirstOrThrow();
    assert.equal(named.name, named.catalogue);
    const mail = await t.k.db.selectFrom('mail_outbox').select('text_body').where('to_addr', '=', 'content@example.com').where('category', '=', 'invoice').executeTakeFirstOrThrow();
    const key = /Mail Server, 5 users[^\n]*\n([A-Z0-9-]{20,})/.exec(mail.text_body)![1]!;
    const up = await adminUpload(h, '/api/v1/admin/addons/spamfilter/content', { version: '2026.11.25.1' }, { name: 'spam.pack', content: 'rules' });
    assert.equal(up.statusCode, 201, up.body);
    const sub = await t.k.db.selectFrom('subscriptions').selectAll().where('last_order_id', '=', orderId).where('item', '=', 'addon:spamfilter').executeTakeFirstOrThrow();

    let c = await content(key);
    assert.equal(c.addon.active, true);
    assert.equal(c.offer.available, true);
    assert.equal(c.addon.until, new Date(YEAR_END + 14 * DAY_MS).toISOString(), 'the licence carries the paid end plus the grace period');

    t.clock.set(YEAR_END + 13 * DAY_MS);
    c = await content(key);
    assert.equal(c.offer.available, true, 'past due, within grace: still served');

    t.clock.set(YEAR_END + 14 * DAY_MS);
    c = await content(key);
    assert.equal(c.addon.active, false);
    assert.equal(c.offer.available, false, 'lapsed: no content');

    // Renewed after lapse: a new year from the day of payment, and content is offered again at once.
    await buy(customerId, 'content@example.com', [{ sku: 'ms-spamfilter', licenceId: sub.licence_id }]);
    c = await content(key);
    assert.equal(c.addon.active, true);
    assert.equal(c.offer.available, true, 'restored');
    assert.equal(c.addon.until, new Date(addMonths(YEAR_END + 14 * DAY_MS, 12) + 14 * DAY_MS).toISOString());
  });
});

describe('reminders on several nodes', () => {
  test('two nodes running the reminder job concurrently, twice each, send each reminder once', async () => {
    t.clock.set(START);
    const emails: string[] = [];
    for (let i = 0; i < 6; i++) {
      const email = `node${i}@example.com`;
      emails.push(email);
      await buy(await makeCustomer(t.k.db, email, START), email, [{ sku: 'ms-10' }, { sku: 'ms-antivirus' }]);
    }
    // On PostgreSQL a second kernel is a second node (its own pool). SQLite is one node by design (one
    // process owns the file), so there the two concurrent runs share the kernel.
    const other: Kernel | null = TEST_DIALECT === 'postgres' ? createKernel(t.config, { clock: t.clock, log: silentLog }) : null;
    try {
      const issuer = t.modules.licensing.issuer;
      const nodeA = new SubscriptionsService(t.k, issuer);
      const nodeB = new SubscriptionsService(other ?? t.k, issuer);
      t.clock.set(YEAR_END - 7 * DAY_MS);
      const sent = await Promise.all([nodeA.runReminders(), nodeB.runReminders(), nodeA.runReminders(), nodeB.runReminders()]);
      const all = await t.k.db.selectFrom('mail_outbox').select(['to_addr', 'subject']).where('category', '=', 'renewal').execute();
      assert.equal(sent.reduce((a, b) => a + b, 0), all.length, `every send counted once (per run: ${sent.join(', ')})`);
      assert.equal(new Set(all.map((m) => `${m.to_addr} ${m.subject}`)).size, all.length, 'no reminder twice');
      const mails = all.filter((m) => emails.includes(m.to_addr));
      assert.equal(mails.length, 12, '6 customers × 2 subscriptions');
      for (const e of emails) assert.equal(mails.filter((m) => m.to_addr === e).length, 2, e);
      assert.ok(mails.every((m) => /ends in 7 days/.test(m.subject)), 'only the most urgent reminder: not the 30-day one as well');
      assert.equal((await Promise.all([nodeA.runReminders(), nodeB.runReminders()])).reduce((a, b) => a + b, 0), 0);
    } finally {
      await other?.close();
    }
  });
});
