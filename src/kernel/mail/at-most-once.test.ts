// Mail goes out at most once: a worker killed after the SMTP server accepted a message, but before the
// outbox recorded it, leaves the message 'uncertain' (held for staff), never re-sent by itself; mail the
// dead worker had claimed from the job queue but not started goes out normally; staff "Send again" sends
// exactly one more copy, audited; a definite refusal is retried as before. Real SMTP (SmtpPeer), a real
// worker process killed with SIGKILL, the real admin pages over app.inject.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { testApp, type TestApp } from '../testing/app.js';
import { SmtpPeer } from '../testing/smtp.js';
import type { TestBrowser } from '../testing/http.js';
import { staffBrowser } from '../../modules/newsletter/testing.js';
import { CLAIM_MS, SMTP_SETTING, notDelivered } from './mailer.js';

const WORKER = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../testing/job-worker.ts');

let t: TestApp;
let peer: SmtpPeer;
let owner: TestBrowser;
let support: TestBrowser;
before(async () => {
  peer = await new SmtpPeer().start();
  t = await testApp();
  await t.k.settings.set(SMTP_SETTING, { url: peer.url, from: 'Vendor <noreply@vendor.example>' });
  owner = await staffBrowser(t, 'owner', 'olive@vendor.example');
  support = await staffBrowser(t, 'support', 'sam@vendor.example');
});
after(async () => { await t.close(); await peer.stop(); });

const outbox = (id: string) => t.k.db.selectFrom('mail_outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const copies = (messageId: string) => peer.received.filter((m) => m.headers['message-id'] === messageId).length;
const send = (to: string, subject: string) => t.k.mail.send({ to, subject, text: `About ${subject}.`, category: 'test' });

function startWorker(): { child: ChildProcess; exited: Promise<void>; output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
    env: { ...process.env, KEYWARD_TEST_CONFIG: JSON.stringify(t.config), KEYWARD_TEST_NOW: String(t.clock.now()) }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  return { child, exited: new Promise((r) => child.once('exit', () => r())), output: () => out };
}

let victimId = '';

test('a worker killed after the SMTP peer accepted a message: the message is held as uncertain, not re-sent; its batch-mates go out once', async () => {
  const ids = [await send('ann@example.com', 'First'), await send('bob@example.com', 'Second'), await send('cy@example.com', 'Third')];
  const w = startWorker();
  let killedAfter: string | null = null;
  peer.onAccepted = async (m) => {
    // The server has the message; the worker dies before it hears the 250 or records anything.
    peer.onAccepted = null;
    killedAfter = m.headers['message-id']!;
    w.child.kill('SIGKILL');
    await w.exited;
  };
  await w.exited;
  assert.ok(killedAfter, `the worker reached SMTP before it died: ${w.output()}`);
  assert.equal(w.child.signalCode, 'SIGKILL');

  const rows = await Promise.all(ids.map(outbox));
  const victim = rows.find((r) => `<${r.message_id.replace(/^<|>$/g, '')}>` === killedAfter)!;
  victimId = victim.id;
  assert.equal(victim.status, 'sending', 'the claim was committed before the conversation');
  assert.ok(victim.claimed_by && victim.claimed_at === t.clock.now() && victim.claim_until === t.clock.now() + CLAIM_MS);
  const others = rows.filter((r) => r.id !== victim.id);
  assert.deepEqual(others.map((r) => r.status), ['queued', 'queued'], 'claimed by the job queue but not started: still queued');
  const jobs = await t.k.db.selectFrom('jobs').select(['status', 'locked_by']).where('name', '=', 'mail.deliver').execute();
  assert.ok(jobs.every((j) => j.status === 'running' && j.locked_by === victim.claimed_by), 'the dead worker had claimed all three jobs');

  // Another worker, before the leases expire: nothing is taken over.
  await t.k.jobs.drain();
  assert.equal(peer.received.length, 1);

  // After the leases expire: the interrupted message is held, the others are delivered once.
  t.clock.advance(CLAIM_MS + 60_000);
  await t.k.jobs.drain();
  t.clock.advance(3_600_000);
  await t.k.jobs.drain();
  assert.equal((await outbox(victim.id)).status, 'uncertain');
  assert.match((await outbox(victim.id)).last_error!, /Interrupted during its SMTP conversation/);
  for (const r of others) assert.equal((await outbox(r.id)).status, 'sent');
  assert.deepEqual(peer.duplicates(), [], 'no Message-ID twice');
  assert.equal(peer.received.length, 3, 'each message arrived exactly once');
  assert.equal(copies(killedAfter!), 1);
  const deliverJobs = await t.k.db.selectFrom('jobs').select('status').where('name', '=', 'mail.deliver').execute();
  assert.ok(deliverJobs.every((j) => j.status === 'done'), 'no job keeps retrying the held message');
});

test('the admin mail page lists the uncertain message with its recipient and time; support staff see it but cannot act', async () => {
  const page = await owner.get('/admin/mail');
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /Delivery uncertain \(1\)/);
  assert.match(page.body, /ann@example\.com|bob@example\.com|cy@example\.com/);
  assert.match(page.body, new RegExp(`action="/admin/mail/${victimId}/send-again"`));
  assert.match(page.body, new RegExp(`action="/admin/mail/${victimId}/mark-delivered"`));
  assert.match(page.body, /2026-11-25 10:00 UTC/, 'when sending started');
  const dash = await owner.get('/admin');
  assert.match(dash.body, /1 message\(s\) with uncertain delivery/);

  const seen = await support.get('/admin/mail');
  assert.match(seen.body, /Delivery uncertain \(1\)/);
  assert.doesNotMatch(seen.body, /send-again/);
  const denied = await support.post(`/admin/mail/${victimId}/send-again`, {});
  assert.equal(denied.statusCode, 403);
  const noCsrf = await owner.post(`/admin/mail/${victimId}/send-again`, { _csrf: null });
  assert.equal(noCsrf.statusCode, 403, 'CSRF checked');
  await t.k.jobs.drain();
  assert.equal((await outbox(victimId)).status, 'uncertain', 'refused posts changed nothing');
});

test('"Send again" sends exactly one more copy, is audited, and a replayed click sends nothing more', async () => {
  const messageId = `<${(await outbox(victimId)).message_id.replace(/^<|>$/g, '')}>`;
  await owner.get(`/admin/mail/${victimId}`);
  const res = await owner.post(`/admin/mail/${victimId}/send-again`, {});
  assert.equal(res.statusCode, 303);
  await t.k.jobs.drain();
  assert.equal(copies(messageId), 2, 'the deliberate second copy, same Message-ID');
  const row = await outbox(victimId);
  assert.equal(row.status, 'sent');
  const audit = await t.k.db.selectFrom('audit_log').selectAll().where('action', '=', 'mail.uncertain_sent_again').execute();
  assert.equal(audit.length, 1);
  assert.equal(audit[0]!.target, victimId);

  await owner.get(`/admin/mail/${victimId}`);
  const replay = await owner.post(`/admin/mail/${victimId}/send-again`, {});
  assert.equal(replay.statusCode, 409);
  assert.match(replay.body, /not waiting for a decision/);
  t.clock.advance(3_600_000);
  await t.k.jobs.drain();
  assert.equal(copies(messageId), 2, 'no third copy');
  assert.equal((await t.k.db.selectFrom('audit_log').selectAll().where('action', '=', 'mail.uncertain_sent_again').execute()).length, 1);
  const unknown = await owner.post('/admin/mail/no-such-id/send-again', { _csrf: owner.csrf() });
  assert.equal(unknown.statusCode, 409);
});

test('a connection that breaks after the message was handed over, with no answer, is held as uncertain; "Mark as delivered" closes it', async () => {
  peer.dropAfterAccept = true;
  const id = await send('dee@example.com', 'Dropped');
  await t.k.jobs.runDue();
  peer.dropAfterAccept = false;
  const row = await outbox(id);
  assert.equal(row.status, 'uncertain');
  assert.match(row.last_error!, /No answer from the server/);
  t.clock.advance(CLAIM_MS * 3);
  await t.k.jobs.drain();
  assert.equal(copies(`<${row.message_id.replace(/^<|>$/g, '')}>`), 1, 'not re-sent');

  await owner.get('/admin/mail');
  const res = await owner.post(`/admin/mail/${id}/mark-delivered`, {});
  assert.equal(res.statusCode, 303);
  const done = await outbox(id);
  assert.equal(done.status, 'sent');
  assert.equal(done.sent_at, row.claimed_at);
  assert.equal((await t.k.db.selectFrom('audit_log').select('target').where('action', '=', 'mail.uncertain_marked_delivered').execute())[0]?.target, id);
  await t.k.jobs.drain();
  assert.equal(copies(`<${row.message_id.replace(/^<|>$/g, '')}>`), 1, 'marking sends nothing');
  assert.doesNotMatch((await owner.get('/admin/mail')).body, /Delivery uncertain/);
});

test('a definite refusal (a 4xx reply) or a refused connection is retried with backoff, as before', async () => {
  peer.refuse = 'try later';
  const before = peer.received.length;
  const id = await send('eve@example.com', 'Refused');
  await t.k.jobs.runDue();
  let row = await outbox(id);
  assert.equal(row.status, 'queued', 'a refused message was not delivered: queued again');
  assert.equal(row.attempts, 1);
  assert.match(row.last_error!, /try later/);
  peer.refuse = null;

  // Nobody listening: the connection is refused before any message is sent.
  const closed = await new Promise<number>((r) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => r(p)); }); });
  await t.k.settings.set(SMTP_SETTING, { url: `smtp://127.0.0.1:${closed}?ignoreTLS=true`, from: 'Vendor <noreply@vendor.example>' });
  t.clock.advance(2000);
  await t.k.jobs.runDue();
  row = await outbox(id);
  assert.equal(row.status, 'queued');
  assert.equal(row.attempts, 2);

  await t.k.settings.set(SMTP_SETTING, { url: peer.url, from: 'Vendor <noreply@vendor.example>' });
  t.clock.advance(4000);
  await t.k.jobs.runDue();
  assert.equal((await outbox(id)).status, 'sent');
  assert.equal(peer.received.length, before + 1);
});

test('what counts as certainly not delivered', () => {
  assert.equal(notDelivered(Object.assign(new Error('x'), { responseCode: 451, code: 'EMESSAGE' })), true);
  assert.equal(notDelivered(Object.assign(new Error('x'), { responseCode: 550, code: 'EENVELOPE' })), true);
  assert.equal(notDelivered(Object.assign(new Error('x'), { code: 'ESOCKET', originalCode: 'ECONNREFUSED' })), true);
  assert.equal(notDelivered(Object.assign(new Error('x'), { code: 'ETIMEDOUT', timeoutType: 'GREETING_TIMEOUT' })), true);
  assert.equal(notDelivered(Object.assign(new Error('x'), { code: 'EAUTH', responseCode: 535 })), true);
  assert.equal(notDelivered(Object.assign(new Error('Connection closed unexpectedly'), { code: 'ECONNECTION', command: 'CONN' })), false);
  assert.equal(notDelivered(Object.assign(new Error('Timeout'), { code: 'ETIMEDOUT', timeoutType: 'SOCKET_TIMEOUT' })), false);
  assert.equal(notDelivered(Object.assign(new Error('x'), { code: 'ESOCKET', originalCode: 'ECONNRESET' })), false);
  assert.equal(notDelivered(new Error('unknown')), false);
});
