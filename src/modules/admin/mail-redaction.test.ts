// Staff reading the outbox see what went where, not the recipient's secrets (mail-redaction.ts).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { TestBrowser } from '../../kernel/testing/http.js';
import { staffBrowser } from '../newsletter/testing.js';
import { HIDDEN, redactMailSecrets } from './mail-redaction.js';

let t: TestApp;
before(async () => { t = await testApp(); });
after(async () => { await t.close(); });

test('a password-reset link for the owner is not readable in the outbox, by support or by the owner', async () => {
  await t.modules.accounts.staff.createStaff({ email: 'boss@vendor.example', name: 'Boss', role: 'owner', password: 'owner password 123' }, null);
  const anon = new TestBrowser(t.app);
  await anon.get('/admin/password/forgot');
  assert.equal((await anon.post('/admin/password/forgot', { email: 'boss@vendor.example' })).statusCode, 200);
  await t.k.jobs.drain();
  const mail = await t.k.db.selectFrom('mail_outbox').select(['id', 'text_body']).where('to_addr', '=', 'boss@vendor.example').executeTakeFirstOrThrow();
  const link = /https?:\/\/\S+\/reset\/(\S+)/.exec(mail.text_body);
  assert.ok(link, 'the stored message carries the reset link');
  for (const role of ['support', 'owner'] as const) {
    const staff = await staffBrowser(t, role);
    const res = await staff.get(`/admin/mail/${mail.id}`);
    assert.equal(res.statusCode, 200);
    assert.ok(!res.body.includes(link[1]!), `${role} can read the reset token`);
    assert.match(res.body, /\/reset\/\[hidden\]/);
  }
});

test('tokens in paths and query values and licence keys are hidden; ordinary links and text stay', () => {
  const text = [
    'Reset: https://shop.example.com/account/password/reset/zjjSfCgTq0aB1cD2eF3gH4iJ5kL6mN7o',
    'Unsubscribe: <https://shop.example.com/u/AbCdEfGhIjKlMnOpQrStUv>',
    'Download: https://shop.example.com/downloads/r/abc/setup.exe?l=0123456789abcdef0123&e=1795600000000&s=Zm9vYmFyYmF6cXV4cXV1eA',
    'Your key: 7H2KQ-9QWXM-4TRZP-8DA1C-5NB3E.',
    'See https://shop.example.com/account/orders and call 01484 855800.',
  ].join('\n');
  const out = redactMailSecrets(text);
  assert.ok(!/zjjSfCgT|AbCdEfGh|0123456789abcdef0123|Zm9vYmFy|7H2KQ/.test(out), out);
  assert.match(out, /reset\/\[hidden\]/);
  assert.match(out, /\/u\/\[hidden\]>/);
  assert.match(out, /e=1795600000000/, 'a short value is not a secret');
  assert.ok(out.includes(`Your key: ${HIDDEN}.`));
  assert.ok(out.includes('See https://shop.example.com/account/orders and call 01484 855800.'));
});
