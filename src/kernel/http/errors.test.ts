import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, type TestApp } from '../testing/app.js';

let t: TestApp;
before(async () => { t = await testApp(); });
after(async () => { await t.close(); });

test('GET /healthz answers', async () => {
  const res = await t.app.inject({ url: '/healthz' });
  assert.equal(res.statusCode, 200);
  assert.equal(res.json().status, 'ok');
});

test('unknown routes: JSON 404 for the API, a friendly page for people; no stack trace', async () => {
  const api = await t.app.inject({ url: '/api/v1/admin/nothing-here', headers: { authorization: 'Bearer x' } });
  assert.ok([401, 404].includes(api.statusCode));
  const json = await t.app.inject({ url: '/nope' });
  assert.equal(json.statusCode, 404);
  assert.equal(json.json().error.code, 'NOT_FOUND');
  const html = await t.app.inject({ url: '/nope', headers: { accept: 'text/html' } });
  assert.equal(html.statusCode, 404);
  assert.match(html.body, /Page not found/);
  assert.doesNotMatch(html.body, /at .*\.ts:\d+/);
  // An address the router cannot read is a page for people too, not a JSON error in the browser.
  const garbled = await t.app.inject({ url: '/blog/%ff', headers: { accept: 'text/html' } });
  assert.equal(garbled.statusCode, 400);
  assert.match(String(garbled.headers['content-type']), /text\/html/);
  assert.match(garbled.body, /This address is not valid/);
  assert.equal((await t.app.inject({ url: '/blog/%ff' })).json().error.code, 'BAD_REQUEST', 'a program still gets the error object');
  // A knowledge-base or forum address that is no article or category is not found, whatever its letters.
  for (const url of ['/support/kb/NOPE', '/support/forum/Nope%20Here']) {
    const r = await t.app.inject({ url, headers: { accept: 'text/html' } });
    assert.equal(r.statusCode, 404, url);
  }
});

test('a form\'s address opened again (a reload, a bookmark) leads to the page the form is on, not to "no page here"', async () => {
  const html = { accept: 'text/html' };
  for (const [url, to] of [['/admin/settings/seller', '/admin/settings'], ['/admin/orders/4f1c2d3e/paid', '/admin/orders/4f1c2d3e'], ['/account/licences/abc/key?x=1', '/account/licences/abc']]) {
    const r = await t.app.inject({ url: url!, headers: html });
    assert.equal(r.statusCode, 303, url);
    assert.equal(r.headers.location, to, url);
  }
  assert.equal((await t.app.inject({ url: '/admin/settings/seller' })).statusCode, 404, 'a program gets the plain 404');
  assert.equal((await t.app.inject({ url: '/admin/settings/nothing-posts-here', headers: html })).statusCode, 404);
});

test('malformed JSON, wrong types and oversized bodies get 400/413 with a stable code', async () => {
  const { key } = await t.modules.accounts.staff.createApiKey('errors', null);
  const auth = { authorization: `Bearer ${key}` };
  const bad = await t.app.inject({ method: 'POST', url: '/healthz', headers: { 'content-type': 'application/json' }, payload: '{"a":' });
  assert.ok([400, 404].includes(bad.statusCode));
  const garbled = await t.app.inject({ method: 'POST', url: '/account/login', headers: { 'content-type': 'application/json', ...auth }, payload: '{not json' });
  assert.equal(garbled.statusCode, 400);
  assert.equal(garbled.json().error.code, 'BAD_REQUEST');
  const wrongType = await t.app.inject({ method: 'POST', url: '/account/login', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ email: 42 }) });
  assert.equal(wrongType.statusCode, 400);
  assert.equal(wrongType.json().error.field, 'email');
  const huge = await t.app.inject({ method: 'POST', url: '/account/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'email=' + 'a'.repeat(70 * 1024) });
  assert.equal(huge.statusCode, 413);
  const extra = await t.app.inject({ method: 'POST', url: '/account/login', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ email: 'a@b.cd', isAdmin: true }) });
  assert.equal(extra.statusCode, 400);
  assert.equal(extra.json().error.field, 'isAdmin');
});

test('security headers: a strict CSP, no sniffing, no framing', async () => {
  const res = await t.app.inject({ url: '/account/login', headers: { accept: 'text/html' } });
  const csp = String(res.headers['content-security-policy']);
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(res.headers['x-content-type-options'], 'nosniff');
});
