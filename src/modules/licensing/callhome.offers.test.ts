// What answers offer: updates per channel with signed installer URLs, content packs per add-on, the
// downloads behind those URLs (expiry, tampering, lapsed licences and add-ons → 403) and the public
// `latest` manifest with its ETag.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { DAY_MS } from '../../kernel/clock.js';
import { adminUpload, assertSigned, callBody, computerId, createLicence, harness, seedProduct, type Harness } from './testing.js';

let t: TestApp;
let h: Harness;
const START = Date.parse('2026-11-25T10:00:00.000Z');
const INSTALLER = Buffer.from('MZ pretend installer 8.6.1 '.repeat(1000));
const PACK = Buffer.from('spam rules 2026.11.25.1\n'.repeat(50));
const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

before(async () => {
  t = await testApp({ config: { publicUrl: 'https://licences.example.com' } });
  h = await harness(t);
  await seedProduct(h);
  const rel = await adminUpload(h, '/api/v1/admin/products/mailserver/releases',
    { version: '8.6.1', releasedAt: '2026-11-10T00:00:00Z', security: 'true', notes: 'https://example.com/8.6.1' }, { name: 'mailserver-8.6.1.exe', content: INSTALLER });
  assert.equal(rel.statusCode, 201, rel.body);
  // Scheduled for later: never offered before its date.
  assert.equal((await h.admin('POST', '/api/v1/admin/products/mailserver/releases', { version: '9.0.0', releasedAt: '2026-12-10T00:00:00Z' })).statusCode, 201);
  for (const v of ['2026.11.24.1', '2026.11.25.1']) {
    const r = await adminUpload(h, '/api/v1/admin/addons/mailserver-spam/content', { version: v }, { name: `spam-${v}.pack`, content: v === '2026.11.25.1' ? PACK : 'old' });
    assert.equal(r.statusCode, 201, r.body);
  }
});
after(async () => { await t.close(); });

const spamUntil = (until: string | null) => ({ addons: [{ code: 'mailserver-spam', until }] });

async function fetchUrl(url: string) {
  const u = new URL(url);
  assert.equal(u.origin, 'https://licences.example.com', 'absolute URLs from KEYWARD_PUBLIC_URL');
  return t.app.inject({ method: 'GET', url: u.pathname + u.search });
}

describe('update offers', () => {
  test('a stable program is offered the newest stable release with a signed, expiring download', async () => {
    t.clock.set(START);
    const lic = await createLicence(h);
    const { json } = await h.call(callBody(lic.key));
    const u = json.update;
    assert.deepEqual({ ...u, download: undefined }, {
      available: true, version: '8.6.1', channel: 'stable', releasedAt: '2026-11-10T00:00:00.000Z', security: true, entitled: true,
      notes: 'https://example.com/8.6.1', download: undefined,
    });
    assert.equal(u.download.sha256, sha(INSTALLER));
    assert.equal(u.download.size, INSTALLER.length);
    const expires = Date.parse(u.download.expiresAt);
    assert.ok(expires > START && expires <= START + 3_600_000, 'expires within one hour');
    const res = await fetchUrl(u.download.url);
    assert.equal(res.statusCode, 200);
    assert.equal(sha(res.rawPayload), sha(INSTALLER));
    assert.equal(res.headers['keyward-signature'], undefined, 'downloads are not signed as answers');
  });

  test('the newest of its channel gets available:false; beta sees beta and stable', async () => {
    t.clock.set(START);
    const lic = await createLicence(h);
    assert.deepEqual((await h.call(callBody(lic.key, { version: '8.6.1' }))).json.update, { available: false });
    const beta = await h.call(callBody(lic.key, { version: '8.6.1', channel: 'beta' }));
    assert.equal(beta.json.update.version, '8.7.0-beta.1');
    assert.equal(beta.json.update.channel, 'beta');
    assert.equal('download' in beta.json.update, false, 'no installer uploaded: no download');
  });

  test('a release after maintenanceUntil is offered but not entitled, without a download', async () => {
    t.clock.set(START);
    const lic = await createLicence(h, { maintenanceUntil: '2026-11-05T00:00:00Z' });
    const { json } = await h.call(callBody(lic.key));
    assert.equal(json.valid, true);
    assert.equal(json.update.version, '8.6.1');
    assert.equal(json.update.entitled, false);
    assert.equal('download' in json.update, false);
  });

  test('an invalid licence still shows what renewing would bring, with nothing to download', async () => {
    t.clock.set(START);
    const lic = await createLicence(h, { ...spamUntil(null), expiresAt: '2026-11-01T00:00:00Z' });
    const { json } = await h.call(callBody(lic.key));
    assert.equal(json.code, 'EXPIRED');
    assert.equal(json.licence.status, 'expired');
    assert.equal(json.update.entitled, false);
    assert.equal('download' in json.update, false);
    assert.deepEqual(json.licence.addons, [{ code: 'mailserver-spam', until: null, active: false }]);
    assert.deepEqual(json.content, { 'mailserver-spam': { available: false, reason: 'NOT_ENTITLED' } });
  });
});

describe('content offers and downloads', () => {
  test('an active add-on is offered its newest pack; the newest installed reads available:false', async () => {
    t.clock.set(START);
    const lic = await createLicence(h, spamUntil('2027-03-01T00:00:00Z'));
    const { json } = await h.call(callBody(lic.key, { content: { 'mailserver-spam': '2026.11.1' } }));
    const c = json.content['mailserver-spam'];
    assert.deepEqual(Object.keys(c), ['available', 'version', 'url', 'sha256', 'size', 'expiresAt']);
    assert.equal(c.version, '2026.11.25.1');
    assert.equal(c.sha256, sha(PACK));
    const res = await fetchUrl(c.url);
    assert.equal(res.statusCode, 200);
    assert.equal(sha(res.rawPayload), sha(PACK));
    const newest = await h.call(callBody(lic.key, { content: { 'mailserver-spam': '2026.11.25.1.0' } }));
    assert.deepEqual(newest.json.content, { 'mailserver-spam': { available: false } });
  });

  test('download URLs answer 403 after expiry, after any change, once the licence is invalid or the add-on lapsed', async () => {
    t.clock.set(START);
    const lic = await createLicence(h, spamUntil('2026-11-26T00:00:00Z'));
    const { json } = await h.call(callBody(lic.key));
    const installer = json.update.download.url as string;
    const pack = json.content['mailserver-spam'].url as string;
    assert.equal((await fetchUrl(installer)).statusCode, 200);

    const u = new URL(installer);
    const tampered = [
      installer.replace(/e=\d+/, (m) => `e=${Number(m.slice(2)) + 3600}`),
      installer.replace(/s=[^&]+/, 's=AAAA'),
      installer.replace(/l=[^&]+/, `l=${crypto.randomUUID()}`),
      u.origin + u.pathname.replace(/[^/]+$/, 'other.exe') + u.search,
      installer.split('?')[0],
      pack.replace('/c/', '/r/'),
      // The same licence id percent-encoded: the same value once decoded, but not the URL that was signed.
      installer.replace(/l=([^&])/, (_m, c: string) => `l=%${c.charCodeAt(0).toString(16).toUpperCase()}`),
      installer.replace(/l=([^&]+)/, (_m, id: string) => `l=${id.replace('-', '%2D')}`),
    ];
    for (const url of tampered) {
      const res = await fetchUrl(url);
      assert.equal(res.statusCode, 403, url);
      assert.equal(JSON.parse(res.body).error.code, 'FORBIDDEN');
    }

    t.clock.set(START + 3_600_000);
    assert.equal((await fetchUrl(installer)).statusCode, 403, 'expired at expiresAt');
    t.clock.set(START + 3_599_000);
    assert.equal((await fetchUrl(pack)).statusCode, 200);

    // The add-on lapses (until passes) while the licence stays valid: content 403, installer 200.
    t.clock.set(Date.parse('2026-11-25T23:59:00Z'));
    const again = await h.call(callBody(lic.key));
    t.clock.set(Date.parse('2026-11-26T00:00:00Z'));
    assert.equal((await fetchUrl(again.json.content['mailserver-spam'].url)).statusCode, 403);
    assert.equal((await fetchUrl(again.json.update.download.url)).statusCode, 200);
    const lapsed = await h.call(callBody(lic.key));
    assert.deepEqual(lapsed.json.content, { 'mailserver-spam': { available: false, reason: 'NOT_ENTITLED' } });

    // The licence is suspended: every URL it was given stops working.
    const last = await h.call(callBody(lic.key));
    assert.equal((await h.admin('PATCH', `/api/v1/admin/licences/${lic.key}`, { status: 'suspended' })).statusCode, 200);
    assert.equal((await fetchUrl(last.json.update.download.url)).statusCode, 403);
  });
});

describe('GET /api/v1/products/{product}/channels/{channel}/latest', () => {
  test('signed, cacheable, with an ETag and 304 for a matching If-None-Match', async () => {
    t.clock.set(START);
    const res = await h.get('/api/v1/products/mailserver/channels/stable/latest');
    assert.equal(res.statusCode, 200);
    await assertSigned(h, res);
    assert.deepEqual(JSON.parse(res.body), {
      product: 'mailserver', channel: 'stable', version: '8.6.1', releasedAt: '2026-11-10T00:00:00.000Z', security: true, notes: 'https://example.com/8.6.1',
    });
    assert.equal(res.headers['cache-control'], 'public, max-age=300');
    const etag = String(res.headers.etag);
    assert.match(etag, /^"[0-9a-f]{32}"$/);

    for (const inm of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const again = await h.get('/api/v1/products/mailserver/channels/stable/latest', { 'if-none-match': inm });
      assert.equal(again.statusCode, 304, inm);
      assert.equal(again.body, '');
      assert.equal(again.headers['keyward-signature'], undefined, 'a 304 has no body and no signature');
      assert.equal(again.headers.etag, etag);
    }
    assert.equal((await h.get('/api/v1/products/mailserver/channels/stable/latest', { 'if-none-match': '"stale"' })).statusCode, 200);

    const beta = JSON.parse((await h.get('/api/v1/products/mailserver/channels/beta/latest')).body);
    assert.equal(beta.version, '8.7.0-beta.1');
    // The scheduled 9.0.0 appears once its date has come, with a new ETag.
    t.clock.set(Date.parse('2026-12-10T00:00:00Z'));
    const later = await h.get('/api/v1/products/mailserver/channels/beta/latest', { 'if-none-match': etag });
    assert.equal(later.statusCode, 200);
    assert.equal(JSON.parse(later.body).version, '9.0.0');
    assert.equal(JSON.parse(later.body).channel, 'stable', 'beta sees stable releases too');
    t.clock.set(START);
  });

  test('404 (signed) for an unknown product or a channel with no release', async () => {
    assert.equal((await h.admin('POST', '/api/v1/admin/products', { code: 'newapp', name: 'New' })).statusCode, 201);
    for (const url of ['/api/v1/products/nope/channels/stable/latest', '/api/v1/products/newapp/channels/stable/latest', '/api/v1/products/mailserver/channels/nightly/latest']) {
      const res = await h.get(url);
      assert.equal(res.statusCode, 404, url);
      assert.equal(JSON.parse(res.body).error.code, 'NOT_FOUND');
      await assertSigned(h, res);
    }
  });
});

test('offline grace never passes the licence\'s own expiry', async () => {
  t.clock.set(START);
  const lic = await createLicence(h, { expiresAt: '2026-12-01T00:00:00Z', policy: { offlineGraceDays: 60, checkIntervalSeconds: 3600 } });
  const { json } = await h.call(callBody(lic.key));
  assert.equal(json.offlineUntil, '2026-12-01T00:00:00.000Z');
  assert.equal(json.nextCheckSeconds, 3600);
  const other = await createLicence(h);
  assert.equal((await h.call(callBody(other.key))).json.offlineUntil, new Date(START + 30 * DAY_MS).toISOString());
});

test('a stored download file that went missing is a 404, not a 500', async () => {
  t.clock.set(START);
  const lic = await createLicence(h, { ...spamUntil(null), maxMachines: 5 });
  const { json } = await h.call(callBody(lic.key, { computerId: computerId('missing') }));
  const rows = await t.k.db.selectFrom('content_packs').select('file_path').execute();
  const fs = await import('node:fs');
  const path = await import('node:path');
  const victim = path.join(t.config.dataDir, rows.find((r) => r.file_path.includes(sha(PACK)))!.file_path);
  const saved = fs.readFileSync(victim);
  fs.rmSync(victim);
  try {
    assert.equal((await fetchUrl(json.content['mailserver-spam'].url)).statusCode, 404);
  } finally {
    fs.writeFileSync(victim, saved);
  }
});
