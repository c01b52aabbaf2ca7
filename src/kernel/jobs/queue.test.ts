import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { testKernel, type TestKernel, TEST_DIALECT } from '../testing/db.js';
import { openDatabase } from '../db/database.js';
import { JobQueue } from './queue.js';
import { silentLog } from '../testing/db.js';

let t: TestKernel;
before(async () => { t = await testKernel(); });
after(async () => { await t.close(); });

test('a failing job is retried with growing backoff, then marked dead', async () => {
  let calls = 0;
  t.k.jobs.register('test.flaky', async () => { calls++; throw new Error('boom'); });
  const id = await t.k.jobs.enqueue('test.flaky', {}, { maxAttempts: 3 });
  await t.k.jobs.runDue();
  assert.equal(calls, 1);
  let row = await t.k.db.selectFrom('jobs').selectAll().where('id', '=', id!).executeTakeFirstOrThrow();
  assert.equal(row.status, 'queued');
  assert.equal(row.run_at, t.clock.now() + 2000, 'first retry after 2 s');
  await t.k.jobs.runDue();
  assert.equal(calls, 1, 'not before its time');
  t.clock.advance(2000);
  await t.k.jobs.runDue();
  row = await t.k.db.selectFrom('jobs').selectAll().where('id', '=', id!).executeTakeFirstOrThrow();
  assert.equal(row.run_at, t.clock.now() + 4000, 'second retry after 4 s');
  t.clock.advance(4000);
  await t.k.jobs.runDue();
  row = await t.k.db.selectFrom('jobs').selectAll().where('id', '=', id!).executeTakeFirstOrThrow();
  assert.equal(row.status, 'dead');
  assert.equal(calls, 3);
  assert.equal(row.last_error, 'boom');
});

test('an idempotency key makes a job at most once', async () => {
  let calls = 0;
  t.k.jobs.register('test.once', async () => { calls++; });
  const a = await t.k.jobs.enqueue('test.once', {}, { idempotencyKey: 'k1' });
  const b = await t.k.jobs.enqueue('test.once', {}, { idempotencyKey: 'k1' });
  assert.ok(a);
  assert.equal(b, null);
  await t.k.jobs.drain();
  assert.equal(calls, 1);
});

test('a job enqueued in a rolled-back transaction never exists', async () => {
  t.k.jobs.register('test.tx', async () => {});
  await assert.rejects(t.k.db.transaction().execute(async (trx) => {
    await t.k.jobs.enqueue('test.tx', {}, { trx, idempotencyKey: 'tx-1' });
    throw new Error('rollback');
  }));
  assert.equal((await t.k.db.selectFrom('jobs').selectAll().where('idempotency_key', '=', 'tx-1').execute()).length, 0);
});

test('a crashed worker\'s job runs again after its lease expires', async () => {
  let calls = 0;
  t.k.jobs.register('test.lease', async () => { calls++; });
  await t.k.jobs.enqueue('test.lease', {});
  const claimed = await t.k.jobs.claim(10);
  assert.ok(claimed.some((j) => j.name === 'test.lease'), 'claimed, then the worker "crashes" without finishing');
  await t.k.jobs.runDue();
  assert.equal(calls, 0, 'not re-run while the lease holds');
  t.clock.advance(5 * 60_000 + 1);
  await t.k.jobs.runDue();
  assert.equal(calls, 1);
});

test('a periodic job is enqueued once per interval even when several queues tick', async () => {
  let runs = 0;
  const other = new JobQueue(t.k.db, t.k.flags, t.clock, silentLog);
  for (const q of [t.k.jobs, other]) q.every('test.tick', 60_000, async () => { runs++; });
  await Promise.all([t.k.jobs.runDue(), other.runDue()]);
  await Promise.all([t.k.jobs.runDue(), other.runDue()]);
  assert.equal(runs, 1);
  t.clock.advance(60_000);
  await Promise.all([t.k.jobs.runDue(), other.runDue()]);
  await Promise.all([t.k.jobs.runDue(), other.runDue()]);
  assert.equal(runs, 2);
});

test('two workers on separate connections never run the same job (SKIP LOCKED on PostgreSQL)', { skip: TEST_DIALECT !== 'postgres' ? 'PostgreSQL only: SQLite has one writer process' : false }, async () => {
  const second = openDatabase(t.config.database);
  try {
    const seen: string[] = [];
    const q1 = new JobQueue(t.k.db, t.k.flags, t.clock, silentLog);
    const q2 = new JobQueue(second.db, second.flags, t.clock, silentLog);
    for (const q of [q1, q2]) q.register('test.race', async (p: { n: number }) => { seen.push(String(p.n)); await new Promise((r) => setTimeout(r, 2)); });
    for (let n = 0; n < 60; n++) await t.k.jobs.enqueue('test.race', { n });
    await Promise.all([q1.drain(), q2.drain(), q1.drain(), q2.drain()]);
    assert.equal(seen.length, 60, 'each job ran exactly once');
    assert.equal(new Set(seen).size, 60);
  } finally {
    await second.close();
  }
});
