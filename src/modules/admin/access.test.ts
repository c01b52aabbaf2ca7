import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { TestBrowser } from '../../kernel/testing/http.js';
import { allows, ruleFor } from './access.js';

/** Every route of the app as [method, path], read from Fastify's own route tree. */
export function allRoutes(app: FastifyInstance): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^(.*?)(?:├── |└── )(\S+)(?: \(([^)]*)\))?/.exec(line);
    if (!m) continue;
    const depth = Math.round(m[1]!.length / 4);
    stack.length = depth;
    stack.push(m[2]!);
    if (m[3]) for (const method of m[3].split(',').map((s) => s.trim())) out.push([method, stack.join('')]);
  }
  return out;
}

let t: TestApp;
const browsers: Record<string, TestBrowser> = {};

async function signIn(role: string): Promise<TestBrowser> {
  const email = `${role}@vendor.example`;
  await t.modules.accounts.staff.createStaff({ email, name: `${role} person`, role, password: `staff pass ${role.length} words 123` }, null);
  const b = new TestBrowser(t.app);
  await b.get('/admin/login');
  const res = await b.post('/admin/login', { email, password: `staff pass ${role.length} words 123` });
  assert.equal(res.statusCode, 303, `${role} signs in`);
  return b;
}

before(async () => {
  t = await testApp();
  for (const role of ['owner', 'admin', 'support', 'sales']) browsers[role] = await signIn(role);
});
after(async () => { await t.close(); });

describe('admin access by role', () => {
  test('the table: settings are the owner\'s alone; support reads licences and releases machines; sales runs orders', () => {
    assert.equal(allows('owner', 'GET', '/admin/settings'), true);
    for (const role of ['admin', 'support', 'sales'] as const) assert.equal(allows(role, 'GET', '/admin/settings'), false, role);
    assert.equal(allows('support', 'POST', '/admin/settings/keys/rotate'), false);
    assert.equal(allows('support', 'GET', '/admin/licences/abc'), true);
    assert.equal(allows('support', 'POST', '/admin/licences/abc/release'), true);
    assert.equal(allows('sales', 'POST', '/admin/licences/abc/release'), false);
    assert.equal(allows('sales', 'GET', '/admin/orders/1'), true);
    assert.equal(allows('support', 'GET', '/admin/orders/1'), false);
    assert.equal(allows('support', 'GET', '/admin/tickets/12'), true);
    assert.equal(allows('support', 'GET', '/admin/tickets/settings'), false);
    // Releases, add-ons and content packs: everyone reads, owners and admins publish.
    for (const role of ['support', 'sales'] as const) {
      assert.equal(allows(role, 'GET', '/admin/releases/mailserver'), true, role);
      assert.equal(allows(role, 'POST', '/admin/releases/mailserver'), false, role);
      assert.equal(allows(role, 'POST', '/admin/addons/spam/content'), false, role);
    }
    assert.equal(allows('admin', 'POST', '/admin/addons/spam/content'), true);
    // Whole segments only, and an unknown admin path is for managers.
    assert.equal(ruleFor('/admin/ordersx').prefix, '/admin/ordersx');
    assert.equal(allows('sales', 'GET', '/admin/ordersx'), false);
    assert.equal(allows('admin', 'GET', '/admin/something-new'), true);
    assert.equal(allows(null, 'GET', '/admin'), false);
  });

  test('every admin route, for every role, answers as the table says (403 when refused, never 200)', async () => {
    const routes = allRoutes(t.app).filter(([m, p]) => p.startsWith('/admin') && m !== 'HEAD' && !/^\/admin\/log(in|out)/.test(p));
    assert.ok(routes.length > 40, `found ${routes.length} admin routes`);
    assert.ok(routes.some(([m, p]) => m === 'GET' && p === '/admin/settings'));
    assert.ok(routes.some(([m, p]) => m === 'POST' && p === '/admin/settings/keys/rotate'));
    const problems: string[] = [];
    for (const role of ['support', 'sales', 'admin'] as const) {
      const b = browsers[role]!;
      await b.get('/admin/security'); // a page with a CSRF token for this session
      const csrf = b.csrf();
      for (const [method, pattern] of routes) {
        const url = pattern.replace(/:[A-Za-z_]+/g, 'x1').replace(/\*$/, 'x1');
        const res = method === 'GET'
          ? await b.get(url)
          : await b.post(url, { _csrf: csrf });
        const expected = allows(role, method, url);
        if (!expected && res.statusCode !== 403) problems.push(`${role} ${method} ${url}: ${res.statusCode}, expected 403`);
        if (expected && res.statusCode === 403) problems.push(`${role} ${method} ${url}: 403, expected to be allowed`);
      }
    }
    assert.deepEqual(problems, []);
  });

  test('an encoded path reaches the same rule as the plain one', async () => {
    const admin = browsers.admin!;
    for (const url of ['/admin/%73ettings', '/admin/settings/']) {
      const res = await admin.get(url);
      assert.ok(res.statusCode === 403 || res.statusCode === 404, `${url}: ${res.statusCode}`);
    }
  });

  test('signed-out visitors and customers are sent to the staff sign-in, never shown an admin page', async () => {
    const anon = new TestBrowser(t.app);
    for (const url of ['/admin', '/admin/settings', '/admin/licences', '/admin/search?q=ab', '/admin/customers']) {
      const res = await anon.get(url);
      assert.equal(res.statusCode, 303, url);
      assert.match(String(res.headers.location), /^\/admin\/login\?next=/);
    }
    const post = await anon.post('/admin/settings/keys/rotate', { _csrf: 'forged', confirm: '1' });
    assert.equal(post.statusCode, 403);
    assert.equal((await t.k.db.selectFrom('signing_keys').select('kid').execute()).length, 1, 'no key was added');
  });

  test('the navigation shows a role only what it may open; support sees no Settings link', async () => {
    const support = await browsers.support!.get('/admin');
    assert.equal(support.statusCode, 200);
    assert.doesNotMatch(support.body, /href="\/admin\/settings"/);
    assert.doesNotMatch(support.body, /href="\/admin\/orders"/);
    assert.match(support.body, /href="\/admin\/tickets"/);
    const owner = await browsers.owner!.get('/admin');
    assert.match(owner.body, /href="\/admin\/settings"/);
    const refused = await browsers.support!.get('/admin/settings');
    assert.equal(refused.statusCode, 403);
    assert.doesNotMatch(refused.body, /Signing keys/);
  });

  test('every change made through the admin is in the audit log with who and when', async () => {
    const owner = browsers.owner!;
    await owner.get('/admin/catalog');
    const res = await owner.post('/admin/catalog/products', { name: 'Audit Server', code: 'auditsrv', description: '' });
    assert.equal(res.statusCode, 303);
    const staff = await t.k.db.selectFrom('staff').select('id').where('email', '=', 'owner@vendor.example').executeTakeFirstOrThrow();
    const row = await t.k.db.selectFrom('audit_log').selectAll().where('action', '=', 'admin.change').where('target', '=', '/admin/catalog/products').executeTakeFirstOrThrow();
    assert.equal(row.actor_kind, 'staff');
    assert.equal(row.actor_id, staff.id);
    assert.equal(Number(row.at), t.clock.now());
    // A refused request changes nothing and is not recorded as a change.
    const support = await t.k.db.selectFrom('staff').select('id').where('email', '=', 'support@vendor.example').executeTakeFirstOrThrow();
    await browsers.support!.get('/admin/security');
    assert.equal((await browsers.support!.post('/admin/catalog/products', { name: 'Nope', code: 'nope', description: '' })).statusCode, 403);
    assert.equal(await t.k.db.selectFrom('catalog_products').select('id').where('code', '=', 'nope').executeTakeFirst(), undefined);
    const nope = await t.k.db.selectFrom('audit_log').select('id').where('action', '=', 'admin.change').where('actor_id', '=', support.id).where('target', '=', '/admin/catalog/products').execute();
    assert.equal(nope.length, 0);
  });
});
