// The read thread against the real database (an SQLite file with its worker thread, or PostgreSQL):
// same rows as the main connection, committed writes visible at once, writes refused, errors reported
// without losing the thread, and the event loop free while a long read runs.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { TEST_DIALECT, testKernel, type TestKernel } from '../testing/db.js';
import { migrateToLatest } from './migrate.js';
import { allMigrations } from '../../migrations.js';

let t: TestKernel;
before(async () => {
  t = await testKernel();
  await migrateToLatest(t.k.db, allMigrations);
});
after(async () => { await t.close(); });

describe('read thread', () => {
  test('answers the same rows as the main connection, and sees what was committed just before', async () => {
    const db = t.k.db;
    await db.insertInto('settings').values([
      { key: 'read-thread.a', value: '"1"', updated_at: 1 },
      { key: 'read-thread.b', value: '"2"', updated_at: 2 },
    ]).execute();
    const q = db.selectFrom('settings').select(['key', 'value', 'updated_at']).where('key', 'like', 'read-thread.%').orderBy('key');
    const here = await q.execute();
    assert.equal(here.length, 2);
    assert.deepEqual((await t.k.dbh.reads.all(q)).map((r) => ({ ...r, updated_at: Number(r.updated_at) })), here.map((r) => ({ ...r, updated_at: Number(r.updated_at) })));
    assert.deepEqual(await t.k.dbh.reads.all(q.compile()), await t.k.dbh.reads.all(q), 'compiled or not, the same statement');
  });

  // On PostgreSQL reads run on the pool itself: nothing makes that connection read-only.
  test('a statement that writes is refused, and nothing is written', { skip: TEST_DIALECT === 'postgres' && 'PostgreSQL reads share the pool (no read-only connection)' }, async () => {
    const insert = t.k.db.insertInto('settings').values({ key: 'read-thread.write', value: '"x"', updated_at: 3 });
    await assert.rejects(t.k.dbh.reads.all(insert), /only statements that return rows/);
    const row = await t.k.db.selectFrom('settings').select('key').where('key', '=', 'read-thread.write').executeTakeFirst();
    assert.equal(row, undefined);
  });

  test('a failing statement is reported, and the next one still runs', async () => {
    await assert.rejects(t.k.dbh.reads.all(sql`select * from no_such_table`.compile(t.k.db)), /no_such_table/);
    const rows = await t.k.dbh.reads.all(sql<{ one: number }>`select 1 as one`.compile(t.k.db));
    assert.equal(Number(rows[0]!.one), 1);
  });

  test('the event loop keeps turning while a long read runs', async () => {
    let ticks = 0;
    const timer = setInterval(() => { ticks++; }, 5);
    try {
      const rows = await t.k.dbh.reads.all(sql<{ n: number }>`
        with recursive c(x) as (select 1 union all select x + 1 from c where x < 2000000) select count(*) as n from c`.compile(t.k.db));
      assert.equal(Number(rows[0]!.n), 2_000_000);
    } finally {
      clearInterval(timer);
    }
    // Run on the request thread's own SQLite connection, the same read would let no timer fire at all.
    assert.ok(ticks > 0, `timers fired ${ticks} times during the read`);
  });
});
