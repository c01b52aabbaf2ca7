// The daily sweep of stored files that no release or content pack refers to (file-sweep.ts), on a
// real data directory with files uploaded through the admin API.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { TestApp } from '../../kernel/testing/app.js';
import { DAY_MS } from '../../kernel/clock.js';
import { sweepUnreferencedFiles } from './file-sweep.js';
import { licensingApp, adminUpload, type Harness } from './testing.js';

let t: TestApp;
let h: Harness;
before(async () => {
  h = await licensingApp();
  t = h.t;
});
after(async () => { await t.close(); });

const sha = (b: Buffer | string) => crypto.createHash('sha256').update(b).digest('hex');
const stored = (hex: string) => path.join(t.config.dataDir, 'files', hex.slice(0, 2), hex);
const age = (file: string, ms: number) => { const at = new Date(Date.now() - ms); fs.utimesSync(file, at, at); };

test('files left by refused uploads go after a day; referenced files, fresh files and other modules\' files stay', async () => {
  t.clock.set(Date.now());
  const releases = '/api/v1/admin/products/mailserver/releases';
  const kept = crypto.randomBytes(1000);
  assert.equal((await adminUpload(h, releases, { version: '9.0.0' }, { name: 'setup.exe', content: kept })).statusCode, 201);
  // A duplicate version: 409, but its file was already stored (the upload streams to disk first).
  const refused = crypto.randomBytes(2000);
  assert.equal((await adminUpload(h, releases, { version: '9.0.0' }, { name: 'setup.exe', content: refused })).statusCode, 409);
  const pack = Buffer.from('rules v1');
  assert.equal((await adminUpload(h, '/api/v1/admin/addons/mailserver-spam/content', { version: '1' }, { name: 'rules.pack', content: pack })).statusCode, 201);
  const refusedFresh = crypto.randomBytes(3000);
  assert.equal((await adminUpload(h, releases, { version: '9.0.0' }, { name: 'setup.exe', content: refusedFresh })).statusCode, 409);
  for (const b of [kept, refused, pack, refusedFresh]) assert.ok(fs.existsSync(stored(sha(b))));

  const tmp = path.join(t.config.dataDir, 'files', 'tmp');
  fs.mkdirSync(tmp, { recursive: true });
  const abandoned = path.join(tmp, `${crypto.randomUUID()}.part`);
  fs.writeFileSync(abandoned, 'half an upload from a crashed process');
  const support = path.join(t.config.dataDir, 'files', 'support', 'ab');
  fs.mkdirSync(support, { recursive: true });
  const attachment = path.join(support, sha('attachment'));
  fs.writeFileSync(attachment, 'a ticket attachment');
  for (const f of [stored(sha(kept)), stored(sha(refused)), stored(sha(pack)), abandoned, attachment]) age(f, 2 * DAY_MS);
  age(stored(sha(refusedFresh)), DAY_MS / 2);

  const result = await sweepUnreferencedFiles(t.k);
  assert.deepEqual(result, { deleted: 2, bytes: refused.length + 'half an upload from a crashed process'.length });
  assert.equal(fs.existsSync(stored(sha(refused))), false, 'the refused upload\'s file is gone');
  assert.equal(fs.existsSync(abandoned), false, 'the abandoned part file is gone');
  assert.deepEqual(fs.readFileSync(stored(sha(kept))), kept, 'a release\'s installer stays');
  assert.deepEqual(fs.readFileSync(stored(sha(pack))), pack, 'a content pack stays');
  assert.ok(fs.existsSync(stored(sha(refusedFresh))), 'an unreferenced file younger than a day stays (an upload may be writing its row)');
  assert.ok(fs.existsSync(attachment), 'support attachments are not the sweep\'s');
  assert.deepEqual(fs.readdirSync(tmp), [], 'nothing set aside is left behind');
  assert.deepEqual(await sweepUnreferencedFiles(t.k), { deleted: 0, bytes: 0 }, 'a second run finds nothing');
});

test('a file that an upload renewed after the listing is put back, not deleted', async () => {
  t.clock.set(Date.now());
  const bytes = crypto.randomBytes(500);
  const file = stored(sha(bytes));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, bytes);
  age(file, 2 * DAY_MS);
  // The sweep lists the file as old, then (before it moves it aside) an upload of the same bytes
  // renames a fresh copy onto it: simulated by renewing the file when the sweep reads the references.
  const original = t.k.db.selectFrom.bind(t.k.db);
  let renewed = false;
  (t.k.db as { selectFrom: unknown }).selectFrom = ((table: never) => {
    if (!renewed) { renewed = true; age(file, 0); }
    return original(table);
  }) as never;
  try {
    assert.deepEqual(await sweepUnreferencedFiles(t.k), { deleted: 0, bytes: 0 });
  } finally {
    (t.k.db as { selectFrom: unknown }).selectFrom = original;
  }
  assert.ok(renewed);
  assert.deepEqual(fs.readFileSync(file), bytes);
  assert.deepEqual(fs.readdirSync(path.join(t.config.dataDir, 'files', 'tmp')), []);
});
