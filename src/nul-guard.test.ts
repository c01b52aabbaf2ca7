import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, type TestApp } from './kernel/testing/app.js';
import { TEST_DIALECT } from './kernel/testing/db.js';
import { nulPath } from './kernel/http/nul-guard.js';
import { TestBrowser } from './kernel/testing/http.js';
import { callBody } from './modules/licensing/testing.js';

let t: TestApp;
before(async () => { t = await testApp(); });
after(async () => { await t.close(); });

test('nulPath names the first field holding U+0000, in nested objects, arrays and keys', () => {
  assert.equal(nulPath({ a: 'ok', b: { c: ['x', 'y\u0000'] } }), 'b.c.1');
  assert.equal(nulPath({ ['k\u0000']: 1 }), 'k\\0');
  assert.equal(nulPath('plain\u0000'), 'body');
  assert.equal(nulPath({ a: 'fine', n: 5, z: null }), null);
  assert.equal(nulPath(Buffer.from([0, 0])), null, 'raw bytes (uploads) are not text fields');
});

test(`a NUL in a form, a query or a JSON body is a 400 naming the field on every surface, never a 500 (${TEST_DIALECT})`, async () => {
  const customersBefore = (await t.k.db.selectFrom('customers').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n;
  const b = new TestBrowser(t.app);
  await b.get('/account/register');
  const form = await b.post('/account/register', { name: 'A', email: 'a\u0000b@example.com', password: 'correct horse battery' });
  assert.equal(form.statusCode, 400);
  assert.doesNotMatch(form.body, /stack|at \w+ \(/);
  const query = await t.app.inject({ method: 'GET', url: '/account/register?next=a%00b' });
  assert.equal(query.statusCode, 400);
  // The call-home contract decides such input itself (a key with a NUL matches nothing): signed, never a 500.
  const api = await t.app.inject({ method: 'POST', url: '/api/v1/callhome', payload: callBody('AAAAA\u0000') });
  assert.equal(api.statusCode, 200);
  assert.equal(api.json().code, 'NOT_FOUND');
  assert.ok(api.headers['keyward-signature']);
  const customersAfter = (await t.k.db.selectFrom('customers').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n;
  assert.equal(Number(customersAfter), Number(customersBefore), 'nothing stored');
});
