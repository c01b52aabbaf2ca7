/**
 * npm run bench:callhome [-- --licences 100000 --machines 200000 --seconds 10 --processes 1 --connections 50]
 *
 * Seeds a realistic installed base on SQLite, then measures in one run, with the same process count:
 *  1. signed call-home validations at maximum throughput (closed loop),
 *  2. a bare Node http server answering a fixed JSON POST (the baseline),
 *  3. p50/p99 latency of both at a fixed offered rate of half the call-home maximum (open loop).
 * The load generator runs in its own process; all traffic stays on 127.0.0.1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/kernel/config/config.js';
import { createKernel } from '../src/kernel/context.js';
import { migrateToLatest } from '../src/kernel/db/migrate.js';
import { ensureSigningKey, listPublicKeys, verifyEd25519 } from '../src/kernel/crypto/signing.js';
import { allMigrations } from '../src/migrations.js';
import { freePort } from './lib/free-port.js';
import { treeCpuMs } from './lib/process-cpu.js';
import { seedInstalledBase } from './lib/seed.js';
import type { LoadResult } from './lib/loadgen.js';

const { values: a } = parseArgs({ options: {
  licences: { type: 'string', default: '100000' }, machines: { type: 'string', default: '200000' },
  seconds: { type: 'string', default: '10' }, processes: { type: 'string', default: '1' },
  connections: { type: 'string', default: '50' }, sample: { type: 'string', default: '20000' },
} });
const N = { licences: Number(a.licences), machines: Number(a.machines), seconds: Number(a.seconds), processes: Number(a.processes), connections: Number(a.connections), sample: Number(a.sample) };
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const tsx = path.join(root, 'node_modules/tsx/dist/loader.mjs');

function bar(done: number, total: number, label: string) {
  const w = 30;
  const filled = Math.round((done / total) * w);
  process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(w - filled)}] ${done}/${total}`);
  if (done === total) process.stderr.write('\n');
}

async function startServer(mode: 'keyward' | 'bare', env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', tsx, path.join(root, 'bench/lib/cluster-entry.ts'), mode, String(N.processes), String(port)], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => { out += d; if (out.includes(`ready ${port}`)) resolve(); });
    child.once('exit', (c) => reject(new Error(`${mode} server exited ${c}`)));
  });
  return { child, port };
}

function load(opts: { mode: 'closed' | 'open'; port: number; seconds: number; rate?: number; bodiesFile: string; path: string; connections?: number }): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tsx, path.join(root, 'bench/lib/loadgen-cli.ts'), JSON.stringify({ connections: N.connections, ...opts })], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`load generator exited ${code}`))));
  });
}

/** A load phase, with the server's CPU time per answered request (µs, all its processes and threads). */
async function measured(server: ChildProcess, phase: () => Promise<LoadResult>): Promise<LoadResult & { cpuUsPerRequest: number | null }> {
  const before = treeCpuMs(server.pid!);
  const r = await phase();
  const after = treeCpuMs(server.pid!);
  return { ...r, cpuUsPerRequest: before === null || after === null || r.requests === 0 ? null : ((after - before) * 1000) / r.requests };
}

async function stop(child: ChildProcess) {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-bench-'));
const env: NodeJS.ProcessEnv = {
  ...process.env, KEYWARD_DATA_DIR: dataDir, LOG_LEVEL: 'silent', NODE_ENV: 'production', KEYWARD_ROLE: 'all',
  // One load generator on one address calls far more often than real installations: lift the limits.
  KEYWARD_CALLHOME_RATE_LICENCE: '1000000', KEYWARD_CALLHOME_RATE_IP: '100000000', KEYWARD_LOGIN_RATE_LIMIT: '10000',
};
try {
  console.log(`Seeding ${N.licences} licences and ${N.machines} machines on SQLite in ${dataDir} …`);
  const k = createKernel(loadConfig(env));
  await migrateToLatest(k.db, allMigrations);
  await ensureSigningKey(k.db, k.secrets);
  const t0 = Date.now();
  const sample = await seedInstalledBase(k, { ...N, onProgress: (d, t) => bar(d, t, 'seeding') });
  k.dbh.sqlite!.pragma('wal_checkpoint(TRUNCATE)');
  const keys = await listPublicKeys(k.db);
  await k.close();
  console.log(`Seeded in ${((Date.now() - t0) / 1000).toFixed(1)} s; ${sample.length} installations in the request mix.`);

  const bodies = sample.map((s) => JSON.stringify({
    licence: s.licence, product: 'mailserver', version: s.version, computerId: s.computerId, usersInUse: s.usersInUse,
    nonce: crypto.randomBytes(18).toString('base64url'),
  }));
  const bodiesFile = path.join(dataDir, 'bodies.json');
  fs.writeFileSync(bodiesFile, JSON.stringify(bodies));

  // Keyward
  const kw = await startServer('keyward', env);
  const probe = await fetch(`http://127.0.0.1:${kw.port}/api/v1/callhome`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bodies[0] });
  const probeBody = Buffer.from(await probe.arrayBuffer());
  const sig = /signature="([^"]+)"/.exec(probe.headers.get('keyward-signature') ?? '')?.[1];
  const probeJson = JSON.parse(probeBody.toString());
  if (!sig || !verifyEd25519(keys[0]!.publicKey, probeBody, sig) || probeJson.code !== 'VALID') {
    throw new Error(`the call-home answer is not a signed VALID answer: ${probe.status} ${probeBody.toString().slice(0, 200)}`);
  }
  console.log(`Warming up Keyward (${N.processes} process${N.processes > 1 ? 'es' : ''}) …`);
  await load({ mode: 'closed', port: kw.port, seconds: 3, bodiesFile, path: '/api/v1/callhome' });
  const kwMax = await measured(kw.child, () => load({ mode: 'closed', port: kw.port, seconds: N.seconds, bodiesFile, path: '/api/v1/callhome' }));
  const rate = Math.floor(kwMax.rps / 2);
  const kwOpen = await load({ mode: 'open', port: kw.port, seconds: N.seconds, rate, bodiesFile, path: '/api/v1/callhome', connections: 200 });
  await stop(kw.child);

  // Baseline: bare Node http, same process count, same bodies.
  const bare = await startServer('bare', env);
  await load({ mode: 'closed', port: bare.port, seconds: 2, bodiesFile, path: '/api/v1/callhome' });
  const bareMax = await measured(bare.child, () => load({ mode: 'closed', port: bare.port, seconds: N.seconds, bodiesFile, path: '/api/v1/callhome' }));
  const bareOpen = await load({ mode: 'open', port: bare.port, seconds: N.seconds, rate, bodiesFile, path: '/api/v1/callhome', connections: 200 });
  await stop(bare.child);

  const ok = (r: LoadResult) => `${r.statuses['200'] ?? 0}/${r.requests}`;
  const f = (n: number) => n.toFixed(2);
  console.log(`\nCall-home benchmark: ${N.licences} licences, ${N.machines} machines, ${N.processes} process(es), ${N.connections} connections, ${N.seconds} s per phase, ${os.cpus().length} cores\n`);
  const cpu = (r: { cpuUsPerRequest: number | null }) => (r.cpuUsPerRequest === null ? 'n/a' : r.cpuUsPerRequest.toFixed(1));
  console.log('| case | max req/s | 200s | server CPU µs/request | p50 ms @ half rate | p99 ms @ half rate |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  console.log(`| bare Node http, fixed JSON | ${bareMax.rps.toFixed(0)} | ${ok(bareMax)} | ${cpu(bareMax)} | ${f(bareOpen.latencyMs.p50)} | ${f(bareOpen.latencyMs.p99)} |`);
  console.log(`| Keyward signed call-home | ${kwMax.rps.toFixed(0)} | ${ok(kwMax)} | ${cpu(kwMax)} | ${f(kwOpen.latencyMs.p50)} | ${f(kwOpen.latencyMs.p99)} |`);
  console.log(`\nratio: call-home / bare = ${(kwMax.rps / bareMax.rps * 100).toFixed(1)}% (goal ≥ 40%)`);
  if (kwMax.cpuUsPerRequest !== null && bareMax.cpuUsPerRequest !== null) {
    // Steadier than the throughput ratio on a VM whose speed drifts, and free of the load generator's share.
    console.log(`CPU per request: bare / call-home = ${(bareMax.cpuUsPerRequest / kwMax.cpuUsPerRequest * 100).toFixed(1)}% (server processes only, every thread)`);
  }
  console.log(`open loop at ${rate} req/s (half the call-home maximum): call-home p99 ${f(kwOpen.latencyMs.p99)} ms (goal < 10 ms), bare p99 ${f(bareOpen.latencyMs.p99)} ms`);
} finally {
  fs.rmSync(dataDir, { recursive: true, force: true });
}
