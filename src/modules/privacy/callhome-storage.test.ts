import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { callBody, computerId, createLicence, harness, seedProduct, type Harness } from '../licensing/testing.js';
import { buildRegistry } from './registry.js';
import { allCells } from './testing.js';

/**
 * The notice promises (spec/callhome.md): a call home carries only the licence details, the external IP,
 * the users in use, the version and a computer ID, and the server stores only those (plus timestamps).
 * Calls here carry extra fields and headers full of markers; afterwards every cell the calls added or
 * changed is held against that list, and no marker may be stored anywhere.
 */
const reg = buildRegistry();
let t: TestApp;
let h: Harness;
before(async () => { t = await testApp(); h = await harness(t); await seedProduct(h); });
after(async () => { await t.close(); });

/** Personal columns a call home may write: exactly the spec's list, with their timestamps. */
const ALLOWED = new Set([
  'machines.computer_id', 'machines.last_ip', 'machines.last_version', 'machines.last_users_in_use', 'machines.first_seen', 'machines.last_seen',
  'callhome_daily.version', 'callhome_daily.calls', 'callhome_daily.max_users_in_use',
  'licence_networks.network', 'licence_networks.first_seen', 'licence_networks.last_seen',
  'rate_limits.key',
]);
const personal = new Set(reg.fields.flatMap((f) => ('table' in f.location ? [`${f.location.table}.${f.location.column}`] : [])));

test('a call home stores nothing beyond the licence, IP, users in use, version and computer ID', async () => {
  const lic = await createLicence(h);
  const key = (c: { table: string; column: string; value: unknown }) => `${c.table}.${c.column}=${String(c.value)}`;
  const before = new Set((await allCells(t.k, t.k.dbh.schema)).map(key));
  const MARK = 'zzleakmarker';
  for (let i = 0; i < 3; i++) {
    const r = await h.call(callBody(lic.key, {
      computerId: computerId(`pc-${i}`), usersInUse: 7 + i, version: '8.5.0',
      hostname: `${MARK}-host`, username: `${MARK}-user`, email: `${MARK}@corp.example`, macAddress: '00:11:22:33:44:55', os: `${MARK} Windows`,
      content: { [`${MARK}`]: '1.0' },
    }), { ip: '198.51.100.42', headers: { 'user-agent': `${MARK}-agent/1.0`, 'x-forwarded-for': '203.0.113.250', cookie: `session=${MARK}`, referer: `https://${MARK}.example/` } });
    assert.equal(r.status, 200);
  }
  await t.modules.licensing.flush();
  const afterCells = await allCells(t.k, t.k.dbh.schema);
  const added = afterCells.filter((c) => !before.has(key(c)) && c.value !== null);
  assert.ok(added.some((c) => c.table === 'machines'), 'the calls were stored');

  const problems: string[] = [];
  for (const c of added) {
    const col = `${c.table}.${c.column}`;
    if (personal.has(col) && !ALLOWED.has(col)) problems.push(`call home wrote personal column ${col}`);
    if (typeof c.value === 'string' && c.value.toLowerCase().includes(MARK)) problems.push(`marker stored in ${col}`);
  }
  for (const c of afterCells) if (typeof c.value === 'string' && c.value.includes('203.0.113.250')) problems.push(`untrusted X-Forwarded-For stored in ${c.table}.${c.column}`);
  assert.deepEqual(problems, []);
  const machines = await t.k.db.selectFrom('machines').selectAll().where('licence_id', '=', lic.licenceId).execute();
  assert.equal(machines.length, 3);
  for (const m of machines) assert.equal(m.last_ip, '198.51.100.42', 'the external IP is the peer address');
});

test('the check notices a call-home column that is not on the list', () => {
  assert.equal(ALLOWED.has('machines.hostname'), false);
  assert.ok(personal.has('machines.last_ip') && ALLOWED.has('machines.last_ip'));
  for (const col of ALLOWED) assert.ok(personal.has(col), `${col} is declared personal`);
});
