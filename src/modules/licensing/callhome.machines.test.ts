// Seats over time: taking, holding, giving back (inactivity, release, block), over-limit records,
// concurrent activations, and which writes are durable before the answer.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { DAY_MS } from '../../kernel/clock.js';
import { callBody, computerId, createLicence, harness, seedProduct, type Harness } from './testing.js';
import { snapshotStatement } from './validation/snapshot.repository.js';

let t: TestApp;
let h: Harness;
const START = Date.parse('2026-11-25T10:00:00.000Z');
before(async () => {
  t = await testApp();
  h = await harness(t);
  await seedProduct(h);
});
after(async () => { await t.close(); });

const A = computerId('A');
const B = computerId('B');
const C = computerId('C');

async function call(key: string, cid: string, extra: Record<string, unknown> = {}) {
  const { status, json } = await h.call(callBody(key, { computerId: cid, ...extra }));
  assert.equal(status, 200);
  return json;
}

/** Machine rows as stored right now (without flushing the bookkeeping buffer). */
async function rowsNow(licenceId: string) {
  const rows = await t.k.db.selectFrom('machines').selectAll().where('licence_id', '=', licenceId).execute();
  return new Map(rows.map((r) => [r.computer_id, r]));
}
async function rows(licenceId: string) {
  await t.modules.licensing.flush();
  return rowsNow(licenceId);
}
const admin = async (key: string, cid: string, action: 'release' | 'block') => {
  const r = await h.admin('POST', `/api/v1/admin/licences/${key}/machines/${cid}/${action}`);
  assert.equal(r.statusCode, 200, r.body);
  return JSON.parse(r.body);
};

describe('seats', () => {
  test('two seats: A and B take them, C is recorded over the limit, a release lets C in', async () => {
    t.clock.set(START);
    const lic = await createLicence(h, { maxMachines: 2 });
    assert.deepEqual((await call(lic.key, A)).machines, { active: 1, max: 2 });
    assert.deepEqual((await call(lic.key, B)).machines, { active: 2, max: 2 });
    const c = await call(lic.key, C);
    assert.equal(c.code, 'TOO_MANY_MACHINES');
    assert.equal(c.valid, true);
    assert.deepEqual(c.machines, { active: 2, max: 2 });
    // A seat holder keeps its seat on every later call.
    assert.equal((await call(lic.key, A)).code, 'VALID');

    const after = await admin(lic.key, A, 'release');
    assert.deepEqual(after.machines.map((m: { computerId: string; status: string }) => [m.computerId, m.status]).sort(),
      [[A, 'released'], [B, 'active'], [C, 'over-limit']].sort());
    t.clock.advance(60_000);
    const c2 = await call(lic.key, C);
    assert.equal(c2.code, 'VALID');
    assert.deepEqual(c2.machines, { active: 2, max: 2 });
    const r = await rows(lic.licenceId);
    assert.equal(r.get(C)!.status, 'active');
    assert.equal(r.get(C)!.first_seen, START, 'an over-limit machine that gets a seat keeps its history');
  });

  test('a released machine that calls again is a new caller: firstSeen restarts', async () => {
    t.clock.set(START);
    const lic = await createLicence(h);
    await call(lic.key, A);
    await admin(lic.key, A, 'release');
    t.clock.advance(DAY_MS);
    assert.equal((await call(lic.key, A)).code, 'VALID');
    const a = (await rows(lic.licenceId)).get(A)!;
    assert.equal(a.status, 'active');
    assert.equal(a.first_seen, START + DAY_MS);
  });

  test('a machine inactive for machineInactiveDays gives its seat back, and is over the limit when it returns', async () => {
    t.clock.set(START);
    const lic = await createLicence(h);
    await call(lic.key, A);
    t.clock.advance(30 * DAY_MS - 1);
    assert.equal((await call(lic.key, B)).code, 'TOO_MANY_MACHINES', 'A still holds its seat just inside 30 days');
    t.clock.set(START + 30 * DAY_MS + 1);
    const b = await call(lic.key, B);
    assert.equal(b.code, 'VALID', 'A was last seen more than 30 days ago');
    const a = await call(lic.key, A);
    assert.equal(a.code, 'TOO_MANY_MACHINES');
    assert.equal((await rows(lic.licenceId)).get(A)!.status, 'over-limit');
  });

  test('machines.active counts each seat once: a holder calling again, a newcomer refused, a holder on its last day', async () => {
    t.clock.set(START);
    const lic = await createLicence(h, { maxMachines: 2 });
    assert.deepEqual((await call(lic.key, A)).machines, { active: 1, max: 2 });
    assert.deepEqual((await call(lic.key, B)).machines, { active: 2, max: 2 });
    const again = await call(lic.key, A);
    assert.equal(again.code, 'VALID');
    assert.deepEqual(again.machines, { active: 2, max: 2 }, "A's own seat is not counted as another's");
    t.clock.set(START + 30 * DAY_MS - 1);
    const c = await call(lic.key, C);
    assert.equal(c.code, 'TOO_MANY_MACHINES');
    assert.deepEqual(c.machines, { active: 2, max: 2 });
    await t.modules.licensing.flush();
    const last = await call(lic.key, A);
    assert.equal(last.code, 'VALID', "A's seat is still its own a millisecond before it lapses");
    assert.deepEqual(last.machines, { active: 2, max: 2 });
  });

  test('on SQLite the snapshot statement finds every row through an index and counts seats from the index alone', async (ctx) => {
    if (t.k.flags.kind !== 'sqlite') return ctx.skip("query plans are SQLite's here; PostgreSQL plans by its statistics");
    const q = snapshotStatement(t.k.db, 'k'.repeat(64), A, START);
    const plan = (t.k.dbh.sqlite!.prepare(`explain query plan ${q.sql}`).all(q.parameters as unknown[]) as { detail: string }[]).map((r) => r.detail);
    assert.deepEqual(plan.filter((d) => d.startsWith('SCAN')), [], plan.join(' | '));
    assert.ok(plan.some((d) => /^SEARCH o USING COVERING INDEX machines_seats/.test(d)), plan.join(' | '));
  });

  test('a shorter machineInactiveDays policy frees seats sooner', async () => {
    t.clock.set(START);
    const lic = await createLicence(h, { policy: { machineInactiveDays: 7 } });
    await call(lic.key, A);
    t.clock.advance(7 * DAY_MS + 1);
    assert.equal((await call(lic.key, B)).code, 'VALID');
  });

  test('blocking frees the seat; staff may block a computer ID that never called; releasing clears a block', async () => {
    t.clock.set(START);
    const lic = await createLicence(h);
    await call(lic.key, A);
    const blocked = await admin(lic.key, A, 'block');
    assert.equal(blocked.machines.find((m: { computerId: string }) => m.computerId === A).status, 'blocked');
    assert.equal((await call(lic.key, B)).code, 'VALID', 'B takes the seat A held');

    const pre = await admin(lic.key, C, 'block');
    const c = pre.machines.find((m: { computerId: string }) => m.computerId === C);
    assert.deepEqual({ ...c, computerId: undefined }, { computerId: undefined, firstSeen: null, lastSeen: null, lastVersion: null, lastUsersInUse: null, status: 'blocked' });
    t.clock.advance(1000);
    const cc = await call(lic.key, C);
    assert.equal(cc.code, 'MACHINE_BLOCKED');
    assert.deepEqual(cc.flags, ['MACHINE_BLOCKED', 'TOO_MANY_MACHINES']);
    const row = (await rows(lic.licenceId)).get(C)!;
    assert.equal(row.status, 'blocked');
    assert.equal(row.first_seen, START + 1000, 'its first call is recorded');

    await admin(lic.key, C, 'release');
    assert.equal((await call(lic.key, C)).code, 'TOO_MANY_MACHINES', 'released, it is a new caller; B holds the only seat');
  });

  test('release or block with an unknown licence is 404; releasing a computer ID the licence never saw is 404', async () => {
    const lic = await createLicence(h);
    assert.equal((await h.admin('POST', `/api/v1/admin/licences/AAAAA-BBBBB/machines/${A}/release`)).statusCode, 404);
    assert.equal((await h.admin('POST', `/api/v1/admin/licences/${lic.key}/machines/${B}/release`)).statusCode, 404);
    assert.equal((await h.admin('POST', `/api/v1/admin/licences/${lic.key}/machines/not-hex/block`)).statusCode, 400);
  });

  test('concurrent first calls from several computers never give away more seats than the licence has', async () => {
    t.clock.set(START);
    const lic = await createLicence(h, { maxMachines: 2 });
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => call(lic.key, computerId(`race-${i}`))));
    assert.equal(answers.filter((a) => a.code === 'VALID').length, 2);
    assert.equal(answers.filter((a) => a.code === 'TOO_MANY_MACHINES').length, 6);
    const statuses = [...(await rowsNow(lic.licenceId)).values()].map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 'active').length, 2);
    assert.equal(statuses.filter((s) => s === 'over-limit').length, 6);
  });
});

describe('durability', () => {
  test('an activation is stored before the answer; a plain refresh is batched', async () => {
    t.clock.set(START);
    const lic = await createLicence(h);
    await call(lic.key, A);
    // No flush: the seat must already be in the database.
    const first = (await rowsNow(lic.licenceId)).get(A);
    assert.equal(first?.status, 'active');
    assert.equal(first?.last_seen, START);

    await call(lic.key, B);
    assert.equal((await rowsNow(lic.licenceId)).get(B)?.status, 'over-limit', 'a new over-limit record is durable too');

    t.clock.advance(3_600_000);
    await call(lic.key, A, { version: '8.6.0', usersInUse: 12 });
    const r = await rows(lic.licenceId);
    assert.equal(r.get(A)!.last_seen, START + 3_600_000);
    assert.equal(r.get(A)!.last_version, '8.6.0');
    assert.equal(r.get(A)!.last_users_in_use, 12);
  });

  test('the batch writes last-seen without undoing a status change made since', async () => {
    t.clock.set(START);
    const lic = await createLicence(h);
    await call(lic.key, A);
    t.clock.advance(60_000);
    await call(lic.key, A); // buffered refresh
    await admin(lic.key, A, 'release');
    await t.modules.licensing.flush();
    const a = (await rowsNow(lic.licenceId)).get(A)!;
    assert.equal(a.status, 'released');
    assert.equal(a.last_seen, START + 60_000);
  });

  test('every call refreshes last seen, a second after the last one or from a refused call alike', async () => {
    t.clock.set(START);
    const lic = await createLicence(h);
    await call(lic.key, A, { version: '8.5.0', usersInUse: 3 });
    t.clock.advance(1000);
    await call(lic.key, A, { version: '8.5.0', usersInUse: 3 });
    const view = await h.admin('GET', `/api/v1/admin/licences/${lic.key}`);
    assert.equal(JSON.parse(view.body).machines[0].lastSeen, new Date(START + 1000).toISOString(), 'the admin API shows the same call a second later');
    let a = (await rows(lic.licenceId)).get(A)!;
    assert.equal(a.last_seen, START + 1000, 'the same call a second later: refreshed');

    // A call refused before the machine is looked at refreshes last seen and keeps the usage recorded
    // by a call earlier in the same batch (spec: "Which calls touch machines").
    t.clock.advance(1000);
    await call(lic.key, A, { version: '8.6.0', usersInUse: 4 });
    const suspended = await h.admin('PATCH', `/api/v1/admin/licences/${lic.key}`, { status: 'suspended' });
    assert.equal(suspended.statusCode, 200);
    t.clock.advance(1000);
    assert.equal((await call(lic.key, A, { version: '9.0.0', usersInUse: 99 })).code, 'SUSPENDED');
    a = (await rows(lic.licenceId)).get(A)!;
    assert.deepEqual(
      { lastSeen: a.last_seen, version: a.last_version, users: a.last_users_in_use, status: a.status },
      { lastSeen: START + 3000, version: '8.6.0', users: 4, status: 'active' },
    );
  });

  test('daily counters record calls per licence and version with the highest users in use', async () => {
    t.clock.set(START);
    const lic = await createLicence(h, { maxMachines: 3 });
    await call(lic.key, A, { usersInUse: 5 });
    await call(lic.key, B, { usersInUse: 9 });
    await call(lic.key, A, { usersInUse: 7, version: '8.6.0' });
    await t.modules.licensing.flush();
    const day = await t.k.db.selectFrom('callhome_daily').select(['version', 'calls', 'max_users_in_use', 'day'])
      .where('licence_id', '=', lic.licenceId).orderBy('version').execute();
    assert.deepEqual(day.map((d) => [d.version, d.calls, d.max_users_in_use, Number(d.day)]),
      [['8.5.0', 2, 9, Date.parse('2026-11-25T00:00:00Z')], ['8.6.0', 1, 7, Date.parse('2026-11-25T00:00:00Z')]]);
  });
});
