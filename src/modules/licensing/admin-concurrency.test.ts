// The admin API under parallel requests (spec/callhome.md, "Admin API"): identical creates answer one
// 201 and 409 for the rest, never 500; "3" and "3.0" are one content version however they race; and
// parallel PATCHes of one licence neither fail nor lose each other's policy changes. SQLite serialises
// writers by itself, so these bite on PostgreSQL.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import type { TestApp } from '../../kernel/testing/app.js';
import { isUniqueViolation } from '../../kernel/db/dialect.js';
import { duplicateOnUniqueViolation } from './licensing.errors.js';
import { licensingApp, adminUpload, createLicence, type Harness } from './testing.js';

let t: TestApp;
let h: Harness;
before(async () => {
  h = await licensingApp();
  t = h.t;
  for (const code of ['race-a', 'race-b', 'race-c']) {
    assert.equal((await h.admin('POST', '/api/v1/admin/addons', { code, name: code, product: 'mailserver' })).statusCode, 201);
  }
});
after(async () => { await t.close(); });

const PARALLEL = 12;
const json = (res: LightMyRequestResponse) => JSON.parse(res.body);
const times = <T>(n: number, f: (i: number) => Promise<T>) => Promise.all(Array.from({ length: n }, (_, i) => f(i)));

function assertOneCreated(responses: LightMyRequestResponse[]): void {
  const statuses = responses.map((r) => r.statusCode);
  assert.equal(statuses.filter((s) => s === 201).length, 1, `statuses: ${statuses.join(' ')}; ${responses.find((r) => r.statusCode >= 500)?.body ?? ''}`);
  for (const r of responses.filter((x) => x.statusCode !== 201)) {
    assert.equal(r.statusCode, 409, r.body);
    assert.equal(json(r).error.code, 'LIC_DUPLICATE');
  }
}

describe('identical creates in parallel: one 201, the rest 409', () => {
  test('products', async () => {
    assertOneCreated(await times(PARALLEL, () => h.admin('POST', '/api/v1/admin/products', { code: 'race-product', name: 'Race' })));
  });

  test('add-ons', async () => {
    assertOneCreated(await times(PARALLEL, () => h.admin('POST', '/api/v1/admin/addons', { code: 'race-addon', name: 'Race', product: 'mailserver' })));
  });

  test('releases, JSON', async () => {
    assertOneCreated(await times(PARALLEL, () => h.admin('POST', '/api/v1/admin/products/mailserver/releases', { version: '9.0.0' })));
  });

  test('releases, multipart with the installer', async () => {
    assertOneCreated(await times(PARALLEL, (i) => adminUpload(h, '/api/v1/admin/products/mailserver/releases',
      { version: '9.1.0', channel: 'beta' }, { name: 'setup.exe', content: `installer ${i}` })));
  });

  test('content packs', async () => {
    assertOneCreated(await times(PARALLEL, (i) => adminUpload(h, '/api/v1/admin/addons/race-a/content',
      { version: '2026.1' }, { name: 'pack.bin', content: `pack ${i}` })));
  });
});

describe('content versions that compare equal', () => {
  test('"3" and "3.0" (and "3.0.0") uploaded in parallel: exactly one is stored', async () => {
    // Several rounds, each on an add-on of its own, so a lost race shows even when one round happens to serialise.
    for (const [round, spellings] of [['3', '3.0'], ['3', '3.0', '3.0.0'], ['3.0', '3'], ['3', '3.0'], ['3.0.0', '3.0', '3']].entries()) {
      const code = `race-content-${round}`;
      assert.equal((await h.admin('POST', '/api/v1/admin/addons', { code, name: code, product: 'mailserver' })).statusCode, 201);
      assertOneCreated(await Promise.all(spellings.map((version) => adminUpload(h, `/api/v1/admin/addons/${code}/content`,
        { version }, { name: 'pack.bin', content: `pack ${version}` }))));
      const stored = await t.k.db.selectFrom('content_packs as c').innerJoin('addons as a', 'a.id', 'c.addon_id')
        .select('c.version').where('a.code', '=', code).execute();
      assert.equal(stored.length, 1, `stored: ${stored.map((s) => s.version).join(', ')}`);
    }
  });
});

describe('PATCH of one licence in parallel', () => {
  test('policy: each of 6 PATCHes sets another field, and all 6 are kept', async () => {
    const lic = await createLicence(h);
    const changes = [
      { enforcement: 'deny' }, { userOverage: 1.25 }, { machineInactiveDays: 11 },
      { offlineGraceDays: 12 }, { offlineFileDays: 13 }, { checkIntervalSeconds: 3600 },
    ];
    const responses = await Promise.all(changes.map((policy) => h.admin('PATCH', `/api/v1/admin/licences/${lic.key}`, { policy })));
    assert.deepEqual(responses.map((r) => r.statusCode), changes.map(() => 200), responses.find((r) => r.statusCode !== 200)?.body);
    const got = json(await h.admin('GET', `/api/v1/admin/licences/${lic.key}`));
    assert.deepEqual(got.policy, Object.assign({}, ...changes));
  });

  test('addons: 12 PATCHes with different sets all answer 200, and one of the sets is what stays', async () => {
    const lic = await createLicence(h);
    const sets = Array.from({ length: PARALLEL }, (_, i) => ['race-a', 'race-b', 'race-c', 'mailserver-spam']
      .filter((_, bit) => (i + 1) & (1 << bit))
      .map((code) => ({ code, until: `2030-01-${String(i + 1).padStart(2, '0')}T00:00:00.000Z` })));
    const responses = await Promise.all(sets.map((addons) => h.admin('PATCH', `/api/v1/admin/licences/${lic.key}`, { addons })));
    assert.deepEqual(responses.map((r) => r.statusCode), sets.map(() => 200), responses.find((r) => r.statusCode !== 200)?.body);
    const got = json(await h.admin('GET', `/api/v1/admin/licences/${lic.key}`)).addons;
    const sorted = (s: { code: string }[]) => [...s].sort((a, b) => (a.code < b.code ? -1 : 1));
    assert.ok(sets.some((s) => JSON.stringify(sorted(s)) === JSON.stringify(got)), `stored add-ons ${JSON.stringify(got)} are none of the sets sent`);
  });

  test('machine release and block in parallel with PATCHes all answer 200', async () => {
    const lic = await createLicence(h);
    const url = `/api/v1/admin/licences/${lic.key}`;
    const responses = await Promise.all([
      ...Array.from({ length: 6 }, (_, i) => h.admin('POST', `${url}/machines/${'ab'.repeat(31)}${String(i).padStart(2, '0')}/block`)),
      ...Array.from({ length: 6 }, (_, i) => h.admin('PATCH', url, { policy: { machineInactiveDays: i + 1 } })),
    ]);
    assert.deepEqual(responses.map((r) => r.statusCode), responses.map(() => 200), responses.find((r) => r.statusCode !== 200)?.body);
    const got = json(await h.admin('GET', url));
    assert.equal(got.machines.filter((m: { status: string }) => m.status === 'blocked').length, 6);
  });
});

describe('the database\'s own unique violation', () => {
  // In-process requests rarely interleave on SQLite, so the races above may not reach its error codes.
  test('a unique column and a primary key are recognised on this dialect, and become Duplicate', async () => {
    const row = { id: 'unique-probe', code: 'unique-probe', name: 'Probe', created_at: 0 };
    await t.k.db.insertInto('products').values(row).execute();
    for (const again of [{ ...row, id: 'unique-probe-2' }, { ...row, code: 'unique-probe-2' }]) {
      const err = await t.k.db.insertInto('products').values(again).execute().then(() => null, (e: unknown) => e);
      assert.ok(isUniqueViolation(err), String(err));
      await assert.rejects(t.k.db.insertInto('products').values(again).execute().catch(duplicateOnUniqueViolation('dup')), { code: 'LIC_DUPLICATE', statusCode: 409 });
    }
    assert.equal(isUniqueViolation(Object.assign(new Error('fk'), { code: '23503' })), false);
  });

  test('inside a transaction it ends the transaction, and the connection works on', async () => {
    await assert.rejects(t.k.db.transaction().execute(async (trx) => {
      await trx.insertInto('products').values({ id: 'trx-probe', code: 'trx-probe', name: 'Probe', created_at: 0 }).execute();
      await trx.insertInto('products').values({ id: 'trx-probe-2', code: 'trx-probe', name: 'Probe', created_at: 0 }).execute()
        .catch(duplicateOnUniqueViolation('dup'));
    }), { code: 'LIC_DUPLICATE' });
    assert.equal((await t.k.db.selectFrom('products').select('id').where('code', '=', 'trx-probe').execute()).length, 0);
    assertOneCreated(await times(PARALLEL, () => h.admin('POST', '/api/v1/admin/products', { code: 'after-probe', name: 'After' })));
  });
});
