import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { TEST_DIALECT, createTestDatabase, testKernel, type TestKernel } from '../../kernel/testing/db.js';
import { loadDemoCatalogue, loadCatalogue } from './index.js';

let t: TestKernel;
before(async () => { t = await testKernel(); });
after(async () => { await t.close(); });

test('the demo catalogue: tiers 5…unlimited, four kinds of plan, prices in three currencies; loading twice changes nothing', async () => {
  assert.equal(await loadDemoCatalogue(t.k.db, t.clock.now()), true);
  assert.equal(await loadDemoCatalogue(t.k.db, t.clock.now()), false);
  const [entry] = await loadCatalogue(t.k.db, { activeOnly: true });
  assert.deepEqual(entry!.tiers.map((x) => x.max_users), [5, 10, 25, 50, 100, null]);
  assert.deepEqual([...new Set(entry!.plans.map((p) => p.plan.kind))].sort(), ['addon', 'perpetual', 'renewal', 'upgrade']);
  for (const p of entry!.plans) {
    assert.deepEqual(Object.keys(p.prices).sort(), ['EUR', 'GBP', 'USD'], p.plan.sku);
    for (const amount of Object.values(p.prices)) assert.ok(Number.isSafeInteger(amount) && amount! > 0, p.plan.sku);
  }
});

test('bin/keyward demo loads it once', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-demo-'));
  const env: NodeJS.ProcessEnv = { ...process.env, KEYWARD_DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
  let drop = async () => {};
  if (TEST_DIALECT === 'postgres') {
    const d = await createTestDatabase();
    drop = d.drop;
    env.DATABASE_URL = d.url;
  }
  try {
    const run = promisify(execFile);
    const bin = path.resolve('bin/keyward');
    assert.match((await run(bin, ['demo'], { env })).stdout, /Loaded the demo catalogue/);
    assert.match((await run(bin, ['demo'], { env })).stdout, /already loaded/);
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
    await drop();
  }
});
