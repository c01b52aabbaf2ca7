// Upgrades: an existing SQLite database with a pending migration is refused without --migrate (nothing
// touched), and with --migrate it is copied to data/backups/pre-migrate-*.sqlite before migrating.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { loadConfig } from '../../src/kernel/config/config.js';
import { createKernel } from '../../src/kernel/context.js';
import { migrateToLatest } from '../../src/kernel/db/migrate.js';
import { TEST_DIALECT, silentLog } from '../../src/kernel/testing/db.js';
import { allMigrations } from '../../src/migrations.js';
import { BIN, Node, nodeEnv, run, tempDir } from './harness.js';

const names = Object.keys(allMigrations).sort();
const last = names.at(-1)!;
let dir = '';
let env: NodeJS.ProcessEnv;

before(async () => {
  if (TEST_DIALECT !== 'sqlite') return;
  dir = tempDir('upgrade');
  env = nodeEnv({ KEYWARD_DATA_DIR: dir });
  // A database made by the previous release: every migration but the newest, and some data.
  const k = createKernel(loadConfig(env), { log: silentLog });
  try {
    await migrateToLatest(k.db, Object.fromEntries(names.slice(0, -1).map((n) => [n, allMigrations[n]!])));
    await k.settings.set('upgrade.marker', { written: 'before the upgrade' });
  } finally {
    await k.close();
  }
});
after(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

const backups = () => (fs.existsSync(path.join(dir, 'backups')) ? fs.readdirSync(path.join(dir, 'backups')) : []);
const applied = (file: string) => {
  const db = new Database(file, { readonly: true });
  try { return (db.prepare('SELECT name FROM kysely_migration').all() as Array<{ name: string }>).map((r) => r.name); } finally { db.close(); }
};

test('SQLite: refused without --migrate, backed up then migrated with it', async (t) => {
  if (TEST_DIALECT !== 'sqlite') return t.skip('the pre-migration copy is SQLite\'s (on PostgreSQL the operator\'s pg_dump/bin/keyward backup is the copy)');
  const file = path.join(dir, 'keyward.sqlite');
  await assert.rejects(run(BIN, ['serve'], { env: { ...env, PORT: '0' } }), (err: { code: number; stderr: string }) => {
    assert.equal(err.code, 2);
    assert.match(err.stderr, new RegExp(`1 database migration\\(s\\) are pending \\(${last}\\)`));
    return true;
  });
  assert.deepEqual(backups(), [], 'a refused start touches nothing');
  assert.ok(!applied(file).includes(last));

  const node = new Node('upgrade', env, ['serve', '--migrate']);
  try {
    await node.start();
  } finally {
    await node.stop();
  }
  const copies = backups();
  assert.equal(copies.length, 1, `one backup: ${copies}`);
  assert.match(copies[0]!, /^pre-migrate-.*\.sqlite$/);
  const copy = path.join(dir, 'backups', copies[0]!);
  assert.ok(!applied(copy).includes(last), 'the copy is the database as it was before migrating');
  assert.equal(applied(copy).length, names.length - 1);
  const db = new Database(copy, { readonly: true });
  try {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    assert.match(String((db.prepare("SELECT value FROM settings WHERE key = 'upgrade.marker'").get() as { value: string }).value), /before the upgrade/);
  } finally { db.close(); }
  assert.ok(applied(file).includes(last), 'the live database is migrated');
});
