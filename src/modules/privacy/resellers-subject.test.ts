import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { testKernel, type TestKernel } from '../../kernel/testing/db.js';
import { buildRegistry } from './registry.js';
import { eraseSubject, subjectAccess } from './subject-rights.js';
import { plantEverywhere, type PlantSubject } from './testing.js';

/**
 * Subject rights where resellers are involved: a reseller's export shows its sales without the details of
 * the end customers (other people), an end customer's export shows the sale made for them, erasing the end
 * customer leaves the reseller's licence with the reseller, and erasing the reseller's account keeps the
 * agreement (legal claims) without its public listing.
 */
const reseller: PlantSubject = { email: 'reseller.person@example.com', customerId: 'cust-reseller', licenceId: 'lic-reseller', key: 'r' };
const endEmail = 'erin.end@example.com';
const thirdEmail = 'theo.third@example.com';

let t: TestKernel;
before(async () => {
  t = await testKernel();
  await plantEverywhere(t.k, buildRegistry(), reseller, t.k.dbh.schema);
  const now = t.k.clock.now();
  // Two sales by the reseller, for two other people; the first one's licence is owned by the reseller.
  await t.k.db.insertInto('reseller_sales').values([
    { order_id: 'order-erin', reseller_id: reseller.customerId, end_name: 'Erin End', end_company: 'Erin Ltd', end_email: endEmail, end_country: 'GB', terms_days: 30, created_at: now },
    { order_id: 'order-theo', reseller_id: reseller.customerId, end_name: 'Theo Third', end_company: null, end_email: thirdEmail, end_country: 'FR', terms_days: 30, created_at: now },
  ]).execute();
  const lic = await t.k.db.selectFrom('licences').selectAll().where('id', '=', reseller.licenceId).executeTakeFirstOrThrow();
  await t.k.db.insertInto('licences').values({ ...lic, id: 'lic-erin', key_hash: 'erin-key-hash', customer_email: endEmail }).execute();
});
after(async () => { await t.close(); });

const text = (v: unknown) => JSON.stringify(v);

test('the reseller\'s export lists its sales but not the end customers\' details', async () => {
  const archive = await subjectAccess(t.k, reseller.email, { kind: 'staff', id: 'staff-1' });
  const sales = archive.sections.find((s) => s.table === 'reseller_sales')!;
  assert.ok(sales.records.length >= 3, 'its own planted sale and the two above');
  assert.doesNotMatch(text(sales), /Erin End|Theo Third|erin\.end@|theo\.third@/);
  // The end customers' details are nowhere else either, except the address a licence the reseller owns was
  // issued to (the reseller sees it on its licences page; the licence is the reseller's).
  const elsewhere = archive.sections.filter((s) => s.table !== 'reseller_sales' && /Erin End|Theo Third|erin\.end@|theo\.third@/.test(text(s.records)));
  assert.deepEqual(elsewhere.map((s) => s.table), ['licences']);
  assert.ok(archive.sections.some((s) => s.table === 'resellers' && s.records.length === 1));
  assert.ok(archive.sections.some((s) => s.table === 'reseller_prices' && s.records.length === 1));
});

test('the end customer\'s export holds the sale made for them and their licence, nothing of the third person', async () => {
  const archive = await subjectAccess(t.k, endEmail, { kind: 'staff', id: 'staff-1' });
  const sales = archive.sections.find((s) => s.table === 'reseller_sales')!;
  assert.equal(sales.records.length, 1);
  assert.equal(sales.records[0]!.end_name, 'Erin End');
  assert.equal(sales.records[0]!.end_email, endEmail);
  assert.ok(archive.sections.find((s) => s.table === 'licences')!.records.length === 1);
  assert.doesNotMatch(text(archive), /Theo Third|theo\.third@|reseller\.person@/);
  assert.ok(!archive.sections.some((s) => s.table === 'resellers'), 'the reseller\'s agreement is not the end customer\'s data');
});

test('erasing the end customer pseudonymises the email on the sale and keeps the licence with the reseller', async () => {
  const r = await eraseSubject(t.k, endEmail, { kind: 'staff', id: 'staff-1' });
  const sale = await t.k.db.selectFrom('reseller_sales').selectAll().where('order_id', '=', 'order-erin').executeTakeFirstOrThrow();
  assert.match(sale.end_email, /^[0-9a-f]{16}@erased\.invalid$/);
  assert.equal(sale.end_name, 'Erin End', 'kept with the order records (legal obligation)');
  const lic = await t.k.db.selectFrom('licences').select(['customer_id', 'customer_email']).where('id', '=', 'lic-erin').executeTakeFirstOrThrow();
  assert.deepEqual(lic, { customer_id: reseller.customerId, customer_email: null });
  assert.ok(r.kept.some((s) => /reseller.*pseudonym/i.test(s)), r.kept.join('\n'));
  // The other person's sale is untouched; a second run (journal re-applied) changes nothing more.
  assert.equal((await t.k.db.selectFrom('reseller_sales').select('end_email').where('order_id', '=', 'order-theo').executeTakeFirstOrThrow()).end_email, thirdEmail);
  await eraseSubject(t.k, endEmail, { kind: 'system', id: null }, { reapply: true });
  assert.equal((await t.k.db.selectFrom('reseller_sales').select('end_email').where('order_id', '=', 'order-erin').executeTakeFirstOrThrow()).end_email, sale.end_email);
});

test('erasing the reseller deletes its account, removes the listing and keeps the agreement', async () => {
  const r = await eraseSubject(t.k, reseller.email, { kind: 'staff', id: 'staff-1' });
  assert.equal((await t.k.db.selectFrom('customers').select('id').where('id', '=', reseller.customerId).execute()).length, 0);
  const row = await t.k.db.selectFrom('resellers').selectAll().where('customer_id', '=', reseller.customerId).executeTakeFirstOrThrow();
  assert.equal(row.public_name, '');
  assert.equal(row.public_url, null);
  assert.equal(row.public_country, null);
  assert.equal(row.status, 'suspended');
  assert.equal((await t.k.db.selectFrom('reseller_prices').select('plan_id').where('reseller_id', '=', reseller.customerId).execute()).length, 1);
  assert.equal((await t.k.db.selectFrom('reseller_sales').select('order_id').where('reseller_id', '=', reseller.customerId).execute()).length, 3);
  assert.ok(r.kept.some((s) => /reseller agreement.*six years/i.test(s)), r.kept.join('\n'));
  // The end customer's name on a sale the reseller made is someone else's data: not touched by the reseller's erasure.
  assert.equal((await t.k.db.selectFrom('reseller_sales').select('end_name').where('order_id', '=', 'order-theo').executeTakeFirstOrThrow()).end_name, 'Theo Third');
});
