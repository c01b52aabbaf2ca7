// Call-home rate limits shared by several app instances (nodes) on one database: through Redis when
// REDIS_URL is set, through the database on PostgreSQL without it, per process on SQLite without it.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import net from 'node:net';
import { buildApp, type App } from '../../src/app.js';
import { createKernel, type Kernel } from '../../src/kernel/context.js';
import { ManualClock } from '../../src/kernel/clock.js';
import type { Config } from '../../src/kernel/config/config.js';
import { migrateToLatest } from '../../src/kernel/db/migrate.js';
import { ensureSigningKey } from '../../src/kernel/crypto/signing.js';
import { TEST_DIALECT, silentLog, testConfig } from '../../src/kernel/testing/db.js';
import { allMigrations } from '../../src/migrations.js';

const REDIS_URL = process.env.KEYWARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const START = Date.parse('2026-11-25T10:00:05.000Z');

function reachable(url: string): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = net.connect({ host: u.hostname, port: Number(u.port || 6379) });
    s.setTimeout(1000);
    s.on('connect', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
    s.on('timeout', () => { s.destroy(); resolve(false); });
  });
}

interface Node { k: Kernel; app: App }
interface Pair { nodes: [Node, Node]; clock: ManualClock; close(): Promise<void> }

/** Two complete app instances (two "nodes") on one database, with the given configuration overrides. */
async function twoNodes(overrides: Partial<Config>): Promise<Pair> {
  const { config, cleanup } = await testConfig(overrides);
  const clock = new ManualClock(START);
  const nodes: Node[] = [];
  for (let i = 0; i < 2; i++) {
    const k = createKernel(config, { clock, log: silentLog });
    if (i === 0) { await migrateToLatest(k.db, allMigrations, k.dbh.schema); await ensureSigningKey(k.db, k.secrets, clock.now()); }
    const app = await buildApp(k);
    await app.app.ready();
    nodes.push({ k, app });
  }
  return {
    nodes: nodes as [Node, Node], clock,
    async close() {
      for (const n of nodes) { await n.app.app.close(); await n.k.close(); }
      await cleanup();
    },
  };
}

async function call(n: Node, licence: string, ip: string): Promise<number> {
  const res = await n.app.app.inject({
    method: 'POST', url: '/api/v1/callhome', remoteAddress: ip, headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ licence, product: 'mailserver', version: '8.5.0', computerId: crypto.randomBytes(32).toString('hex'), usersInUse: 1, nonce: crypto.randomBytes(18).toString('base64url') }),
  });
  assert.ok(res.statusCode === 200 || res.statusCode === 429, `unexpected ${res.statusCode}: ${res.body}`);
  if (res.statusCode === 429) assert.equal(JSON.parse(res.body).error.code, 'RATE_LIMITED');
  return res.statusCode;
}

// Random keys and addresses: Redis is shared with every other run on this machine.
const freshKey = () => `SHARED-${crypto.randomBytes(6).toString('hex').toUpperCase()}`;
const freshIp = () => `10.${crypto.randomInt(256)}.${crypto.randomInt(256)}.${crypto.randomInt(1, 255)}`;

/** 20 calls on node A and 10 on node B (30 accepted in all): both must then refuse the 31st. */
async function provesSharedLicenceLimit(p: Pair): Promise<string> {
  const [a, b] = p.nodes;
  const lic = freshKey();
  for (let i = 0; i < 20; i++) assert.equal(await call(a, lic, freshIp()), 200, `A call ${i + 1}`);
  await a.app.licensing.syncRateLimits();
  for (let i = 0; i < 10; i++) assert.equal(await call(b, lic, freshIp()), 200, `B call ${i + 1}`);
  await b.app.licensing.syncRateLimits();
  await a.app.licensing.syncRateLimits();
  // Without sharing, A (20 seen) and B (10 seen) would both still accept.
  assert.equal(await call(a, lic.toLowerCase(), freshIp()), 429, 'A refuses: 30 were accepted across both nodes');
  assert.equal(await call(b, lic, freshIp()), 429, 'B refuses too');
  assert.equal(await call(b, freshKey(), freshIp()), 200, 'another licence is not affected');
  p.clock.advance(60_000);
  assert.equal(await call(a, lic, freshIp()), 200, 'a new window');
  return lic;
}

describe('call-home rate limits across two nodes sharing Redis', () => {
  let p: Pair | null = null;
  let skip: string | false = false;
  before(async () => {
    if (!(await reachable(REDIS_URL))) { skip = `no Redis answers at ${REDIS_URL} (set KEYWARD_TEST_REDIS_URL)`; console.log(`# skipped: ${skip}`); return; }
    p = await twoNodes({ redisUrl: REDIS_URL });
  });
  after(async () => { await p?.close(); });

  test('the per-licence limit counts calls on both nodes', async (t) => {
    if (skip) return t.skip(skip);
    const lic = await provesSharedLicenceLimit(p!);
    const { Redis } = await import('ioredis');
    const r = new Redis(REDIS_URL);
    try {
      const keys = await r.keys('keyward:rl:*');
      assert.ok(keys.some((key) => key.includes(':callhome:licence:')), 'licence counters are in Redis');
      assert.deepEqual(keys.filter((key) => key.toUpperCase().includes(lic)), [], 'never the licence key itself, only a digest');
    } finally { r.disconnect(); }
  });

  test('the per-IP limit counts calls on both nodes', async (t) => {
    if (skip) return t.skip(skip);
    const [a, b] = p!.nodes;
    p!.clock.advance(120_000);
    const ip = freshIp();
    for (let i = 0; i < 300; i++) assert.equal(await call(a, freshKey(), ip), 200);
    await a.app.licensing.syncRateLimits();
    for (let i = 0; i < 300; i++) assert.equal(await call(b, freshKey(), ip), 200);
    await b.app.licensing.syncRateLimits();
    await a.app.licensing.syncRateLimits();
    assert.equal(await call(a, freshKey(), ip), 429, '600 accepted from this address across both nodes');
    assert.equal(await call(b, freshKey(), ip), 429);
    assert.equal(await call(b, freshKey(), freshIp()), 200, 'another address');
  });

  test('nothing is written to the database: the counters live in Redis only', async (t) => {
    if (skip) return t.skip(skip);
    const rows = await p!.nodes[0].k.db.selectFrom('rate_limits').select('key').where('key', 'like', 'sc:%').execute();
    assert.deepEqual(rows, []);
  });
});

describe('when Redis is down, call-home keeps answering with per-node limits (fail open)', () => {
  let p: Pair;
  before(async () => { p = await twoNodes({ redisUrl: 'redis://127.0.0.1:1' }); });
  after(async () => { await p.close(); });

  test('calls are answered, never a 500, and each node still limits what it saw', async () => {
    const [a] = p.nodes;
    const lic = freshKey();
    for (let i = 0; i < 30; i++) assert.equal(await call(a, lic, freshIp()), 200);
    await a.app.licensing.syncRateLimits(); // fails (no Redis): counted locally instead
    assert.equal(await call(a, lic, freshIp()), 429);
  });
});

describe(`without Redis on ${TEST_DIALECT}`, () => {
  let p: Pair;
  before(async () => { p = await twoNodes({}); });
  after(async () => { await p.close(); });

  if (TEST_DIALECT === 'postgres') {
    test('the database shares the counters between nodes', async () => {
      const lic = await provesSharedLicenceLimit(p);
      const rows = await p.nodes[0].k.db.selectFrom('rate_limits').select('key').where('key', 'like', 'sc:callhome:licence:%').execute();
      assert.ok(rows.length >= 1, 'counters are rows of rate_limits');
      assert.deepEqual(rows.filter((r) => r.key.toUpperCase().includes(lic)), [], 'never the licence key itself, only a digest');
    });
  } else {
    test('SQLite (one machine) counts per process: a second process does not see the first one\'s calls', async () => {
      const [a, b] = p.nodes;
      const lic = freshKey();
      for (let i = 0; i < 30; i++) assert.equal(await call(a, lic, freshIp()), 200);
      assert.equal(await call(a, lic, freshIp()), 429);
      assert.equal(await call(b, lic, freshIp()), 200, 'looser, never stricter, than the contract');
    });
  }
});
