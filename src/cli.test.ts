import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { TEST_DIALECT, createTestDatabase } from './kernel/testing/db.js';
import { apiKeyLooksValid } from './kernel/crypto/tokens.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/keyward');
let dataDir: string;
let env: NodeJS.ProcessEnv;
let dropSchema = async () => {};

before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-cli-'));
  env = { ...process.env, KEYWARD_DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
  if (TEST_DIALECT === 'postgres') {
    const d = await createTestDatabase();
    dropSchema = d.drop;
    env.DATABASE_URL = d.url;
  }
});
after(async () => { fs.rmSync(dataDir, { recursive: true, force: true }); await dropSchema(); });

test('bin/keyward apikey create prints a valid key as the last line', async () => {
  const { stdout } = await run(BIN, ['apikey', 'create', '--name', 'deploy'], { env });
  const last = stdout.trim().split('\n').at(-1)!;
  assert.ok(apiKeyLooksValid(last), last);
});

test('keys rotate under another master key changes nothing and says why', async () => {
  const before = (await run(BIN, ['keys', 'list'], { env })).stdout;
  await assert.rejects(run(BIN, ['keys', 'rotate'], { env: { ...env, KEYWARD_SECRET_KEY: 'ab'.repeat(32) } }), (err: { code: number; stderr: string }) => {
    assert.equal(err.code, 1);
    assert.match(err.stderr, /cannot be opened with this master key: KEYWARD_SECRET_KEY \(or secret\.key/);
    return true;
  });
  assert.equal((await run(BIN, ['keys', 'list'], { env })).stdout, before);
});

test('bin/keyward keys rotate keeps the old key listed as retired', async () => {
  await run(BIN, ['keys', 'rotate'], { env });
  const { stdout } = await run(BIN, ['keys', 'list'], { env });
  const lines = stdout.trim().split('\n');
  assert.equal(lines.length, 2);
  assert.equal(lines.filter((l) => l.includes('\tactive\t')).length, 1);
  assert.equal(lines.filter((l) => l.includes('\tretired\t')).length, 1);
});

test('an unknown option or argument changes nothing and exits 2 with the usage', async () => {
  const before = (await run(BIN, ['keys', 'list'], { env })).stdout;
  for (const args of [['keys', 'rotate', '--dry-run'], ['keys', 'rotate', 'now'], ['keys', 'list', '-v'], ['demo', '--force'], ['migrate', '--to', '3'], ['apikey', 'create', '--name', 'x', '--admin']]) {
    await assert.rejects(run(BIN, args, { env }), (err: { code: number; stderr: string }) => {
      assert.equal(err.code, 2, args.join(' '));
      assert.match(err.stderr, /Usage|usage/, args.join(' '));
      return true;
    });
  }
  assert.equal((await run(BIN, ['keys', 'list'], { env })).stdout, before, 'no key was added');
});

test('bad configuration stops before listening, with a fix-it message and exit code 2', async () => {
  await assert.rejects(run(BIN, ['serve'], { env: { ...env, PORT: 'eighty' } }), (err: { code: number; stderr: string }) => {
    assert.equal(err.code, 2);
    assert.match(err.stderr, /PORT="eighty" is not a port number/);
    return true;
  });
});

test('bin/keyward serve starts, prints the first-run link, and answers /healthz (PORT=0: the port the system chose, everywhere)', async () => {
  const child = spawn(BIN, ['serve'], { env: { ...env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  try {
    const deadline = Date.now() + 120_000;
    while (!/\/setup\/[A-Za-z0-9_-]{43}/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const port = Number(/Keyward is running at http:\/\/127\.0\.0\.1:(\d+) /.exec(out)?.[1]);
    assert.ok(port > 0, out);
    const link = /(http:\/\/\S+\/setup\/[A-Za-z0-9_-]{43})/.exec(out)![1]!;
    assert.equal(new URL(link).port, String(port), 'the first-run link names the same port');
    const page = await fetch(link);
    assert.equal(page.status, 200);
    const health = await (await fetch(`http://127.0.0.1:${port}/healthz`)).json() as { status: string; database: string };
    assert.equal(health.status, 'ok');
    assert.equal(health.database, TEST_DIALECT);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
});

test('bin/keyward backup makes a consistent copy and restore brings it back', async () => {
  await run(BIN, ['apikey', 'create', '--name', 'before-backup'], { env });
  const out = path.join(dataDir, 'b', TEST_DIALECT === 'sqlite' ? 'copy.sqlite' : 'copy.pgdump');
  const { stdout } = await run(BIN, ['backup', '--out', out], { env });
  assert.match(stdout, /Backup written/);
  assert.ok(fs.statSync(out).size > 0);
  await run(BIN, ['apikey', 'create', '--name', 'after-backup'], { env });
  await run(BIN, ['restore', out], { env });
  const { createKernel } = await import('./kernel/context.js');
  const { loadConfig } = await import('./kernel/config/config.js');
  const k = createKernel(loadConfig(env));
  try {
    const names = (await k.db.selectFrom('api_keys').select('name').execute()).map((r) => r.name).sort();
    assert.ok(names.includes('before-backup'));
    assert.ok(!names.includes('after-backup'), 'the restore went back to the backup');
    if (TEST_DIALECT === 'sqlite') assert.equal(k.dbh.sqlite!.pragma('integrity_check', { simple: true }), 'ok');
  } finally {
    await k.close();
  }
});

test('restore refuses a file that is no Keyward backup, and a database a running server has open; the database stays as it was', { skip: TEST_DIALECT !== 'sqlite' && 'SQLite files: pg_restore checks its own input' }, async () => {
  const dbFile = path.join(dataDir, 'keyward.sqlite');
  const before = fs.readFileSync(dbFile);
  const junk = path.join(dataDir, 'junk.txt');
  fs.writeFileSync(junk, 'hello\n');
  await assert.rejects(run(BIN, ['restore', junk], { env }), (err: { code: number; stderr: string }) => {
    assert.equal(err.code, 1);
    assert.match(err.stderr, /junk\.txt is not a SQLite database/);
    return true;
  });
  const other = path.join(dataDir, 'other.sqlite');
  const { default: SQLite } = await import('better-sqlite3');
  const o = new SQLite(other); o.exec('create table notes (x)'); o.close();
  await assert.rejects(run(BIN, ['restore', other], { env }), /not a Keyward one/);
  assert.ok(fs.readFileSync(dbFile).equals(before), 'the live database was not touched');

  const copy = path.join(dataDir, 'b', 'copy.sqlite');
  const port = 20000 + Math.floor(Math.random() * 20000);
  const server = spawn(BIN, ['serve'], { env: { ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && !(await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false))) await new Promise((r) => setTimeout(r, 100));
    await assert.rejects(run(BIN, ['restore', copy], { env }), (err: { code: number; stderr: string }) => {
      assert.equal(err.code, 1);
      assert.match(err.stderr, /open in another program \(a running Keyward\?\): stop it first/);
      return true;
    });
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
  const { stdout } = await run(BIN, ['restore', copy], { env });
  const kept = /kept in (\S+)/.exec(stdout)?.[1];
  assert.ok(kept && fs.existsSync(kept) && kept.includes('pre-restore'), stdout);
});

test('backup refuses a data directory with no database, instead of backing up a new empty one', { skip: TEST_DIALECT !== 'sqlite' && 'SQLite files' }, async () => {
  const empty = path.join(dataDir, 'nothing-here');
  await assert.rejects(run(BIN, ['backup'], { env: { ...env, KEYWARD_DATA_DIR: empty } }), (err: { code: number; stderr: string }) => {
    assert.equal(err.code, 1);
    assert.match(err.stderr, /there is no database at .*nothing-here/);
    return true;
  });
  assert.equal(fs.existsSync(empty), false, 'nothing was created');
});

test('an existing database with a pending migration is not migrated unless asked', async () => {
  const { createKernel } = await import('./kernel/context.js');
  const { loadConfig } = await import('./kernel/config/config.js');
  const k = createKernel(loadConfig(env));
  const last = Object.keys((await import('./migrations.js')).allMigrations).sort().at(-1)!;
  try {
    await k.db.deleteFrom('kysely_migration' as never).where('name' as never, '=', last as never).execute();
  } finally {
    await k.close();
  }
  await assert.rejects(run(BIN, ['serve'], { env: { ...env, PORT: '0' } }), (err: { code: number; stderr: string }) => {
    assert.equal(err.code, 2);
    assert.match(err.stderr, /migration\(s\) are pending/);
    assert.match(err.stderr, /--migrate/);
    return true;
  });
  // Commands that only read or add a row do not migrate on the side either (they make no backup).
  for (const args of [['keys', 'list'], ['apikey', 'create', '--name', 'x'], ['demo']]) {
    await assert.rejects(run(BIN, args, { env }), (err: { code: number; stderr: string }) => {
      assert.equal(err.code, 2, args.join(' '));
      assert.match(err.stderr, /migration\(s\) are pending/);
      return true;
    });
  }
});

// (The test above left a migration pending: these start with --migrate.)
test('a port already taken names the setting to change: PORT for the web, KEYWARD_SMTP_LISTEN for the intake (exit code 2)', async () => {
  const net = await import('node:net');
  const holder = net.createServer();
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
  const taken = (holder.address() as { port: number }).port;
  try {
    await assert.rejects(run(BIN, ['serve', '--migrate'], { env: { ...env, PORT: String(taken) } }), (err: { code: number; stderr: string }) => {
      assert.equal(err.code, 2);
      assert.match(err.stderr, new RegExp(`Port ${taken} \\(PORT\\) is already in use`));
      return true;
    });
    const free = 20000 + Math.floor(Math.random() * 20000);
    await assert.rejects(run(BIN, ['serve', '--migrate'], { env: { ...env, PORT: String(free), KEYWARD_SMTP_LISTEN: `127.0.0.1:${taken}` } }), (err: { code: number; stderr: string }) => {
      assert.equal(err.code, 2);
      assert.match(err.stderr, new RegExp(`Port ${taken} \\(KEYWARD_SMTP_LISTEN\\) is already in use`));
      assert.doesNotMatch(err.stderr, /\(PORT\)/);
      return true;
    });
  } finally {
    holder.close();
  }
});

test('serve --role worker runs jobs and leaves the web port alone', async () => {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(BIN, ['serve', '--migrate', '--role', 'worker'], { env: { ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((r) => child.once('exit', r));
  try {
    const deadline = Date.now() + 120_000;
    while (!/running as a worker/.test(out) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(child.exitCode, null, out);
    assert.match(out, /Keyward is running as a worker: jobs, no web server/);
    await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`), 'nothing listens on PORT');
    // With no web server to hold it open, a worker once ended by itself a second or two after starting.
    await new Promise((r) => setTimeout(r, 4000));
    assert.equal(child.exitCode, null, `the worker stays up: ${out}`);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
});

test('the data directory, a new database and its backups are readable by their owner alone', { skip: TEST_DIALECT !== 'sqlite' && 'SQLite files' }, async () => {
  const dir = path.join(dataDir, 'private');
  await run(BIN, ['keys', 'list'], { env: { ...env, KEYWARD_DATA_DIR: dir } });
  const mode = (p: string) => (fs.statSync(p).mode & 0o777).toString(8);
  assert.equal(mode(dir), '700');
  assert.equal(mode(path.join(dir, 'keyward.sqlite')), '600');
  assert.equal(mode(path.join(dir, 'secret.key')), '600');
  const { stdout } = await run(BIN, ['backup'], { env: { ...env, KEYWARD_DATA_DIR: dir } });
  const file = /Backup written to (\S+)/.exec(stdout)![1]!;
  assert.equal(mode(file), '600');
  assert.equal(mode(path.dirname(file)), '700');
});
