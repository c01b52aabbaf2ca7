import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { TestBrowser, setCookies } from '../../kernel/testing/http.js';
import { buildRegistry, registryProblems, schemaDeclarationProblems } from './index.js';
import { hashPassword } from '../accounts/passwords.js';

let t: TestApp;
before(async () => { t = await testApp(); });
after(async () => { await t.close(); });

describe('privacy registry against the live schema', () => {
  test('every column of every table is declared, and every declaration names a real column', async () => {
    assert.deepEqual(await schemaDeclarationProblems(t.k.db, buildRegistry(), t.k.dbh.schema), []);
  });

  test('an undeclared column is caught', async () => {
    await sql`CREATE TABLE planted_table (id text primary key, secret_email text)`.execute(t.k.db);
    try {
      const problems = await schemaDeclarationProblems(t.k.db, buildRegistry(), t.k.dbh.schema);
      assert.ok(problems.some((p) => p.includes('planted_table.secret_email')), problems.join('\n'));
      assert.ok(problems.some((p) => p.includes('planted_table.id')));
    } finally {
      await sql`DROP TABLE planted_table`.execute(t.k.db);
    }
  });

  test('a stale declaration is caught', async () => {
    const reg = buildRegistry();
    reg.notPersonal.push({ table: 'customers', column: 'shoe_size', reason: 'test' });
    assert.ok((await schemaDeclarationProblems(t.k.db, reg, t.k.dbh.schema)).some((p) => p.includes('customers.shoe_size does not exist')));
  });

  test('purposes name their interest, law or consent record; fields name known purposes and processors', () => {
    assert.deepEqual(registryProblems(buildRegistry()), []);
    const reg = buildRegistry();
    reg.purposes.push({ id: 'x', dataUse: 'marketing', description: 'x', lawfulBasis: 'legitimate_interests' });
    reg.purposes.push({ id: 'y', dataUse: 'marketing', description: 'y', lawfulBasis: 'consent' });
    reg.fields.push({ ...reg.fields[0]!, location: { table: 'a', column: 'b' }, purposes: ['nope'], recipients: ['unknown_processor'] });
    const problems = registryProblems(reg).join('\n');
    assert.match(problems, /purpose x: legitimate_interests without the interest/);
    assert.match(problems, /purpose y: consent without a record kind/);
    assert.match(problems, /a\.b: unknown purpose nope/);
    assert.match(problems, /a\.b: unknown recipient unknown_processor/);
  });
});

describe('cookies', () => {
  const PUBLIC_PAGES = ['/', '/account/login', '/account/register', '/account/password/forgot', '/admin/login', '/privacy', '/no-such-page', '/healthz', '/assets/site.css', '/shop', '/shop?currency=EUR', '/basket', '/checkout', '/shop/thanks/x', '/testimonials'];

  test('a visitor who is not signed in gets no cookie at all, on any page or form', async () => {
    const b = new TestBrowser(t.app);
    for (const url of PUBLIC_PAGES) {
      const res = await b.get(url);
      assert.deepEqual(setCookies(res), [], `${url} set a cookie`);
    }
    await b.get('/account/login');
    const failed = await b.post('/account/login', { email: 'nobody@example.com', password: 'wrong password here' });
    assert.deepEqual(setCookies(failed), []);
    await b.get('/account/register');
    const reg = await b.post('/account/register', { name: 'X', email: 'x@example.com', password: 'short' });
    assert.deepEqual(setCookies(reg), []);
  });

  test('every cookie the app sets is declared, with the declared attributes', async () => {
    const reg = buildRegistry();
    const now = t.clock.now();
    await t.k.db.insertInto('customers').values({
      id: 'c-cookie', email: 'cookie@example.com', name: 'Cookie', company: null, phone: null, address_line1: null, address_line2: null,
      city: null, region: null, postcode: null, country: null, vat_number: null, password_hash: await hashPassword('cookie password 1'),
      email_verified_at: now, created_at: now, updated_at: now, last_login_at: null, closed_at: null,
    }).execute();
    const b = new TestBrowser(t.app);
    await b.get('/account/login');
    const seen: string[] = [];
    const login = await b.post('/account/login', { email: 'cookie@example.com', password: 'cookie password 1', remember: '1' });
    seen.push(...setCookies(login));
    b.closeBrowser();
    seen.push(...setCookies(await b.get('/account')));
    await b.get('/account');
    const logout = setCookies(await b.post('/account/logout', {}));
    seen.push(...logout);
    assert.ok(seen.length >= 4);
    // The notice says "signing out deletes it" of exactly these.
    const clearedAtLogout = logout.filter((l) => /Max-Age=0|Expires=Thu, 01 Jan 1970/i.test(l)).map((l) => l.split('=')[0]!.replace(/^__Host-/, '')).sort();
    assert.deepEqual(clearedAtLogout, reg.cookies.filter((c) => c.endsAtSignOut).map((c) => c.name).sort());
    for (const line of seen) {
      const name = line.split('=')[0]!.replace(/^__Host-/, '');
      const decl = reg.cookies.find((c) => c.name === name);
      assert.ok(decl, `cookie ${name} is not declared in the privacy registry`);
      const cleared = /Max-Age=0|Expires=Thu, 01 Jan 1970/i.test(line);
      assert.equal(/;\s*HttpOnly/i.test(line), decl.httpOnly, `${name} HttpOnly`);
      assert.match(line, new RegExp(`SameSite=${decl.sameSite}`, 'i'));
      assert.match(line, /Path=\//);
      assert.doesNotMatch(line, /Domain=/i);
      if (cleared) continue;
      if (decl.persistence === 'browser_session') assert.doesNotMatch(line, /Max-Age|Expires/i, `${name} must die with the browser`);
      else assert.match(line, new RegExp(`Max-Age=${decl.persistence.maxAgeDays * 86400}(;|$)`), `${name} lasts ${decl.persistence.maxAgeDays} days`);
    }
  });
});

describe('cookies over HTTPS', () => {
  test('names carry the __Host- prefix and Secure', async () => {
    const s = await testApp({ config: { secureCookies: true, publicUrl: 'https://shop.example.com' } });
    try {
      const now = s.clock.now();
      await s.k.db.insertInto('customers').values({
        id: 'c-https', email: 'https@example.com', name: 'H', company: null, phone: null, address_line1: null, address_line2: null,
        city: null, region: null, postcode: null, country: null, vat_number: null, password_hash: await hashPassword('https password 1'),
        email_verified_at: now, created_at: now, updated_at: now, last_login_at: null, closed_at: null,
      }).execute();
      const b = new TestBrowser(s.app);
      await b.get('/account/login');
      const res = await b.post('/account/login', { email: 'https@example.com', password: 'https password 1', remember: '1' });
      const lines = setCookies(res);
      assert.equal(lines.length, 2);
      for (const l of lines) {
        assert.match(l, /^__Host-kw_(session|remember)=/);
        assert.match(l, /;\s*Secure/i);
      }
      assert.equal(res.headers['strict-transport-security'] !== undefined, true);
    } finally {
      await s.close();
    }
  });
});
