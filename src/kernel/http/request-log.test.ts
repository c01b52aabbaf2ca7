// The server log of a real `bin/keyward serve` at the default level: requests are logged by their
// route's pattern, so licence keys, computer IDs, one-time tokens and signed links in URLs never reach
// it, and a request's log entry holds exactly the fields the privacy registry declares.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { TEST_DIALECT } from '../testing/db.js';
import { loggedUrl } from './request-log.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/keyward');

test('unmatched URLs lose their query and long segments', () => {
  assert.equal(loggedUrl({ url: '/api/v1/admin/licence/7H2KQ-9QWXM-4TRZP-8DA1C-5NB3E?x=1' }), '/api/v1/admin/licence/…');
  assert.equal(loggedUrl({ url: '/shop/a-short-slug?token=secret' }), '/shop/a-short-slug');
  assert.equal(loggedUrl({ url: '/x/y', routeOptions: { url: '/x/:id' } }), '/x/:id');
});

test('a served request is logged by route pattern, with no key, computer ID, token or signed link', { skip: TEST_DIALECT !== 'sqlite' && 'the log does not depend on the database: run once, on the SQLite pass' }, async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-log-'));
  const env: NodeJS.ProcessEnv = { ...process.env, KEYWARD_DATA_DIR: dataDir, LOG_LEVEL: 'info' };
  delete env.DATABASE_URL; delete env.KEYWARD_PUBLIC_URL;
  const apiKey = (await run(BIN, ['apikey', 'create', '--name', 'log-check'], { env })).stdout.trimEnd().split('\n').at(-1)!;
  const port = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); });
  });
  const child = spawn(BIN, ['serve'], { env: { ...env, PORT: String(port), HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const base = `http://127.0.0.1:${port}`;
  const computerId = 'ab'.repeat(32);
  const token = 'LogCheckToken-0123456789abcdefghij';
  let key = '';
  try {
    const deadline = Date.now() + 120_000;
    while (!out.includes('Keyward is running') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    const admin = (method: string, url: string, body?: unknown) => fetch(base + url, {
      method, headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}),
    });
    assert.equal((await admin('POST', '/api/v1/admin/products', { code: 'logged', name: 'Logged' })).status, 201);
    ({ key } = await (await admin('POST', '/api/v1/admin/licences', { product: 'logged', maxUsers: 5 })).json() as { key: string });
    assert.equal((await admin('GET', `/api/v1/admin/licences/${key}`)).status, 200);
    assert.equal((await admin('GET', `/api/v1/admin/licences/${key.toLowerCase().replace(/-/g, '')}`)).status, 200);
    assert.equal((await admin('POST', `/api/v1/admin/licences/${key}/machines/${computerId}/block`)).status, 200);
    await fetch(`${base}/account/password/reset/${token}`);
    await fetch(`${base}/setup/${token}`);
    await fetch(`${base}/downloads/r/some-release/file.exe?l=${token}&e=1&s=${token}`);
    await fetch(`${base}/no-such-page/${token}?secret=${token}`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  const entries = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { req?: Record<string, unknown> });
  const urls = entries.flatMap((e) => (e.req ? [e.req.url] : []));
  assert.ok(urls.includes('/api/v1/admin/licences/:key'), `requests are logged (${urls.join(', ')})`);
  assert.ok(urls.includes('/api/v1/admin/licences/:key/machines/:computerId/block'));
  for (const e of entries.filter((x) => x.req)) {
    assert.deepEqual(Object.keys(e.req!).sort(), ['method', 'remoteAddress', 'remotePort', 'url'], JSON.stringify(e.req));
  }
  const compact = (s: string) => s.toUpperCase().replace(/-/g, '');
  for (const secret of [compact(apiKey), compact(computerId), compact(token)]) {
    assert.ok(!compact(out).includes(secret), `the log holds a secret: ${secret.slice(0, 8)}…`);
  }
  assert.ok(key !== '' && !compact(out).includes(compact(key)), 'the log holds the licence key');
});
