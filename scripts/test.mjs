#!/usr/bin/env node
// Runs every test file with node's test runner, once on SQLite and once on PostgreSQL.
// PostgreSQL: KEYWARD_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/test). When no server answers,
// the PostgreSQL pass is skipped with a printed reason, unless KEYWARD_REQUIRE_PG=1 (CI), where it fails.
// Usage: npm test [-- --only sqlite|postgres] [-- file-or-dir-filter ...]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import os from 'node:os';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const args = process.argv.slice(2);
let only = null;
const filters = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--only') only = args[++i];
  else filters.push(args[i]);
}

function findTests(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...findTests(p));
    else if (/\.test\.tsx?$/.test(e.name)) out.push(path.relative(root, p));
  }
  return out;
}

const all = ['src', 'packages', 'test'].filter((d) => fs.existsSync(path.join(root, d))).flatMap((d) => findTests(path.join(root, d))).sort();
const files = filters.length ? all.filter((f) => filters.some((x) => f.includes(x))) : all;
// Tests that need no database run once, in the SQLite pass.
const dbFree = (f) => f.startsWith('packages/') || f.includes('/validation/') || f.endsWith('.pure.test.ts');

const pgUrl = process.env.KEYWARD_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
function pgReachable() {
  const u = new URL(pgUrl);
  return new Promise((resolve) => {
    const s = net.connect({ host: u.hostname, port: Number(u.port || 5432) });
    s.setTimeout(1500);
    s.on('connect', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
    s.on('timeout', () => { s.destroy(); resolve(false); });
  });
}

function run(dialect, list) {
  return new Promise((resolve) => {
    const tapFile = path.join(os.tmpdir(), `keyward-test-${dialect}-${process.pid}.tap`);
    const child = spawn(process.execPath, [
      '--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000',
      '--test-reporter=spec', '--test-reporter-destination=stdout',
      '--test-reporter=tap', `--test-reporter-destination=${tapFile}`,
      ...list,
    ], { cwd: root, stdio: 'inherit', env: { ...process.env, KEYWARD_TEST_DB: dialect, KEYWARD_TEST_PG_URL: pgUrl } });
    child.on('exit', (code) => {
      const tap = fs.existsSync(tapFile) ? fs.readFileSync(tapFile, 'utf8') : '';
      fs.rmSync(tapFile, { force: true });
      const count = (k) => Number((new RegExp(`^# ${k} (\\d+)$`, 'm').exec(tap) ?? [])[1] ?? 0);
      resolve({ code: code ?? 1, pass: count('pass'), fail: count('fail'), skipped: count('skipped') + count('todo') });
    });
  });
}

const totals = { pass: 0, fail: 0, skipped: 0 };
let failed = false;
if (only !== 'postgres') {
  console.log(`\n=== SQLite: ${files.length} test files ===\n`);
  const r = await run('sqlite', files);
  Object.keys(totals).forEach((k) => { totals[k] += r[k]; });
  failed ||= r.code !== 0;
}
if (only !== 'sqlite') {
  const pgFiles = files.filter((f) => !dbFree(f));
  if (pgFiles.length === 0) {
    console.log('\nPostgreSQL pass: no database tests selected.');
  } else if (await pgReachable()) {
    console.log(`\n=== PostgreSQL (${pgUrl}): ${pgFiles.length} test files ===\n`);
    const r = await run('postgres', pgFiles);
    Object.keys(totals).forEach((k) => { totals[k] += r[k]; });
    failed ||= r.code !== 0;
  } else if (process.env.KEYWARD_REQUIRE_PG === '1') {
    console.log(`\nPostgreSQL pass FAILED: no server answers at ${pgUrl} and KEYWARD_REQUIRE_PG=1.`);
    failed = true;
  } else {
    console.log(`\nPostgreSQL pass skipped: no server answers at ${pgUrl} (set KEYWARD_TEST_PG_URL to run it).`);
  }
}
console.log(`\ntests: ${totals.pass} passed, ${totals.fail} failed, ${totals.skipped} skipped`);
process.exit(failed || totals.fail > 0 ? 1 : 0);
