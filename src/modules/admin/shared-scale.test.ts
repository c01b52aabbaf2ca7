import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DAY_MS } from '../../kernel/clock.js';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { buildProduct } from './testing.js';

// More licences in use than SQLite binds in one statement (32,766): the shared-licence signals, and so the
// dashboard, must still answer (they used to fail with "too many SQL variables").
const N = 33_000;
let t: TestApp;

before(async () => {
  t = await testApp();
  const product = await buildProduct(t.k);
  const now = t.clock.now();
  for (let start = 0; start < N; start += 1000) {
    const ids = Array.from({ length: Math.min(1000, N - start) }, (_, i) => `lic${String(start + i).padStart(6, '0')}`);
    await t.k.db.transaction().execute(async (trx) => {
      await trx.insertInto('licences').values(ids.map((id) => ({
        id, product_id: product, key_hash: `h-${id}`, key_sealed: 'x', customer_id: null, customer_email: null, order_id: null, status: 'active' as const,
        max_users: 10, max_machines: 1, expires_at: null, maintenance_until: null, policy: '{}', created_at: now, updated_at: now,
      }))).execute();
      // Every 1000th licence on two computers: the ones to find.
      await trx.insertInto('machines').values(ids.flatMap((id, i) => (i === 0 ? [0, 1] : [0]).map((m) => ({
        licence_id: id, computer_id: `${m}`.repeat(64), status: 'active' as const, first_seen: now - DAY_MS, last_seen: now - DAY_MS,
        last_version: '1.0.0', last_users_in_use: 1, last_ip: null,
      })))).execute();
    });
  }
});
after(async () => { await t.close(); });

test(`shared-licence signals over ${N} licences in use`, async () => {
  const shared = await t.modules.licensing.abuse.sharedLicences();
  assert.equal(shared.length, N / 1000);
  assert.ok(shared.every((s) => s.distinctComputers === 2 && /^lic\d{3}000$/.test(s.licenceId)));
});
