// The admin API (spec/callhome.md, "Admin API"): 201/200 shapes, 401 without a key, 404 for unknown
// keys, licences, products and add-ons, 409 for duplicates, 400 with the error object for bad bodies.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { TestApp } from '../../kernel/testing/app.js';
import { licensingApp, adminUpload, callBody, computerId, createLicence, type Harness } from './testing.js';

let t: TestApp;
let h: Harness;
before(async () => {
  h = await licensingApp();
  t = h.t;
});
after(async () => { await t.close(); });

const json = (body: string) => JSON.parse(body);

describe('authentication', () => {
  test('every admin route answers 401 without a valid staff API key, before reading the body', async () => {
    const routes: Array<[string, string]> = [
      ['POST', '/api/v1/admin/products'], ['POST', '/api/v1/admin/licences'], ['GET', '/api/v1/admin/licences/K'],
      ['PATCH', '/api/v1/admin/licences/K'], ['POST', '/api/v1/admin/licences/K/machines/M/release'],
      ['POST', '/api/v1/admin/licences/K/machines/M/block'], ['POST', '/api/v1/admin/products/mailserver/releases'],
      ['POST', '/api/v1/admin/addons'], ['POST', '/api/v1/admin/addons/x/content'], ['GET', '/api/v1/admin/licences-shared'],
    ];
    for (const [method, url] of routes) {
      for (const authorization of [undefined, 'Bearer kwk_not-a-real-key', `Basic ${h.apiKey}`]) {
        const res = await t.app.inject({
          method: method as 'GET', url, payload: method === 'GET' ? undefined : '{bad json',
          headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        });
        assert.equal(res.statusCode, 401, `${method} ${url} ${authorization}`);
      }
    }
  });
});

describe('products and add-ons', () => {
  test('create, duplicate 409, invalid 400', async () => {
    const ok = await h.admin('POST', '/api/v1/admin/products', { code: 'backup', name: 'Backup Server' });
    assert.equal(ok.statusCode, 201);
    assert.deepEqual({ ...json(ok.body), createdAt: undefined }, { code: 'backup', name: 'Backup Server', createdAt: undefined });
    assert.equal((await h.admin('POST', '/api/v1/admin/products', { code: 'backup', name: 'Again' })).statusCode, 409);
    for (const [body, field] of [[{ name: 'x' }, 'code'], [{ code: 'has space', name: 'x' }, 'code'], [{ code: 'ok', name: 5 }, 'name'], [{ code: 'ok', name: '' }, 'name']] as const) {
      const res = await h.admin('POST', '/api/v1/admin/products', body);
      assert.equal(res.statusCode, 400);
      assert.deepEqual({ code: json(res.body).error.code, field: json(res.body).error.field }, { code: 'BAD_REQUEST', field });
    }
    const addon = await h.admin('POST', '/api/v1/admin/addons', { code: 'cloud-sync', name: 'Cloud sync', product: 'backup' });
    assert.equal(addon.statusCode, 201);
    assert.deepEqual(json(addon.body), { code: 'cloud-sync', name: 'Cloud sync', product: 'backup' });
    assert.equal((await h.admin('POST', '/api/v1/admin/addons', { code: 'cloud-sync', name: 'x', product: 'backup' })).statusCode, 409);
    assert.equal((await h.admin('POST', '/api/v1/admin/addons', { code: 'other', name: 'x', product: 'nope' })).statusCode, 404);
  });
});

describe('licences', () => {
  test('create returns the licence with its key; GET finds it by the key as typed, with machines', async () => {
    const res = await h.admin('POST', '/api/v1/admin/licences', {
      product: 'mailserver', maxUsers: null, expiresAt: '2027-11-25', maintenanceUntil: '2027-03-01T00:00:00+01:00',
      addons: [{ code: 'mailserver-spam', until: '2027-03-01T00:00:00Z' }], policy: { enforcement: 'deny', userOverage: 1.1 }, customerEmail: 'ops@example.com',
    });
    assert.equal(res.statusCode, 201, res.body);
    const lic = json(res.body);
    assert.match(lic.key, /^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){4}$/);
    assert.deepEqual({ ...lic, id: undefined, key: undefined, createdAt: undefined, updatedAt: undefined }, {
      id: undefined, key: undefined, createdAt: undefined, updatedAt: undefined,
      product: 'mailserver', status: 'active', maxUsers: null, maxMachines: 1, expiresAt: '2027-11-25T00:00:00.000Z',
      maintenanceUntil: '2027-02-28T23:00:00.000Z', addons: [{ code: 'mailserver-spam', until: '2027-03-01T00:00:00.000Z' }],
      policy: { enforcement: 'deny', userOverage: 1.1, machineInactiveDays: 30, offlineGraceDays: 30, offlineFileDays: 30, checkIntervalSeconds: 86400 },
      customerEmail: 'ops@example.com',
    });
    const got = await h.admin('GET', `/api/v1/admin/licences/${encodeURIComponent(lic.key.toLowerCase().replace(/-/g, ' '))}`);
    assert.equal(got.statusCode, 200);
    assert.deepEqual(json(got.body), { ...lic, machines: [] });

    const row = await t.k.db.selectFrom('licences').selectAll().where('id', '=', lic.id).executeTakeFirstOrThrow();
    assert.notEqual(row.key_hash, lic.key);
    assert.ok(!JSON.stringify(row).includes(lic.key.replace(/-/g, '')), 'the key is stored only hashed and sealed');
  });

  test('GET shows the usage of a refresh at once, though refreshes are written in batches', async () => {
    const lic = await createLicence(h);
    const cid = computerId('usage-at-once');
    assert.equal((await h.call(callBody(lic.key, { computerId: cid, usersInUse: 10, version: '8.5.0' }))).json.code, 'VALID');
    const stored = async () => (await t.k.db.selectFrom('machines').select('last_users_in_use as users')
      .where('licence_id', '=', lic.licenceId).where('computer_id', '=', cid).executeTakeFirstOrThrow()).users;
    // The same computer again with other usage: no seat changes, so only the bookkeeping batch records
    // it. The batch timer also runs (every second): a round in which it wrote the row first proves
    // nothing, so another round with other usage follows.
    for (let users = 23; ; users++) {
      assert.ok(users < 28, 'the batch timer wrote the row before every GET');
      assert.equal((await h.call(callBody(lic.key, { computerId: cid, usersInUse: users, version: '8.6.0' }))).json.code, 'VALID');
      if (Number(await stored()) === users) continue;
      const got = await h.admin('GET', `/api/v1/admin/licences/${lic.key}`);
      assert.equal(got.statusCode, 200);
      assert.deepEqual(json(got.body).machines.map((m: { lastUsersInUse: number; lastVersion: string }) => [m.lastUsersInUse, m.lastVersion]), [[users, '8.6.0']]);
      break;
    }
    // Only the refreshes: the day's call counters still wait their minute, so reads never become writes
    // of every licence's counters.
    const counted = await t.k.db.selectFrom('callhome_daily').select('calls').where('licence_id', '=', lic.licenceId).execute();
    assert.deepEqual(counted, []);
  });

  test('PATCH changes what is given, merges the policy, replaces the add-ons', async () => {
    const lic = await createLicence(h, { policy: { enforcement: 'deny', offlineGraceDays: 10 } });
    const res = await h.admin('PATCH', `/api/v1/admin/licences/${lic.key}`, { status: 'suspended', maxUsers: 75, policy: { userOverage: 1.5 }, addons: [{ code: 'mailserver-spam', until: null }], expiresAt: null });
    assert.equal(res.statusCode, 200, res.body);
    const body = json(res.body);
    assert.equal(body.status, 'suspended');
    assert.equal(body.maxUsers, 75);
    assert.deepEqual(body.policy, { enforcement: 'deny', userOverage: 1.5, machineInactiveDays: 30, offlineGraceDays: 10, offlineFileDays: 30, checkIntervalSeconds: 86400 });
    assert.deepEqual(body.addons, [{ code: 'mailserver-spam', until: null }]);
    assert.equal(json((await h.admin('PATCH', `/api/v1/admin/licences/${lic.key}`, { addons: [] })).body).addons.length, 0);
    const expired = await h.admin('PATCH', `/api/v1/admin/licences/${lic.key}`, { status: 'active', expiresAt: '2026-01-01T00:00:00Z' });
    assert.equal(json(expired.body).status, 'expired', 'an active licence past expiresAt reads expired');
  });

  test('404 for unknown licences, products and add-ons', async () => {
    assert.equal((await h.admin('GET', '/api/v1/admin/licences/7H2KQ-9QWXM-4TRZP-8DA1C-5NB3E')).statusCode, 404);
    assert.equal((await h.admin('GET', '/api/v1/admin/licences/%20')).statusCode, 404);
    assert.equal((await h.admin('PATCH', '/api/v1/admin/licences/7H2KQ-9QWXM', { maxUsers: 1 })).statusCode, 404);
    assert.equal((await h.admin('POST', '/api/v1/admin/licences', { product: 'nope', maxUsers: 5 })).statusCode, 404);
    const wrongAddon = await h.admin('POST', '/api/v1/admin/licences', { product: 'mailserver', maxUsers: 5, addons: [{ code: 'cloud-sync', until: null }] });
    assert.equal(wrongAddon.statusCode, 404, 'an add-on of another product');
    assert.equal((await h.admin('POST', '/api/v1/admin/products/nope/releases', { version: '1.0.0' })).statusCode, 404);
  });

  const BAD: Array<[string, Record<string, unknown>, string]> = [
    ['maxUsers is required', { product: 'mailserver' }, 'maxUsers'],
    ['maxUsers a string', { product: 'mailserver', maxUsers: '5' }, 'maxUsers'],
    ['maxUsers negative', { product: 'mailserver', maxUsers: -1 }, 'maxUsers'],
    ['maxMachines fractional', { product: 'mailserver', maxUsers: 5, maxMachines: 1.5 }, 'maxMachines'],
    ['expiresAt not a date', { product: 'mailserver', maxUsers: 5, expiresAt: 'next year' }, 'expiresAt'],
    ['expiresAt impossible', { product: 'mailserver', maxUsers: 5, expiresAt: '2027-02-30' }, 'expiresAt'],
    ['expiresAt a number', { product: 'mailserver', maxUsers: 5, expiresAt: 1795600800000 }, 'expiresAt'],
    ['policy enforcement unknown', { product: 'mailserver', maxUsers: 5, policy: { enforcement: 'block' } }, 'policy.enforcement'],
    ['policy unknown field', { product: 'mailserver', maxUsers: 5, policy: { enforcment: 'deny' } }, 'policy.enforcment'],
    ['policy checkIntervalSeconds zero', { product: 'mailserver', maxUsers: 5, policy: { checkIntervalSeconds: 0 } }, 'policy.checkIntervalSeconds'],
    ['addons not an array', { product: 'mailserver', maxUsers: 5, addons: 'spam' }, 'addons'],
    ['add-on listed twice', { product: 'mailserver', maxUsers: 5, addons: [{ code: 'mailserver-spam', until: null }, { code: 'mailserver-spam', until: null }] }, 'addons'],
    ['add-on until not a date', { product: 'mailserver', maxUsers: 5, addons: [{ code: 'mailserver-spam', until: 'soon' }] }, 'addons.0.until'],
    ['customerEmail not an email', { product: 'mailserver', maxUsers: 5, customerEmail: 'nobody' }, 'customerEmail'],
  ];
  for (const [name, body, field] of BAD) {
    test(`400 on create: ${name}`, async () => {
      const before = await t.k.db.selectFrom('licences').select('id').execute();
      const res = await h.admin('POST', '/api/v1/admin/licences', body);
      assert.equal(res.statusCode, 400, res.body);
      assert.deepEqual({ code: json(res.body).error.code, field: json(res.body).error.field }, { code: 'BAD_REQUEST', field });
      assert.equal((await t.k.db.selectFrom('licences').select('id').execute()).length, before.length);
    });
  }

  test('400 on PATCH: an unknown status, a malformed body', async () => {
    const lic = await createLicence(h);
    const res = await h.admin('PATCH', `/api/v1/admin/licences/${lic.key}`, { status: 'expired' });
    assert.equal(res.statusCode, 400);
    assert.equal(json(res.body).error.field, 'status');
    const raw = await t.app.inject({ method: 'PATCH', url: `/api/v1/admin/licences/${lic.key}`, payload: '{', headers: { authorization: `Bearer ${h.apiKey}`, 'content-type': 'application/json' } });
    assert.equal(raw.statusCode, 400);
    assert.equal(json(raw.body).error.code, 'BAD_REQUEST');
  });
});

describe('releases and content', () => {
  test('a release as JSON; duplicates 409; bad versions and channels 400', async () => {
    const res = await h.admin('POST', '/api/v1/admin/products/mailserver/releases', { version: '8.6.2', security: true });
    assert.equal(res.statusCode, 201, res.body);
    assert.deepEqual(json(res.body), { product: 'mailserver', version: '8.6.2', channel: 'stable', releasedAt: '2026-11-25T10:00:00.000Z', security: true, notes: null, file: null });
    assert.equal((await h.admin('POST', '/api/v1/admin/products/mailserver/releases', { version: '8.6.2' })).statusCode, 409);
    assert.equal((await h.admin('POST', '/api/v1/admin/products/mailserver/releases', { version: '8.6.2', channel: 'beta' })).statusCode, 201, 'the same version on another channel');
    for (const [body, field] of [[{ version: '8.6' }, 'version'], [{ version: '1.0.0+b' }, 'version'], [{}, 'version'], [{ version: '1.0.0', channel: 'alpha' }, 'channel'],
      [{ version: '1.0.0', security: 'yes' }, 'security'], [{ version: '1.0.0', releasedAt: 'today' }, 'releasedAt'], [{ version: '1.0.0', notes: 5 }, 'notes']] as const) {
      const r = await h.admin('POST', '/api/v1/admin/products/mailserver/releases', body);
      assert.equal(r.statusCode, 400, JSON.stringify(body));
      assert.equal(json(r.body).error.field, field);
    }
  });

  test('a release with its installer (multipart) is stored under the data directory by SHA-256', async () => {
    const content = crypto.randomBytes(300_000);
    const res = await adminUpload(h, '/api/v1/admin/products/mailserver/releases', { version: '8.7.0', channel: 'stable', security: 'false', notes: '' }, { name: '../../evil name.exe', content });
    assert.equal(res.statusCode, 201, res.body);
    const sha = crypto.createHash('sha256').update(content).digest('hex');
    assert.deepEqual(json(res.body).file, { sha256: sha, size: content.length, name: 'evil_name.exe' });
    const stored = path.join(t.config.dataDir, 'files', sha.slice(0, 2), sha);
    assert.deepEqual(fs.readFileSync(stored), content);
    assert.deepEqual(fs.readdirSync(path.join(t.config.dataDir, 'files', 'tmp')), [], 'no temporary file left behind');
  });

  test('content packs: multipart version and file; 404, 409 (1.2 equals 1.2.0) and 400', async () => {
    const url = '/api/v1/admin/addons/mailserver-spam/content';
    const ok = await adminUpload(h, url, { version: '1.2' }, { name: 'rules.pack', content: 'rules' });
    assert.equal(ok.statusCode, 201, ok.body);
    assert.deepEqual(Object.keys(json(ok.body)), ['addon', 'version', 'sha256', 'size', 'name']);
    assert.equal((await adminUpload(h, url, { version: '1.2.0' }, { name: 'rules.pack', content: 'again' })).statusCode, 409);
    assert.equal((await adminUpload(h, '/api/v1/admin/addons/nope/content', { version: '1' }, { name: 'a', content: 'b' })).statusCode, 404);
    assert.equal(json((await adminUpload(h, url, { version: 'v2' }, { name: 'a', content: 'b' })).body).error.field, 'version');
    assert.equal(json((await adminUpload(h, url, { version: '3' })).body).error.field, 'file');
    assert.equal((await h.admin('POST', url, { version: '3' })).statusCode, 400, 'JSON is not accepted for uploads');
  });
});

describe('malformed uploads', () => {
  const B = 'XXkeywardXX';
  const field = (name: string, value: string) => `--${B}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const file = (name: string) => `--${B}\r\nContent-Disposition: form-data; name="${name}"; filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\nbytes\r\n`;
  const bodies: Array<[string, string, string, string]> = [
    // [case, content type, body, field]
    ['no boundary', 'multipart/form-data', `${field('version', '9.9.1')}--${B}--\r\n`, 'body'],
    ['cut off after a field', `multipart/form-data; boundary=${B}`, `${field('version', '9.9.1')}--${B}`, 'body'],
    ['cut off inside the file', `multipart/form-data; boundary=${B}`, `${field('version', '9.9.1')}--${B}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n\r\nhalf a fi`, 'body'],
    // The parser skips a part without a Content-Disposition: the call then lacks its version.
    ['a part without a name', `multipart/form-data; boundary=${B}`, `--${B}\r\nno header here\r\n\r\nx\r\n--${B}--\r\n`, 'version'],
    ['two files', `multipart/form-data; boundary=${B}`, `${field('version', '9.9.1')}${file('file')}${file('file')}--${B}--\r\n`, 'file'],
    ['more fields than the call takes', `multipart/form-data; boundary=${B}`, `${field('version', '9.9.1')}${Array.from({ length: 30 }, (_, i) => field(`f${i}`, 'x')).join('')}--${B}--\r\n`, 'body'],
  ];
  for (const [route, url] of [['release', '/api/v1/admin/products/mailserver/releases'], ['content', '/api/v1/admin/addons/mailserver-spam/content']] as const) {
    for (const [name, type, body, expected] of bodies) {
      test(`${route}: ${name} is a 400 naming ${expected}, and nothing is stored`, async () => {
        const before = await stored();
        const res = await t.app.inject({ method: 'POST', url, payload: body, headers: { 'content-type': type, authorization: `Bearer ${h.apiKey}` } });
        assert.equal(res.statusCode, 400, res.body);
        assert.equal(json(res.body).error.code, 'BAD_REQUEST');
        assert.equal(json(res.body).error.field, expected);
        assert.deepEqual(await stored(), before);
      });
    }
  }
  async function stored() {
    const releases = await t.k.db.selectFrom('releases').select('version').where('version', '=', '9.9.1').execute();
    const packs = await t.k.db.selectFrom('content_packs').select('version').where('version', '=', '9.9.1').execute();
    return { releases: releases.length, packs: packs.length };
  }
});

test('GET /api/v1/admin/licences-shared lists licences that look shared', async () => {
  const res = await h.admin('GET', '/api/v1/admin/licences-shared');
  assert.equal(res.statusCode, 200);
  assert.ok(Array.isArray(json(res.body).licences));
});
