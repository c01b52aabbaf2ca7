import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import SQLite from 'better-sqlite3';
import { Kysely, sql } from 'kysely';
import { testKernel, type TestKernel, TEST_DIALECT } from '../testing/db.js';
import type { Database } from './schema.js';
import { ImmediateSqliteDialect, whenFree } from './sqlite-driver.js';

// Another connection to the same file holds the write lock, on this very thread: it can only let go
// if the kernel's statement waits for it with the event loop free. SQLite's own busy handler would
// sleep inside the statement, and the lock would never be released before the statement gave up.

describe('SQLite statements wait for another connection\'s write lock off the event loop', { skip: TEST_DIALECT !== 'sqlite' && 'SQLite locking: PostgreSQL waits for row locks on the server' }, () => {
  let t: TestKernel;
  let other: SQLite.Database;
  before(async () => {
    t = await testKernel();
    other = new SQLite(t.k.dbh.sqlite!.name);
    other.pragma('busy_timeout = 5000');
  });
  after(async () => {
    other.close();
    await t.close();
  });
  // A failed test must not leave the lock held for the next one.
  afterEach(() => { if (other.inTransaction) other.exec('rollback'); });

  const setting = (key: string) => ({ key, value: '1', updated_at: 1, updated_by: null });
  const keys = async (prefix: string) =>
    (await t.k.db.selectFrom('settings').select('key').where('key', 'like', `${prefix}%`).orderBy('key').execute()).map((r) => r.key);

  /** A connection of the test's own to the kernel's file, opened as database.ts opens the kernel's. */
  function ownConnection(busyWaitMs: number) {
    const sqlite = new SQLite(t.k.dbh.sqlite!.name);
    sqlite.pragma('busy_timeout = 0');
    return { sqlite, db: new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: sqlite, busyWaitMs }) }) };
  }

  /** Settles `p` into a flag that can be read synchronously. */
  function watch<T>(p: Promise<T>) {
    const s = { settled: false, error: undefined as unknown };
    p.then(() => { s.settled = true; }, (err) => { s.settled = true; s.error = err; });
    return s;
  }

  test('a write outside a transaction waits, and lands once the lock is released', async () => {
    other.exec('begin immediate');
    other.prepare("insert into settings (key, value, updated_at) values ('lock.other', '1', 1)").run();
    const write = t.k.db.insertInto('settings').values(setting('lock.kernel')).execute();
    const state = watch(write);
    // These timers run only because the kernel's statement is not sleeping on this thread.
    await sleep(30);
    assert.equal(state.settled, false, `the write did not wait for the lock: ${String(state.error)}`);
    other.exec('commit');
    await write;
    assert.deepEqual(await keys('lock.'), ['lock.kernel', 'lock.other']);
  });

  test('a transaction waits at BEGIN IMMEDIATE, then runs whole', async () => {
    other.exec('begin immediate');
    const done = t.k.db.transaction().execute(async (trx) => {
      await trx.insertInto('settings').values(setting('lock2.a')).execute();
      await trx.insertInto('settings').values(setting('lock2.b')).execute();
    });
    const state = watch(done);
    await sleep(30);
    assert.equal(state.settled, false, `the transaction did not wait for the lock: ${String(state.error)}`);
    // The call-home look-up's synchronous reads on the kernel's connection go on meanwhile (WAL:
    // readers take no write lock); Kysely's own queries queue behind the waiting transaction.
    const read = t.k.dbh.sqlite!.prepare("select key from settings where key like 'lock.%' order by key").pluck().all();
    assert.deepEqual(read, ['lock.kernel', 'lock.other']);
    other.exec('rollback');
    await done;
    assert.deepEqual(await keys('lock2.'), ['lock2.a', 'lock2.b']);
  });

  test('after the wait, SQLITE_BUSY reaches the caller and nothing is written', async () => {
    const { db } = ownConnection(40);
    other.exec('begin immediate');
    try {
      await assert.rejects(db.insertInto('settings').values(setting('lock3.a')).execute(), { code: 'SQLITE_BUSY' });
      await assert.rejects(db.transaction().execute(async (trx) => {
        await trx.insertInto('settings').values(setting('lock3.b')).execute();
      }), { code: 'SQLITE_BUSY' });
    } finally {
      other.exec('rollback');
    }
    assert.deepEqual(await keys('lock3.'), []);
    // The connection is usable again once the lock is free.
    await db.insertInto('settings').values(setting('lock3.c')).execute();
    assert.deepEqual(await keys('lock3.'), ['lock3.c']);
    await db.destroy();
  });

  test('a statement refused inside a transaction is not tried again (SQLite says to roll back)', async () => {
    const { db } = ownConnection(5000);
    other.exec('begin immediate');
    const state = watch(db.connection().execute(async (c) => {
      // A deferred transaction, begun by hand (the kernel's transactions begin with BEGIN IMMEDIATE).
      await sql`begin`.execute(c);
      try {
        await c.insertInto('settings').values(setting('lock5.a')).execute();
      } finally {
        await sql`rollback`.execute(c);
      }
    }));
    await sleep(50);
    assert.equal(state.settled, true, 'the refused insert was being tried again inside the transaction');
    assert.equal((state.error as { code?: string }).code, 'SQLITE_BUSY');
    other.exec('rollback');
    await db.destroy();
  });

  test('close() lets a statement that waits for the lock finish first', async () => {
    const { sqlite: own, db } = ownConnection(2000);
    other.exec('begin immediate');
    const write = db.insertInto('settings').values(setting('lock4.a')).execute();
    const state = watch(write);
    await sleep(20);
    const closed = db.destroy();
    await sleep(20);
    assert.equal(state.settled, false);
    other.exec('commit');
    await write;
    await closed;
    assert.equal(own.open, false);
    assert.deepEqual(await keys('lock4.'), ['lock4.a']);
  });

  test('the kernel\'s connection asks SQLite not to sleep (busy_timeout 0)', () => {
    assert.equal(t.k.dbh.sqlite!.pragma('busy_timeout', { simple: true }), 0);
  });
});

describe('whenFree', () => {
  const busy = (code: string) => Object.assign(new Error(code), { code });

  test('tries a statement again while SQLite answers SQLITE_BUSY, and returns its result', async () => {
    let calls = 0;
    const r = await whenFree(async () => {
      calls++;
      if (calls < 4) throw busy(calls === 2 ? 'SQLITE_BUSY_RECOVERY' : 'SQLITE_BUSY');
      return { rows: [{ n: calls }] };
    }, 1000);
    assert.deepEqual(r.rows, [{ n: 4 }]);
  });

  test('a synchronous throw is caught like a rejection (better-sqlite3 throws)', async () => {
    let calls = 0;
    const r = await whenFree(() => {
      if (++calls === 1) throw busy('SQLITE_BUSY');
      return Promise.resolve({ rows: [] });
    }, 1000);
    assert.deepEqual(r.rows, []);
    assert.equal(calls, 2);
  });

  for (const code of ['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_LOCKED']) {
    test(`${code} is thrown at once, without trying again`, async () => {
      let calls = 0;
      await assert.rejects(whenFree(async () => { calls++; throw busy(code); }, 1000), { code });
      assert.equal(calls, 1);
    });
  }

  test('SQLITE_BUSY is thrown at once when the statement may not be tried again (inside a transaction)', async () => {
    let calls = 0;
    await assert.rejects(whenFree(async () => { calls++; throw busy('SQLITE_BUSY'); }, 1000, () => false), { code: 'SQLITE_BUSY' });
    assert.equal(calls, 1);
  });

  test('gives up with the last SQLITE_BUSY once the wait is over', async () => {
    let calls = 0;
    const started = Date.now();
    await assert.rejects(whenFree(async () => { calls++; throw busy('SQLITE_BUSY'); }, 30), { code: 'SQLITE_BUSY' });
    assert.ok(calls > 1, 'tried more than once');
    assert.ok(Date.now() - started >= 30, 'waited the whole wait');
  });

  test('an error without a code is thrown at once', async () => {
    let calls = 0;
    await assert.rejects(whenFree(async () => { calls++; throw new TypeError('bad'); }, 1000), TypeError);
    assert.equal(calls, 1);
  });
});
