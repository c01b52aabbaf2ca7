import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { testKernel, type TestKernel } from '../testing/db.js';
import { SmtpPeer } from '../testing/smtp.js';
import { SMTP_SETTING } from './mailer.js';
import { renderEmail } from './template.js';

let t: TestKernel;
let peer: SmtpPeer;
before(async () => { peer = await new SmtpPeer().start(); t = await testKernel(); });
after(async () => { await t.close(); await peer.stop(); });

test('with no SMTP configured, mail is held in the outbox', async () => {
  const id = await t.k.mail.send({ to: 'a@example.com', subject: 'Held', text: 'hello', category: 'test' });
  const row = await t.k.db.selectFrom('mail_outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  assert.equal(row.status, 'held');
  const jobs = await t.k.db.selectFrom('jobs').select('name').where('name', '=', 'mail.deliver').execute();
  assert.equal(jobs.length, 0, 'no delivery job');
});

test('once SMTP is set, held mail is released and delivered to a real SMTP peer with both parts', async () => {
  await t.k.settings.set(SMTP_SETTING, { url: peer.url, from: 'Vendor <noreply@vendor.example>' });
  const { text, html } = renderEmail({ brandName: 'Vendor', heading: 'Hi', paragraphs: ['Body <b>text</b>'], reason: 'Because you asked.' });
  await t.k.mail.send({ to: 'b@example.com', subject: 'Delivered', text, html, category: 'test', headers: { 'X-Test': 'yes' } });
  assert.equal(await t.k.mail.releaseHeld(), 1);
  await t.k.jobs.drain();
  assert.equal(peer.received.length, 2);
  const m = peer.received.find((r) => r.subject === 'Delivered')!;
  assert.deepEqual(m.to, ['b@example.com']);
  assert.match(m.text, /Because you asked/);
  assert.match(m.html, /Body &lt;b&gt;text&lt;\/b&gt;/, 'HTML part escapes content');
  assert.equal(m.headers['x-test'], 'yes');
  const rows = await t.k.db.selectFrom('mail_outbox').select('status').execute();
  assert.ok(rows.every((r) => r.status === 'sent'));
});

test('a refusal that quotes the recipient keeps the address out of the logs and the job table', async () => {
  await t.k.settings.set(SMTP_SETTING, { url: peer.url, from: 'Vendor <noreply@vendor.example>' });
  peer.refuse = '5.1.1 <private.person@readers.example>: Recipient address rejected';
  const warnings: string[] = [];
  const warn = t.k.log.warn;
  t.k.log.warn = (o: unknown) => { warnings.push(JSON.stringify(o)); };
  try {
    const id = await t.k.mail.send({ to: 'private.person@readers.example', subject: 'Refused', text: 'x', category: 'test' });
    await t.k.jobs.runDue();
    const row = await t.k.db.selectFrom('mail_outbox').select('last_error').where('id', '=', id).executeTakeFirstOrThrow();
    assert.match(row.last_error!, /private\.person@readers\.example/, 'the outbox row keeps the whole refusal');
    assert.ok(warnings.length >= 2, 'the mailer and the job queue both logged the failure');
    for (const w of warnings) {
      assert.doesNotMatch(w, /private\.person|readers\.example/);
      assert.match(w, /\[address\]>?: Recipient address rejected/);
    }
    const job = await t.k.db.selectFrom('jobs').select('last_error').where('name', '=', 'mail.deliver').where('last_error', 'is not', null).orderBy('created_at', 'desc').executeTakeFirstOrThrow();
    assert.doesNotMatch(job.last_error!, /readers\.example/);
  } finally {
    t.k.log.warn = warn;
    peer.refuse = null;
    // Out of the later tests' way: a held message is not retried.
    await t.k.db.updateTable('mail_outbox').set({ status: 'held' }).where('subject', '=', 'Refused').execute();
  }
});

test('a refusing server is retried with backoff, and the mail goes out once it accepts', async () => {
  peer.refuse = 'try later';
  const before = peer.received.length;
  const id = await t.k.mail.send({ to: 'c@example.com', subject: 'Retry', text: 'x', category: 'test' });
  await t.k.jobs.runDue();
  let row = await t.k.db.selectFrom('mail_outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  assert.equal(row.status, 'queued');
  assert.equal(row.attempts, 1);
  assert.match(row.last_error!, /try later/);
  peer.refuse = null;
  await t.k.jobs.runDue();
  assert.equal(peer.received.length, before, 'waits for the backoff');
  t.clock.advance(2000);
  await t.k.jobs.runDue();
  row = await t.k.db.selectFrom('mail_outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  assert.equal(row.status, 'sent');
  assert.equal(peer.received.length, before + 1);
});
