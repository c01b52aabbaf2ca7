import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, type TestApp } from './testing/app.js';
import { TestBrowser } from './testing/http.js';
import { pruneKernelData } from './housekeeping.js';

let t: TestApp;
before(async () => { t = await testApp({ config: { loginRatePerMinute: 3 } }); });
after(async () => { await t.close(); });

test('sign-in attempts per IP are limited, and the counter lives in the database (shared by every node)', async () => {
  const b = new TestBrowser(t.app);
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) {
    await b.get('/account/login');
    statuses.push((await b.post('/account/login', { email: `x${i}@example.com`, password: 'wrong password 1' })).statusCode);
  }
  assert.deepEqual(statuses, [401, 401, 401, 429]);
  const rows = await t.k.db.selectFrom('rate_limits').selectAll().where('key', 'like', 'rl:%').execute();
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.count, 4);
});

test('each limited form counts on its own: newsletter sign-ups from an address do not lock it out of signing in', async () => {
  t.clock.advance(61_000); // past the window of the sign-ins above
  const b = new TestBrowser(t.app);
  const signups: number[] = [];
  for (let i = 0; i < 4; i++) {
    await b.get('/newsletter');
    signups.push((await b.post('/newsletter', { email: `reader${i}@example.com`, name: '' })).statusCode);
  }
  assert.equal(signups.at(-1), 429, 'the sign-up form has its own limit');
  assert.notEqual(signups[0], 429);
  await b.get('/account/login');
  assert.equal((await b.post('/account/login', { email: 'someone@example.com', password: 'wrong password 1' })).statusCode, 401, 'signing in is still counted apart');
  await b.get('/account/password/forgot');
  assert.notEqual((await b.post('/account/password/forgot', { email: 'someone@example.com' })).statusCode, 429);
  const keys = (await t.k.db.selectFrom('rate_limits').select('key').where('key', 'like', 'rl:%').execute()).map((r) => r.key).sort();
  assert.deepEqual(keys, ['rl:POST/account/login-127.0.0.1', 'rl:POST/account/password/forgot-127.0.0.1', 'rl:POST/newsletter-127.0.0.1']);
});

test('housekeeping deletes finished jobs after 7 days, sent mail after 90, and old counters', async () => {
  const now = t.clock.now();
  await t.k.db.insertInto('jobs').values({ id: 'old-job', name: 'x', payload: '{"email":"a@b.c"}', status: 'done', attempts: 1, max_attempts: 1, run_at: now, locked_by: null, locked_until: null, last_error: null, idempotency_key: null, created_at: now, finished_at: now }).execute();
  await t.k.db.insertInto('mail_outbox').values({ id: 'old-mail', to_addr: 'a@b.c', from_addr: 'x', subject: 's', text_body: 't', html_body: null, headers: '{}', attachments: '[]', category: 'x', status: 'sent', attempts: 1, last_error: null, message_id: '<m@x>', created_at: now, sent_at: now }).execute();
  t.clock.advance(8 * 86_400_000);
  await t.k.jobs.drain();
  assert.equal((await t.k.db.selectFrom('jobs').select('id').where('id', '=', 'old-job').execute()).length, 0);
  assert.equal((await t.k.db.selectFrom('mail_outbox').select('id').where('id', '=', 'old-mail').execute()).length, 1, 'mail is kept 90 days');
  assert.equal((await t.k.db.selectFrom('rate_limits').select('key').where('key', 'like', 'rl:%').execute()).length, 0);
  t.clock.advance(83 * 86_400_000);
  await t.k.jobs.drain();
  assert.equal((await t.k.db.selectFrom('mail_outbox').select('id').where('id', '=', 'old-mail').execute()).length, 0);
});

test('every outbox copy goes 90 days after it was written, whatever became of it, except one being sent', async () => {
  const now = t.clock.now();
  const row = (id: string, status: string) => ({ id, to_addr: `${id}@example.com`, from_addr: 'x', subject: 's', text_body: 't', html_body: null, headers: '{}', attachments: '[]', category: 'x', status, attempts: 1, last_error: null, message_id: `<${id}@x>`, created_at: now, sent_at: null });
  await t.k.db.insertInto('mail_outbox').values([row('uncertain-1', 'uncertain'), row('queued-1', 'queued'), row('sending-1', 'sending')] as never).execute();
  t.clock.advance(89 * 86_400_000);
  await pruneKernelData(t.k);
  assert.equal((await t.k.db.selectFrom('mail_outbox').select('id').where('id', 'in', ['uncertain-1', 'queued-1', 'sending-1']).execute()).length, 3, 'kept within 90 days');
  t.clock.advance(2 * 86_400_000);
  const r = await pruneKernelData(t.k);
  assert.ok(r.mail >= 2);
  const left = (await t.k.db.selectFrom('mail_outbox').select('id').where('id', 'in', ['uncertain-1', 'queued-1', 'sending-1']).execute()).map((x) => x.id);
  assert.deepEqual(left, ['sending-1'], 'only the message in the middle of its SMTP conversation stays');
});

test('rate-limit counters go an hour after their window started (no window is longer), not before', async () => {
  const now = t.clock.now();
  await t.k.db.insertInto('rate_limits').values([{ key: 'rl:test:old', window_start: now - 3600_001, count: 3 }, { key: 'rl:test:live', window_start: now - 3599_000, count: 3 }]).execute();
  await pruneKernelData(t.k);
  const keys = (await t.k.db.selectFrom('rate_limits').select('key').where('key', 'like', 'rl:test:%').execute()).map((x) => x.key);
  assert.deepEqual(keys, ['rl:test:live']);
});
