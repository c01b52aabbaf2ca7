import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { sha256Hex } from '../../kernel/crypto/tokens.js';
import { parseMessageIds, readHeaders } from './mail/headers.js';
import { bodyMarker, signedMessageId } from './mail/signed-ids.js';

/**
 * Threading on malformed mail, against the real database: whatever arrives, delivery never throws, every
 * distinct message is recorded exactly once with a disposition (never `failed`), every filed message is
 * on its ticket, and a message answering our signed Message-ID lands on that ticket.
 */
let t: TestApp;
let signedFor: string;
let ticketNumber: number;
const SUPPORT = 'support@example.com';

before(async () => {
  t = await testApp();
  await t.k.inbound.deliver({ raw: Buffer.from('From: Ann <ann@example.com>\r\nSubject: Seed\r\nMessage-ID: <seed@example.com>\r\n\r\nSeed ticket.\r\n'), mailFrom: 'ann@example.com', rcptTo: [SUPPORT], remoteAddress: '127.0.0.1' });
  const tk = await t.k.db.selectFrom('support_tickets').selectAll().executeTakeFirstOrThrow();
  ticketNumber = tk.number;
  const p = await t.k.db.selectFrom('support_participants').select('id').where('ticket_id', '=', tk.id).executeTakeFirstOrThrow();
  signedFor = signedMessageId(t.k.secrets, { number: tk.number, recipientKind: 'p', recipientId: p.id }, 'localhost');
});
after(async () => { await t.close(); });

const junk = fc.string({ maxLength: 60 });
const idPool = () => fc.constantFrom('<seed@example.com>', `<${signedFor}>`, `<${signedFor.replace(/.@/, 'x@')}>`, '<>', '<<a@b>>', 'not-an-id', '<x@y> <z@w', '');
const from = fc.oneof(fc.constantFrom('Ann <ann@example.com>', 'stranger@evil.example', 'MAILER-DAEMON@mx.example', '"Broken <x@', 'support@example.com', '=?utf-8?B?####?= <q@example.com>'), junk);
const subject = fc.oneof(fc.constantFrom(`[#${'{n}'}] hello`, 'Re: [#999999999] x', '=?utf-8?Q?bad=ZZ?=', '[#] x', ''), junk);
const header = fc.oneof(
  fc.constantFrom('Auto-Submitted: auto-replied', 'Auto-Submitted: no', 'Precedence: bulk', 'List-Id: <l.example>', 'X-Failed-Recipients: a@b',
    'Content-Type: multipart/mixed', 'Content-Type: multipart/mixed; boundary="', 'Content-Transfer-Encoding: base64', 'Return-Path: <>', 'Cc: , ,, <@>, x@y.z'),
  junk.map((s) => `X-Junk: ${s}`),
  junk,
);

const messageArb = () => fc.oneof(
  fc.record({
    from: fc.option(from), subject: fc.option(subject), messageId: fc.option(fc.oneof(fc.uuid().map((u) => `<${u}@example.com>`), idPool())),
    inReplyTo: fc.option(idPool()), references: fc.option(fc.array(idPool(), { maxLength: 4 }).map((a) => a.join(' '))),
    headers: fc.array(header, { maxLength: 5 }), body: fc.oneof(junk, fc.constant('quoted\n> Ticket reference: {marker}'), fc.string({ maxLength: 500 })),
    eol: fc.constantFrom('\r\n', '\n'), envelope: fc.constantFrom('ann@example.com', '', 'x@y.z'),
  }).map((m) => {
    const lines = [
      ...(m.from !== null ? [`From: ${m.from}`] : []), ...(m.subject !== null ? [`Subject: ${m.subject.replace('{n}', String(ticketNumber))}`] : []),
      ...(m.messageId !== null ? [`Message-ID: ${m.messageId}`] : []), ...(m.inReplyTo !== null ? [`In-Reply-To: ${m.inReplyTo}`] : []),
      ...(m.references !== null ? [`References: ${m.references}`] : []), ...m.headers,
    ];
    return { raw: Buffer.from(lines.join(m.eol) + m.eol + m.eol + m.body.replace('{marker}', bodyMarker(t.k.secrets, ticketNumber)), 'utf8'), envelope: m.envelope };
  }),
  fc.uint8Array({ maxLength: 1500 }).map((a) => ({ raw: Buffer.from(a), envelope: 'noise@example.com' })),
);

describe('intake on malformed mail (property, real database)', () => {
  test('never a crash, never a message lost, signed replies always thread', async () => {
    await fc.assert(fc.asyncProperty(fc.array(messageArb(), { minLength: 1, maxLength: 3 }), async (batch) => {
      for (const m of batch) {
        const headers = readHeaders(m.raw);
        const id = parseMessageIds(headers.get('message-id'), 1)[0];
        const key = id ?? `sha256:${sha256Hex(m.raw)}`;
        const before = await t.k.db.selectFrom('support_inbound').select('id').where('dedupe_key', '=', key).executeTakeFirst();
        await t.k.inbound.deliver({ raw: m.raw, mailFrom: m.envelope, rcptTo: [SUPPORT], remoteAddress: '127.0.0.1' });
        const rows = await t.k.db.selectFrom('support_inbound').selectAll().where('mailbox', '=', SUPPORT).where('dedupe_key', '=', key).execute();
        assert.equal(rows.length, 1, 'recorded exactly once');
        const row = rows[0]!;
        if (before) { assert.equal(row.id, before.id, 'a duplicate changes nothing'); continue; }
        assert.notEqual(row.disposition, 'failed', `filing failed: ${row.error}`);
        assert.ok(row.raw_path, 'the original is kept');
        if (row.disposition === 'new_ticket' || row.disposition === 'appended') {
          assert.ok(row.ticket_id);
          const filed = await t.k.db.selectFrom('support_messages').select(['ticket_id']).where('inbound_id', '=', row.id).execute();
          assert.equal(filed.length, 1, 'the message is on a ticket');
          assert.equal(filed[0]!.ticket_id, row.ticket_id);
        } else {
          assert.ok(['bounce', 'bounce_unmatched'].includes(row.disposition), row.disposition);
        }
        const firstCandidate = parseMessageIds(headers.get('in-reply-to'), 10)[0];
        if (firstCandidate === signedFor && row.kind !== 'bounce') {
          const tk = await t.k.db.selectFrom('support_tickets').select('number').where('id', '=', row.ticket_id!).executeTakeFirstOrThrow();
          assert.equal(tk.number, ticketNumber, 'a reply to our signed Message-ID lands on its ticket');
        }
      }
    }), { numRuns: 150 });
  });
});
