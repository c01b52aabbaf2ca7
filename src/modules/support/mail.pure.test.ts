import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Secrets } from '../../kernel/crypto/secrets.js';
import { classifyMail, cleanSubject, parseHeaderBlock, parseMessageIds, readHeaders, subjectToken, trimReferences } from './mail/headers.js';
import { parseMail } from './mail/parse.js';
import { trimQuoted } from './mail/quote.js';
import { htmlToText, sanitiseHtml } from './mail/sanitise.js';
import { bodyMarker, findBodyMarker, signedMessageId, verifyMessageId } from './mail/signed-ids.js';
import { eventFor, nextStatus, statusChoices, TRANSITIONS } from './status.js';
import type { TicketStatus } from './support.tables.js';

const secrets = new Secrets(Buffer.alloc(32, 9));
const other = new Secrets(Buffer.alloc(32, 8));

/** Header-ish text: real field names, folding, junk bytes, missing colons, CR/LF mixes. */
const headerLine = fc.oneof(
  fc.tuple(fc.constantFrom('Message-ID', 'In-Reply-To', 'References', 'From', 'Subject', 'Auto-Submitted', 'Precedence', 'List-Id', 'Content-Type', 'X-Failed-Recipients', 'Return-Path'), fc.string({ maxLength: 120 }))
    .map(([k, v]) => `${k}: ${v}`),
  fc.string({ maxLength: 80 }),
  fc.string({ maxLength: 60 }).map((s) => ` ${s}`),
);
const rawMessage = fc.tuple(fc.array(headerLine, { maxLength: 25 }), fc.constantFrom('\r\n', '\n', '\r'), fc.string({ maxLength: 400 }), fc.boolean())
  .map(([lines, eol, body, blank]) => lines.join(eol) + (blank ? `${eol}${eol}` : eol) + body);

describe('header reader (property)', () => {
  test('never throws; names are lower-case tokens; Message-IDs are bracket-free and contain @', () => {
    fc.assert(fc.property(fc.oneof(rawMessage, fc.string({ maxLength: 2000 }), fc.uint8Array({ maxLength: 2000 }).map((a) => Buffer.from(a).toString('latin1'))), (raw) => {
      const h = readHeaders(raw);
      for (const f of h.fields) {
        assert.equal(f.key, f.key.toLowerCase());
        assert.ok(!f.key.includes(':') && f.key.length > 0);
      }
      for (const name of ['message-id', 'in-reply-to', 'references']) {
        for (const id of parseMessageIds(h.get(name))) {
          assert.ok(id.includes('@') && !/[<>\s]/.test(id), id);
        }
      }
      assert.ok(['normal', 'bounce', 'auto'].includes(classifyMail(h, null)));
      const s = cleanSubject(h.get('subject'));
      assert.ok(s.length > 0 && s.length <= 200 && subjectToken(s) === null);
    }), { numRuns: 400 });
  });

  test('unfolds continuation lines and keeps every field in order', () => {
    const h = parseHeaderBlock('Subject: a\r\n  long\r\n\tsubject\r\nReferences: <a@x>\r\n\t<b@x>\r\nX-Empty:\r\n');
    assert.equal(h.get('subject'), 'a long subject');
    assert.deepEqual(parseMessageIds(h.get('references')), ['a@x', 'b@x']);
    assert.equal(h.get('x-empty'), '');
  });

  test('classification follows the domain notes', () => {
    const c = (head: string, env: string | null = 'a@b.c') => classifyMail(parseHeaderBlock(head), env, ['support@localhost']);
    assert.equal(c('From: a@b.c'), 'normal');
    assert.equal(c('From: a@b.c\nAuto-Submitted: no'), 'normal');
    assert.equal(c('From: a@b.c\nAuto-Submitted: auto-replied'), 'auto');
    assert.equal(c('From: a@b.c\nPrecedence: bulk'), 'auto');
    assert.equal(c('From: a@b.c\nList-Unsubscribe: <mailto:x@y>'), 'auto');
    assert.equal(c('From: a@b.c\nX-Autoreply: yes'), 'auto');
    assert.equal(c('From: a@b.c\nX-Loop: support@localhost'), 'auto');
    assert.equal(c('From: MAILER-DAEMON@mx.example'), 'bounce');
    assert.equal(c('From: a@b.c', ''), 'bounce');
    assert.equal(c('From: a@b.c\nReturn-Path: <>'), 'bounce');
    assert.equal(c('From: a@b.c\nX-Failed-Recipients: x@y.z'), 'bounce');
    assert.equal(c('From: a@b.c\nContent-Type: multipart/report; report-type=delivery-status; boundary=x'), 'bounce');
  });

  test('References are trimmed to the first and the last few', () => {
    fc.assert(fc.property(fc.array(fc.string({ minLength: 1, maxLength: 8 }).map((s) => `${s}@x`), { maxLength: 40 }), (ids) => {
      const out = trimReferences(ids);
      const unique = ids.filter((id, i) => ids.indexOf(id) === i);
      assert.ok(out.length <= 5);
      if (unique.length) { assert.equal(out[0], unique[0]); assert.equal(out.at(-1), unique.at(-1)); }
    }));
  });
});

describe('full parse of malformed mail (property)', () => {
  test('never rejects, and always yields text to file (no message is lost)', async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(rawMessage, fc.uint8Array({ maxLength: 3000 }).map((a) => Buffer.from(a).toString('latin1'))), fc.oneof(fc.constant(''), fc.emailAddress()), async (raw, env) => {
      const m = await parseMail(Buffer.from(raw, 'latin1'), env, ['support@localhost']);
      assert.equal(typeof m.text, 'string');
      assert.equal(typeof m.fullText, 'string');
      assert.ok(m.subject.length <= 1000);
      assert.ok(Array.isArray(m.attachments));
      if (m.html !== null) assert.doesNotMatch(m.html, /<script|on\w+\s*=|javascript:/i);
    }), { numRuns: 200 });
  });
});

describe('signed Message-IDs and body markers', () => {
  test('verify what we made; refuse any change and other deployments', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 999_999_999 }), fc.uuid(), fc.constantFrom('p' as const, 's' as const), fc.nat(), (number, id, kind, pos) => {
      const mid = signedMessageId(secrets, { number, recipientKind: kind, recipientId: id }, 'support.example.com');
      assert.deepEqual(verifyMessageId(secrets, mid), { number, recipientKind: kind, recipientId: id });
      assert.equal(verifyMessageId(other, mid), null);
      const at = pos % mid.indexOf('@');
      const flipped = mid.slice(0, at) + (mid[at] === 'a' ? 'b' : 'a') + mid.slice(at + 1);
      if (flipped !== mid) assert.equal(verifyMessageId(secrets, flipped), null);
    }), { numRuns: 300 });
  });

  test('the body marker finds its ticket, and only a genuine one', () => {
    assert.equal(findBodyMarker(secrets, `> Ticket reference: ${bodyMarker(secrets, 1042)}\n`), 1042);
    assert.equal(findBodyMarker(secrets, `Ticket reference: ${bodyMarker(other, 1042)}`), null);
    fc.assert(fc.property(fc.string({ maxLength: 500 }), (s) => { findBodyMarker(secrets, s); }));
  });
});

describe('quoted text', () => {
  test('cuts at the usual separators and never returns nothing when there was something', () => {
    assert.equal(trimQuoted('Thanks!\n\nOn Tue, 2 Dec 2026 at 09:00, Support <s@x> wrote:\n> old'), 'Thanks!');
    assert.equal(trimQuoted('Thanks!\nOn Tue, 2 Dec 2026 at 09:00, Support Team <s@x>\nwrote:\n> old'), 'Thanks!');
    assert.equal(trimQuoted('Yes.\n\n-----Original Message-----\nFrom: x'), 'Yes.');
    assert.equal(trimQuoted('Yes.\n\nFrom: Support <s@x>\nSent: Tuesday\nTo: me\nSubject: Re'), 'Yes.');
    assert.equal(trimQuoted('New text\n##- Please type your reply above this line -##\nold'), 'New text');
    assert.equal(trimQuoted('> only a quote'), '> only a quote');
    fc.assert(fc.property(fc.string({ maxLength: 600 }), (s) => {
      const out = trimQuoted(s);
      if (s.trim()) assert.ok(out.length > 0);
      assert.ok(out.length <= s.replace(/\r\n?/g, '\n').length);
    }), { numRuns: 500 });
  });
});

describe('HTML sanitiser (property)', () => {
  const nasty = fc.constantFrom('<script>alert(1)</script>', '<img src=x onerror=alert(1)>', '<a href="javascript:alert(1)">x</a>', '<a href=" jav&#x09;ascript:alert(1)">x</a>',
    '<svg><script>1</script></svg>', '<style>body{}</style>', '<iframe src="//evil"></iframe>', '<p onclick="x()">hi</p>', '<!-- <script> -->', '<a href="https://ok.example/?a=1&b=2">ok</a>',
    '<table><tr><td colspan="2" style="x">c</td></tr></table>', '</div></div>', '<b><i>unclosed', '<p title=">">', '<<script>script>alert(1)<</script>/script>', '<form action=x><input name=y></form>');
  const html = fc.array(fc.oneof(nasty, fc.string({ maxLength: 30 }), fc.constantFrom('<p>', '</p>', '<b>', '</b>', '<blockquote>', '</blockquote>', '<br>', '<a href="mailto:a@b">', '</a>')), { maxLength: 30 }).map((a) => a.join(''));

  test('no script, handler, style, frame or javascript: link survives; tags stay balanced', () => {
    fc.assert(fc.property(html, (input) => {
      const out = sanitiseHtml(input);
      assert.doesNotMatch(out, /<(script|style|iframe|svg|img|form|input)\b/i);
      assert.doesNotMatch(out, /\son\w+\s*=/i);
      assert.doesNotMatch(out, /javascript:/i);
      assert.doesNotMatch(out, /style=/i);
      const opens = (out.match(/<[a-z][a-z0-9]*(?=[\s>])/g) ?? []).filter((t) => !['<br', '<hr'].includes(t)).length;
      const closes = (out.match(/<\/[a-z][a-z0-9]*>/g) ?? []).length;
      assert.equal(opens, closes, out);
      assert.equal(typeof htmlToText(input), 'string');
    }), { numRuns: 600 });
  });

  test('keeps harmless formatting and safe links', () => {
    assert.equal(sanitiseHtml('<p>Hello <b>there</b> <a href="https://x.example/a?b=1&amp;c=2" onclick="y">link</a></p>'),
      '<p>Hello <b>there</b> <a href="https://x.example/a?b=1&amp;c=2" rel="nofollow noopener noreferrer">link</a></p>');
    assert.equal(htmlToText('<p>New</p><div class="gmail_quote">On x wrote:<blockquote><p>old</p></blockquote></div>'), 'New\nOn x wrote:\n> old');
  });
});

describe('ticket status transitions', () => {
  const all: TicketStatus[] = ['open', 'pending', 'closed', 'spam'];
  test('a customer message reopens pending and closed tickets but never un-spams one', () => {
    assert.equal(nextStatus('pending', 'customer_message'), 'open');
    assert.equal(nextStatus('closed', 'customer_message'), 'open');
    assert.equal(nextStatus('spam', 'customer_message'), 'spam');
    assert.equal(nextStatus('open', 'staff_reply'), 'pending');
    assert.equal(nextStatus('spam', 'close'), null);
  });
  test('every status staff may choose is reachable by a listed transition, and nothing else is', () => {
    for (const from of all) {
      for (const to of all) {
        const allowed = statusChoices(from).includes(to);
        assert.equal(allowed, to !== from && TRANSITIONS.some((tr) => tr.from === from && tr.to === to && eventFor(from, to) === tr.event), `${from} → ${to}`);
      }
    }
    assert.deepEqual(statusChoices('spam'), ['open']);
  });
});
