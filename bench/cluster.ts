/**
 * npm run bench:cluster [-- --licences 10000 --machines 20000 --seconds 5 --connections 40 --nodes 3 --redis]
 *
 * Call-home throughput across N Keyward nodes on one PostgreSQL database, for N = 1 … --nodes, next to
 * one process on SQLite (the default deployment), in one run:
 *  - each node is its own process on its own port (what a load balancer would spread over);
 *  - one load generator process per node drives it (closed loop: maximum req/s, summed over the nodes);
 *  - then an open loop at half that maximum, split evenly, gives p50/p99 (the worst generator's figures).
 * PostgreSQL: KEYWARD_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/test); a database is created
 * for the run and dropped after. --redis shares the rate-limit counters through REDIS_URL (default
 * redis://127.0.0.1:6379) instead of the database. Everything stays on 127.0.0.1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadConfig } from '../src/kernel/config/config.js';
import { createKernel } from '../src/kernel/context.js';
import { migrateToLatest } from '../src/kernel/db/migrate.js';
import { ensureSigningKey } from '../src/kernel/crypto/signing.js';
import { allMigrations } from '../src/migrations.js';
import { freePort } from './lib/free-port.js';
import { seedInstalledBase, type SeededInstall } from './lib/seed.js';
import type { LoadResult } from './lib/loadgen.js';

const { values: a } = parseArgs({ options: {
  licences: { type: 'string', default: '10000' }, machines: { type: 'string', default: '20000' },
  seconds: { type: 'string', default: '5' }, connections: { type: 'string', default: '40' },
  nodes: { type: 'string', default: '3' }, sample: { type: 'string', default: '5000' }, redis: { type: 'boolean', default: false },
} });
const N = { licences: Number(a.licences), machines: Number(a.machines), seconds: Number(a.seconds), connections: Number(a.connections), nodes: Number(a.nodes), sample: Number(a.sample) };
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const tsx = path.join(root, 'node_modules/tsx/dist/loader.mjs');
const pgUrl = process.env.KEYWARD_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const baseEnv: NodeJS.ProcessEnv = {
  ...process.env, LOG_LEVEL: 'silent', NODE_ENV: 'production', KEYWARD_ROLE: 'all',
  KEYWARD_SECRET_KEY: crypto.randomBytes(32).toString('hex'),
  // One load generator on one address calls far more often than real installations: lift the limits.
  KEYWARD_CALLHOME_RATE_LICENCE: '1000000', KEYWARD_CALLHOME_RATE_IP: '100000000', KEYWARD_LOGIN_RATE_LIMIT: '10000',
  ...(a.redis ? { REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' } : {}),
};
delete baseEnv.DATABASE_URL;

function bar(done: number, total: number, label: string) {
  const w = 30;
  const filled = Math.round((done / total) * w);
  process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(w - filled)}] ${done}/${total}`);
  if (done === total) process.stderr.write('\n');
}

/** One Keyward node (a single process, through bench/lib/cluster-entry.ts). */
async function startNode(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', tsx, path.join(root, 'bench/lib/cluster-entry.ts'), 'keyward', '1', String(port)], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => { out += d; if (out.includes(`ready ${port}`)) resolve(); });
    child.once('exit', (c) => reject(new Error(`node exited ${c}`)));
  });
  return { child, port };
}

function load(opts: { mode: 'closed' | 'open'; port: number; seconds: number; rate?: number; bodiesFile: string; connections: number }): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tsx, path.join(root, 'bench/lib/loadgen-cli.ts'), JSON.stringify({ path: '/api/v1/callhome', ...opts })], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`load generator exited ${code}`))));
  });
}

async function stop(child: ChildProcess) {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}

interface Row { label: string; nodes: number; rps: number; ok: number; total: number; p50: number; p99: number; rate: number }

/** Closed loop on every node at once (summed), then open loop at half of it (worst generator's latency). */
async function measure(label: string, ports: number[], bodiesFile: string): Promise<Row> {
  const conns = Math.max(1, Math.floor(N.connections / ports.length));
  await Promise.all(ports.map((port) => load({ mode: 'closed', port, seconds: 2, bodiesFile, connections: conns })));
  const max = await Promise.all(ports.map((port) => load({ mode: 'closed', port, seconds: N.seconds, bodiesFile, connections: conns })));
  const rps = max.reduce((s, r) => s + r.rps, 0);
  const rate = Math.max(1, Math.floor(rps / 2));
  const open = await Promise.all(ports.map((port) => load({ mode: 'open', port, seconds: N.seconds, rate: Math.max(1, Math.floor(rate / ports.length)), bodiesFile, connections: Math.max(20, Math.floor(200 / ports.length)) })));
  return {
    label, nodes: ports.length, rps, rate,
    ok: max.reduce((s, r) => s + (r.statuses['200'] ?? 0), 0), total: max.reduce((s, r) => s + r.requests, 0),
    p50: Math.max(...open.map((r) => r.latencyMs.p50)), p99: Math.max(...open.map((r) => r.latencyMs.p99)),
  };
}

function writeBodies(dir: string, sample: SeededInstall[]): string {
  const bodies = sample.map((s) => JSON.stringify({
    licence: s.licence, product: 'mailserver', version: s.version, computerId: s.computerId, usersInUse: s.usersInUse,
    nonce: crypto.randomBytes(18).toString('base64url'),
  }));
  const file = path.join(dir, 'bodies.json');
  fs.writeFileSync(file, JSON.stringify(bodies));
  return file;
}

async function seed(env: NodeJS.ProcessEnv, label: string): Promise<SeededInstall[]> {
  const k = createKernel(loadConfig(env));
  try {
    await migrateToLatest(k.db, allMigrations, k.dbh.schema);
    await ensureSigningKey(k.db, k.secrets);
    const sample = await seedInstalledBase(k, { ...N, onProgress: (d, t) => bar(d, t, `seeding ${label}`) });
    k.dbh.sqlite?.pragma('wal_checkpoint(TRUNCATE)');
    return sample;
  } finally {
    await k.close();
  }
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-bench-cluster-'));
const dbName = `kw_bench_${process.pid}`;
const admin = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 3000 });
const rows: Row[] = [];
let pgCreated = false;
const children: ChildProcess[] = [];
try {
  // 1. The single-process SQLite figure.
  const sqliteEnv = { ...baseEnv, KEYWARD_DATA_DIR: path.join(dataDir, 'sqlite') };
  const sqliteBodies = writeBodies(dataDir, await seed(sqliteEnv, 'SQLite'));
  const one = await startNode(sqliteEnv);
  children.push(one.child);
  console.log('Measuring one process on SQLite …');
  rows.push(await measure('SQLite, one process', [one.port], sqliteBodies));
  await stop(one.child);

  // 2. N nodes on PostgreSQL.
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(`PostgreSQL does not answer at ${pgUrl} (${(err as Error).message}); set KEYWARD_TEST_PG_URL`);
  }
  await admin.query(`CREATE DATABASE ${dbName}`);
  pgCreated = true;
  const u = new URL(pgUrl);
  u.pathname = `/${dbName}`;
  const pgEnv = { ...baseEnv, DATABASE_URL: u.toString(), KEYWARD_DATA_DIR: path.join(dataDir, 'pg') };
  const pgBodies = writeBodies(path.join(dataDir), await seed(pgEnv, 'PostgreSQL'));
  for (let n = 1; n <= N.nodes; n++) {
    const nodes = [];
    for (let i = 0; i < n; i++) {
      const node = await startNode({ ...pgEnv, KEYWARD_DATA_DIR: path.join(dataDir, `pg-node${i}`) });
      children.push(node.child);
      nodes.push(node);
    }
    console.log(`Measuring ${n} node${n > 1 ? 's' : ''} on PostgreSQL …`);
    rows.push(await measure(`PostgreSQL, ${n} node${n > 1 ? 's' : ''}`, nodes.map((x) => x.port), pgBodies));
    for (const x of nodes) await stop(x.child);
  }
} finally {
  for (const c of children) await stop(c);
  if (pgCreated) await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => {});
  await admin.end().catch(() => {});
  fs.rmSync(dataDir, { recursive: true, force: true });
  if (rows.length) {
    const f = (n: number) => n.toFixed(2);
    console.log(`\nCluster call-home benchmark: ${N.licences} licences, ${N.machines} machines, ${N.connections} connections in all, ${N.seconds} s phases, ${os.cpus().length} cores, rate limits shared through ${a.redis ? 'Redis' : 'the database'}\n`);
    console.log('| case | max req/s | 200s | p50 ms @ half rate | p99 ms @ half rate |');
    console.log('| --- | ---: | ---: | ---: | ---: |');
    for (const r of rows) console.log(`| ${r.label} | ${r.rps.toFixed(0)} | ${r.ok}/${r.total} | ${f(r.p50)} @ ${r.rate} | ${f(r.p99)} @ ${r.rate} |`);
    console.log('\nAll nodes, load generators and the database share this machine\'s cores: more nodes than cores measure contention, not scale-out.');
  }
}
