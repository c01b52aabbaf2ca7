// Releases, add-ons and content packs from the back office: published through the forms, then offered to
// installed programs by call-home and the `latest` manifest; roles, CSRF, bad input and the audit log.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { TestBrowser } from '../../kernel/testing/http.js';
import { callBody, createLicence, harness, multipart, seedProduct, type Harness } from '../licensing/testing.js';

let t: TestApp;
let h: Harness;
const browsers: Record<string, TestBrowser> = {};
const START = Date.parse('2026-11-25T10:00:00.000Z');
const INSTALLER = Buffer.from('MZ installer 8.8.0 from the back office '.repeat(500));
const PACK = Buffer.from('spam rules 2026.11.26.1\n'.repeat(40));
const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
const stored = (b: Buffer) => path.join(t.k.config.dataDir, 'files', sha(b).slice(0, 2), sha(b));

async function signIn(role: string): Promise<TestBrowser> {
  const email = `${role}@vendor.example`;
  await t.modules.accounts.staff.createStaff({ email, name: `${role} person`, role, password: `staff pass ${role.length} words 123` }, null);
  const b = new TestBrowser(t.app);
  await b.get('/admin/login');
  const res = await b.post('/admin/login', { email, password: `staff pass ${role.length} words 123` });
  assert.equal(res.statusCode, 303, `${role} signs in`);
  return b;
}

/** Posts a multipart form as this browser, with the CSRF token of the last page it read (unless given). */
async function upload(b: TestBrowser, url: string, fields: Record<string, string>, file?: { name: string; content: Buffer }) {
  const withToken = '_csrf' in fields ? fields : { _csrf: b.csrf(), ...fields };
  const { payload, headers } = multipart(withToken, file);
  return t.app.inject({ method: 'POST', url, payload, headers: { ...headers, accept: 'text/html', cookie: b.cookieHeader() } });
}

const staffId = async (role: string) => (await t.k.db.selectFrom('staff').select('id').where('email', '=', `${role}@vendor.example`).executeTakeFirstOrThrow()).id;

before(async () => {
  t = await testApp({ config: { publicUrl: 'https://licences.example.com' } });
  t.clock.set(START);
  h = await harness(t);
  await seedProduct(h); // mailserver: 8.5.0, 8.6.0 stable, 8.7.0-beta.1; add-on mailserver-spam
  for (const role of ['owner', 'admin', 'support', 'sales']) browsers[role] = await signIn(role);
});
after(async () => { await t.close(); });

describe('releases from the back office', () => {
  test('an admin publishes a release with an installer: call-home offers it with the file, the manifest names it, the audit log has who and when', async () => {
    const admin = browsers.admin!;
    const list = await admin.get('/admin/releases');
    assert.equal(list.statusCode, 200);
    assert.match(list.body, /href="\/admin\/releases\/mailserver"/);
    const form = await admin.get('/admin/releases/mailserver');
    assert.match(form.body, /enctype="multipart\/form-data"/);
    assert.match(form.body, /8\.7\.0-beta\.1/);

    const res = await upload(admin, '/admin/releases/mailserver',
      { version: '8.8.0', channel: 'stable', released_at: '2026-11-24', security: '1', notes: 'Faster queues' }, { name: 'mailserver 8.8.0.exe', content: INSTALLER });
    assert.equal(res.statusCode, 303, res.body);
    assert.equal(res.headers.location, '/admin/releases/mailserver?published=8.8.0');
    const shown = await admin.get(String(res.headers.location));
    assert.match(shown.body, /Release 8\.8\.0 published/);
    assert.match(shown.body, /mailserver_8\.8\.0\.exe/);
    assert.ok(shown.body.includes(sha(INSTALLER).slice(0, 16)));

    const row = await t.k.db.selectFrom('releases').selectAll().where('version', '=', '8.8.0').executeTakeFirstOrThrow();
    assert.equal(row.file_sha256, sha(INSTALLER));
    assert.equal(Number(row.file_size), INSTALLER.length);
    assert.equal(Number(row.security), 1);
    assert.equal(Number(row.released_at), Date.parse('2026-11-24T00:00:00Z'));
    assert.deepEqual(fs.readFileSync(stored(INSTALLER)), INSTALLER, 'stored under the data dir, named by its SHA-256');

    const lic = await createLicence(h);
    const { json } = await h.call(callBody(lic.key, { version: '8.6.0' }));
    assert.equal(json.update.version, '8.8.0');
    assert.equal(json.update.security, true);
    assert.equal(json.update.download.sha256, sha(INSTALLER));
    assert.equal(json.update.download.size, INSTALLER.length);
    const u = new URL(json.update.download.url);
    const dl = await t.app.inject({ method: 'GET', url: u.pathname + u.search });
    assert.equal(dl.statusCode, 200);
    assert.equal(sha(dl.rawPayload), sha(INSTALLER));

    const latest = await h.get('/api/v1/products/mailserver/channels/stable/latest');
    assert.equal(latest.statusCode, 200);
    assert.equal(JSON.parse(latest.body).version, '8.8.0');

    const audit = await t.k.db.selectFrom('audit_log').selectAll().where('action', '=', 'licensing.release.created').where('target', '=', row.id).executeTakeFirstOrThrow();
    assert.equal(audit.actor_kind, 'staff');
    assert.equal(audit.actor_id, await staffId('admin'));
    assert.equal(Number(audit.at), START);
    const change = await t.k.db.selectFrom('audit_log').select('id').where('action', '=', 'admin.change').where('target', '=', '/admin/releases/mailserver').execute();
    assert.equal(change.length, 1);
  });

  test('bad input is shown again beside its field, nothing is published and the uploaded file is not kept', async () => {
    const owner = browsers.owner!;
    await owner.get('/admin/releases/mailserver');
    const other = Buffer.from('an installer nobody keeps');
    const bad = await upload(owner, '/admin/releases/mailserver', { version: 'eight', channel: 'stable', released_at: '2026-02-30', notes: 'kept notes' }, { name: 'x.exe', content: other });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /class="field has-error"/);
    assert.match(bad.body, /id="f-released_at-error"[^>]*>Enter a date such as 2026-12-01/);
    assert.match(bad.body, /value="eight"/);
    assert.match(bad.body, /kept notes/);
    // The date is fixed; the version is still not SemVer: the service's message beside the version.
    const bad2 = await upload(owner, '/admin/releases/mailserver', { _csrf: owner.csrf(bad.body), version: 'eight', channel: 'stable', released_at: '' }, { name: 'x.exe', content: other });
    assert.equal(bad2.statusCode, 400);
    assert.match(bad2.body, /id="f-version-error"[^>]*>version must be a SemVer/);
    const wrongChannel = await upload(owner, '/admin/releases/mailserver', { _csrf: owner.csrf(bad.body), version: '9.9.9', channel: 'nightly' });
    assert.equal(wrongChannel.statusCode, 400);
    assert.match(wrongChannel.body, /id="f-channel-error"[^>]*>Choose the stable or the beta channel/);
    const dup = await upload(owner, '/admin/releases/mailserver', { _csrf: owner.csrf(bad.body), version: '8.6.0', channel: 'stable' }, { name: 'x.exe', content: other });
    assert.equal(dup.statusCode, 400);
    assert.match(dup.body, /id="f-version-error"[^>]*>mailserver 8\.6\.0 is already released on the stable channel/);
    assert.equal(fs.existsSync(stored(other)), false, 'a refused upload is removed');
    assert.equal((await t.k.db.selectFrom('releases').select('id').where('version', 'in', ['eight', '9.9.9']).execute()).length, 0);
    // A missing product is a 404 page, not an error.
    assert.equal((await upload(owner, '/admin/releases/no-such', { _csrf: owner.csrf(bad.body), version: '1.0.0' })).statusCode, 404);
    // Re-uploading bytes a release already uses, then failing, must not delete the release's file.
    const again = await upload(owner, '/admin/releases/mailserver', { _csrf: owner.csrf(bad.body), version: 'nope' }, { name: 'same.exe', content: INSTALLER });
    assert.equal(again.statusCode, 400);
    assert.equal(fs.existsSync(stored(INSTALLER)), true, 'a file in use stays');
  });

  test('support and sales read releases but cannot publish; a post without a valid CSRF token is refused and stores nothing', async () => {
    const body = { version: '9.1.0', channel: 'stable' };
    const stray = Buffer.from('refused upload bytes');
    for (const role of ['support', 'sales']) {
      const b = browsers[role]!;
      const page = await b.get('/admin/releases/mailserver');
      assert.equal(page.statusCode, 200, role);
      assert.doesNotMatch(page.body, /Publish a release/, role);
      assert.match((await b.get('/admin/addons')).body, /mailserver-spam/);
      const res = await upload(b, '/admin/releases/mailserver', body, { name: 'x.exe', content: stray });
      assert.equal(res.statusCode, 403, role);
      assert.equal((await upload(b, '/admin/addons/mailserver-spam/content', { version: '2030.1' }, { name: 'p', content: stray })).statusCode, 403, role);
      assert.equal((await b.post('/admin/addons', { code: 'x-addon', name: 'X', product: 'mailserver' })).statusCode, 403, role);
    }
    const anon = new TestBrowser(t.app);
    assert.equal((await upload(anon, '/admin/releases/mailserver', { _csrf: 'forged', ...body }, { name: 'x.exe', content: stray })).statusCode, 403);
    const owner = browsers.owner!;
    await owner.get('/admin/releases/mailserver');
    assert.equal((await upload(owner, '/admin/releases/mailserver', { _csrf: 'forged', ...body }, { name: 'x.exe', content: stray })).statusCode, 403);
    const crossSite = multipart({ _csrf: owner.csrf(), ...body }, { name: 'x.exe', content: stray });
    const cs = await t.app.inject({ method: 'POST', url: '/admin/releases/mailserver', payload: crossSite.payload, headers: { ...crossSite.headers, cookie: owner.cookieHeader(), origin: 'https://evil.example' } });
    assert.equal(cs.statusCode, 403);
    assert.equal(fs.existsSync(stored(stray)), false, 'nothing refused is kept on disk');
    assert.equal(await t.k.db.selectFrom('releases').select('id').where('version', '=', '9.1.0').executeTakeFirst(), undefined);
    assert.equal(await t.k.db.selectFrom('addons').select('id').where('code', '=', 'x-addon').executeTakeFirst(), undefined);
  });
});

describe('add-ons and content packs from the back office', () => {
  test('an owner creates an add-on; bad codes and unknown products are shown beside their fields', async () => {
    const owner = browsers.owner!;
    const form = await owner.get('/admin/addons');
    assert.match(form.body, /<option value="mailserver"/);
    const bad = await owner.post('/admin/addons', { code: '-bad code', name: '', product: '' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /id="f-code-error"/);
    assert.match(bad.body, /id="f-name-error"/);
    assert.match(bad.body, /id="f-product-error"/);
    assert.match(bad.body, /value="-bad code"/);
    const unknown = await owner.post('/admin/addons', { code: 'mailserver-av', name: 'Antivirus', product: 'nope' }, );
    assert.match(unknown.body, /That product does not exist/);
    const dup = await owner.post('/admin/addons', { code: 'mailserver-spam', name: 'Again', product: 'mailserver' });
    assert.equal(dup.statusCode, 400);
    assert.match(dup.body, /exists already/);
    const ok = await owner.post('/admin/addons', { code: 'mailserver-av', name: 'Antivirus', product: 'mailserver' });
    assert.equal(ok.statusCode, 303);
    const list = await owner.get(String(ok.headers.location));
    assert.match(list.body, /Add-on mailserver-av created/);
    assert.match(list.body, /href="\/admin\/addons\/mailserver-av"/);
    const row = await t.k.db.selectFrom('addons').select('id').where('code', '=', 'mailserver-av').executeTakeFirstOrThrow();
    const audit = await t.k.db.selectFrom('audit_log').selectAll().where('action', '=', 'licensing.addon.created').where('target', '=', row.id).executeTakeFirstOrThrow();
    assert.equal(audit.actor_id, await staffId('owner'));
  });

  test('an uploaded content version is offered to a licence with the add-on active, not to one without it', async () => {
    const admin = browsers.admin!;
    const page = await admin.get('/admin/addons/mailserver-spam');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /No content uploaded yet/);
    const missing = await upload(admin, '/admin/addons/mailserver-spam/content', { version: '2026.11.26.1' });
    assert.equal(missing.statusCode, 400);
    assert.match(missing.body, /id="f-file-error"[^>]*>Choose the content file/);
    const badVersion = await upload(admin, '/admin/addons/mailserver-spam/content', { _csrf: admin.csrf(missing.body), version: 'v1' }, { name: 'rules.pack', content: PACK });
    assert.equal(badVersion.statusCode, 400);
    assert.match(badVersion.body, /id="f-version-error"[^>]*>version must be one or more dot-separated decimal numbers/);
    assert.equal(fs.existsSync(stored(PACK)), false);

    const res = await upload(admin, '/admin/addons/mailserver-spam/content', { _csrf: admin.csrf(missing.body), version: '2026.11.26.1' }, { name: 'rules.pack', content: PACK });
    assert.equal(res.statusCode, 303, res.body);
    const shown = await admin.get(String(res.headers.location));
    assert.match(shown.body, /Content version 2026\.11\.26\.1 uploaded/);
    assert.match(shown.body, /rules\.pack/);
    assert.deepEqual(fs.readFileSync(stored(PACK)), PACK);
    const dup = await upload(admin, '/admin/addons/mailserver-spam/content', { version: '2026.11.26.1.0' }, { name: 'rules.pack', content: PACK });
    assert.equal(dup.statusCode, 400);
    assert.match(dup.body, /exists already/);
    assert.equal(fs.existsSync(stored(PACK)), true, 'the pack in use is kept');

    const withAddon = await createLicence(h, { addons: [{ code: 'mailserver-spam', until: null }] });
    const { json } = await h.call(callBody(withAddon.key));
    const c = json.content['mailserver-spam'];
    assert.equal(c.available, true);
    assert.equal(c.version, '2026.11.26.1');
    assert.equal(c.sha256, sha(PACK));
    assert.equal(c.size, PACK.length);
    const without = await createLicence(h);
    const other = await h.call(callBody(without.key, { content: { 'mailserver-spam': '2026.1' } }));
    assert.notEqual(other.json.content?.['mailserver-spam']?.available, true);

    const row = await t.k.db.selectFrom('content_packs').select('id').where('version', '=', '2026.11.26.1').executeTakeFirstOrThrow();
    const audit = await t.k.db.selectFrom('audit_log').selectAll().where('action', '=', 'licensing.content.created').where('target', '=', row.id).executeTakeFirstOrThrow();
    assert.equal(audit.actor_id, await staffId('admin'));
    assert.equal(audit.actor_kind, 'staff');
  });

  test('unknown add-ons and products are 404 pages; the navigation links them for every role', async () => {
    const sales = browsers.sales!;
    assert.equal((await sales.get('/admin/addons/nope')).statusCode, 404);
    assert.equal((await sales.get('/admin/releases/nope')).statusCode, 404);
    const dash = await sales.get('/admin');
    assert.match(dash.body, /href="\/admin\/releases"/);
    assert.match(dash.body, /href="\/admin\/addons"/);
  });
});
