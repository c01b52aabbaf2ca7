import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import SQLite from 'better-sqlite3';
import { testKernel, type TestKernel, TEST_DIALECT } from '../testing/db.js';
import { backupDatabase } from './backup.js';

// The destination is an SQLite file that another connection holds locked: SQLite refuses the backup's
// first step (SQLITE_BUSY), which better-sqlite3 reports as a finished backup of no pages.

describe('an SQLite backup whose destination is locked', { skip: TEST_DIALECT !== 'sqlite' && 'SQLite online backup: PostgreSQL uses pg_dump' }, () => {
  let t: TestKernel;
  let out: string;
  let holder: SQLite.Database;
  before(async () => {
    t = await testKernel();
    await t.k.db.insertInto('settings').values({ key: 'backup.marker', value: 'kept', updated_at: 1, updated_by: null }).execute();
    out = path.join(t.config.dataDir, 'backups', 'locked.sqlite');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    holder = new SQLite(out);
    holder.exec('create table placeholder (x)');
  });
  after(async () => {
    holder.close();
    await t.close();
  });

  const marker = () => {
    const copy = new SQLite(out, { readonly: true });
    try {
      return (copy.prepare("select value from settings where key = 'backup.marker'").pluck().get() as string | undefined) ?? null;
    } finally {
      copy.close();
    }
  };

  test('waits for the lock, then copies the database', async () => {
    holder.exec('begin immediate');
    let settled = false;
    const done = backupDatabase(t.k.dbh, t.config.database, out).finally(() => { settled = true; });
    await sleep(150);
    assert.equal(settled, false, 'the backup was reported done while its file was locked');
    holder.exec('commit');
    assert.equal(await done, out);
    assert.equal(marker(), 'kept');
  });

  test('fails, rather than report a backup, when the lock is not released in time', async () => {
    holder.exec('begin immediate');
    try {
      await assert.rejects(backupDatabase(t.k.dbh, t.config.database, out, { waitMs: 200 }), /could not start/);
    } finally {
      holder.exec('rollback');
    }
  });
});
