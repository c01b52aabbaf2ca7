import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as OTPAuth from 'otpauth';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { TestBrowser } from '../../kernel/testing/http.js';
import { apiKeyLooksValid } from '../../kernel/crypto/tokens.js';
import { KEY_FAILURES_PER_MINUTE } from './index.js';

let t: TestApp;
before(async () => { t = await testApp(); });
after(async () => { await t.close(); });

const code = (secret: string, at: number) => new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' }).generate({ timestamp: at });

describe('first run and staff sign-in', () => {
  let owner: TestBrowser;
  let secret = '';

  test('the first-run link creates the owner once; afterwards it is refused and no new link is made', async () => {
    const link = (await t.modules.accounts.staff.firstRunLink())!;
    assert.match(link, /^http:\/\/127\.0\.0\.1:3000\/setup\/[A-Za-z0-9_-]{43}$/);
    const path = new URL(link).pathname;
    owner = new TestBrowser(t.app);
    const form = await owner.get(path);
    assert.equal(form.statusCode, 200);
    assert.match(form.body, /Create owner account/);
    assert.match(form.body, /Load the demo catalogue/);
    const bad = await owner.post(path, { name: 'Olive', email: 'not-an-email', password: 'owner password 1' });
    assert.equal(bad.statusCode, 400, 'a typo re-shows the form and keeps the link usable');
    await owner.get(path);
    const ok = await owner.post(path, { name: 'Olive Owner', email: 'olive@vendor.example', password: 'owner password 1' });
    assert.equal(ok.statusCode, 303);
    assert.equal(ok.headers.location, '/admin');
    assert.equal((await owner.get('/admin')).statusCode, 200);
    const again = await new TestBrowser(t.app).get(path);
    assert.equal(again.statusCode, 400);
    assert.equal(await t.modules.accounts.staff.firstRunLink(), null);
    const row = await t.k.db.selectFrom('staff').selectAll().executeTakeFirstOrThrow();
    assert.equal(row.role, 'owner');
    assert.equal(row.last_login_at, t.clock.now(), 'the setup signs the owner in: that is a sign-in');
    assert.match(row.password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/, 'argon2id with the agreed parameters');
  });

  test('TOTP: enrolment, then sign-in needs a code; a wrong or replayed code is refused', async () => {
    await owner.get('/admin/security');
    const enrol = await owner.post('/admin/security/totp', {});
    secret = /name="secret" value="([A-Z2-7]+)"/.exec(enrol.body)![1]!;
    const sealed = await t.k.db.selectFrom('staff').select('totp_secret_sealed').executeTakeFirstOrThrow();
    assert.ok(!sealed.totp_secret_sealed!.includes(secret), 'the seed is stored encrypted');
    const wrong = await owner.post('/admin/security/totp/confirm', { code: '000000', secret, uri: '' });
    assert.equal(wrong.statusCode, 400);
    await owner.post('/admin/security/totp/confirm', { code: code(secret, t.clock.now()), secret, uri: '' });
    assert.match((await owner.get('/admin/security')).body, /badge ok/);

    t.clock.advance(60_000);
    const b = new TestBrowser(t.app);
    await b.get('/admin/login');
    const step1 = await b.post('/admin/login', { email: 'olive@vendor.example', password: 'owner password 1' });
    assert.equal(step1.statusCode, 200);
    assert.match(step1.body, /Enter your code/);
    assert.equal(b.cookies.size, 0, 'no session before the second factor');
    const pending = /name="pending" value="([^"]+)"/.exec(step1.body)![1]!;
    const bad = await b.post('/admin/login/totp', { pending, code: '123456' });
    assert.equal(bad.statusCode, 401);
    const good = code(secret, t.clock.now());
    const ok = await b.post('/admin/login/totp', { pending, code: good });
    assert.equal(ok.statusCode, 303);
    assert.equal((await b.get('/admin')).statusCode, 200);

    const c = new TestBrowser(t.app);
    await c.get('/admin/login');
    const s1 = await c.post('/admin/login', { email: 'olive@vendor.example', password: 'owner password 1' });
    const p2 = /name="pending" value="([^"]+)"/.exec(s1.body)![1]!;
    const replay = await c.post('/admin/login/totp', { pending: p2, code: good });
    assert.equal(replay.statusCode, 401, 'a code is accepted once');

    const forged = await c.post('/admin/login/totp', { pending: p2.replace(/^[^.]+/, 'someone-else'), code: code(secret, t.clock.now()) });
    assert.equal(forged.statusCode, 400, 'the pending sign-in is signed');
  });

  test('roles: support staff cannot open the audit log; customers cannot open the admin', async () => {
    const id = await t.modules.accounts.staff.createStaff({ email: 'sam@vendor.example', name: 'Sam Support', role: 'support', password: 'support password 1' }, null);
    assert.ok(id);
    const b = new TestBrowser(t.app);
    await b.get('/admin/login');
    await b.post('/admin/login', { email: 'sam@vendor.example', password: 'support password 1' });
    assert.equal((await b.get('/admin')).statusCode, 200);
    assert.equal((await b.get('/admin/audit')).statusCode, 403);
    const anon = await new TestBrowser(t.app).get('/admin');
    assert.equal(anon.statusCode, 303);
    assert.match(anon.headers.location as string, /^\/admin\/login\?next=/);
  });
});

describe('staff API keys', () => {
  test('prefix, checksum, stored as hash plus last four; Bearer works; bad keys get 401, floods get 429', async () => {
    const { key } = await t.modules.accounts.staff.createApiKey('ci', null);
    assert.match(key, /^kwk_[0-9A-Za-z]{36}$/);
    assert.ok(apiKeyLooksValid(key));
    const flipped = key.slice(0, 10) + (key[10] === 'a' ? 'b' : 'a') + key.slice(11);
    assert.equal(apiKeyLooksValid(flipped), false, 'the checksum catches a typo');
    const row = await t.k.db.selectFrom('api_keys').selectAll().where('name', '=', 'ci').executeTakeFirstOrThrow();
    assert.equal(row.last4, key.slice(-4));
    assert.ok(!JSON.stringify(row).includes(key), 'the key itself is not stored');

    const ok = await t.app.inject({ url: '/api/v1/admin/whoami', headers: { authorization: `Bearer ${key}` } });
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.json().apiKey.name, 'ci');
    const none = await t.app.inject({ url: '/api/v1/admin/whoami' });
    assert.equal(none.statusCode, 401);
    assert.equal(none.json().error.code, 'ACC_UNAUTHORIZED');
    await t.modules.accounts.staff.revokeApiKey(row.id, null);
    const revoked = await t.app.inject({ url: '/api/v1/admin/whoami', headers: { authorization: `Bearer ${key}` } });
    assert.equal(revoked.statusCode, 401);
  });

  test('a flood of bad keys from one address gets 429, and a valid key from that address still passes', async () => {
    const { key } = await t.modules.accounts.staff.createApiKey('flood-proof', null);
    const from = (authorization: string) => t.app.inject({ url: '/api/v1/admin/whoami', remoteAddress: '198.51.100.7', headers: { authorization } });
    const statuses: number[] = [];
    for (let i = 0; i < KEY_FAILURES_PER_MINUTE + 2; i++) statuses.push((await from('Bearer kwk_nope')).statusCode);
    assert.deepEqual(statuses.slice(0, KEY_FAILURES_PER_MINUTE), Array(KEY_FAILURES_PER_MINUTE).fill(401), 'up to the limit, 401');
    assert.deepEqual(statuses.slice(KEY_FAILURES_PER_MINUTE), [429, 429], 'past it, 429');
    const limited = await from('Bearer kwk_nope');
    assert.equal(limited.json().error.code, 'RATE_LIMITED');
    // Counted together across the admin API: the licensing routes are refused too, not a fresh allowance.
    const licensing = await t.app.inject({ url: '/api/v1/admin/licences/XXXXX-XXXXX', remoteAddress: '198.51.100.7', headers: { authorization: 'Bearer kwk_nope' } });
    assert.equal(licensing.statusCode, 429);
    assert.equal((await from(`Bearer ${key}`)).statusCode, 200, 'the valid key is not locked out');
    assert.equal((await from(`bearer ${key}`)).statusCode, 200, 'the scheme is case-insensitive');
    assert.equal((await t.app.inject({ url: '/api/v1/admin/whoami', remoteAddress: '198.51.100.8', headers: { authorization: 'Bearer kwk_nope' } })).statusCode, 401, 'another address is not affected');
  });
});

describe('two first-run links used at the same moment (two nodes started together)', () => {
  let fresh: TestApp;
  before(async () => { fresh = await testApp(); });
  after(async () => { await fresh.close(); });

  test('one owner is made; the other link is refused', async () => {
    const links = [(await fresh.modules.accounts.staff.firstRunLink())!, (await fresh.modules.accounts.staff.firstRunLink())!];
    assert.notEqual(links[0], links[1]);
    const browsers = links.map(() => new TestBrowser(fresh.app));
    for (const [i, b] of browsers.entries()) await b.get(new URL(links[i]!).pathname);
    const res = await Promise.all(browsers.map((b, i) => b.post(new URL(links[i]!).pathname, { name: `Owner ${i}`, email: `owner${i}@vendor.example`, password: 'owner password 1' })));
    assert.deepEqual(res.map((r) => r.statusCode).sort(), [303, 400], res.map((r) => r.statusCode).join(','));
    const staff = await fresh.k.db.selectFrom('staff').select(['role']).execute();
    assert.deepEqual(staff.map((s) => s.role), ['owner']);
  });
});
