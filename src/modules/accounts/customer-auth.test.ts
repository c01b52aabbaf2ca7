import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { TestBrowser, setCookies } from '../../kernel/testing/http.js';

let t: TestApp;
before(async () => { t = await testApp(); });
after(async () => { await t.close(); });

/** All mail to an address, joined (the manual clock gives them equal times, so "last" is not well defined). */
async function lastMailTo(to: string) {
  const rows = await t.k.db.selectFrom('mail_outbox').selectAll().where('to_addr', '=', to).execute();
  return rows.length ? { text_body: rows.map((r) => r.text_body).join('\n') } : undefined;
}
const linkIn = (text: string, path: string) => new RegExp(`https?://[^\\s]+${path}/[A-Za-z0-9_-]{43}`).exec(text)?.[0]?.replace(/^https?:\/\/[^/]+/, '');

async function registerAndVerify(b: TestBrowser, email: string, password = 'correct horse battery') {
  await b.get('/account/register');
  const res = await b.post('/account/register', { name: 'Ada Lovelace', email, password });
  assert.equal(res.statusCode, 200);
  assert.match(res.body, /Check your email/);
  await t.k.jobs.drain();
  const mail = await lastMailTo(email);
  assert.ok(mail, 'a verification email was written to the outbox');
  const link = linkIn(mail!.text_body, '/account/verify');
  assert.ok(link, 'the email carries a verification link');
  const page = await b.get(link!);
  assert.match(page.body, /Confirm my email address/);
  const done = await b.post(link!, {});
  assert.match(done.body, /email address is confirmed/);
}

describe('customer registration, sign-in and sign-out', () => {
  test('register → verify → sign in → My account → sign out ends the session server-side', async () => {
    const b = new TestBrowser(t.app);
    await registerAndVerify(b, 'ada@example.com');
    assert.equal(b.cookies.size, 0, 'no cookie before signing in');

    await b.get('/account/login');
    const login = await b.post('/account/login', { email: 'ADA@example.com ', password: 'correct horse battery' });
    assert.equal(login.statusCode, 303);
    const sc = setCookies(login);
    assert.equal(sc.length, 1, 'only the session cookie (no Remember me)');
    assert.match(sc[0]!, /^kw_session=/);
    assert.match(sc[0]!, /HttpOnly/);
    assert.match(sc[0]!, /SameSite=Lax/);
    assert.doesNotMatch(sc[0]!, /Max-Age|Expires/i, 'the session cookie dies with the browser');

    const home = await b.get('/account');
    assert.equal(home.statusCode, 200);
    const advisories = await t.k.db.selectFrom('newsletter_subscriptions as s').innerJoin('newsletter_subscribers as p', 'p.id', 's.subscriber_id')
      .select(['s.status', 's.list_id']).where('p.email', '=', 'ada@example.com').execute();
    assert.deepEqual(advisories, [{ status: 'subscribed', list_id: 'advisories' }], 'a confirmed customer is enrolled in security advisories (opt-out)');
    assert.match(home.body, /ada@example.com/);

    const stolen = b.cookieHeader();
    await b.post('/account/logout', {});
    const replay = await t.app.inject({ method: 'GET', url: '/account', headers: { cookie: stolen, accept: 'text/html' } });
    assert.equal(replay.statusCode, 303, 'the old session cookie no longer works after sign-out');
    assert.equal(await t.k.db.selectFrom('sessions').selectAll().execute().then((r) => r.length), 0);
  });

  test('unverified accounts cannot sign in; registering a taken address answers the same', async () => {
    const b = new TestBrowser(t.app);
    await b.get('/account/register');
    await b.post('/account/register', { name: 'Bob', email: 'bob@example.com', password: 'another good password' });
    await b.get('/account/login');
    const res = await b.post('/account/login', { email: 'bob@example.com', password: 'another good password' });
    assert.equal(res.statusCode, 403);
    assert.match(res.body, /confirm your email/i);

    const again = new TestBrowser(t.app);
    await again.get('/account/register');
    const dup = await again.post('/account/register', { name: 'Mallory', email: 'bob@example.com', password: 'mallory password 1' });
    assert.equal(dup.statusCode, 200);
    assert.match(dup.body, /Check your email/, 'the same answer whether or not the address is taken');
    await t.k.jobs.drain();
    const mails = await t.k.db.selectFrom('mail_outbox').select('subject').where('to_addr', '=', 'bob@example.com').execute();
    assert.ok(mails.some((m) => /already have an account/.test(m.subject)), 'the owner is told instead');
  });

  test('wrong password, unknown email: same message and status', async () => {
    const b = new TestBrowser(t.app);
    await registerAndVerify(b, 'carol@example.com');
    await b.get('/account/login');
    const wrong = await b.post('/account/login', { email: 'carol@example.com', password: 'not the password' });
    await b.get('/account/login');
    const unknown = await b.post('/account/login', { email: 'nobody@example.com', password: 'not the password' });
    assert.equal(wrong.statusCode, 401);
    assert.equal(unknown.statusCode, 401);
    const msg = (html: string) => /<li><a href="#main">([^<]+)<\/a>/.exec(html)?.[1];
    assert.equal(msg(wrong.body), msg(unknown.body));
    assert.equal(setCookies(wrong).length, 0);
  });

  test('lockout: 5 failures lock the address briefly, then it unlocks; the lock never exceeds 15 minutes', async () => {
    const b = new TestBrowser(t.app, { 'x-test': 'lockout' });
    await registerAndVerify(b, 'dave@example.com');
    for (let i = 0; i < 5; i++) {
      await b.get('/account/login');
      const r = await b.post('/account/login', { email: 'dave@example.com', password: `wrong ${i}` });
      assert.equal(r.statusCode, 401);
    }
    await b.get('/account/login');
    const locked = await b.post('/account/login', { email: 'dave@example.com', password: 'correct horse battery' });
    assert.equal(locked.statusCode, 429, 'even the right password is refused while locked');
    assert.match(locked.body, /Too many failed attempts/);
    t.clock.advance(31_000);
    await b.get('/account/login');
    const ok = await b.post('/account/login', { email: 'dave@example.com', password: 'correct horse battery' });
    assert.equal(ok.statusCode, 303, 'unlocked after the lock period');
    const { lockDuration } = await import('./lockout.js');
    assert.equal(lockDuration(4), 0);
    assert.equal(lockDuration(5), 30_000);
    assert.equal(lockDuration(50), 15 * 60_000);
  });

  test('lockout: guesses sent all at once get no more than the five free failures checked', async () => {
    const b = new TestBrowser(t.app, { 'x-test': 'lockout-burst' });
    await registerAndVerify(b, 'burst@example.com');
    await b.get('/account/login');
    const csrf = b.csrf();
    // All wrong: the order in which concurrent requests take the row's lock is the database's choice, and
    // a right password among them that won early would clear the count (a success does) for the rest.
    const tries = Array.from({ length: 8 }, (_, i) => `wrong ${i}`);
    const res = await Promise.all(tries.map((password) => b.post('/account/login', { _csrf: csrf, email: 'burst@example.com', password })));
    const codes = res.map((r) => r.statusCode);
    assert.equal(codes.filter((c) => c === 401).length, 5, `five checked, the rest refused unchecked: ${codes.join(',')}`);
    assert.equal(codes.filter((c) => c === 429).length, 3, codes.join(','));
    const right = await b.post('/account/login', { _csrf: csrf, email: 'burst@example.com', password: 'correct horse battery' });
    assert.equal(right.statusCode, 429, 'the right password after the burst is refused too, unchecked');
  });

  test('lockout: a failure row deleted while an attempt waits for its lock (a sign-in that succeeded) starts the count again, never a 500', async (ctx) => {
    // SQLite has one writer: the attempt cannot even begin while another transaction holds the file.
    if (t.k.dbh.flags.kind !== 'postgres') return ctx.skip('SQLite serialises writers; the race needs two at once');
    const { takeAttempt } = await import('./lockout.js');
    const now = t.clock.now();
    assert.equal(await takeAttempt(t.k.db, 'race', 'race@example.com', now), 0);
    const key = (await t.k.db.selectFrom('rate_limits').select('key').where('key', 'like', 'loginfail:race:%').executeTakeFirstOrThrow()).key;
    let waiting!: Promise<number>;
    await t.k.db.transaction().execute(async (trx) => {
      // The row is locked by another attempt's transaction, as while it counts its failure...
      await trx.selectFrom('rate_limits').select('count').where('key', '=', key).forUpdate().execute();
      waiting = takeAttempt(t.k.db, 'race', 'race@example.com', now + 1);
      // ...the attempt is seen waiting on that lock...
      for (let i = 0; i < 500; i++) {
        const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`.execute(trx);
        if (rows[0]!.n > 0) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      // ...and the row goes (a success clears it) before the waiting attempt gets it.
      await trx.deleteFrom('rate_limits').where('key', '=', key).execute();
    });
    assert.equal(await waiting, 0, 'counted as the first failure of a fresh row');
    const row = await t.k.db.selectFrom('rate_limits').select(['count', 'window_start']).where('key', '=', key).executeTakeFirstOrThrow();
    assert.deepEqual(row, { count: 1, window_start: now + 1 });
  });
});

describe('password reset', () => {
  test('the same answer for known and unknown addresses; the link works once, ends other sessions', async () => {
    const b = new TestBrowser(t.app);
    await registerAndVerify(b, 'erin@example.com');
    await b.get('/account/login');
    await b.post('/account/login', { email: 'erin@example.com', password: 'correct horse battery' });
    const otherDevice = b.cookieHeader();

    const anon = new TestBrowser(t.app);
    await anon.get('/account/password/forgot');
    const known = await anon.post('/account/password/forgot', { email: 'erin@example.com' });
    await anon.get('/account/password/forgot');
    const unknown = await anon.post('/account/password/forgot', { email: 'nobody@example.com' });
    assert.equal(known.body.replace(/name="_csrf" value="[^"]+"/g, ''), unknown.body.replace(/name="_csrf" value="[^"]+"/g, ''));
    await t.k.jobs.drain();
    const mail = await lastMailTo('erin@example.com');
    const link = linkIn(mail!.text_body, '/account/password/reset')!;
    assert.ok(link);
    const stored = await t.k.db.selectFrom('account_tokens').select('token_hash').where('purpose', '=', 'password_reset').execute();
    assert.ok(stored.every((r) => !link.includes(r.token_hash)), 'the token is stored hashed');

    await anon.get(link);
    const weak = await anon.post(link, { password: 'short' });
    assert.equal(weak.statusCode, 400, 'a weak password re-shows the form and does not use the link');
    await anon.get(link);
    const done = await anon.post(link, { password: 'a brand new password' });
    assert.match(done.body, /Password changed/);
    // A used link says so at once, with the way to a new one, instead of a form that fails after typing.
    const spent = await anon.get(link);
    assert.equal(spent.statusCode, 400);
    assert.match(spent.body, /This link has expired/);
    assert.match(spent.body, /href="\/account\/password\/forgot"/);
    assert.doesNotMatch(spent.body, /name="password"/);
    await anon.get('/account/password/forgot');
    const reuse = await anon.post(link, { password: 'yet another password' });
    assert.equal(reuse.statusCode, 400);
    assert.match(reuse.body, /This link has expired/);

    const old = await t.app.inject({ method: 'GET', url: '/account', headers: { cookie: otherDevice, accept: 'text/html' } });
    assert.equal(old.statusCode, 303, 'sessions on other devices ended');
  });

  test('a completed reset lifts a lockout that others\' failed sign-ins put on the address', async () => {
    const b = new TestBrowser(t.app, { 'x-test': 'lockout-reset' });
    await registerAndVerify(b, 'gina@example.com');
    for (let i = 0; i < 8; i++) {
      await b.get('/account/login');
      await b.post('/account/login', { email: 'gina@example.com', password: `guess ${i}` });
    }
    await b.get('/account/login');
    assert.equal((await b.post('/account/login', { email: 'gina@example.com', password: 'correct horse battery' })).statusCode, 429);
    await b.get('/account/password/forgot');
    await b.post('/account/password/forgot', { email: 'gina@example.com' });
    await t.k.jobs.drain();
    const link = linkIn((await lastMailTo('gina@example.com'))!.text_body, '/account/password/reset')!;
    await b.get(link);
    assert.match((await b.post(link, { password: 'a brand new password' })).body, /Password changed/);
    await b.get('/account/login');
    assert.equal((await b.post('/account/login', { email: 'gina@example.com', password: 'a brand new password' })).statusCode, 303, 'the new password works at once');
  });

  test('an expired reset link is refused', async () => {
    const b = new TestBrowser(t.app);
    await registerAndVerify(b, 'frank@example.com');
    await b.get('/account/password/forgot');
    await b.post('/account/password/forgot', { email: 'frank@example.com' });
    await t.k.jobs.drain();
    const link = linkIn((await lastMailTo('frank@example.com'))!.text_body, '/account/password/reset')!;
    t.clock.advance(31 * 60_000);
    const shown = await b.get(link);
    assert.equal(shown.statusCode, 400);
    assert.match(shown.body, /This link has expired/);
    await b.get('/account/password/forgot');
    const res = await b.post(link, { password: 'a brand new password' });
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /expired/);
  });
});

describe('remember me', () => {
  test('survives closing the browser, rotates on use, and a replayed token revokes every device', async () => {
    const b = new TestBrowser(t.app);
    await registerAndVerify(b, 'grace@example.com');
    await b.get('/account/login');
    const login = await b.post('/account/login', { email: 'grace@example.com', password: 'correct horse battery', remember: '1' });
    const remember = setCookies(login).find((c) => c.startsWith('kw_remember='))!;
    assert.ok(remember, 'a remember-me cookie is set');
    assert.match(remember, /Max-Age=2592000/);
    assert.match(remember, /HttpOnly/);
    const firstToken = b.cookies.get('kw_remember')!.value;
    const row = await t.k.db.selectFrom('remember_tokens').selectAll().executeTakeFirstOrThrow();
    assert.notEqual(row.validator_hash, firstToken.split('.')[1], 'the validator is stored hashed');

    b.closeBrowser();
    assert.ok(!b.cookies.has('kw_session'));
    const back = await b.get('/account');
    assert.equal(back.statusCode, 200, 'signed in again from the remember-me token');
    const rotated = b.cookies.get('kw_remember')!.value;
    assert.notEqual(rotated, firstToken, 'the token rotates on use');

    const thief = await t.app.inject({ method: 'GET', url: '/account', headers: { cookie: `kw_remember=${encodeURIComponent(firstToken)}`, accept: 'text/html' } });
    assert.equal(thief.statusCode, 303, 'the old token is refused');
    assert.equal((await t.k.db.selectFrom('remember_tokens').selectAll().execute()).length, 0, 'reuse revokes every remembered device');
    const victim = await b.get('/account');
    assert.equal(victim.statusCode, 303, 'and ends the sessions too');
  });
});

describe('CSRF', () => {
  test('a form without a token, with a forged token, or from another site is refused', async () => {
    const b = new TestBrowser(t.app);
    await registerAndVerify(b, 'heidi@example.com');
    await b.get('/account/login');
    await b.post('/account/login', { email: 'heidi@example.com', password: 'correct horse battery' });
    await b.get('/account');
    const missing = await b.post('/account/password', { _csrf: null, current: 'correct horse battery', password: 'pwned password 123' });
    assert.equal(missing.statusCode, 403);
    const forged = await b.post('/account/password', { _csrf: 's.AAAA', current: 'correct horse battery', password: 'pwned password 123' });
    assert.equal(forged.statusCode, 403);
    await b.get('/account');
    const cross = await b.post('/account/password', { current: 'correct horse battery', password: 'pwned password 123' }, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' });
    assert.equal(cross.statusCode, 403);
    const anonTokenOnSessionForm = new TestBrowser(t.app);
    await anonTokenOnSessionForm.get('/account/login');
    const anonToken = anonTokenOnSessionForm.csrf();
    const wrongKind = await b.post('/account/password', { _csrf: anonToken, current: 'correct horse battery', password: 'pwned password 123' });
    assert.equal(wrongKind.statusCode, 403, 'a signed-in form needs the session-bound token');
    await b.get('/account');
    const ok = await b.post('/account/password', { current: 'correct horse battery', password: 'a fine new password' });
    assert.equal(ok.statusCode, 200);
    assert.match(ok.body, /password has been changed/);
  });

  test('the sign-in page open in two tabs: the second still signs in after the first did; another site still cannot', async () => {
    const b = new TestBrowser(t.app);
    await registerAndVerify(b, 'ivy@example.com');
    await b.get('/account/login');
    const secondTab = b.csrf();
    assert.equal((await b.post('/account/login', { email: 'ivy@example.com', password: 'correct horse battery' })).statusCode, 303);
    const again = await b.post('/account/login', { _csrf: secondTab, email: 'ivy@example.com', password: 'correct horse battery' });
    assert.equal(again.statusCode, 303, 'the form acts for no session: its anonymous token is enough');
    const cross = await b.post('/account/login', { _csrf: secondTab, email: 'ivy@example.com', password: 'correct horse battery' }, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' });
    assert.equal(cross.statusCode, 403);
  });

  test('a form of a session that has ended since leads to the sign-in page and back, not to a bare refusal; nothing is acted on', async () => {
    const b = new TestBrowser(t.app);
    await registerAndVerify(b, 'jack@example.com');
    await b.get('/account/login');
    await b.post('/account/login', { email: 'jack@example.com', password: 'correct horse battery' });
    await b.get('/account/profile');
    const staleToken = b.csrf();
    const other = new TestBrowser(t.app);
    for (const [name, c] of b.cookies) other.cookies.set(name, { ...c });
    await other.get('/account');
    await other.post('/account/logout', {});
    const res = await b.post('/account/profile', { _csrf: staleToken, name: 'Changed Name' }, { referer: 'http://127.0.0.1:3000/account/profile' });
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, `/account/login?next=${encodeURIComponent('/account/profile')}`);
    const row = await t.k.db.selectFrom('customers').select('name').where('email', '=', 'jack@example.com').executeTakeFirstOrThrow();
    assert.notEqual(row.name, 'Changed Name');
    // From another site it is still a refusal.
    const cross = await b.post('/account/profile', { _csrf: staleToken, name: 'Changed Name' }, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' });
    assert.equal(cross.statusCode, 403);
  });

  test('an anonymous token expires', async () => {
    const b = new TestBrowser(t.app);
    await b.get('/account/login');
    t.clock.advance(3 * 3600_000);
    const res = await b.post('/account/login', { email: 'x@example.com', password: 'whatever password' });
    assert.equal(res.statusCode, 403);
  });
});
