import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { simulate } from '../src/simulate.js';
import { StandInServer, newKeyPair } from './stand-in-server.js';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../bin/keyward-client', import.meta.url));
const standIn = new StandInServer();
let directory = '';

before(async () => {
  await standIn.start();
  directory = await mkdtemp(join(tmpdir(), 'keyward-simulate-'));
});
after(async () => {
  await standIn.close();
  await rm(directory, { recursive: true, force: true });
});

test('stand-in: keyward-client simulate runs installations and prints a summary', async () => {
  const keys = join(directory, 'keys.txt');
  await writeFile(keys, '# trial keys\n7H2KQ-9QWXM-4TRZP-8DA1C-5NB3E\n\nAAAAA-BBBBB-CCCCC-DDDDD-EEEEE\n');
  const before = standIn.requests.length;
  const { stdout, stderr } = await run(bin, [
    'simulate', '--server', standIn.url, '--licence-file', keys, '--installations', '4',
    '--duration', '1.5', '--rate', '20', '--product', 'mailserver',
  ]);
  assert.match(stdout, /^summary: 4 installations against http:\/\/127\.0\.0\.1:\d+/);
  assert.match(stdout, /calls \d+ \(.*\/s\), valid \d+, invalid 0, errors 0/);
  assert.match(stdout, /VALID\s+\d+\s+valid/);
  assert.match(stdout, /latency p50 [\d.]+ ms, p99 [\d.]+ ms/);
  assert.match(stderr, /1s calls \d+/, 'a progress line each second');

  const calls = standIn.requests.slice(before).filter((request) => request.path === '/api/v1/callhome');
  // The rate caps the calls (20/s for 1.5 s: about 30); a loaded machine may make fewer, never many more.
  assert.ok(calls.length >= 4 && calls.length <= 40, `at least one call per installation and at most about 30 expected, got ${calls.length}`);
  assert.equal(new Set(calls.map((call) => call.body.computerId)).size, 4, 'one computer ID per installation');
  assert.equal(new Set(calls.map((call) => call.body.licence)).size, 2, 'keys shared out between installations');
  for (const call of calls) assert.match(String(call.body.version), /^\d+\.\d+\.\d+(-[\w.]+)?$/);
});

test('stand-in: simulated installations derive the same computer IDs from the same seed', async () => {
  const idsFor = async (seed: string): Promise<string[]> => {
    const before = standIn.requests.length;
    await simulate({ serverUrl: standIn.url, licences: ['K'], installations: 3, durationSeconds: 0.2, rate: 30, seed });
    return [...new Set(standIn.requests.slice(before).filter((r) => r.path === '/api/v1/callhome').map((r) => String(r.body.computerId)))].sort();
  };
  const first = await idsFor('trial-1');
  assert.deepEqual(await idsFor('trial-1'), first);
  assert.notDeepEqual(await idsFor('trial-2'), first);
});

test('stand-in: simulate counts rate-limited calls and then waits out Retry-After', async () => {
  standIn.behaviour = { rateLimit: { retryAfter: '60' } };
  try {
    const summary = await simulate({ serverUrl: standIn.url, licences: ['K'], installations: 2, durationSeconds: 0.5, rate: 40, seed: 's' });
    assert.equal(summary.errors.RATE_LIMITED, 2, 'each installation calls once, then waits');
    assert.ok(summary.skippedForRetryAfter > 0);
  } finally {
    standIn.behaviour = {};
  }
});

test('keyward-client without a command prints its usage; a bad option exits 2', async () => {
  const { stderr } = await run(bin, []);
  assert.match(stderr, /usage: keyward-client simulate/);
  await assert.rejects(run(bin, ['simulate', '--server', 'http://x', '--licence', 'K', '--rate', 'fast']), (error: { code?: number; stderr?: string }) => {
    return error.code === 2 && /--rate must be a positive number/.test(error.stderr ?? '');
  });
});

test('simulate --help prints the usage; a --keys file that is not GET /api/v1/keys is refused, not ignored', async () => {
  const { stdout } = await run(bin, ['simulate', '--help']);
  assert.match(stdout, /^usage: keyward-client simulate/);
  const one = join(directory, 'one-key.json');
  await writeFile(one, JSON.stringify({ kid: 'k1', publicKey: 'AAAA' }));
  await assert.rejects(run(bin, ['simulate', '--server', standIn.url, '--licence', 'K', '--keys', one]), (error: { code?: number; stderr?: string }) => {
    return error.code === 2 && /must hold the JSON of GET \/api\/v1\/keys/.test(error.stderr ?? '');
  });
  const bare = join(directory, 'bare-array.json');
  await writeFile(bare, JSON.stringify(standIn.pinnedKeys));
  const ran = await run(bin, ['simulate', '--server', standIn.url, '--licence', '7H2KQ-9QWXM-4TRZP-8DA1C-5NB3E', '--keys', bare, '--duration', '0.5', '--installations', '1', '--json']);
  assert.ok(JSON.parse(ran.stdout).calls > 0, 'a bare array of keys is pinned as is');
});

test('stand-in: Ctrl-C ends a run early with its summary; a run that mostly fails says what it likely means', async () => {
  const child = spawn(bin, ['simulate', '--server', standIn.url, '--licence', '7H2KQ-9QWXM-4TRZP-8DA1C-5NB3E', '--duration', '60', '--installations', '2', '--rate', '5'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  while (!err.includes('1s calls')) await new Promise((r) => setTimeout(r, 50));
  child.kill('SIGINT');
  const code = await new Promise((r) => child.once('exit', r));
  assert.equal(code, 130);
  assert.match(out, /^summary: 2 installations/);

  const wrong = join(directory, 'wrong-keys.json');
  await writeFile(wrong, JSON.stringify({ keys: [newKeyPair('not-this-server').pinned] }));
  const ran = await run(bin, ['simulate', '--server', standIn.url, '--licence', '7H2KQ-9QWXM-4TRZP-8DA1C-5NB3E', '--keys', wrong, '--duration', '0.5', '--installations', '1']);
  assert.match(ran.stdout, /SIGNATURE_INVALID/);
  assert.match(ran.stdout, /hint: most answers failed verification/);
});
