import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { SmtpPeer, type ReceivedMail } from '../../kernel/testing/smtp.js';
import { verifyMessageId } from './mail/signed-ids.js';
import nodemailer from 'nodemailer';
import { buildStaff, messagesOf, signIn, smtpSend, ticketRows } from './testing.js';

/**
 * Real mail both ways: messages go into the app's SMTP listener with nodemailer, and what the helpdesk
 * sends is delivered by the outbox job to a real SMTP peer that keeps it.
 */
let t: TestApp;
let peer: SmtpPeer;
let port: number;
const SUPPORT = 'support@example.com';

before(async () => {
  peer = await new SmtpPeer().start();
  t = await testApp({ config: { smtpUrl: peer.url } });
  port = await t.k.inbound.listen(0);
  await buildStaff(t, 'sam@vendor.example', 'Sam Support');
});
after(async () => { await t.close(); await peer.stop(); });

const idOf = (m: ReceivedMail) => m.headers['message-id']!.replace(/^<|>$/g, '');
const mailTo = (addr: string) => peer.received.filter((m) => m.to.includes(addr));
async function deliverOutbox(): Promise<void> { await t.k.jobs.drain(); }

describe('email into the helpdesk over SMTP', () => {
  test('a new ticket: stored, acknowledged once with RFC 3834 headers, staff notified', async () => {
    await smtpSend(port, {
      from: 'Ann Example <ann@example.com>', to: SUPPORT, subject: 'Printer queue stuck', messageId: '<ann-1@example.com>',
      text: 'The queue has not moved since this morning.\n\nAnn', attachments: [{ filename: 'log.txt', content: 'error 42\n' }],
    });
    const [ticket] = await ticketRows(t);
    assert.ok(ticket);
    assert.equal(ticket.subject, 'Printer queue stuck');
    assert.equal(ticket.status, 'open');
    const msgs = await messagesOf(t, ticket.number);
    assert.equal(msgs.length, 1);
    assert.match(msgs[0]!.body_text, /has not moved/);
    const files = await t.k.db.selectFrom('support_attachments').selectAll().execute();
    assert.deepEqual(files.map((f) => [f.filename, f.size]), [['log.txt', 9]]);
    const user = await t.k.db.selectFrom('support_users').selectAll().where('email', '=', 'ann@example.com').executeTakeFirstOrThrow();
    assert.equal(user.name, 'Ann Example', 'only what the sender volunteered: address and display name');

    await deliverOutbox();
    const acks = mailTo('ann@example.com');
    assert.equal(acks.length, 1);
    const ack = acks[0]!;
    assert.equal(ack.headers['auto-submitted'], 'auto-replied');
    assert.equal(ack.headers['x-auto-response-suppress'], 'All');
    assert.equal(ack.from, '', 'sent with the null envelope sender, MAIL FROM:<> (RFC 3834 §3.3)');
    assert.equal(ack.headers['in-reply-to'], '<ann-1@example.com>');
    assert.match(ack.subject, new RegExp(`^\\[#${ticket.number}\\]`));
    assert.ok(ack.text.includes('Please type your reply above this line'));
    const ref = verifyMessageId(t.k.secrets, idOf(ack));
    assert.equal(ref?.number, ticket.number, 'our Message-ID is signed and names the ticket');
    assert.equal(ref?.recipientKind, 'p');
    assert.equal(mailTo('sam@vendor.example').length, 1, 'the support agent is told');
    assert.notEqual(mailTo('sam@vendor.example')[0]!.from, '', 'mail that is not an automatic reply keeps its sender');
  });

  test('a reply threaded by its headers joins the ticket, reopens nothing twice and is not acknowledged', async () => {
    const [ticket] = await ticketRows(t);
    const ack = mailTo('ann@example.com')[0]!;
    await smtpSend(port, {
      from: 'ann@example.com', to: SUPPORT, subject: 'Another thing entirely', messageId: '<ann-2@example.com>',
      inReplyTo: ack.headers['message-id'], references: [`<ann-1@example.com>`, ack.headers['message-id']!],
      text: 'Restarting did not help.\n\nOn Mon, 1 Dec 2026 at 10:00, Support <support@example.com> wrote:\n> We have received your request',
    });
    const msgs = await messagesOf(t, ticket!.number);
    assert.equal(msgs.length, 2);
    assert.equal(msgs[1]!.body_text, 'Restarting did not help.', 'the quoted history is cut off');
    assert.equal((await ticketRows(t)).length, 1);

    // Threaded by a stored incoming Message-ID only (a CC'd colleague answering Ann's own mail).
    await smtpSend(port, { from: 'bob@example.com', to: SUPPORT, subject: 'Re: Printer', references: '<ann-2@example.com>', messageId: '<bob-1@example.com>', text: 'Same here.' });
    assert.equal((await messagesOf(t, ticket!.number)).length, 3);
    await deliverOutbox();
    assert.equal(mailTo('ann@example.com').length, 1, 'no second acknowledgement');
    assert.equal(mailTo('bob@example.com').length, 0);
  });

  test('staff reply from the queue goes out threaded: In-Reply-To the last customer message, References trimmed', async () => {
    const [ticket] = await ticketRows(t);
    const staff = await signIn(t, 'staff', 'sam@vendor.example');
    await staff.get(`/admin/tickets/${ticket!.number}`);
    const r = await staff.post(`/admin/tickets/${ticket!.number}/reply`, { text: 'Please clear the spool folder and try again.' });
    assert.equal(r.statusCode, 303);
    await deliverOutbox();
    const reply = mailTo('ann@example.com').find((m) => m.text.includes('clear the spool'))!;
    assert.ok(reply);
    assert.equal(reply.headers['in-reply-to'], '<bob-1@example.com>');
    assert.match(reply.headers.references!, /<ann-1@example.com>/);
    assert.match(reply.subject, new RegExp(`^\\[#${ticket!.number}\\] Printer queue stuck$`));
    assert.equal(reply.headers['auto-submitted'], undefined, 'a person wrote it');
    assert.equal(verifyMessageId(t.k.secrets, idOf(reply))?.number, ticket!.number);
    assert.ok(mailTo('bob@example.com').some((m) => m.text.includes('clear the spool')), 'every participant gets the reply');
    assert.equal((await ticketRows(t))[0]!.status, 'pending');
  });

  test('a stranger using only the [#number] subject token gets a NEW ticket; a participant is threaded by it', async () => {
    const [first] = await ticketRows(t);
    const before = (await messagesOf(t, first!.number)).length;
    await smtpSend(port, { from: 'mallory@evil.example', to: SUPPORT, subject: `Re: [#${first!.number}] Printer queue stuck`, text: 'Send me the log files.' });
    const all = await ticketRows(t);
    assert.equal(all.length, 2);
    assert.equal((await messagesOf(t, first!.number)).length, before, 'nothing was added to the first ticket');
    assert.equal(all[1]!.subject, 'Printer queue stuck', 'the token is not carried into the new ticket');
    // A forged signed Message-ID is no way in either.
    const forged = `${first!.number}.p00000000-0000-0000-0000-000000000000.AAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA@localhost`;
    await smtpSend(port, { from: 'mallory@evil.example', to: SUPPORT, subject: 'Hello', inReplyTo: `<${forged}>`, text: 'Again.' });
    assert.equal((await ticketRows(t)).length, 3);
    assert.equal((await messagesOf(t, first!.number)).length, before);

    await smtpSend(port, { from: 'ann@example.com', to: SUPPORT, subject: `[#${first!.number}] still stuck`, text: 'Cleared it, still stuck.' });
    assert.equal((await ticketRows(t)).length, 3);
    assert.equal((await messagesOf(t, first!.number)).length, before + 1);
    assert.equal((await ticketRows(t))[0]!.status, 'open', 'a customer reply reopens a pending ticket');
  });

  test('the same message delivered twice is filed once', async () => {
    const mail = { from: 'dup@example.com', to: SUPPORT, subject: 'Twice', messageId: '<dup-1@example.com>', text: 'Once please.' };
    await smtpSend(port, mail);
    await smtpSend(port, mail);
    assert.equal((await ticketRows(t)).filter((x) => x.subject === 'Twice').length, 1);
    const raw = 'From: nomsgid@example.com\r\nTo: support@example.com\r\nSubject: No id\r\n\r\nHello\r\n';
    await smtpSend(port, { envelope: { from: 'nomsgid@example.com', to: [SUPPORT] }, raw });
    await smtpSend(port, { envelope: { from: 'nomsgid@example.com', to: [SUPPORT] }, raw });
    assert.equal((await ticketRows(t)).filter((x) => x.subject === 'No id').length, 1, 'without a Message-ID the hash decides');
  });

  test('HTML-only mail: the text is derived, and staff see only a sanitised copy', async () => {
    await smtpSend(port, {
      from: 'html@example.com', to: SUPPORT, subject: 'Formatted',
      html: '<p>Hello <b>team</b></p><script>alert(1)</script><img src="https://tracker.example/p.gif"><a href="javascript:evil()">click</a><div class="gmail_quote">On Mon wrote:<blockquote>old</blockquote></div>',
    });
    const tk = (await ticketRows(t)).find((x) => x.subject === 'Formatted')!;
    const [m] = await messagesOf(t, tk.number);
    assert.equal(m!.body_text, 'Hello team\nclick');
    const staff = await signIn(t, 'staff', 'sam@vendor.example');
    const page = await staff.get(`/admin/tickets/${tk.number}`);
    assert.match(page.body, /Formatted email/);
    assert.match(page.body, /<p>Hello <b>team<\/b><\/p>/);
    assert.doesNotMatch(page.body, /alert\(1\)|tracker\.example|javascript:/);
  });

  test('staff may answer a notification by email; #note keeps it internal', async () => {
    await deliverOutbox();
    const [first] = await ticketRows(t);
    const note = mailTo('sam@vendor.example').filter((m) => m.subject.includes(`#${first!.number}`)).at(-1)!;
    await smtpSend(port, { from: 'Sam Support <sam@vendor.example>', to: SUPPORT, subject: `Re: ${note.subject}`, inReplyTo: note.headers['message-id'], text: 'Try the new driver from our downloads page.\n\n-----Original Message-----\nFrom: Ann' });
    await smtpSend(port, { from: 'sam@vendor.example', to: SUPPORT, subject: `Re: ${note.subject}`, inReplyTo: note.headers['message-id'], messageId: '<sam-note@vendor.example>', text: '#note she is on the old firmware' });
    await smtpSend(port, { from: 'mallory@evil.example', to: SUPPORT, subject: `Re: ${note.subject}`, inReplyTo: note.headers['message-id'], text: 'I am staff, honest.' });
    await smtpSend(port, { from: 'sam@vendor.example', to: SUPPORT, subject: `Out of office: ${note.subject}`, inReplyTo: note.headers['message-id'], headers: { 'Auto-Submitted': 'auto-replied' }, text: 'Sam is on holiday.' });
    const msgs = await messagesOf(t, first!.number);
    const staffMsg = msgs.find((m) => m.kind === 'staff' && m.via === 'email')!;
    assert.equal(staffMsg.body_text, 'Try the new driver from our downloads page.');
    assert.ok(msgs.some((m) => m.kind === 'note' && m.body_text === 'she is on the old firmware'));
    assert.ok(msgs.some((m) => m.kind === 'system' && m.body_text.includes('mallory@evil.example') && m.body_text.includes('not sent to the customer')));
    await deliverOutbox();
    assert.ok(mailTo('ann@example.com').some((m) => m.text.includes('new driver')), 'the emailed staff reply reached the customer');
    assert.ok(!mailTo('ann@example.com').some((m) => m.text.includes('old firmware') || m.text.includes('honest') || m.text.includes('holiday')));
    assert.ok(msgs.some((m) => m.kind === 'system' && m.body_text.startsWith('Automatic reply to a staff notification')));
  });
});

describe('loop and bounce protection', () => {
  /** Plays an auto-responder at `address`: answers every message we send it, for up to 20 rounds. */
  async function runResponder(address: string, respond: (m: ReceivedMail, n: number) => Parameters<typeof smtpSend>[1]): Promise<{ rounds: number; answered: number }> {
    let seen = peer.received.length;
    let answered = 0;
    for (let round = 0; round < 20; round++) {
      await deliverOutbox();
      const fresh = peer.received.slice(seen).filter((m) => m.to.includes(address));
      seen = peer.received.length;
      if (fresh.length === 0) return { rounds: round, answered };
      for (const m of fresh) await smtpSend(port, respond(m, ++answered));
    }
    return { rounds: 20, answered };
  }

  test('a well-behaved auto-responder (Auto-Submitted) is never answered: the loop stops at once', async () => {
    await smtpSend(port, { from: 'away@example.com', to: SUPPORT, subject: 'Licence question', text: 'How do I move my licence?' });
    const r = await runResponder('away@example.com', (m) => ({
      from: 'away@example.com', to: SUPPORT, subject: `Out of office: ${m.subject}`, inReplyTo: m.headers['message-id'],
      headers: { 'Auto-Submitted': 'auto-replied' }, text: 'I am away until Monday.',
    }));
    assert.equal(r.answered, 1, 'our acknowledgement drew one out-of-office reply');
    assert.ok(r.rounds < 20);
    assert.equal(mailTo('away@example.com').length, 1, 'and nothing more went out');
  });

  test('two auto-responders that ignore the rules: the per-sender limit ends the loop', async () => {
    const limit = (await t.modules.support.intake['k'].settings.get<{ ackLimit?: number }>('support.settings', {})).ackLimit ?? 3;
    await smtpSend(port, { from: 'robot@example.com', to: SUPPORT, subject: 'Hello', text: 'Hi.' });
    const r = await runResponder('robot@example.com', (_m, n) => ({ from: 'robot@example.com', to: SUPPORT, subject: `Thank you for your email (${n})`, text: 'We got your message.' }));
    assert.ok(r.rounds < 20, 'the loop ended');
    assert.equal(mailTo('robot@example.com').length, limit, `at most ${limit} automatic replies per sender`);
    assert.equal((await ticketRows(t)).filter((x) => x.subject.startsWith('Thank you for your email')).length, limit, 'every message is still kept');
  });

  test('the per-sender limit is a window: after it has passed, that sender is acknowledged again (once)', async () => {
    const before = mailTo('robot@example.com').length;
    await smtpSend(port, { from: 'robot@example.com', to: SUPPORT, subject: 'Still inside the window', text: 'Hi again.' });
    await deliverOutbox();
    assert.equal(mailTo('robot@example.com').length, before, 'still limited');
    t.clock.advance(6 * 3600_000 + 60_000); // the default window is 6 hours
    await smtpSend(port, { from: 'robot@example.com', to: SUPPORT, subject: 'A new day', text: 'Hello after the window.' });
    await deliverOutbox();
    const after = mailTo('robot@example.com');
    assert.equal(after.length, before + 1);
    assert.match(after.at(-1)!.subject, /Received: A new day$/);
    // Other senders were never affected by the robot's limit.
    await smtpSend(port, { from: 'human@example.com', to: SUPPORT, subject: 'Human', text: 'Hello.' });
    await deliverOutbox();
    assert.equal(mailTo('human@example.com').length, 1);
  });

  test('mail from a list or from our own address is filed but never answered', async () => {
    const before = peer.received.length;
    await smtpSend(port, { from: 'news@lists.example', to: SUPPORT, subject: 'Weekly digest', headers: { 'List-Id': '<digest.lists.example>' }, text: 'News.' });
    await smtpSend(port, { from: SUPPORT, to: SUPPORT, subject: 'Echo', text: 'Our own mail came back.' });
    // Our addresses with a +tag, and our VERP and unsubscribe senders, are ours too.
    const [local, domain] = SUPPORT.split('@') as [string, string];
    const tagged = [`${local}+billing@${domain}`, `bounces+abc123@${domain}`, `unsub+abc123@${domain}`];
    for (const from of tagged) await smtpSend(port, { from, to: SUPPORT, subject: `Echo from ${from}`, text: 'Ours as well.' });
    assert.ok((await ticketRows(t)).some((x) => x.subject === 'Weekly digest'));
    assert.ok((await ticketRows(t)).some((x) => x.subject === 'Echo'));
    await deliverOutbox();
    const answered = peer.received.slice(before).flatMap((m) => m.to);
    for (const to of ['news@lists.example', SUPPORT, ...tagged]) assert.ok(!answered.some((a) => a.includes(to)), `${to} was answered`);
  });

  test('a bounce is never answered; one that names our message lands on its ticket', async () => {
    const sentBefore = peer.received.length;
    const [first] = await ticketRows(t);
    const ours = mailTo('ann@example.com')[0]!.headers['message-id']!;
    const dsn = [
      'From: Mail Delivery System <MAILER-DAEMON@mx.example.com>', 'To: support@example.com', 'Subject: Undelivered Mail Returned to Sender',
      'Message-ID: <dsn-1@mx.example.com>', 'MIME-Version: 1.0', 'Content-Type: multipart/report; report-type=delivery-status; boundary="B"', '',
      '--B', 'Content-Type: text/plain', '', 'This is the mail system. Your message could not be delivered: mailbox full.', '',
      '--B', 'Content-Type: message/delivery-status', '', 'Reporting-MTA: dns; mx.example.com', '', 'Final-Recipient: rfc822; ann@example.com', 'Action: failed', 'Status: 5.2.2', '',
      '--B', 'Content-Type: text/rfc822-headers', '', `Message-ID: ${ours}`, 'Subject: whatever', '', '--B--', '',
    ].join('\r\n');
    await smtpSend(port, { envelope: { from: '', to: [SUPPORT] }, raw: dsn });
    await smtpSend(port, { envelope: { from: '', to: [SUPPORT] }, raw: dsn.replace('dsn-1', 'dsn-2').replace(ours, '<unknown@elsewhere>') });
    const rows = await t.k.db.selectFrom('support_inbound').select(['dedupe_key', 'disposition', 'kind']).where('dedupe_key', 'like', 'dsn-%').orderBy('dedupe_key').execute();
    assert.deepEqual(rows.map((r) => [r.dedupe_key, r.kind, r.disposition]), [['dsn-1@mx.example.com', 'bounce', 'bounce'], ['dsn-2@mx.example.com', 'bounce', 'bounce_unmatched']]);
    assert.ok((await messagesOf(t, first!.number)).some((m) => m.kind === 'system' && m.body_text.includes('could not be delivered')));
    await deliverOutbox();
    assert.equal(peer.received.length, sentBefore, 'no mail at all went out for the bounces');
    assert.ok(!(await ticketRows(t)).some((x) => /Undelivered/.test(x.subject)), 'bounces make no tickets');
  });
});

describe('size limits', () => {
  test('a message over the intake limit is refused at SMTP with a clear 552, and nothing is stored', async () => {
    const small = await testApp({ config: { inboundMaxBytes: 1024 * 1024 } });
    try {
      const p = await small.k.inbound.listen(0);
      await assert.rejects(
        smtpSend(p, { from: 'big@example.com', to: SUPPORT, subject: 'Huge', text: 'See attached.', attachments: [{ filename: 'dump.bin', content: Buffer.alloc(1200 * 1024, 7) }] }),
        (err: Error & { responseCode?: number; response?: string }) => {
          assert.equal(err.responseCode, 552);
          assert.match(err.response ?? err.message, /Message too large: the limit is 1 MB\. Send large files as a link instead\./);
          return true;
        },
      );
      assert.equal((await small.k.db.selectFrom('support_inbound').selectAll().execute()).length, 0);
      assert.equal((await small.k.db.selectFrom('support_tickets').selectAll().execute()).length, 0);
    } finally { await small.close(); }
  });

  test('an attachment over the per-file limit is not kept; the ticket says so and the sender is told', async () => {
    await t.k.settings.set('support.settings', { attachmentMaxMb: 1 });
    try {
      await smtpSend(port, { from: 'files@example.com', to: SUPPORT, subject: 'Crash dump', text: 'Dump attached.', attachments: [{ filename: 'crash.dmp', content: Buffer.alloc(1200 * 1024, 1) }, { filename: 'small.txt', content: 'ok' }] });
      const tk = (await ticketRows(t)).find((x) => x.subject === 'Crash dump')!;
      const files = await t.k.db.selectFrom('support_attachments').select('filename').where('ticket_id', '=', tk.id).execute();
      assert.deepEqual(files.map((f) => f.filename), ['small.txt']);
      assert.ok((await messagesOf(t, tk.number)).some((m) => m.kind === 'system' && m.body_text.includes('crash.dmp')));
      await deliverOutbox();
      assert.match(mailTo('files@example.com')[0]!.text, /crash\.dmp[\s\S]*link/);
    } finally { await t.k.settings.set('support.settings', {}); }
  });
});

describe('known customers', () => {
  test('mail from a customer\'s account address is linked to the account (no support-user record) and shows in My account', async () => {
    const { buildCustomer } = await import('./testing.js');
    const customerId = await buildCustomer(t, 'kim@example.com', 'Kim Known');
    await smtpSend(port, { from: 'Kim K. <KIM@example.com>', to: SUPPORT, subject: 'Renewal question', text: 'When does my licence renew?' });
    const tk = (await ticketRows(t)).find((x) => x.subject === 'Renewal question')!;
    const p = await t.k.db.selectFrom('support_participants').selectAll().where('ticket_id', '=', tk.id).executeTakeFirstOrThrow();
    assert.equal(p.customer_id, customerId);
    assert.equal(p.support_user_id, null);
    assert.equal((await t.k.db.selectFrom('support_users').select('id').where('email', '=', 'kim@example.com').execute()).length, 0, 'nothing extra is kept about a known customer');
    const kim = await signIn(t, 'customer', 'kim@example.com');
    const list = await kim.get('/account/tickets');
    assert.match(list.body, /Renewal question/);
    assert.doesNotMatch(list.body, /Printer queue stuck/, 'only their own requests');
  });
});

describe('LMTP (KEYWARD_LMTP_LISTEN)', () => {
  test('a local MTA hands a message over by LMTP: the same intake files it; an unknown recipient is refused alone', async () => {
    const lmtpPort = await t.k.inbound.listen(0, '127.0.0.1', { lmtp: true });
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: lmtpPort, lmtp: true, secure: false, ignoreTLS: true });
    try {
      const info = await transport.sendMail({
        envelope: { from: 'lena@example.com', to: [SUPPORT, 'nobody@localhost'] },
        from: 'Lena <lena@example.com>', to: SUPPORT, subject: 'Via LMTP', messageId: '<lmtp-1@example.com>', text: 'Handed over by Postfix.',
      });
      assert.deepEqual(info.accepted, [SUPPORT]);
      assert.deepEqual(info.rejected, ['nobody@localhost'], 'per-recipient answers, as LMTP requires');
      const tk = (await ticketRows(t)).find((x) => x.subject === 'Via LMTP')!;
      assert.ok(tk);
      assert.equal((await messagesOf(t, tk.number))[0]!.body_text, 'Handed over by Postfix.');
      const row = await t.k.db.selectFrom('support_inbound').select(['envelope_from', 'disposition']).where('dedupe_key', '=', 'lmtp-1@example.com').executeTakeFirstOrThrow();
      assert.deepEqual(row, { envelope_from: 'lena@example.com', disposition: 'new_ticket' });
      // An SMTP greeting is refused on the LMTP port: it speaks LMTP only.
      const smtp = nodemailer.createTransport({ host: '127.0.0.1', port: lmtpPort, secure: false, ignoreTLS: true });
      await assert.rejects(smtp.sendMail({ from: 'x@example.com', to: SUPPORT, subject: 'x', text: 'x' }));
      smtp.close();
    } finally { transport.close(); }
  });
});

describe('threading of everything we send (domain notes §7)', () => {
  test('a web-form ticket: the first staff reply threads under the acknowledgement, the next under the previous mail, and the customer\'s email answer joins it', async () => {
    const { TestBrowser } = await import('../../kernel/testing/http.js');
    const { postMultipart } = await import('./testing.js');
    const visitor = new TestBrowser(t.app);
    await visitor.get('/support/contact');
    t.clock.advance(30_000);
    const sent = await postMultipart(visitor, '/support/contact', { website: '', email: 'wendy@example.com', name: 'Wendy Web', subject: 'Export is empty', message: 'The CSV export has no rows.' });
    assert.equal(sent.statusCode, 200, sent.body);
    const tk = (await ticketRows(t)).find((x) => x.subject === 'Export is empty')!;
    assert.equal(tk.channel, 'web');
    await deliverOutbox();
    const ack = mailTo('wendy@example.com')[0]!;
    assert.equal(ack.headers['auto-submitted'], 'auto-replied');
    assert.equal(ack.headers['in-reply-to'], undefined, 'a web message has no Message-ID to answer');

    const staff = await signIn(t, 'staff', 'sam@vendor.example');
    await staff.get(`/admin/tickets/${tk.number}`);
    t.clock.advance(60_000);
    assert.equal((await staff.post(`/admin/tickets/${tk.number}/reply`, { text: 'Which date range did you choose?' })).statusCode, 303);
    await deliverOutbox();
    const first = mailTo('wendy@example.com').find((m) => m.text.includes('Which date range'))!;
    assert.equal(first.headers['in-reply-to'], ack.headers['message-id'], 'the first reply answers the acknowledgement');
    assert.equal(first.headers.references, ack.headers['message-id']);

    await staff.get(`/admin/tickets/${tk.number}`);
    t.clock.advance(60_000);
    assert.equal((await staff.post(`/admin/tickets/${tk.number}/reply`, { text: 'Also, which version are you on?' })).statusCode, 303);
    await deliverOutbox();
    const second = mailTo('wendy@example.com').find((m) => m.text.includes('which version'))!;
    assert.equal(second.headers['in-reply-to'], first.headers['message-id']);
    assert.equal(second.headers.references, `${ack.headers['message-id']} ${first.headers['message-id']}`);

    // Wendy answers from her mail program: threaded by the headers into her ticket; our next reply answers her mail.
    t.clock.advance(60_000);
    await smtpSend(port, { from: 'wendy@example.com', to: SUPPORT, subject: `Re: ${second.subject}`, messageId: '<wendy-1@example.com>', inReplyTo: second.headers['message-id'], references: [ack.headers['message-id']!, first.headers['message-id']!, second.headers['message-id']!], text: 'Last month, version 4.2.' });
    const msgs = await messagesOf(t, tk.number);
    assert.equal(msgs.at(-1)!.body_text, 'Last month, version 4.2.');
    await staff.get(`/admin/tickets/${tk.number}`);
    t.clock.advance(60_000);
    await staff.post(`/admin/tickets/${tk.number}/reply`, { text: 'Fixed in 4.3.' });
    await deliverOutbox();
    const third = mailTo('wendy@example.com').find((m) => m.text.includes('Fixed in 4.3'))!;
    assert.equal(third.headers['in-reply-to'], '<wendy-1@example.com>', 'In-Reply-To the last customer message');
    assert.equal(third.headers.references, [ack, first, second].map((m) => m.headers['message-id']).concat('<wendy-1@example.com>').join(' '));
  });

  test('an email ticket: References keep the customer\'s first message and our acknowledgement', async () => {
    await smtpSend(port, { from: 'xavi@example.com', to: SUPPORT, subject: 'Threading check', messageId: '<xavi-1@example.com>', text: 'Hello.' });
    const tk = (await ticketRows(t)).find((x) => x.subject === 'Threading check')!;
    await deliverOutbox();
    const ack = mailTo('xavi@example.com')[0]!;
    // On a real clock the opening message is stored a moment after its ticket; the order must not depend on it.
    const moved = await t.k.db.updateTable('support_messages').set((eb) => ({ created_at: eb('created_at', '+', 3) })).where('message_id', '=', 'xavi-1@example.com').executeTakeFirst();
    assert.equal(Number(moved.numUpdatedRows), 1);
    const staff = await signIn(t, 'staff', 'sam@vendor.example');
    await staff.get(`/admin/tickets/${tk.number}`);
    t.clock.advance(60_000);
    await staff.post(`/admin/tickets/${tk.number}/reply`, { text: 'Hello to you.' });
    await deliverOutbox();
    const reply = mailTo('xavi@example.com').find((m) => m.text.includes('Hello to you'))!;
    assert.equal(reply.headers['in-reply-to'], '<xavi-1@example.com>');
    assert.equal(reply.headers.references, `<xavi-1@example.com> ${ack.headers['message-id']}`);
  });
});
