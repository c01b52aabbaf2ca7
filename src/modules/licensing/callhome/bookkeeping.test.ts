// The bookkeeping buffer against the real database (SQLite file with its write-behind thread, or
// PostgreSQL): counter and network rows are written a minute after the first call they count, one by
// one, not all together; last-seen refreshes go at every tick; flush() writes everything.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestApp } from '../../../kernel/testing/app.js';
import { DAY_MS } from '../../../kernel/clock.js';
import type { CompiledQuery } from 'kysely';
import { Bookkeeper } from './bookkeeping.js';
import { licensingApp, createLicence, type Harness } from '../testing.js';

let t: TestApp;
let h: Harness;
before(async () => {
  h = await licensingApp();
  t = h.t;
});
after(async () => { await t.close(); });

const MINUTE = 60_000;

async function dailyCalls(licenceId: string): Promise<number | null> {
  const r = await t.k.db.selectFrom('callhome_daily').select((eb) => eb.fn.sum<number>('calls').as('n'))
    .where('licence_id', '=', licenceId).executeTakeFirst();
  return r?.n === null || r?.n === undefined ? null : Number(r.n);
}

async function networks(licenceId: string): Promise<string[]> {
  const rows = await t.k.db.selectFrom('licence_networks').select('network').where('licence_id', '=', licenceId).orderBy('network').execute();
  return rows.map((r) => r.network);
}

/** A new licence with one active machine last seen at `at` (version 8.5.0, one user, 203.0.113.1). */
async function licenceWithMachine(computerId: string, at: number) {
  const c = await createLicence(h);
  await t.k.db.insertInto('machines').values({
    licence_id: c.licenceId, computer_id: computerId, status: 'active', first_seen: at, last_seen: at,
    last_version: '8.5.0', last_users_in_use: 1, last_ip: '203.0.113.1',
  }).execute();
  return c;
}

describe('call-home bookkeeping', () => {
  test('each counter row is written a minute after its first call, not when every other row is', async () => {
    const a = await createLicence(h);
    const b = await createLicence(h);
    let now = Date.parse('2026-11-25T10:00:00.000Z');
    const bk = new Bookkeeper(t.k.flags, t.k.dbh.writeBehind, t.k.log, 100, MINUTE, () => now);
    const tick = () => (bk as unknown as { enqueue(all: boolean): Promise<void> }).enqueue(false);
    const day = Math.floor(now / DAY_MS) * DAY_MS;

    bk.countCall(a.licenceId, '8.5.0', 3, day + 1);
    bk.seeNetwork(a.licenceId, '198.51.100.7', day + 1);
    now += 30_000;
    bk.countCall(b.licenceId, '8.5.0', 4, day + 2);
    bk.countCall(a.licenceId, '8.5.0', 5, day + 3); // joins a's row, which keeps its first call's time
    now += 29_999;
    await tick();
    assert.equal(await dailyCalls(a.licenceId), null, 'nothing is due before a minute has passed');

    now += 1; // a's first call is a minute old now; b's is half a minute old
    await tick();
    assert.equal(await dailyCalls(a.licenceId), 2);
    assert.deepEqual(await networks(a.licenceId), ['198.51.100.0/24']);
    assert.equal(await dailyCalls(b.licenceId), null, "b's row is not due yet");

    bk.countCall(a.licenceId, '8.5.0', 1, day + 4); // a new row for a, due a minute from now
    now += 30_000;
    await tick();
    assert.equal(await dailyCalls(b.licenceId), 1);
    assert.equal(await dailyCalls(a.licenceId), 2, "a's second row is not due yet");

    await bk.flush(); // flush (shutdown) writes whatever is buffered, due or not
    assert.equal(await dailyCalls(a.licenceId), 3);
    const max = await t.k.db.selectFrom('callhome_daily').select('max_users_in_use').where('licence_id', '=', a.licenceId).executeTakeFirstOrThrow();
    assert.equal(max.max_users_in_use, 5, 'the highest users in use across the writes is kept');
  });

  test('last-seen refreshes are written at the next tick, whatever the counters wait for', async () => {
    const cid = 'f'.repeat(64);
    let now = Date.parse('2026-11-25T11:00:00.000Z');
    const c = await licenceWithMachine(cid, now);
    const bk = new Bookkeeper(t.k.flags, t.k.dbh.writeBehind, t.k.log, 100, MINUTE, () => now);
    now += 10 * MINUTE;
    bk.touchMachine({ licenceId: c.licenceId, computerId: cid, at: now, ip: '203.0.113.2', version: '8.6.0', usersInUse: 7 });
    bk.countCall(c.licenceId, '8.6.0', 7, now);
    await (bk as unknown as { enqueue(all: boolean): Promise<void> }).enqueue(false);
    const m = await t.k.db.selectFrom('machines').select(['last_seen', 'last_ip', 'last_version', 'last_users_in_use'])
      .where('licence_id', '=', c.licenceId).executeTakeFirstOrThrow();
    assert.deepEqual({ ...m, last_seen: Number(m.last_seen) }, { last_seen: now, last_ip: '203.0.113.2', last_version: '8.6.0', last_users_in_use: 7 });
    assert.equal(await dailyCalls(c.licenceId), null);
    await bk.stop();
    assert.equal(await dailyCalls(c.licenceId), 1, 'stop() writes the buffered counters');
  });

  test('a lazy refresh waits for its time or for readers; a later one that changes something goes at the next tick', async () => {
    const cid = 'e'.repeat(64);
    let now = Date.parse('2026-11-25T13:00:00.000Z');
    const c = await licenceWithMachine(cid, now);
    const bk = new Bookkeeper(t.k.flags, t.k.dbh.writeBehind, t.k.log, 100, MINUTE, () => now);
    const tick = () => (bk as unknown as { enqueue(all: boolean): Promise<void> }).enqueue(false);
    const seen = async () => Number((await t.k.db.selectFrom('machines').select('last_seen').where('licence_id', '=', c.licenceId).executeTakeFirstOrThrow()).last_seen);
    const start = now;

    now += 1000;
    bk.touchMachine({ licenceId: c.licenceId, computerId: cid, at: now, ip: '203.0.113.1' }, start + 5 * MINUTE);
    await tick();
    assert.equal(await seen(), start, 'not yet due: not written by a tick');
    await bk.writeRefreshes();
    assert.equal(await seen(), start + 1000, 'readers get it at once');

    now += 1000;
    bk.touchMachine({ licenceId: c.licenceId, computerId: cid, at: now, ip: '203.0.113.1' }, start + 5 * MINUTE);
    now = start + 5 * MINUTE;
    await tick();
    assert.equal(await seen(), start + 2000, 'due: written by the tick');

    now += 1000;
    bk.touchMachine({ licenceId: c.licenceId, computerId: cid, at: now, ip: '203.0.113.1' }, now + 4 * MINUTE);
    now += 1000;
    bk.touchMachine({ licenceId: c.licenceId, computerId: cid, at: now, ip: '203.0.113.9' });
    await tick();
    assert.equal(await seen(), now, 'a change makes the machine due at once, with the latest time');
    await bk.stop();
  });

  test('a burst of rows falling due together is written a statement at a time, and a backlog does not grow', async () => {
    let now = Date.parse('2026-11-25T12:00:00.000Z');
    const bk = new Bookkeeper(t.k.flags, t.k.dbh.writeBehind, t.k.log, 100, MINUTE, () => now);
    const tick = () => (bk as unknown as { enqueue(all: boolean): Promise<void> }).enqueue(false);
    const rows = async () => Number((await t.k.db.selectFrom('callhome_daily').select((eb) => eb.fn.countAll<number>().as('n'))
      .where('licence_id', 'like', 'burst-%').executeTakeFirstOrThrow()).n);
    for (let i = 0; i < 1_200; i++) bk.countCall(`burst-${i}`, '8.5.0', null, now);
    now += MINUTE;
    await tick();
    assert.equal(await rows(), 500, 'one statement of 500 rows per tick');
    await tick();
    assert.equal(await rows(), 1_000);
    for (let i = 1_200; i < 1_900; i++) bk.countCall(`burst-${i}`, '8.5.0', null, now);
    now += MINUTE; // the last 200 of the burst are a whole interval overdue now: they go at once
    await tick();
    assert.equal(await rows(), 1_500, 'the overdue 200, then rows due now up to one statement');
    await tick();
    assert.equal(await rows(), 1_900);
    for (let i = 1_900; i < 1_950; i++) bk.countCall(`burst-${i}`, '8.5.0', null, now);
    await bk.flush(); // due or not
    assert.equal(await rows(), 1_950);
  });

  test('a batch is committed in transactions of at most 500 rows, so the write lock is never held for a whole batch', async () => {
    const now = Date.parse('2026-11-25T12:30:00.000Z');
    const runs: number[] = [];
    const recorder = { run: async (queries: readonly CompiledQuery[]) => { runs.push(queries.length); }, close: async () => {} };
    const bk = new Bookkeeper(t.k.flags, recorder, t.k.log, 100, MINUTE, () => now);
    // A network is recorded once a day per licence: each round comes from another one.
    const touch = (n: number, ip: string) => {
      for (let i = 0; i < n; i++) bk.touchMachine({ licenceId: `tx-${i}`, computerId: i.toString(16).padStart(64, '0'), at: now, ip });
      bk.countCall('tx-0', '8.6.0', 2, now);
      bk.seeNetwork('tx-0', ip, now);
    };
    touch(120, '203.0.113.9');
    await bk.flush();
    assert.deepEqual(runs, [3], 'a small batch: touches, counters and networks in one transaction');
    runs.length = 0;
    touch(1_200, '198.51.100.9');
    await bk.flush();
    // 500 + 500 + (200 touches, the counter row and the network row).
    assert.deepEqual(runs, [1, 1, 3]);
  });

  test('a failed transaction loses only its own rows: the next ones are still written', async () => {
    const now = Date.parse('2026-11-25T12:40:00.000Z');
    let calls = 0;
    const written: number[] = [];
    const flaky = {
      run: async (queries: readonly CompiledQuery[]) => {
        if (++calls === 1) throw new Error('disk I/O error');
        written.push(queries.length);
      },
      close: async () => {},
    };
    const warnings: unknown[] = [];
    const bk = new Bookkeeper(t.k.flags, flaky, { ...t.k.log, warn: (o: unknown) => warnings.push(o) }, 100, MINUTE, () => now);
    for (let i = 0; i < 700; i++) bk.touchMachine({ licenceId: `fail-${i}`, computerId: 'c'.repeat(64), at: now, ip: '203.0.113.9' });
    await bk.flush();
    assert.deepEqual(written, [1], 'the second transaction (200 rows) was written after the first failed');
    assert.deepEqual(warnings, [{ err: 'disk I/O error', rows: 500 }]);
  });

  test('on SQLite every batch statement finds its rows through an index, never by scanning a table', async (ctx) => {
    if (t.k.flags.kind !== 'sqlite') return ctx.skip("query plans are SQLite's here; PostgreSQL plans by its statistics");
    const c = await createLicence(h);
    const now = Date.parse('2026-11-25T13:00:00.000Z');
    const handed: CompiledQuery[] = [];
    const recorder = { run: async (queries: readonly CompiledQuery[]) => { handed.push(...queries); }, close: async () => {} };
    const bk = new Bookkeeper(t.k.flags, recorder, t.k.log, 100, MINUTE, () => now);
    // A full statement's worth: the planner's choice depends on the number of VALUES rows.
    for (let i = 0; i < 500; i++) bk.touchMachine({ licenceId: c.licenceId, computerId: i.toString(16).padStart(64, '0'), at: now, ip: '203.0.113.9', ...(i % 2 ? { version: '8.6.0', usersInUse: i } : {}) });
    bk.countCall(c.licenceId, '8.6.0', 2, now);
    bk.seeNetwork(c.licenceId, '203.0.113.9', now);
    await bk.flush();
    assert.equal(handed.length, 3, 'touches, counters and networks');
    for (const q of handed) {
      const rows = t.k.dbh.sqlite!.prepare(`explain query plan ${q.sql}`).all(q.parameters as unknown[]) as { detail: string }[];
      const scans = rows.map((r) => r.detail).filter((d) => /^SCAN (machines|callhome_daily|licence_networks)\b/.test(d));
      assert.deepEqual(scans, [], `${q.sql.slice(0, 60)}…: ${rows.map((r) => r.detail).join(' | ')}`);
    }
  });
});
