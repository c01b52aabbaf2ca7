import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import util from 'node:util';
import { ImapFlow } from 'imapflow';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { skipWithoutDovecot, startDovecot, type DovecotServer } from '../../kernel/testing/dovecot.js';
import { withImapPassword, type ImapConfig } from '../../kernel/config/config.js';
import type { Logger } from '../../kernel/jobs/queue.js';
import { buildStaff, messagesOf, signIn, ticketRows } from './testing.js';

/**
 * IMAP polling against a real Dovecot started by the test itself (its own config, maildir and port on
 * 127.0.0.1; the machine's Dovecot service, if any, plays no part). Messages are put in the mailbox
 * with IMAP APPEND, the poll delivers them into the same intake as SMTP, and only then marks them.
 */
if (skipWithoutDovecot) process.stdout.write(`# skipping IMAP polling tests: ${skipWithoutDovecot}\n`);

let dc: DovecotServer;
let t: TestApp;
let moved: TestApp;
const SUPPORT = 'support@example.com';

const imapConfig = (over: Partial<ImapConfig> = {}, password?: string): ImapConfig =>
  withImapPassword({ host: dc.host, port: dc.port, tls: 'none', user: dc.user, mailbox: 'INBOX', pollMs: 60_000, ...over }, password ?? dc.password);

async function mailbox<T>(fn: (c: ImapFlow) => Promise<T>): Promise<T> {
  const c = new ImapFlow({ host: dc.host, port: dc.port, secure: false, doSTARTTLS: false, auth: { user: dc.user, pass: dc.password }, logger: false });
  await c.connect();
  try { return await fn(c); } finally { await c.logout(); }
}

const append = (raw: string, flags: string[] = [], box = 'INBOX') => mailbox((c) => c.append(box, raw.replace(/\r?\n/g, '\r\n'), flags));

async function flagsByMessageId(box = 'INBOX'): Promise<Map<string, string[]>> {
  return mailbox(async (c) => {
    const lock = await c.getMailboxLock(box);
    const out = new Map<string, string[]>();
    try {
      if (c.mailbox && c.mailbox.exists > 0) {
        for await (const m of c.fetch('1:*', { envelope: true, flags: true })) out.set(m.envelope?.messageId ?? `uid:${m.uid}`, [...(m.flags ?? [])].filter((f) => f !== '\\Recent').sort());
      }
    } finally { lock.release(); }
    return out;
  });
}

async function emptyInbox(): Promise<void> {
  await mailbox(async (c) => {
    const lock = await c.getMailboxLock('INBOX');
    try { if (c.mailbox && c.mailbox.exists > 0) await c.messageDelete('1:*'); } finally { lock.release(); }
  });
}

function captureLog(app: TestApp): string[] {
  const lines: string[] = [];
  const rec = (level: string) => (obj: unknown, msg?: string) => { lines.push(`${level} ${JSON.stringify(obj)} ${msg ?? ''}`); };
  (app.k as { log: Logger }).log = { info: rec('info'), warn: rec('warn'), error: rec('error') };
  return lines;
}

const mail = (from: string, subject: string, body: string, extra = '') =>
  `From: ${from}\nTo: ${SUPPORT}\nSubject: ${subject}\n${extra}Date: Wed, 25 Nov 2026 10:00:00 +0000\n\n${body}\n`;

describe('IMAP polling into the helpdesk (real Dovecot)', { skip: skipWithoutDovecot }, () => {
  before(async () => {
    dc = await startDovecot();
    t = await testApp({ config: { imap: imapConfig(), inboundMaxBytes: 1024 * 1024 } });
  });
  after(async () => { await t?.close(); await moved?.close(); await dc?.stop(); });

  test('the periodic job files unseen messages as tickets, marks them \\Seen, leaves seen ones alone and skips duplicates', async () => {
    await append(mail('Ann Example <ann@example.com>', 'Licence lost', 'I lost my licence key.', 'Message-ID: <imap-ann-1@example.com>\n'));
    await append(mail('bob@example.com', 'Already read', 'A person read this one in their mail program.', 'Message-ID: <imap-bob-1@example.com>\n'), ['\\Seen']);
    // The same message twice in the mailbox (e.g. delivered by two routes): filed once.
    await append(mail('cy@example.com', 'Twice', 'Once please.', 'Message-ID: <imap-cy-1@example.com>\n'));
    await append(mail('cy@example.com', 'Twice', 'Once please.', 'Message-ID: <imap-cy-1@example.com>\n'));

    await t.k.jobs.drain(); // the schedule row is due at once: the job runs the poll
    const rows = await ticketRows(t);
    assert.deepEqual(rows.map((r) => r.subject).sort(), ['Licence lost', 'Twice']);
    const ann = rows.find((r) => r.subject === 'Licence lost')!;
    assert.equal(ann.channel, 'email');
    const [m] = await messagesOf(t, ann.number);
    assert.equal(m!.body_text, 'I lost my licence key.');
    assert.equal(m!.message_id, 'imap-ann-1@example.com');
    const inbound = await t.k.db.selectFrom('support_inbound').select(['dedupe_key', 'mailbox', 'envelope_from']).orderBy('dedupe_key').execute();
    assert.deepEqual(inbound.map((r) => r.dedupe_key), ['imap-ann-1@example.com', 'imap-cy-1@example.com']);
    assert.ok(inbound.every((r) => r.mailbox === SUPPORT && r.envelope_from === null), 'the same intake and mailbox as SMTP; no invented envelope');

    const flags = await flagsByMessageId();
    assert.deepEqual(flags.get('<imap-ann-1@example.com>'), ['\\Seen']);
    assert.deepEqual(flags.get('<imap-bob-1@example.com>'), ['\\Seen']);
    assert.ok(!(await ticketRows(t)).some((r) => r.subject === 'Already read'), 'messages already seen are not polled');
    const outbox = await t.k.db.selectFrom('mail_outbox').select(['to_addr', 'subject']).execute();
    assert.ok(outbox.some((o) => o.to_addr === 'ann@example.com' && /Received: Licence lost/.test(o.subject)), 'acknowledged like mail from SMTP');

    const again = await t.modules.support.pollMailbox();
    assert.deepEqual(again, { found: 0, delivered: 0, tooLarge: 0, failed: 0 });
    assert.equal((await ticketRows(t)).length, 2);
    await emptyInbox();
  });

  test('a delivery that fails leaves the message unseen; a crash after the commit re-delivers it and the duplicate is skipped', async () => {
    await append(mail('dee@example.com', 'Fails first', 'Database was down.', 'Message-ID: <imap-dee-1@example.com>\n'));
    const lines = captureLog(t);
    const real = t.k.inbound.deliver.bind(t.k.inbound);
    // 1. The database is unavailable: nothing is committed, the poll fails, the message stays unseen.
    t.k.inbound.deliver = async () => { throw new Error('database unavailable'); };
    await assert.rejects(t.modules.support.pollMailbox(), /1 message\(s\) could not be delivered/);
    assert.deepEqual((await flagsByMessageId()).get('<imap-dee-1@example.com>'), []);
    assert.ok(!(await ticketRows(t)).some((r) => r.subject === 'Fails first'));
    // 2. The process dies right after the intake committed, before the mailbox was told.
    t.k.inbound.deliver = async (msg) => { await real(msg); throw new Error('crash after commit'); };
    await assert.rejects(t.modules.support.pollMailbox());
    assert.equal((await ticketRows(t)).filter((r) => r.subject === 'Fails first').length, 1);
    assert.deepEqual((await flagsByMessageId()).get('<imap-dee-1@example.com>'), [], 'still unseen: the flag comes only after a clean delivery');
    // 3. Back to normal: delivered again, recognised as a duplicate by its Message-ID, now marked.
    t.k.inbound.deliver = real;
    const r = await t.modules.support.pollMailbox();
    assert.equal(r?.delivered, 1);
    assert.equal((await ticketRows(t)).filter((x) => x.subject === 'Fails first').length, 1, 'filed once');
    assert.deepEqual((await flagsByMessageId()).get('<imap-dee-1@example.com>'), ['\\Seen']);
    assert.ok(lines.some((l) => l.includes('stays unseen')));
    assert.ok(!lines.some((l) => l.includes(dc.password)), 'the IMAP password is never logged');
    await emptyInbox();
  });

  test('a bounce found by IMAP (Return-Path: <>) is filed as a bounce and never answered', async () => {
    const outBefore = (await t.k.db.selectFrom('mail_outbox').select('id').execute()).length;
    await append(`Return-Path: <>\n${mail('Mail Delivery System <mailer-daemon@mx.example.com>', 'Undelivered Mail', 'Your message could not be delivered.', 'Message-ID: <imap-dsn-1@mx.example.com>\n')}`);
    await append(`Return-Path: <eve@example.com>\n${mail('Eve <eve@example.com>', 'With a return path', 'Hello.', 'Message-ID: <imap-eve-1@example.com>\n')}`);
    await t.modules.support.pollMailbox();
    const rows = await t.k.db.selectFrom('support_inbound').select(['dedupe_key', 'kind', 'disposition', 'envelope_from']).where('dedupe_key', 'in', ['imap-dsn-1@mx.example.com', 'imap-eve-1@example.com']).orderBy('dedupe_key').execute();
    assert.deepEqual(rows.map((r) => [r.dedupe_key, r.kind, r.disposition, r.envelope_from]), [
      ['imap-dsn-1@mx.example.com', 'bounce', 'bounce_unmatched', null],
      ['imap-eve-1@example.com', 'normal', 'new_ticket', 'eve@example.com'],
    ]);
    const out = await t.k.db.selectFrom('mail_outbox').select(['to_addr']).execute();
    assert.ok(!out.some((o) => o.to_addr.includes('mailer-daemon')));
    assert.equal(out.length - outBefore >= 1, true, 'Eve is acknowledged');
    await emptyInbox();
  });

  test('a message over the intake limit is not delivered but flagged for a person in the mailbox', async () => {
    const big = mail('big@example.com', 'Huge', `${'x'.repeat(76)}\n`.repeat(16_000), 'Message-ID: <imap-big-1@example.com>\n');
    await append(big);
    await append(mail('small@example.com', 'Small', 'Fine.', 'Message-ID: <imap-small-1@example.com>\n'));
    const r = await t.modules.support.pollMailbox();
    assert.deepEqual({ ...r }, { found: 2, delivered: 1, tooLarge: 1, failed: 0 });
    const flags = await flagsByMessageId();
    assert.deepEqual(flags.get('<imap-big-1@example.com>'), ['\\Flagged', '\\Seen']);
    assert.ok(!(await ticketRows(t)).some((x) => x.subject === 'Huge'));
    assert.ok((await ticketRows(t)).some((x) => x.subject === 'Small'));
    await emptyInbox();
  });

  test('a wrong password: a clear error, nothing touched, and the password appears nowhere', async () => {
    const wrong = 'WrongSecret-4711';
    const bad = await testApp({ config: { imap: imapConfig({}, wrong) } });
    try {
      await append(mail('fay@example.com', 'Waiting', 'Still here?', 'Message-ID: <imap-fay-1@example.com>\n'));
      const lines = captureLog(bad);
      await assert.rejects(bad.modules.support.pollMailbox(), (err: Error) => {
        assert.match(err.message, /refused the user name or password \(KEYWARD_IMAP_USER\/KEYWARD_IMAP_PASSWORD\)/);
        assert.ok(!err.message.includes(wrong));
        return true;
      });
      await bad.k.jobs.drain();
      const job = await bad.k.db.selectFrom('jobs').select(['last_error', 'status']).where('name', '=', 'support.imap-poll').executeTakeFirstOrThrow();
      assert.match(job.last_error ?? '', /refused the user name or password/);
      for (const text of [...lines, job.last_error ?? '', JSON.stringify(bad.config), util.inspect(bad.config, { depth: 5 })]) assert.ok(!text.includes(wrong), text);
      assert.equal(bad.config.imap!.password, wrong, 'the password is still there for the client');
      // Staff see in the admin that polling fails, and why; never the password.
      await buildStaff(bad, 'sam@vendor.example');
      const page = await (await signIn(bad, 'staff', 'sam@vendor.example')).get('/admin/tickets/mailbox');
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /IMAP polling: helpdesk at 127\.0\.0\.1:\d+, mailbox INBOX, every 60 s/);
      assert.match(page.body, /last poll failed<\/span> IMAP 127\.0\.0\.1:\d+: the server refused the user name or password/);
      assert.ok(!page.body.includes(wrong));
      assert.deepEqual((await flagsByMessageId()).get('<imap-fay-1@example.com>'), []);
      assert.equal((await ticketRows(bad)).length, 0);
    } finally { await bad.close(); await emptyInbox(); }
  });

  test('with a processed folder, handled messages are moved out of the inbox', async () => {
    moved = await testApp({ config: { imap: imapConfig({ moveTo: 'Keyward-Processed' }) } });
    await append(mail('gil@example.com', 'Move me', 'Please.', 'Message-ID: <imap-gil-1@example.com>\n'));
    const r = await moved.modules.support.pollMailbox();
    assert.equal(r?.delivered, 1);
    assert.equal((await flagsByMessageId()).size, 0, 'the inbox is empty');
    assert.ok((await flagsByMessageId('Keyward-Processed')).has('<imap-gil-1@example.com>'));
    assert.ok((await ticketRows(moved)).some((x) => x.subject === 'Move me'));
  });
});

describe('IMAP settings', () => {
  test('KEYWARD_IMAP_* are validated with fix-it messages; the password is kept out of the config\'s JSON', async () => {
    const { loadConfig, ConfigError } = await import('../../kernel/config/config.js');
    const base = { KEYWARD_DATA_DIR: '/tmp/kw-imap-cfg' };
    const c = loadConfig({ ...base, KEYWARD_IMAP_HOST: 'imap.example.com', KEYWARD_IMAP_USER: 'help', KEYWARD_IMAP_PASSWORD: 's3cret!', KEYWARD_IMAP_POLL_SECONDS: '30' });
    assert.deepEqual(JSON.parse(JSON.stringify(c.imap)), { host: 'imap.example.com', port: 993, tls: 'tls', user: 'help', mailbox: 'INBOX', pollMs: 30_000 });
    assert.equal(c.imap!.password, 's3cret!');
    assert.equal(loadConfig({ ...base, KEYWARD_IMAP_HOST: 'h', KEYWARD_IMAP_TLS: 'starttls', KEYWARD_IMAP_USER: 'u', KEYWARD_IMAP_PASSWORD: 'p' }).imap!.port, 143);
    assert.equal(loadConfig(base).imap, undefined, 'off unless configured');
    const bad = (env: Record<string, string>, re: RegExp) => assert.throws(() => loadConfig({ ...base, ...env }), (e: Error) => e instanceof ConfigError && re.test(e.message));
    bad({ KEYWARD_IMAP_HOST: 'h' }, /KEYWARD_IMAP_USER and KEYWARD_IMAP_PASSWORD must both be set/);
    bad({ KEYWARD_IMAP_HOST: 'h', KEYWARD_IMAP_USER: 'u', KEYWARD_IMAP_PASSWORD: 'p', KEYWARD_IMAP_TLS: 'yes' }, /KEYWARD_IMAP_TLS must be tls/);
    bad({ KEYWARD_IMAP_HOST: 'h', KEYWARD_IMAP_USER: 'u', KEYWARD_IMAP_PASSWORD: 'p', KEYWARD_IMAP_POLL_SECONDS: '1' }, /KEYWARD_IMAP_POLL_SECONDS must be/);
    bad({ KEYWARD_IMAP_HOST: 'h', KEYWARD_IMAP_USER: 'u', KEYWARD_IMAP_PASSWORD: 'p', KEYWARD_IMAP_PORT: '99999' }, /KEYWARD_IMAP_PORT/);
    bad({ KEYWARD_IMAP_HOST: 'h', KEYWARD_IMAP_USER: 'u', KEYWARD_IMAP_PASSWORD: 'p', KEYWARD_IMAP_MOVE_TO: 'INBOX' }, /KEYWARD_IMAP_MOVE_TO must be a different mailbox/);
    bad({ KEYWARD_IMAP_PASSWORD: 'p' }, /KEYWARD_IMAP_HOST is not/);
    try { loadConfig({ ...base, KEYWARD_IMAP_HOST: 'h', KEYWARD_IMAP_USER: 'u', KEYWARD_IMAP_PASSWORD: 'leaky', KEYWARD_IMAP_TLS: 'bad' }); } catch (e) { assert.ok(!(e as Error).message.includes('leaky')); }
  });
});
