// Abuse signals, the IP retention job, and signing-key rotation as call-home clients see it.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { DAY_MS } from '../../kernel/clock.js';
import { listPublicKeys, rotateSigningKey } from '../../kernel/crypto/signing.js';
import { truncateOldIps } from './retention.js';
import { assertSigned, callBody, computerId, createLicence, harness, seedProduct, type Harness } from './testing.js';

let t: TestApp;
let h: Harness;
const START = Date.parse('2026-11-25T10:00:00.000Z');
before(async () => {
  t = await testApp();
  h = await harness(t);
  await seedProduct(h);
});
after(async () => { await t.close(); });

describe('abuse signals', () => {
  test('a key used on many computers from many networks, with too many users, looks shared', async () => {
    t.clock.set(START);
    const shared = await createLicence(h, { maxUsers: 10 });
    for (let i = 0; i < 6; i++) {
      await h.call(callBody(shared.key, { computerId: computerId(`shared-${i}`), usersInUse: 8 + i }), { ip: `198.51.${100 + i}.${i + 1}` });
    }
    const fine = await createLicence(h, { maxMachines: 2 });
    // One laptop moving between two networks, and a second machine: within what the licence allows.
    await h.call(callBody(fine.key, { computerId: computerId('laptop') }), { ip: '203.0.113.5' });
    await h.call(callBody(fine.key, { computerId: computerId('laptop') }), { ip: '203.0.113.99' });
    await h.call(callBody(fine.key, { computerId: computerId('desk') }), { ip: '2001:db8:1:2::5' });
    await t.modules.licensing.flush();

    const signals = await t.modules.licensing.abuse.forLicence(shared.licenceId);
    assert.deepEqual({ ...signals, reasons: signals!.reasons.length }, {
      licenceId: shared.licenceId, product: 'mailserver', maxMachines: 1, maxUsers: 10,
      distinctComputers: 6, distinctNetworks: 6, highestUsersInUse: 13, reasons: 3,
    });
    const ok = await t.modules.licensing.abuse.forLicence(fine.licenceId);
    assert.deepEqual({ computers: ok!.distinctComputers, networks: ok!.distinctNetworks, reasons: ok!.reasons }, { computers: 2, networks: 2, reasons: [] });
    const nets = await t.k.db.selectFrom('licence_networks').select('network').where('licence_id', '=', fine.licenceId).orderBy('network').execute();
    assert.deepEqual(nets.map((n) => n.network), ['2001:db8:1::/48', '203.0.113.0/24']);

    const list = await t.modules.licensing.abuse.sharedLicences();
    assert.deepEqual(list.map((s) => s.licenceId), [shared.licenceId]);
    const api = JSON.parse((await h.admin('GET', '/api/v1/admin/licences-shared')).body);
    assert.equal(api.licences[0].licenceId, shared.licenceId);

    // A PC replaced the routine way (the old one released, the new one activated) does not look shared.
    const replaced = await createLicence(h);
    await h.call(callBody(replaced.key, { computerId: computerId('old-pc') }));
    assert.equal((await h.admin('POST', `/api/v1/admin/licences/${replaced.key}/machines/${computerId('old-pc')}/release`)).statusCode, 200);
    await h.call(callBody(replaced.key, { computerId: computerId('new-pc') }));
    await t.modules.licensing.flush();
    assert.deepEqual((await t.modules.licensing.abuse.forLicence(replaced.licenceId))!.reasons, []);
    assert.ok(!(await t.modules.licensing.abuse.sharedLicences()).some((s) => s.licenceId === replaced.licenceId));

    // Thirty days later nothing is recent any more.
    t.clock.set(START + 31 * DAY_MS);
    assert.equal(await t.modules.licensing.abuse.forLicence(shared.licenceId), null);
  });
});

describe('the shared list and the per-licence rules agree', () => {
  test('at, just past and without each limit, the list holds exactly the licences whose own signals give a reason', async () => {
    t.clock.set(START + 40 * DAY_MS);
    const cases: { name: string; overrides: Record<string, unknown>; computers: number; networks: number; users: number }[] = [
      { name: 'computers at the limit', overrides: { maxMachines: 2, maxUsers: 100 }, computers: 2, networks: 2, users: 5 },
      { name: 'one computer over', overrides: { maxMachines: 2, maxUsers: 100 }, computers: 3, networks: 3, users: 5 },
      { name: 'no machine limit, many computers', overrides: { maxMachines: null, maxUsers: 100 }, computers: 4, networks: 4, users: 5 },
      { name: 'networks at the limit', overrides: { maxMachines: 1, maxUsers: 100 }, computers: 1, networks: 3, users: 5 },
      { name: 'one network over', overrides: { maxMachines: 1, maxUsers: 100 }, computers: 1, networks: 4, users: 5 },
      { name: 'users at the limit', overrides: { maxMachines: 1, maxUsers: 10 }, computers: 1, networks: 1, users: 10 },
      { name: 'one user over', overrides: { maxMachines: 1, maxUsers: 10 }, computers: 1, networks: 1, users: 11 },
      { name: 'no user limit', overrides: { maxMachines: 1, maxUsers: null }, computers: 1, networks: 1, users: 500 },
    ];
    const ids = new Map<string, string>();
    for (const [i, c] of cases.entries()) {
      const lic = await createLicence(h, { ...c.overrides, enforcement: 'flag' });
      ids.set(lic.licenceId, c.name);
      for (let n = 0; n < Math.max(c.computers, c.networks); n++) {
        const body = callBody(lic.key, { computerId: computerId(`agree-${i}-${Math.min(n, c.computers - 1)}`), usersInUse: c.users });
        await h.call(body, { ip: `10.${i}.${n}.9` });
      }
    }
    await t.modules.licensing.flush();
    const listed = new Set((await t.modules.licensing.abuse.sharedLicences()).map((s) => s.licenceId).filter((id) => ids.has(id)));
    const flagged = new Set<string>();
    for (const id of ids.keys()) if (((await t.modules.licensing.abuse.forLicence(id))?.reasons.length ?? 0) > 0) flagged.add(id);
    const names = (set: Set<string>) => [...set].map((id) => ids.get(id)).sort();
    assert.deepEqual(names(listed), names(flagged));
    assert.deepEqual(names(listed), ['one computer over', 'one network over', 'one user over'].sort());
  });
});

describe('IP retention', () => {
  test('IPs older than the retention period are cut to their network; newer ones stay whole', async () => {
    t.clock.set(START);
    const lic = await createLicence(h, { maxMachines: 5 });
    await h.call(callBody(lic.key, { computerId: computerId('v4') }), { ip: '192.0.2.77' });
    await h.call(callBody(lic.key, { computerId: computerId('v6') }), { ip: '2001:db8:abcd:12::1' });
    await h.call(callBody(lic.key, { computerId: computerId('mapped') }), { ip: '::ffff:198.51.100.23' });
    t.clock.set(START + 20 * DAY_MS);
    await h.call(callBody(lic.key, { computerId: computerId('recent') }), { ip: '203.0.113.200' });
    await t.modules.licensing.flush();

    t.clock.set(START + 30 * DAY_MS + 1);
    const ran = await truncateOldIps(t.k, 30);
    assert.ok(ran.truncated >= 3, 'the three old addresses here, and older ones from other tests');
    const ips = Object.fromEntries((await t.k.db.selectFrom('machines').select(['computer_id', 'last_ip']).where('licence_id', '=', lic.licenceId).execute())
      .map((r) => [r.computer_id, r.last_ip]));
    assert.deepEqual(ips, {
      [computerId('v4')]: '192.0.2.0/24',
      [computerId('v6')]: '2001:db8:abcd::/48',
      [computerId('mapped')]: '198.51.100.0/24',
      [computerId('recent')]: '203.0.113.200',
    });
    assert.equal((await truncateOldIps(t.k, 30)).truncated, 0, 'idempotent');
    if (t.k.dbh.sqlite) {
      // Not in the file's free space or in the write-ahead log either (secure_delete, the checkpoint).
      const file = t.k.dbh.sqlite.name;
      const bytes = Buffer.concat([file, `${file}-wal`].filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f)));
      for (const ip of ['192.0.2.77', '2001:db8:abcd:12::1', '198.51.100.23']) assert.equal(bytes.indexOf(ip), -1, `${ip} is still in the database files`);
      assert.notEqual(bytes.indexOf('203.0.113.200'), -1, 'the check can see an address that is kept');
    }
    const nets = await t.k.db.selectFrom('licence_networks').select('network').where('licence_id', '=', lic.licenceId).execute();
    assert.deepEqual(nets.map((n) => n.network), ['203.0.113.0/24'], 'networks older than the period are deleted');
  });

  test('the daily job runs the truncation with the configured period', async () => {
    t.clock.set(START);
    const lic = await createLicence(h);
    await h.call(callBody(lic.key, { computerId: computerId('job') }), { ip: '192.0.2.150' });
    await t.k.settings.set('licensing.callhome', { ipRetentionDays: 7 });
    t.clock.set(START + 8 * DAY_MS);
    await t.k.jobs.drain();
    const row = await t.k.db.selectFrom('machines').select('last_ip').where('licence_id', '=', lic.licenceId).executeTakeFirstOrThrow();
    assert.equal(row.last_ip, '192.0.2.0/24');
    await t.k.settings.delete('licensing.callhome');
  });
});

describe('signing key rotation', () => {
  test('after a rotation answers are signed with the new key and the old one stays listed as retired', async () => {
    t.clock.set(START);
    const lic = await createLicence(h);
    const before = await h.call(callBody(lic.key));
    const oldKid = await assertSigned(h, before.res);

    const newKid = await rotateSigningKey(t.k.db, t.k.secrets, START + 1000);
    await t.modules.licensing.reloadSigningKey();
    const after = await h.call(callBody(lic.key));
    assert.equal(await assertSigned(h, after.res), newKid);
    assert.notEqual(newKid, oldKid);

    const listed = JSON.parse((await h.get('/api/v1/keys')).body).keys;
    assert.deepEqual(listed.map((k: { kid: string; status: string }) => [k.kid, k.status]), [[oldKid, 'retired'], [newKid, 'active']]);
    assert.deepEqual(listed, (await listPublicKeys(t.k.db)));
    // The answer signed before the rotation still verifies with the retired key.
    await assertSigned(h, before.res);
  });
});
