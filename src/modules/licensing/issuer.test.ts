// The shop's way in: licences issued and changed inside the caller's (payment's) transaction.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestApp } from '../../kernel/testing/app.js';
import { licensingApp, callBody, type Harness } from './testing.js';

let t: TestApp;
let h: Harness;
before(async () => {
  h = await licensingApp();
  t = h.t;
});
after(async () => { await t.close(); });

const request = {
  productCode: 'mailserver', maxUsers: 25, maxMachines: null, maintenanceUntil: Date.parse('2027-11-25T00:00:00Z'),
  addons: [{ code: 'mailserver-spam', until: Date.parse('2027-11-25T00:00:00Z') }],
  customerId: 'cust-1', customerEmail: 'buyer@example.com', orderId: 'order-1',
};

test('a licence issued in a committed transaction validates; in a rolled-back one it never exists', async () => {
  const issuer = t.modules.licensing.issuer;
  const { licenceId, key } = await t.k.db.transaction().execute((trx) => issuer.issue(trx, request));
  const { json } = await h.call(callBody(key));
  assert.equal(json.code, 'VALID');
  assert.deepEqual(json.machines, { active: 1, max: 1 }, 'null maxMachines is the default of one');
  assert.deepEqual(json.licence.addons, [{ code: 'mailserver-spam', until: '2027-11-25T00:00:00.000Z', active: true }]);

  await assert.rejects(t.k.db.transaction().execute(async (trx) => {
    await issuer.issue(trx, { ...request, orderId: 'order-2' });
    throw new Error('payment failed');
  }));
  assert.equal((await issuer.listForCustomer(t.k.db, 'cust-1')).length, 1);

  await t.k.db.transaction().execute(async (trx) => {
    await issuer.raiseTier(trx, licenceId, { maxUsers: null });
    await issuer.extendMaintenance(trx, licenceId, { until: Date.parse('2028-11-25T00:00:00Z') });
    await issuer.setAddon(trx, licenceId, { code: 'mailserver-spam', until: null });
  });
  const summary = await issuer.find(t.k.db, licenceId);
  assert.deepEqual({ ...summary, label: undefined }, {
    licenceId, productCode: 'mailserver', customerId: 'cust-1', maxUsers: null, maintenanceUntil: Date.parse('2028-11-25T00:00:00Z'),
    addons: [{ code: 'mailserver-spam', until: null }], status: 'active', label: undefined,
  });
  assert.equal(summary!.label, `…-${key.slice(-5)}`);
  assert.equal(await issuer.find(t.k.db, 'nope'), null);
  // A sale never fails because staff have not set a product or add-on up yet: both appear, named by code.
  await t.k.db.transaction().execute((trx) => issuer.setAddon(trx, licenceId, { code: 'new-addon', until: null }));
  assert.deepEqual((await issuer.find(t.k.db, licenceId))!.addons.map((a) => a.code), ['mailserver-spam', 'new-addon']);
  const other = await t.k.db.transaction().execute((trx) => issuer.issue(trx, { ...request, productCode: 'new-product', addons: [] }));
  assert.equal((await issuer.find(t.k.db, other.licenceId))!.productCode, 'new-product');
  await assert.rejects(t.k.db.transaction().execute((trx) => issuer.raiseTier(trx, 'nope', { maxUsers: 1 })), /No licence/);
});

test('a product licensing first meets in a sale takes the catalogue\'s name; one still named by its code takes it later; a name staff gave stays', async () => {
  const issuer = t.modules.licensing.issuer;
  const nameOf = async (code: string) => (await t.k.db.selectFrom('products').select('name').where('code', '=', code).executeTakeFirstOrThrow()).name;
  await t.k.db.transaction().execute((trx) => issuer.issue(trx, { ...request, productCode: 'faxserver', productName: 'Fax Server', addons: [] }));
  assert.equal(await nameOf('faxserver'), 'Fax Server');
  await t.k.db.transaction().execute((trx) => issuer.issue(trx, { ...request, productCode: 'pager', addons: [] }));
  assert.equal(await nameOf('pager'), 'pager', 'no name given: its code');
  await t.k.db.transaction().execute((trx) => issuer.issue(trx, { ...request, productCode: 'pager', productName: 'Pager Gateway', addons: [] }));
  assert.equal(await nameOf('pager'), 'Pager Gateway');
  await t.k.db.transaction().execute((trx) => issuer.issue(trx, { ...request, productName: 'Something Else', addons: [] }));
  assert.equal(await nameOf('mailserver'), 'Mail Server', 'named by staff (the admin API), kept');
});
