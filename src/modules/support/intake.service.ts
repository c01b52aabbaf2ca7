import type { Kernel } from '../../kernel/context.js';
import type { Db } from '../../kernel/db/database.js';
import { newId, sha256Hex } from '../../kernel/crypto/tokens.js';
import type { InboundMessage } from '../../kernel/mail/inbound.js';
import { DAY_MS } from '../../kernel/clock.js';
import { storeRaw } from './attachments.js';
import { cleanSubject, parseMessageIds, readHeaders, subjectToken } from './mail/headers.js';
import { parseMail, type ParsedMail } from './mail/parse.js';
import { findBodyMarker, verifyMessageId, type SignedRef } from './mail/signed-ids.js';
import { isOurAddress, supportEnv, type SupportEnv } from './outbound.js';
import { agentById } from './staff-directory.js';
import type { InboundDisposition } from './support.tables.js';
import type { NewMessage, TicketService } from './tickets.service.js';
import * as repo from './tickets.repository.js';
import type { Ticket } from './tickets.repository.js';

export interface IntakeResult { disposition: InboundDisposition | 'duplicate'; ticketNumber: number | null }

type Thread = { ticket: Ticket; via: 'signed' | 'stored' | 'marker' | 'token'; ref?: SignedRef };

const MAX_CANDIDATES = 30;
const SIGNED_IN_TEXT = /<(\d{1,9}\.[ps][0-9a-f-]{36}\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]{22}@[^<>\s]+)>/g;

/**
 * The support mailbox (domain notes, "Helpdesk email threading"): every message is kept raw first and
 * recorded once per mailbox by Message-ID (or hash), then classified, threaded and turned into a ticket
 * message. A message this code cannot handle is still recorded (disposition `failed`) for staff, never
 * dropped; only when even that record cannot be written does the SMTP peer get a 451 and retry.
 */
export class SupportIntake {
  constructor(private readonly k: Kernel, private readonly tickets: TicketService) {}

  async receive(msg: InboundMessage, mailbox: string): Promise<IntakeResult> {
    const k = this.k;
    const env = await supportEnv(k);
    const messageId = parseMessageIds(readHeaders(msg.raw).get('message-id'), 1)[0];
    const dedupeKey = messageId ?? `sha256:${sha256Hex(msg.raw)}`;
    if (await this.seen(k.db, mailbox, dedupeKey)) return { disposition: 'duplicate', ticketNumber: null };
    const inboundId = newId();
    const rawPath = storeRaw(k, inboundId, msg.raw);
    const parsed = await parseMail(msg.raw, msg.mailFrom, env.ours);
    const record = { id: inboundId, mailbox, dedupe_key: dedupeKey, envelope_from: msg.mailFrom ? msg.mailFrom.toLowerCase().slice(0, 254) : null, kind: parsed.kind, raw_path: rawPath, size: msg.raw.length, received_at: k.clock.now() };
    try {
      return await k.db.transaction().execute(async (trx) => {
        if (await this.seen(trx, mailbox, dedupeKey)) return { disposition: 'duplicate' as const, ticketNumber: null };
        const r = await this.process(trx, env, parsed, msg.raw, inboundId, mailbox, msg.mailFrom ?? '');
        await trx.insertInto('support_inbound').values({ ...record, disposition: r.disposition, ticket_id: r.ticket?.id ?? null, support_message_id: r.messageRowId, error: parsed.parseError }).execute();
        return { disposition: r.disposition, ticketNumber: r.ticket?.number ?? null };
      });
    } catch (err) {
      if (await this.seen(k.db, mailbox, dedupeKey)) return { disposition: 'duplicate', ticketNumber: null };
      k.log.error({ inboundId, err: (err as Error).message }, 'support intake could not file a message; kept for staff');
      await k.db.insertInto('support_inbound').values({ ...record, disposition: 'failed', ticket_id: null, support_message_id: null, error: String((err as Error).message).slice(0, 500) }).execute();
      return { disposition: 'failed', ticketNumber: null };
    }
  }

  private async seen(db: Db, mailbox: string, key: string): Promise<boolean> {
    return !!(await db.selectFrom('support_inbound').select('id').where('mailbox', '=', mailbox).where('dedupe_key', '=', key).executeTakeFirst());
  }

  private async process(trx: Db, env: SupportEnv, m: ParsedMail, raw: Buffer, inboundId: string, mailbox: string, envelopeSender: string): Promise<{ disposition: InboundDisposition; ticket: Ticket | null; messageRowId: string | null }> {
    if (m.kind === 'bounce') return this.bounce(trx, m, raw);
    const envelopeFrom = /^[^\s@<>]{1,64}@[^\s@<>]{1,190}$/.test(envelopeSender) ? { address: envelopeSender.toLowerCase(), name: '' } : null;
    const sender = m.from ?? envelopeFrom;

    const fromEmail = sender?.address ?? 'unknown-sender@invalid';
    const automatic = m.kind === 'auto' || isOurAddress(env.ours, fromEmail);
    const message: NewMessage = {
      from: { email: fromEmail, name: sender?.name || null }, text: m.text || '(empty message)', html: m.html, via: 'email',
      messageId: m.messageId, inboundId, uploads: m.attachments,
    };
    const thread = await this.findThread(trx, m, mailbox, fromEmail);

    if (thread?.ref?.recipientKind === 's') return this.staffAnswer(trx, env, thread.ticket, thread.ref, m, fromEmail, automatic);

    const reopenLimit = this.k.clock.now() - env.settings.reopenDays * DAY_MS;
    const tooOld = thread && thread.ticket.status === 'closed' && (thread.ticket.closed_at ?? 0) < reopenLimit;
    if (thread && !tooOld) {
      const row = await this.tickets.appendIn(trx, env, thread.ticket, message, { automatic });
      return { disposition: 'appended', ticket: thread.ticket, messageRowId: row.id };
    }
    const cc = m.cc.filter((c) => !isOurAddress(env.ours, c.address)).map((c) => ({ email: c.address, name: c.name || null }));
    const r = await this.tickets.createIn(trx, env, {
      mailbox, subject: cleanSubject(m.subject), channel: 'email', cc, message,
      acknowledge: !automatic && !!sender, notify: !automatic, followUpOf: tooOld ? thread!.ticket.number : undefined,
    });
    return { disposition: 'new_ticket', ticket: r.ticket, messageRowId: r.message.id };
  }

  /**
   * Threading candidates in order (domain notes §3–4): In-Reply-To, References newest first, each either
   * our signed Message-ID (verified) or a stored incoming one; then our signed marker in the body; last,
   * a `[#1234]` subject token, accepted only from that ticket's own participants.
   */
  async findThread(db: Db, m: ParsedMail, mailbox: string, senderEmail: string): Promise<Thread | null> {
    const usable = (t: Ticket | undefined): t is Ticket => !!t && !t.anonymised_at;
    const candidates = [...m.inReplyTo, ...[...m.references].reverse()].slice(0, MAX_CANDIDATES);
    for (const id of candidates) {
      const ref = verifyMessageId(this.k.secrets, id);
      if (ref) {
        const t = await repo.ticketByNumber(db, ref.number);
        if (usable(t)) return { ticket: t, via: 'signed', ref };
        continue;
      }
      const t = await repo.ticketByStoredMessageId(db, mailbox, id);
      if (usable(t)) return { ticket: t, via: 'stored' };
    }
    const marked = findBodyMarker(this.k.secrets, m.fullText);
    if (marked !== null) {
      const t = await repo.ticketByNumber(db, marked);
      if (usable(t)) return { ticket: t, via: 'marker' };
    }
    const token = subjectToken(m.subject);
    if (token !== null) {
      const t = await repo.ticketByNumber(db, token);
      // A stranger quoting someone's ticket number gets a ticket of their own, never a seat in that one.
      if (usable(t) && (await repo.participantByEmail(db, t.id, senderEmail))) return { ticket: t, via: 'token' };
    }
    return null;
  }

  /** A bounce is never answered; when it names one of our messages, staff see it on that ticket. */
  private async bounce(trx: Db, m: ParsedMail, raw: Buffer) {
    // The returned message's headers sit in a report part of their own: search the whole message.
    for (const match of raw.subarray(0, 2 * 1024 * 1024).toString('latin1').matchAll(SIGNED_IN_TEXT)) {
      const ref = verifyMessageId(this.k.secrets, match[1]!);
      const t = ref ? await repo.ticketByNumber(trx, ref.number) : undefined;
      if (!t || t.anonymised_at) continue;
      await this.tickets.systemNote(trx, t.id, `An email about this ticket could not be delivered:\n\n${m.text.slice(0, 2000)}`);
      return { disposition: 'bounce' as const, ticket: t, messageRowId: null };
    }
    return { disposition: 'bounce_unmatched' as const, ticket: null, messageRowId: null };
  }

  /**
   * A reply to a staff notification. From that staff member it goes to the customer (or stays an
   * internal note when it starts with #note); from anyone else it is kept as an internal note only,
   * because notifications carry the customer's words and must not become a way into the ticket.
   */
  private async staffAnswer(trx: Db, env: SupportEnv, ticket: Ticket, ref: SignedRef, m: ParsedMail, fromEmail: string, automatic: boolean) {
    const agent = await agentById(trx, ref.recipientId);
    const text = m.text.trim();
    // An agent's out-of-office answer to a notification must never reach the customer.
    if (!agent || agent.email.toLowerCase() !== fromEmail || !text || automatic) {
      await this.tickets.systemNote(trx, ticket.id, `${automatic ? 'Automatic reply' : 'Reply'} to a staff notification from ${fromEmail} (not sent to the customer):\n\n${text.slice(0, 20_000)}`);
      return { disposition: 'appended' as const, ticket, messageRowId: null };
    }
    if (/^#note\b/i.test(text)) {
      await this.tickets.systemNote(trx, ticket.id, text.replace(/^#note\b\s*/i, '') || '(empty note)', 'note', agent.id);
      return { disposition: 'staff_reply' as const, ticket, messageRowId: null };
    }
    const fits = m.attachments.filter((f) => f.content.length <= env.settings.attachmentMaxMb * 1024 * 1024).slice(0, 10);
    if (fits.length < m.attachments.length) await this.tickets.systemNote(trx, ticket.id, `Some files of ${agent.name}'s emailed reply were too large to send (limit ${env.settings.attachmentMaxMb} MB each).`);
    const row = await this.tickets.replyIn(trx, env, ticket, agent, text.slice(0, 50_000), fits, 'email');
    return { disposition: 'staff_reply' as const, ticket, messageRowId: row.id };
  }
}
