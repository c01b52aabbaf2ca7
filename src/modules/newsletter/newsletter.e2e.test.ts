import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { sql } from 'kysely';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { TestBrowser } from '../../kernel/testing/http.js';
import { SmtpPeer } from '../../kernel/testing/smtp.js';
import { sha256Hex } from '../../kernel/crypto/tokens.js';
import { drainAll, seedSubscribers } from './testing.js';
import { suppress } from './suppression.js';

let t: TestApp;
let peer: SmtpPeer;
let intakePort = 0;
const UA = 'Mozilla/5.0 (test browser)';
before(async () => {
  peer = await new SmtpPeer().start();
  t = await testApp({ config: { smtpUrl: peer.url, mailFrom: 'Vendor News <news@vendor.example>' } });
  intakePort = await t.k.inbound.listen(0);
});
after(async () => { await t.close(); await peer.stop(); });

const mailsTo = (email: string) => peer.received.filter((m) => m.to.includes(email));
const subscription = (email: string, list: 'newsletter' | 'advisories' = 'newsletter') => t.k.db.selectFrom('newsletter_subscriptions as s').innerJoin('newsletter_subscribers as p', 'p.id', 's.subscriber_id')
  .select(['s.status', 'p.id']).where('p.email', '=', email).where('s.list_id', '=', list).executeTakeFirst();
const ledger = (email: string) => t.k.db.selectFrom('newsletter_consent_events').selectAll().where('email', '=', email).orderBy('at').orderBy('action').execute();

async function campaign(subject: string, list: 'newsletter' | 'advisories' = 'newsletter'): Promise<string> {
  const id = await t.modules.newsletter.campaigns.create({ listId: list, subject, intro: 'Hello **readers**: version 8.1 is out. See https://vendor.example/notes?a=1&b=2' }, 'staff-test');
  await t.modules.newsletter.campaigns.start(id, 'staff-test', null);
  await drainAll(t.k, t.clock);
  return id;
}

async function smtpToIntake(to: string, raw: string, from = ''): Promise<void> {
  const tr = nodemailer.createTransport({ host: '127.0.0.1', port: intakePort, secure: false, ignoreTLS: true });
  try {
    await tr.sendMail({ envelope: { from, to: [to] }, raw });
  } finally {
    tr.close();
  }
}

describe('double opt-in through a real SMTP peer', () => {
  test('sign up on the blog → confirmation email → a GET shows a button and never confirms → the POST confirms', async () => {
    const b = new TestBrowser(t.app, { 'user-agent': UA });
    const blog = await b.get('/blog');
    assert.equal(blog.statusCode, 200);
    const w = /name="w" value="([0-9a-f]{64})"/.exec(blog.body)![1]!;
    const wordingShown = /<p class="muted consent-wording">([^<]+)<\/p>/.exec(blog.body)![1]!.replace(/&#39;/g, "'");
    const res = await b.post('/newsletter', { email: 'Ada@Example.com ', name: 'Ada', w, from: '/blog' });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /Check your email/);
    assert.equal((await subscription('ada@example.com'))?.status, 'pending');

    await drainAll(t.k, t.clock);
    const [mail] = mailsTo('ada@example.com');
    assert.ok(mail, 'the confirmation email reached the SMTP peer');
    assert.match(mail!.from, /^bounces\+[0-9a-f]{52}@vendor\.example$/, 'the return path is a per-recipient VERP address');
    const link = /http:\/\/127\.0\.0\.1:3000(\/newsletter\/confirm\/[A-Za-z0-9_-]{43})/.exec(mail!.text)![1]!;

    for (const method of ['GET', 'HEAD'] as const) {
      const r = await t.app.inject({ method, url: link, headers: { accept: 'text/html' } });
      assert.equal(r.statusCode, 200);
    }
    t.clock.advance(60_000);
    const page = await b.get(link);
    assert.match(page.body, /Confirm my subscription/);
    assert.equal((await subscription('ada@example.com'))?.status, 'pending', 'opening the link changes nothing');

    const done = await b.post(link, {});
    assert.equal(done.statusCode, 200);
    assert.match(done.body, /now subscribed/);
    assert.equal((await subscription('ada@example.com'))?.status, 'subscribed');
    await b.get('/newsletter');
    assert.equal((await b.post(link, {})).statusCode, 400, 'a used link is refused');

    const events = await ledger('ada@example.com');
    assert.deepEqual(events.map((e) => e.action), ['subscribe', 'confirm']);
    const [sub, conf] = events;
    assert.equal(sub!.wording, wordingShown, 'the ledger holds exactly the wording the form showed');
    assert.equal(sub!.wording_sha256, sha256Hex(wordingShown));
    assert.equal(sub!.wording_sha256, w);
    assert.equal(sub!.source, 'form');
    assert.equal(sub!.source_url, 'http://127.0.0.1:3000/blog');
    assert.equal(sub!.user_agent, UA);
    assert.equal(sub!.ip, '127.0.0.1');
    assert.equal(sub!.notice_version, '1');
    assert.equal(conf!.method, 'confirm_button');
    assert.doesNotMatch(conf!.source_url ?? '', /confirm\/.+/, 'the token is never stored');

    const again = new TestBrowser(t.app);
    await again.get('/newsletter');
    await again.post('/newsletter', { email: 'ada@example.com', w, from: '/newsletter' });
    await drainAll(t.k, t.clock);
    assert.equal(mailsTo('ada@example.com').length, 1, 'signing up again when subscribed sends nothing');
  });

  test('a stale wording hash re-shows the form; bad input is a 400 page, never a 500', async () => {
    const b = new TestBrowser(t.app);
    await b.get('/newsletter');
    const stale = await b.post('/newsletter', { email: 'bob@example.com', w: '0'.repeat(64), from: '/newsletter' });
    assert.equal(stale.statusCode, 409);
    assert.match(stale.body, /wording changed/);
    assert.equal(await subscription('bob@example.com'), undefined);
    const w = /name="w" value="([0-9a-f]{64})"/.exec(stale.body)![1]!;
    assert.equal((await b.post('/newsletter', { email: 'not an email', w })).statusCode, 400);
    assert.equal((await b.post('/newsletter', { email: 'x@example.com', w, extra: 'field' })).statusCode, 400);
    assert.equal((await b.post('/newsletter', { email: 'x@example.com', w, _csrf: null })).statusCode, 403);
    assert.equal((await t.app.inject({ method: 'GET', url: '/newsletter/confirm/not-a-token', headers: { accept: 'text/html' } })).statusCode, 400);
    assert.equal((await t.app.inject({ method: 'GET', url: `/newsletter/confirm/${'x'.repeat(300)}`, headers: { accept: 'text/html' } })).statusCode, 414);
  });
});

describe('list mail, one-click unsubscribe, bounces and suppression', () => {
  let emails: string[] = [];
  before(async () => { emails = await seedSubscribers(t.k, 4, { prefix: 'list' }); });

  test('every message carries the unsubscribe link and RFC 8058 headers; a POST unsubscribes at once with 200, no redirect', async () => {
    await campaign('Release 8.1');
    const mail = mailsTo(emails[0]!).find((m) => m.subject === 'Release 8.1')!;
    assert.ok(mail);
    const lu = mail.headers['list-unsubscribe']!;
    const m = /^<http:\/\/127\.0\.0\.1:3000\/u\/([0-9a-f]{32}n[0-9a-f]{24})>, <mailto:unsub\+\1@vendor\.example\?subject=unsubscribe>$/.exec(lu.replace(/\s+/g, ' '));
    assert.ok(m, `List-Unsubscribe: ${lu}`);
    assert.equal(mail.headers['list-unsubscribe-post'], 'List-Unsubscribe=One-Click');
    assert.ok(mail.text.includes(`http://127.0.0.1:3000/u/${m![1]}`), 'a visible unsubscribe link in the text part');
    assert.ok(mail.html.includes(`href="http://127.0.0.1:3000/u/${m![1]}"`), 'and in the HTML part');
    assert.ok(mail.html.includes('href="https://vendor.example/notes?a=1&amp;b=2"'), 'links are not rewritten');
    assert.doesNotMatch(mail.html, /<img/i, 'no tracking pixel');

    // Gmail-style one-click: multipart/form-data, from another site, no cookie, no CSRF token.
    const boundary = 'xyz';
    const post = () => t.app.inject({
      method: 'POST', url: `/u/${m![1]}`,
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, origin: 'https://mail.google.com', 'sec-fetch-site': 'cross-site' },
      payload: `--${boundary}\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--${boundary}--\r\n`,
    });
    const res = await post();
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers.location, undefined);
    assert.equal((await subscription(emails[0]!))?.status, 'unsubscribed');
    assert.equal((await post()).statusCode, 200, 'repeating it is fine');
    const events = (await ledger(emails[0]!)).filter((e) => e.action === 'unsubscribe');
    assert.equal(events.length, 1, 'recorded once');
    assert.equal(events[0]!.method, 'one_click_post');

    const urlencoded = await t.app.inject({ method: 'POST', url: `/u/${m![1]}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'List-Unsubscribe=One-Click' });
    assert.equal(urlencoded.statusCode, 200);
    // The last hex digit changed (to one it is not: the token may end in 0).
    const forged = m![1]!.slice(0, -1) + (m![1]!.endsWith('0') ? '1' : '0');
    const bad = await t.app.inject({ method: 'POST', url: `/u/${forged}`, payload: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(bad.statusCode, 400, 'a forged token is refused');
    const page = await new TestBrowser(t.app).get(`/u/${m![1]}`);
    assert.match(page.body, /not on our newsletter list/);
  });

  test('the unsubscribe page: GET shows a button, the button unsubscribes', async () => {
    const mail = mailsTo(emails[1]!).find((m) => m.subject === 'Release 8.1')!;
    const url = /http:\/\/127\.0\.0\.1:3000(\/u\/[0-9a-z]+)/.exec(mail.text)![1]!;
    const b = new TestBrowser(t.app);
    const page = await b.get(url);
    assert.match(page.body, /Unsubscribe from the newsletter/);
    assert.equal((await subscription(emails[1]!))?.status, 'subscribed', 'a GET never unsubscribes');
    const res = await b.post(url, { via: 'page', _csrf: null });
    assert.equal(res.statusCode, 200);
    assert.equal((await subscription(emails[1]!))?.status, 'unsubscribed');
    assert.equal((await ledger(emails[1]!)).at(-1)!.method, 'unsubscribe_button');
  });

  test('a hard bounce through the SMTP listener suppresses; the address gets nothing more', async () => {
    const target = emails[2]!;
    const verp = mailsTo(target).find((m) => m.subject === 'Release 8.1')!.from;
    await smtpToIntake(verp, [
      'From: Mail Delivery System <MAILER-DAEMON@mx.readers.example>', `To: ${verp}`, 'Subject: Undelivered Mail Returned to Sender',
      'MIME-Version: 1.0', 'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"', '',
      '--b1', 'Content-Type: text/plain', '', 'This is the mail system. Your message could not be delivered.', '',
      '--b1', 'Content-Type: message/delivery-status', '', 'Reporting-MTA: dns; mx.readers.example', '',
      `Final-Recipient: rfc822; ${target}`, 'Action: failed', 'Status: 5.1.1', 'Diagnostic-Code: smtp; 550 5.1.1 User unknown', '', '--b1--', '',
    ].join('\r\n'));
    const sup = await t.k.db.selectFrom('newsletter_suppressions').selectAll().execute();
    assert.equal(sup.length, 1);
    assert.equal(sup[0]!.reason, 'hard_bounce');
    assert.ok(!sup[0]!.email_hash.includes(target), 'the list holds a hash, not the address');
    const send = await t.k.db.selectFrom('newsletter_campaign_sends as s').innerJoin('newsletter_subscribers as p', 'p.id', 's.subscriber_id').select('s.bounce').where('p.email', '=', target).executeTakeFirst();
    assert.equal(send?.bounce, 'hard');

    const before = mailsTo(target).length;
    const id = await campaign('Status update');
    assert.equal(mailsTo(target).length, before, 'a suppressed address gets nothing');
    assert.equal(mailsTo(emails[3]!).filter((m) => m.subject === 'Status update').length, 1);
    const p = await t.modules.newsletter.campaigns.progress(id);
    assert.equal(p.skippedSuppressed, 1);
    assert.equal(p.skippedUnsubscribed, 0, 'unsubscribed people were not in the audience at all');
  });

  test('soft bounces count; complaints (ARF) suppress and unsubscribe; forged and unknown addresses are ignored or refused', async () => {
    const [soft, complainer] = await seedSubscribers(t.k, 2, { prefix: 'fb' });
    await campaign('Tips');
    const verpOf = (e: string) => mailsTo(e).find((m) => m.subject === 'Tips')!.from;
    await smtpToIntake(verpOf(soft!), ['Subject: Delayed', 'Content-Type: multipart/report; report-type=delivery-status; boundary=x', '', '--x',
      'Content-Type: message/delivery-status', '', `Final-Recipient: rfc822; ${soft}`, 'Action: delayed', 'Status: 4.2.2', '', '--x--', ''].join('\r\n'));
    const s = await t.k.db.selectFrom('newsletter_subscribers').selectAll().where('email', '=', soft!).executeTakeFirstOrThrow();
    assert.equal(s.soft_bounces, 1);
    assert.equal((await t.k.db.selectFrom('newsletter_suppressions').selectAll().execute()).length, 1, 'a soft bounce does not suppress');

    const original = mailsTo(complainer!).find((m) => m.subject === 'Tips')!.raw;
    await smtpToIntake('bounces@vendor.example', ['Subject: Abuse report', 'MIME-Version: 1.0',
      'Content-Type: multipart/report; report-type=feedback-report; boundary=fb', '', '--fb', 'Content-Type: text/plain', '', 'A complaint.', '',
      '--fb', 'Content-Type: message/feedback-report', '', 'Feedback-Type: abuse', 'Version: 1', '', '--fb', 'Content-Type: message/rfc822', '',
      original.split('\r\n\r\n')[0], '', '--fb--', ''].join('\r\n'), 'fbl@isp.example');
    assert.equal((await subscription(complainer!))?.status, 'unsubscribed');
    assert.equal((await ledger(complainer!)).at(-1)!.method, 'complaint_report');
    const reasons = (await t.k.db.selectFrom('newsletter_suppressions').select('reason').execute()).map((r) => r.reason).sort();
    assert.deepEqual(reasons, ['complaint', 'hard_bounce']);

    const forged = `bounces+${'a'.repeat(52)}@vendor.example`;
    await smtpToIntake(forged, 'Subject: x\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x\r\nAction: failed\r\nStatus: 5.1.1\r\n--x--\r\n');
    assert.equal((await t.k.db.selectFrom('newsletter_suppressions').selectAll().execute()).length, 2, 'a forged VERP address suppresses nobody');
    await assert.rejects(smtpToIntake('someone-else@vendor.example', 'Subject: x\r\n\r\nhi\r\n'), /550|No mailbox/);
  });

  test('mailto unsubscribe through the SMTP listener', async () => {
    const [who] = await seedSubscribers(t.k, 1, { prefix: 'mailto' });
    await campaign('Mailto test');
    const lu = mailsTo(who!).find((m) => m.subject === 'Mailto test')!.headers['list-unsubscribe']!;
    const mailto = /<mailto:([^?>]+)/.exec(lu)![1]!;
    await smtpToIntake(mailto, `From: ${who}\r\nTo: ${mailto}\r\nSubject: unsubscribe\r\n\r\nunsubscribe\r\n`, who);
    assert.equal((await subscription(who!))?.status, 'unsubscribed');
    assert.equal((await ledger(who!)).at(-1)!.method, 'mailto');
  });

  test('suppression is checked at send time, and a suppressed address gets no confirmation email either', async () => {
    const [late] = await seedSubscribers(t.k, 1, { prefix: 'late' });
    const id = await t.modules.newsletter.campaigns.create({ listId: 'newsletter', subject: 'Late suppression', intro: 'Hi' }, 'staff-test');
    await t.modules.newsletter.campaigns.start(id, 'staff-test', null);
    await suppress(t.k, late!, 'staff', 'staff-test');
    await drainAll(t.k, t.clock);
    assert.equal(mailsTo(late!).filter((m) => m.subject === 'Late suppression').length, 0);

    const b = new TestBrowser(t.app);
    const form = await b.get('/newsletter');
    const w = /name="w" value="([0-9a-f]{64})"/.exec(form.body)![1]!;
    const res = await b.post('/newsletter', { email: late!, w });
    assert.match(res.body, /Check your email/, 'the same answer as for anyone');
    await drainAll(t.k, t.clock);
    assert.equal(mailsTo(late!).length, 0);
  });
});

describe('the consent ledger is append-only', () => {
  test('the database refuses updates and deletes', async () => {
    const n = (await t.k.db.selectFrom('newsletter_consent_events').select('id').execute()).length;
    assert.ok(n > 0);
    await assert.rejects(sql`UPDATE newsletter_consent_events SET wording = 'changed'`.execute(t.k.db), /append-only/);
    await assert.rejects(sql`DELETE FROM newsletter_consent_events`.execute(t.k.db), /append-only/);
    if (t.k.flags.kind === 'postgres') await assert.rejects(sql`TRUNCATE newsletter_consent_events`.execute(t.k.db), /append-only/);
    assert.equal((await t.k.db.selectFrom('newsletter_consent_events').select('id').execute()).length, n);
  });

  test('no code updates it; only the retention job deletes from it (records past six years, which the database allows)', () => {
    const dir = path.dirname(new URL(import.meta.url).pathname);
    const deleting: string[] = [];
    for (const f of fs.readdirSync(dir).filter((x) => /\.tsx?$/.test(x) && !x.endsWith('.test.ts'))) {
      const src = fs.readFileSync(path.join(dir, f), 'utf8');
      assert.doesNotMatch(src, /updateTable\(\s*'newsletter_consent_events'/, f);
      for (const m of src.matchAll(/deleteFrom\(\s*'newsletter_consent_events'/g)) {
        const fn = [...src.slice(0, m.index).matchAll(/function (\w+)/g)].at(-1)?.[1];
        deleting.push(`${f}:${fn}`);
      }
    }
    assert.deepEqual(deleting, ['subject-data.ts:pruneWithdrawnConsent']);
  });
});
