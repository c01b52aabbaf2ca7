// The call-home reads share one read transaction per turn of the event loop (turn-reader.ts). What must
// hold: this process reads its own writes at once (through Kysely, alone or in a transaction), another
// connection's commits are seen from the next turn, the read lock is given back at the end of every
// turn (a checkpoint can then empty the WAL), and closing the database closes the reader.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import SQLite from 'better-sqlite3';
import { testKernel, type TestKernel, TEST_DIALECT } from '../testing/db.js';
import { emptyWal } from './wal-checkpoint.js';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('TurnReader: one read transaction per turn', { skip: TEST_DIALECT !== 'sqlite' && 'a SQLite connection of its own' }, () => {
  let t: TestKernel;
  let other: SQLite.Database;
  before(async () => {
    t = await testKernel();
    other = new SQLite(t.k.dbh.sqlite!.name);
  });
  after(async () => {
    other.close();
    await t.close();
  });

  const value = (key: string): string | undefined => {
    const conn = t.k.dbh.turnReader!.connection()!;
    return (conn.prepare('select value from settings where key = ?').get(key) as { value: string } | undefined)?.value;
  };
  const write = (key: string, v: string) => t.k.db.insertInto('settings').values({ key, value: v, updated_at: 1, updated_by: null })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value: v })).execute();

  test('a write of this process through Kysely is read at once, in the same turn', async () => {
    await nextTurn();
    assert.equal(value('turn.a'), undefined);
    await write('turn.a', 'one');
    assert.equal(value('turn.a'), 'one');
    await t.k.db.transaction().execute(async (trx) => {
      await trx.updateTable('settings').set({ value: 'two' }).where('key', '=', 'turn.a').execute();
    });
    assert.equal(value('turn.a'), 'two');
  });

  test('an uncommitted write of this process is not read; its commit is', async () => {
    await nextTurn();
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    const trx = t.k.db.transaction().execute(async (trx) => {
      await trx.insertInto('settings').values({ key: 'turn.b', value: 'x', updated_at: 1, updated_by: null }).execute();
      await held;
    });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(value('turn.b'), undefined, 'the reader sees committed rows only');
    release();
    await trx;
    assert.equal(value('turn.b'), 'x');
  });

  test("another connection's commit is seen from the next turn, and the turn's reads share one snapshot", async () => {
    await nextTurn();
    assert.equal(value('turn.c'), undefined);
    other.prepare("insert into settings (key, value, updated_at) values ('turn.c', 'y', 1)").run();
    assert.equal(value('turn.c'), undefined, 'same turn: the snapshot of its first read');
    await nextTurn();
    assert.equal(value('turn.c'), 'y');
  });

  test('the read lock is given back at the end of the turn: a checkpoint can empty the WAL', async () => {
    await nextTurn();
    other.prepare("insert into settings (key, value, updated_at) values ('turn.d', 'z', 1)").run();
    value('turn.d');
    assert.equal(t.k.dbh.turnReader!.connection()!.inTransaction, true);
    await nextTurn();
    assert.equal(t.k.dbh.turnReader!.connection()!.inTransaction, true, 'connection() begins again');
    await nextTurn();
    const [row] = other.pragma('wal_checkpoint(TRUNCATE)') as { busy: number; log: number }[];
    assert.deepEqual({ busy: row!.busy, log: row!.log }, { busy: 0, log: 0 });
  });

  test("emptyWal ends this process's read transaction and empties the log in the same turn", async () => {
    await nextTurn();
    await write('turn.e', 'personal once');
    value('turn.e');
    assert.equal(t.k.dbh.turnReader!.connection()!.inTransaction, true);
    let turnEnded = false;
    setImmediate(() => { turnEnded = true; });
    assert.equal(await emptyWal(t.k.dbh), true);
    assert.equal(turnEnded, false, 'no waiting for the end of the turn');
    assert.equal(fs.statSync(`${t.k.dbh.sqlite!.name}-wal`).size, 0);
  });

  test("emptyWal gives up (false) while another connection's reader holds the log, and succeeds once it lets go", async () => {
    await write('turn.f', 'v');
    other.prepare('begin').run();
    other.prepare("select value from settings where key = 'turn.f'").get();
    await write('turn.f', 'w');
    assert.equal(await emptyWal(t.k.dbh), false);
    other.prepare('commit').run();
    assert.equal(await emptyWal(t.k.dbh), true);
    assert.equal(fs.statSync(`${t.k.dbh.sqlite!.name}-wal`).size, 0);
  });

  test('closing the database closes the reader', async () => {
    const t2 = await testKernel();
    const reader = t2.k.dbh.turnReader!;
    const conn = reader.connection()!;
    await t2.close();
    assert.equal(conn.open, false);
    assert.equal(reader.connection(), null);
  });
});

describe('TurnReader: a reader that cannot open gives way to the main connection', { skip: TEST_DIALECT !== 'sqlite' && 'a SQLite connection of its own' }, () => {
  test('a file it cannot open: null from then on (callers read on the main connection)', async () => {
    const { CommitCounter, TurnReader } = await import('./turn-reader.js');
    const reader = new TurnReader('/nonexistent/keyward.sqlite', new CommitCounter());
    assert.equal(reader.connection(), null);
    assert.equal(reader.connection(), null, 'no second attempt on every call');
  });
});
