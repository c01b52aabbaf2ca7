import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { testKernel, type TestKernel, TEST_DIALECT } from '../testing/db.js';
import { openTransaction } from './transaction-context.js';
import { Settings } from '../settings/settings.js';

/** Fails instead of hanging the test run when `p` never settles (the bug these tests are about). */
function within<T>(p: Promise<T>, ms = 3000): Promise<T> {
  return Promise.race([p, sleep(ms).then(() => { throw new Error(`no answer in ${ms} ms: the query waited for a connection its own transaction holds`); })]);
}

describe('queries inside a transaction', () => {
  let t: TestKernel;
  before(async () => { t = await testKernel(); });
  after(async () => { await t.close(); });

  test('settings read and written inside a transaction go through it, with a cold cache too', async () => {
    // A cache of no lifetime: every read is a query, as after two seconds of a person typing a form.
    const settings = new Settings(t.k.db, t.k.clock, 0);
    await settings.set('ctx.colour', 'blue');
    const seen = await within(t.k.db.transaction().execute(async () => {
      assert.ok(openTransaction(), 'the transaction is recorded');
      await settings.set('ctx.colour', 'green');
      return settings.get('ctx.colour', 'none');
    }));
    assert.equal(seen, 'green', 'the read saw the transaction\'s own write');
    assert.equal(await settings.get('ctx.colour', 'none'), 'green');
    assert.equal(openTransaction(), undefined, 'outside again');

    await assert.rejects(within(t.k.db.transaction().execute(async () => {
      await settings.set('ctx.colour', 'red');
      throw new Error('changed my mind');
    })), /changed my mind/);
    assert.equal(await settings.get('ctx.colour', 'none'), 'green', 'rolled back with the transaction');
  });

  test('on SQLite a query through the pool inside a transaction is refused with a clear error, not a hang', { skip: TEST_DIALECT !== 'sqlite' && 'PostgreSQL gives the pool query a connection of its own' }, async () => {
    await assert.rejects(
      within(t.k.db.transaction().execute(async () => t.k.db.selectFrom('settings').select('key').execute())),
      /inside a transaction would wait forever on SQLite: pass the transaction/,
    );
    await assert.rejects(
      within(t.k.db.transaction().execute(async () => t.k.db.transaction().execute(async () => 1))),
      /would wait forever/, 'a transaction inside a transaction likewise',
    );
    // The connection was given back each time: the pool still answers.
    assert.ok(Array.isArray(await within(t.k.db.selectFrom('settings').select('key').execute())));
  });

  test('work a transaction starts but does not wait for may use the pool once it has ended', async () => {
    let later: Promise<unknown> | undefined;
    await t.k.db.transaction().execute(async (trx) => {
      await trx.selectFrom('settings').select('key').execute();
      later = sleep(20).then(() => t.k.db.selectFrom('settings').select('key').execute());
    });
    assert.ok(Array.isArray(await within(later!)));
  });
});
