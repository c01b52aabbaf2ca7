import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadConfig, type Config } from '../config/config.js';
import { createKernel, type Kernel } from '../context.js';
import { ManualClock, type Clock } from '../clock.js';
import { migrateToLatest } from '../db/migrate.js';
import { ensureSigningKey } from '../crypto/signing.js';
import { allMigrations } from '../../migrations.js';

/**
 * Each test file gets a fresh, migrated database: a new SQLite file, or a new schema in the PostgreSQL
 * test database when KEYWARD_TEST_DB=postgres. The whole suite runs once per dialect (scripts/test.mjs).
 */
export const TEST_DIALECT = (process.env.KEYWARD_TEST_DB ?? 'sqlite') as 'sqlite' | 'postgres';
export const TEST_PG_URL = process.env.KEYWARD_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestKernel {
  k: Kernel;
  clock: ManualClock;
  config: Config;
  close(): Promise<void>;
}

/**
 * A fresh PostgreSQL database per test file (not just a schema): nothing one file does, from DDL to
 * pg_restore, can reach another file running at the same time.
 */
export async function createTestDatabase(): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `kw_t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: TEST_PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(TEST_PG_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(), name,
    async drop() {
      const c = new pg.Client({ connectionString: TEST_PG_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export async function testConfig(overrides: Partial<Config> = {}): Promise<{ config: Config; cleanup(): Promise<void> }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-test-'));
  let database: Config['database'] = { kind: 'sqlite', file: path.join(dataDir, 'test.sqlite') };
  let drop = async () => {};
  if (TEST_DIALECT === 'postgres') {
    const d = await createTestDatabase();
    database = { kind: 'postgres', url: d.url };
    drop = d.drop;
  }
  const config = loadConfig({ KEYWARD_DATA_DIR: dataDir, NODE_ENV: 'test', LOG_LEVEL: 'silent', PORT: '3000', KEYWARD_LOGIN_RATE_LIMIT: '10000' }, { database, ...overrides });
  return {
    config,
    async cleanup() {
      await drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function testKernel(opts: { config?: Partial<Config>; clock?: ManualClock } = {}): Promise<TestKernel> {
  const { config, cleanup } = await testConfig(opts.config);
  const clock = opts.clock ?? new ManualClock();
  const k = createKernel(config, { clock: clock as Clock, log: silentLog });
  await migrateToLatest(k.db, allMigrations, k.dbh.schema);
  await ensureSigningKey(k.db, k.secrets, clock.now());
  return {
    k, clock, config,
    async close() {
      await k.close();
      await cleanup();
    },
  };
}

export const silentLog = { info() {}, warn() {}, error() {} };
