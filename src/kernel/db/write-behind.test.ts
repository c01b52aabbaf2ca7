import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { testKernel, type TestKernel, TEST_DIALECT } from '../testing/db.js';

// The write-behind runs on a second SQLite connection in a worker thread (or on the PostgreSQL pool);
// these tests go through the real thing on the test's own database file.
let t: TestKernel;
before(async () => { t = await testKernel(); });
after(async () => { await t.close(); });

const setting = (key: string, value: string) =>
  t.k.db.insertInto('settings').values({ key, value, updated_at: 1, updated_by: null }).compile();

async function stored(prefix: string): Promise<string[]> {
  const rows = await t.k.db.selectFrom('settings').select('key').where('key', 'like', `${prefix}%`).orderBy('key').execute();
  return rows.map((r) => r.key);
}

test(`a batch is committed as a whole and visible to the main connection once run() resolves (${TEST_DIALECT})`, async () => {
  await t.k.dbh.writeBehind.run([setting('wb.a', '1'), setting('wb.b', '2')]);
  assert.deepEqual(await stored('wb.'), ['wb.a', 'wb.b']);
});

test('a failing statement rolls the whole batch back and rejects with the database error', async () => {
  await assert.rejects(
    t.k.dbh.writeBehind.run([setting('wb2.a', '1'), setting('wb.a', 'duplicate key')]),
    /UNIQUE|duplicate key/i,
  );
  assert.deepEqual(await stored('wb2.'), [], 'the first row of the failed batch was not kept');
  await t.k.dbh.writeBehind.run([setting('wb2.after', '1')]);
  assert.deepEqual(await stored('wb2.'), ['wb2.after'], 'the writer goes on after a failed batch');
});

test('batches run in the order they were handed over', async () => {
  const runs = [];
  for (let i = 0; i < 20; i++) {
    runs.push(t.k.dbh.writeBehind.run([
      sql`update settings set value = ${String(i)} where key = 'wb.a'`.compile(t.k.db),
    ]));
  }
  await Promise.all(runs);
  const row = await t.k.db.selectFrom('settings').select('value').where('key', '=', 'wb.a').executeTakeFirstOrThrow();
  assert.equal(row.value, '19');
});

test('a read-then-write transaction on the main connection waits for the writer instead of failing', async () => {
  // A deferred SQLite transaction that read before the other connection committed could not upgrade
  // (SQLITE_BUSY); the kernel's transactions take the write lock first (BEGIN IMMEDIATE).
  let background: Promise<void> = Promise.resolve();
  await t.k.db.transaction().execute(async (trx) => {
    const n = await trx.selectFrom('settings').select((eb) => eb.fn.countAll<number>().as('n')).where('key', 'like', 'wb3.%').executeTakeFirstOrThrow();
    // The writer commits while this transaction is between its read and its write.
    background = t.k.dbh.writeBehind.run([setting('wb3.background', 'x')]);
    await new Promise((r) => setTimeout(r, 100));
    await trx.insertInto('settings').values({ key: 'wb3.foreground', value: String(n.n), updated_at: 1, updated_by: null }).execute();
  });
  await background;
  assert.deepEqual(await stored('wb3.'), ['wb3.background', 'wb3.foreground']);
});

test('close() finishes what was handed over', async () => {
  const other = await testKernel();
  const done = other.k.dbh.writeBehind.run([
    other.k.db.insertInto('settings').values({ key: 'wb4.last', value: '1', updated_at: 1, updated_by: null }).compile(),
  ]);
  await other.k.dbh.writeBehind.close();
  await done;
  const row = await other.k.db.selectFrom('settings').select('key').where('key', '=', 'wb4.last').executeTakeFirst();
  assert.equal(row?.key, 'wb4.last');
  await other.close();
});
