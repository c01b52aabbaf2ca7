import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import type { BrowserContext, Page } from 'playwright-core';
import { startJourney, skipWithoutChromium, type Journey } from './harness.js';
import { loadDemoCatalogue } from '../../src/modules/catalog/index.js';
import { buildRegistry } from '../../src/modules/privacy/index.js';
import { hashPassword } from '../../src/modules/accounts/passwords.js';

/**
 * A real-browser crawl of every public and account page reachable by links, holding every cookie the
 * browser receives against the registry's CookieDecl (name, HttpOnly, SameSite, lifetime), and holding the
 * privacy notice's promise: a visitor who is not signed in and has an empty basket gets no cookie at all.
 */
const cookies = buildRegistry().cookies;
let j: Journey;
const FT = crypto.randomUUID();
const FP = crypto.randomUUID();

before(async () => {
  if (skipWithoutChromium) return;
  j = await startJourney();
  await loadDemoCatalogue(j.t.k.db, j.t.clock.now());
  const now = j.t.clock.now();
  await j.t.k.db.insertInto('customers').values({
    id: 'c-crawl', email: 'crawler@example.com', name: 'Carla Crawler', company: null, phone: null, address_line1: null, address_line2: null,
    city: null, region: null, postcode: null, country: null, vat_number: null, password_hash: await hashPassword('crawler password 1'),
    email_verified_at: now, created_at: now, updated_at: now, last_login_at: null, closed_at: null,
  }).execute();
  // Content so the crawl reaches article, post, forum and testimonial pages too.
  await j.t.k.db.insertInto('newsletter_posts').values({ id: 'p1', slug: 'hello', title: 'Hello', kind: 'tip', summary: 'First post', body_md: 'Body', status: 'published', published_at: now - 1000, created_at: now, updated_at: now, created_by: null, revision: 1 }).execute();
  await j.t.k.db.insertInto('support_kb_categories').values({ id: 'kc1', slug: 'setup', name: 'Setup', position: 1 }).execute();
  await j.t.k.db.insertInto('support_kb_articles').values({ id: 'ka1', slug: 'install', category_id: 'kc1', title: 'Installing', body: 'Run the installer.', published: 1, created_by: null, created_at: now, updated_at: now }).execute();
  await j.t.k.db.insertInto('support_forum_categories').values({ id: 'fc1', slug: 'general', name: 'General', description: 'Anything', position: 1 }).execute();
  await j.t.k.db.insertInto('support_forum_threads').values({ id: FT, category_id: 'fc1', title: 'Tips', author_customer_id: 'c-crawl', author_name: 'Carla', accepted_post_id: null, locked: 0, hidden: 0, created_at: now, last_post_at: now }).execute();
  await j.t.k.db.insertInto('support_forum_posts').values({ id: FP, thread_id: FT, author_customer_id: 'c-crawl', author_staff_id: null, author_name: 'Carla', body: 'Use the beta channel.', hidden: 0, created_at: now }).execute();
});
after(async () => { if (j) await j.close(); });

/** Links that change state on GET or end the visit are not followed. */
const SKIP = /\/(logout|close|unsubscribe|confirm|verify|reset|password\/reset|files|download|assets)\b|\.(csv|json|pdf|xml|zip)$|\/feed|\/admin/;

/** Visits `start` pages and every same-site link found on them (breadth first), recording each Set-Cookie line. */
async function crawl(ctx: BrowserContext, start: string[], limit = 80): Promise<{ visited: string[]; setCookie: Array<{ url: string; line: string }> }> {
  const page: Page = await ctx.newPage();
  const setCookie: Array<{ url: string; line: string }> = [];
  page.on('response', async (res) => {
    for (const h of await res.headersArray()) if (h.name.toLowerCase() === 'set-cookie') for (const line of h.value.split('\n')) setCookie.push({ url: res.url(), line });
  });
  const queue = [...start];
  const seen = new Set<string>(queue);
  const visited: string[] = [];
  while (queue.length && visited.length < limit) {
    const path = queue.shift()!;
    const res = await page.goto(path);
    visited.push(`${path} ${res?.status()}`);
    const hrefs = await page.$$eval('a[href]', (as) => as.map((a) => (a as HTMLAnchorElement).getAttribute('href') ?? ''));
    for (const href of hrefs) {
      if (!href.startsWith('/') || href.startsWith('//')) continue;
      const p = href.split('#')[0]!;
      if (!p || seen.has(p) || SKIP.test(p)) continue;
      seen.add(p);
      queue.push(p);
    }
  }
  await page.close();
  return { visited, setCookie };
}

/** Problems with a browser-stored cookie against its declaration. */
function cookieProblems(c: Awaited<ReturnType<BrowserContext['cookies']>>[number], nowSec: number): string[] {
  const base = c.name.replace(/^__Host-/, '');
  const d = cookies.find((x) => x.name === base);
  if (!d) return [`undeclared cookie ${c.name}`];
  const out: string[] = [];
  if (c.httpOnly !== d.httpOnly) out.push(`${c.name}: HttpOnly ${c.httpOnly}, declared ${d.httpOnly}`);
  if (c.sameSite !== d.sameSite) out.push(`${c.name}: SameSite ${c.sameSite}, declared ${d.sameSite}`);
  if (c.path !== '/') out.push(`${c.name}: Path ${c.path}`);
  if (d.persistence === 'browser_session') {
    if (c.expires !== -1) out.push(`${c.name}: persistent, declared as a browser-session cookie`);
  } else {
    const maxSec = d.persistence.maxAgeDays * 86400;
    if (c.expires === -1) out.push(`${c.name}: session cookie, declared to last ${d.persistence.maxAgeDays} days`);
    else if (c.expires - nowSec > maxSec + 60) out.push(`${c.name}: lasts longer than the declared ${d.persistence.maxAgeDays} days`);
  }
  return out;
}

/** Problems with a raw Set-Cookie line (attributes a deleting line must also carry). */
function lineProblems(line: string): string[] {
  const [pair, ...attrs] = line.split(';').map((s) => s.trim());
  const name = pair!.slice(0, pair!.indexOf('=')).replace(/^__Host-/, '');
  const d = cookies.find((x) => x.name === name);
  if (!d) return [`undeclared cookie in Set-Cookie: ${line}`];
  const has = (re: RegExp) => attrs.some((a) => re.test(a));
  const out: string[] = [];
  if (d.httpOnly && !has(/^httponly$/i)) out.push(`${name} sent without HttpOnly: ${line}`);
  if (!has(new RegExp(`^samesite=${d.sameSite}$`, 'i'))) out.push(`${name} sent without SameSite=${d.sameSite}: ${line}`);
  return out;
}

const PUBLIC_START = ['/', '/privacy', '/cookies', '/shop', '/basket', '/support', '/blog', '/support/kb', '/support/forum', '/testimonials', '/newsletter', '/account/login', '/account/register', '/account/password/forgot'];

test('an anonymous visitor with an empty basket gets no cookie on any public page', { skip: skipWithoutChromium }, async () => {
  const ctx = await j.newContext();
  const { visited, setCookie } = await crawl(ctx, PUBLIC_START);
  assert.ok(visited.length >= 15, `crawled only ${visited.join(', ')}`);
  if (process.env.CRAWL_DEBUG) console.log(visited.join('\n'));
  assert.deepEqual(setCookie, [], 'a page set a cookie for an anonymous visitor');
  assert.deepEqual(await ctx.cookies(), []);
  await ctx.close();
});

test('the basket cookie appears only with the first item, with its declared attributes', { skip: skipWithoutChromium }, async () => {
  const ctx = await j.newContext();
  const page = await ctx.newPage();
  await page.goto('/shop');
  assert.deepEqual(await ctx.cookies(), []);
  await page.getByRole('button', { name: 'Add to basket' }).first().click();
  await page.waitForURL(/\/basket/);
  const jar = await ctx.cookies();
  assert.deepEqual(jar.map((c) => c.name), ['kw_basket']);
  assert.deepEqual(cookieProblems(jar[0]!, Date.now() / 1000), []);
  const { setCookie } = await crawl(ctx, PUBLIC_START, 40);
  assert.deepEqual(setCookie.flatMap((s) => lineProblems(s.line)), []);
  assert.deepEqual((await ctx.cookies()).map((c) => c.name), ['kw_basket'], 'browsing with a basket adds no other cookie');
  await ctx.close();
});

test('a signed-in customer (Remember me) crawling every account and public page gets only declared cookies with declared attributes', { skip: skipWithoutChromium }, async () => {
  const ctx = await j.newContext();
  const page = await ctx.newPage();
  const lines: string[] = [];
  page.on('response', async (res) => { for (const h of await res.headersArray()) if (h.name.toLowerCase() === 'set-cookie') lines.push(...h.value.split('\n')); });
  await page.goto('/account/login');
  await page.getByLabel('Email address').fill('crawler@example.com');
  await page.getByLabel('Password').fill('crawler password 1');
  await page.getByLabel(/Remember me/).check();
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/account/);
  const { visited, setCookie } = await crawl(ctx, ['/account', '/account/privacy', '/account/orders', '/account/tickets', '/account/email', ...PUBLIC_START]);
  assert.ok(visited.some((v) => v.startsWith('/account/privacy 200')), visited.join('\n'));
  if (process.env.CRAWL_DEBUG) console.log(visited.join('\n'));
  assert.ok(!visited.some((v) => / 5\d\d$/.test(v)), `server errors: ${visited.filter((v) => / 5\d\d$/.test(v)).join(', ')}`);
  const problems = [...lines, ...setCookie.map((s) => s.line)].flatMap(lineProblems);
  const nowSec = Date.now() / 1000;
  for (const c of await ctx.cookies()) problems.push(...cookieProblems(c, nowSec));
  assert.deepEqual(problems, []);
  assert.deepEqual((await ctx.cookies()).map((c) => c.name).sort(), ['kw_remember', 'kw_session']);
  await ctx.close();
});

test('the checks catch an undeclared cookie and wrong attributes', { skip: skipWithoutChromium }, () => {
  const base = { value: 'x', domain: '127.0.0.1', path: '/', secure: false, expires: -1 };
  assert.deepEqual(cookieProblems({ ...base, name: '_ga', httpOnly: false, sameSite: 'Lax' }, 0), ['undeclared cookie _ga']);
  assert.match(cookieProblems({ ...base, name: 'kw_session', httpOnly: false, sameSite: 'None' }, 0).join('\n'), /HttpOnly false[\s\S]*SameSite None/);
  assert.match(cookieProblems({ ...base, name: 'kw_session', httpOnly: true, sameSite: 'Lax', expires: 99999999999 }, 0).join(), /persistent/);
  assert.match(cookieProblems({ ...base, name: 'kw_remember', httpOnly: true, sameSite: 'Lax', expires: 400 * 86400 }, 0).join(), /longer than the declared 30 days/);
  assert.match(lineProblems('kw_basket=abc; Path=/').join(), /without HttpOnly/);
});
