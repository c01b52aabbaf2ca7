import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { TEST_DIALECT, createTestDatabase } from './kernel/testing/db.js';
import { processEnv } from './processes.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/keyward');
let dataDir: string;
let env: NodeJS.ProcessEnv;
let drop = async () => {};

before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-procs-'));
  env = { ...process.env, KEYWARD_DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
  if (TEST_DIALECT === 'postgres') {
    const d = await createTestDatabase();
    drop = d.drop;
    env.DATABASE_URL = d.url;
  }
});
after(async () => { fs.rmSync(dataDir, { recursive: true, force: true }); await drop(); });

test('the first process keeps the role (jobs, mail intake run once); the others only serve the web', () => {
  assert.deepEqual(processEnv(0, 4, 'all'), { KEYWARD_PROCESS_INDEX: '0', KEYWARD_PROCESSES: '4', KEYWARD_ROLE: 'all' });
  assert.deepEqual(processEnv(1, 4, 'all'), { KEYWARD_PROCESS_INDEX: '1', KEYWARD_PROCESSES: '4', KEYWARD_ROLE: 'web' });
  assert.deepEqual(processEnv(3, 4, 'web'), { KEYWARD_PROCESS_INDEX: '3', KEYWARD_PROCESSES: '4', KEYWARD_ROLE: 'web' });
  assert.deepEqual(processEnv(2, 4, 'worker'), { KEYWARD_PROCESS_INDEX: '2', KEYWARD_PROCESSES: '4', KEYWARD_ROLE: 'worker' });
});

test('--processes must be a whole number from 1 to 64', async () => {
  await assert.rejects(run(BIN, ['serve', '--processes', 'two'], { env }), (err: { code: number; stderr: string }) => {
    assert.equal(err.code, 2);
    assert.match(err.stderr, /KEYWARD_PROCESSES="two" \(or --processes\) must be a whole number from 1 to 64/);
    return true;
  });
});

async function children(pid: number): Promise<number[]> {
  const { stdout } = await run('ps', ['-o', 'pid=', '--ppid', String(pid)]).catch(() => ({ stdout: '' }));
  return stdout.split('\n').map((s) => Number(s.trim())).filter((n) => n > 0);
}

async function until<T>(what: string, f: () => Promise<T | null>, ms = 120_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => null);
    if (v !== null && v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('serve --processes 2 shares one port, announces once, restarts a killed process, and stops on SIGTERM', async () => {
  const port = 20000 + Math.floor(Math.random() * 20000);
  // The shell script execs node, so the child's pid is the primary's.
  const primary = spawn(BIN, ['serve', '--processes', '2'], { env: { ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  primary.stdout.on('data', (d) => { out += d; });
  primary.stderr.on('data', (d) => { out += d; });
  const exited = new Promise<number | null>((r) => primary.once('exit', (code) => r(code)));
  try {
    const health = async () => ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok ? true : null);
    await until('the server to answer', health);
    const first = await until('two processes', async () => { const c = await children(primary.pid!); return c.length === 2 ? c : null; });
    await until('both to listen', async () => (out.match(/Server listening|Keyward is running/g) ?? []).length >= 1 ? true : null);
    assert.equal((out.match(/Keyward is running at/g) ?? []).length, 1, 'only the first process prints the start-up lines');

    process.kill(first[1]!, 'SIGKILL');
    const replaced = await until('the killed process to be replaced', async () => {
      const c = await children(primary.pid!);
      return c.length === 2 && !c.includes(first[1]!) ? c : null;
    });
    assert.ok(replaced.includes(first[0]!), 'the other process kept running');
    assert.match(out, /Keyward process \d stopped \(SIGKILL\); restarting it/);
    for (let i = 0; i < 20; i++) assert.equal(await health(), true);

    // Both at once: the primary keeps going with no process left, and brings both back.
    for (const pid of replaced) process.kill(pid, 'SIGKILL');
    await until('both processes to be replaced', async () => {
      const c = await children(primary.pid!);
      return c.length === 2 && !c.some((p) => replaced.includes(p)) ? c : null;
    });
    await until('the server to answer again', health);

    primary.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.deepEqual(await children(primary.pid!), []);
  } finally {
    primary.kill('SIGKILL');
  }
});

test('a setting only the serving processes check is wrong: the primary stops them and exits 2, not 0 after giving up', async () => {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const primary = spawn(BIN, ['serve', '--processes', '2'], { env: { ...env, PORT: String(port), KEYWARD_CALLHOME_RATE_IP: 'abc' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  primary.stderr.on('data', (d) => { out += d; });
  try {
    const code = await new Promise<number | null>((r) => primary.once('exit', (c) => r(c)));
    assert.equal(code, 2, out);
    assert.match(out, /KEYWARD_CALLHOME_RATE_IP/);
    assert.match(out, /configuration is wrong/);
  } finally {
    primary.kill('SIGKILL');
  }
});
