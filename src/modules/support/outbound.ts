import type { Kernel } from '../../kernel/context.js';
import type { Db } from '../../kernel/db/database.js';
import { newId, sha256Hex } from '../../kernel/crypto/tokens.js';
import { renderEmail } from '../../kernel/mail/template.js';
import { loadBrand, type Brand } from '../../kernel/views/brand.js';
import { formatIds, trimReferences } from './mail/headers.js';
import { REPLY_ABOVE } from './mail/quote.js';
import { bodyMarker, signedMessageId, type SignedRef } from './mail/signed-ids.js';
import { signedFileLink } from './attachments.js';
import { loadSupportSettings, type SupportSettings } from './support.settings.js';
import { supportAgents } from './staff-directory.js';
import * as repo from './tickets.repository.js';
import type { Ticket } from './tickets.repository.js';

/**
 * Mail the helpdesk sends, always through the outbox in the caller's transaction: replies to the
 * ticket's participants, the automatic acknowledgement (RFC 3834) and notifications to staff. Every
 * message gets our signed Message-ID, so the answer threads back to the right ticket and recipient.
 */
const domainOf = (address: string) => address.split('@')[1] ?? 'localhost';

/**
 * Settings, branding and our own addresses, read once before a transaction opens: on SQLite a read
 * through the pool inside a transaction would wait on that very transaction.
 */
export interface SupportEnv {
  settings: SupportSettings & { address: string };
  brand: Brand;
  /** The addresses that are ours: mail from them is never answered automatically. */
  ours: string[];
  from: string;
  domain: string;
}

export async function supportEnv(k: Kernel): Promise<SupportEnv> {
  const settings = await loadSupportSettings(k);
  const brand = await loadBrand(k.settings);
  const mailFrom = /<?([^<>\s]+@[^<>\s]+)>?\s*$/.exec(await k.mail.from())?.[1];
  const ours = [...new Set([settings.address, brand.supportEmail, mailFrom].filter((a): a is string => !!a).map((a) => a.toLowerCase()))];
  return { settings, brand, ours, from: `"${brand.name.replace(/["\\\r\n]/g, '')} Support" <${settings.address}>`, domain: domainOf(settings.address) };
}

/** Local parts of the addresses our own mail comes from, whatever follows a `+` (VERP, unsubscribe tokens). */
const SYSTEM_LOCAL_PARTS = new Set(['bounces', 'unsub', 'noreply', 'no-reply', 'postmaster', 'mailer-daemon']);

/**
 * Whether an address is one of ours: one of `ours` with or without a `+tag` (support+billing@…), or a
 * system sender (bounces+…, unsub+…) at one of our domains. Mail from these is never answered automatically.
 */
export function isOurAddress(ours: readonly string[], address: string): boolean {
  const a = address.trim().toLowerCase();
  const at = a.lastIndexOf('@');
  if (at < 1) return false;
  const local = a.slice(0, at);
  const domain = a.slice(at + 1);
  const base = local.split('+')[0]!;
  if (ours.includes(a) || ours.includes(`${base}@${domain}`)) return true;
  return SYSTEM_LOCAL_PARTS.has(base) && ours.some((o) => o.endsWith(`@${domain}`));
}

const marker = (k: Kernel, ticket: Ticket) => `Ticket reference: ${bodyMarker(k.secrets, ticket.number)}`;

function withSeparator(r: { text: string; html: string }): { text: string; html: string } {
  return {
    text: `${REPLY_ABOVE}\n\n${r.text}`,
    html: r.html.replace(/(<body[^>]*>)/, `$1\n<p style="color:#9aa5b1;font-size:12px">${REPLY_ABOVE}</p>`),
  };
}

/** A staff reply to every participant, each copy with its own signed Message-ID; returns the requester's. */
export async function sendReply(k: Kernel, trx: Db, e: SupportEnv, ticket: Ticket, reply: { text: string; staffName: string; attachmentIds: Array<{ id: string; filename: string }> }): Promise<string | null> {
  const people = await repo.participants(trx, ticket.id);
  const ids = await repo.threadIds(trx, ticket.id);
  let first: string | null = null;
  let toRequester: string | null = null;
  for (const p of people) {
    const messageId = signedMessageId(k.secrets, { number: ticket.number, recipientKind: 'p', recipientId: p.id }, e.domain);
    const links = reply.attachmentIds.map((a) => `${a.filename}: ${signedFileLink(k, a.id, p.id)}`);
    const body = withSeparator(renderEmail({
      brandName: e.brand.name, heading: `${reply.staffName} replied to your request #${ticket.number}`,
      paragraphs: [reply.text, ...(links.length ? [`Files:\n${links.join('\n')}`] : []), 'Reply to this email to answer; please keep the ticket number in the subject.', marker(k, ticket)],
      reason: `You are receiving this because you asked ${e.brand.name} for support.`, senderAddress: e.brand.address,
    }));
    const threading: Record<string, string> = ids.inReplyTo ? { 'In-Reply-To': `<${ids.inReplyTo}>`, References: formatIds(trimReferences(ids.all)) } : {};
    await k.mail.send({
      to: p.email, from: e.from, subject: `[#${ticket.number}] ${ticket.subject}`, ...body, category: 'support', messageId: `<${messageId}>`,
      headers: { 'Reply-To': e.settings.address, 'X-Loop': e.settings.address, ...threading },
    }, trx);
    first ??= messageId;
    if (p.role === 'requester') toRequester = messageId;
  }
  return toRequester ?? first;
}

/** Whether this sender may get another automatic reply now (RFC 3834: a few per sender per window). */
async function ackAllowed(k: Kernel, trx: Db, email: string, limit: number, windowHours: number): Promise<boolean> {
  const hash = sha256Hex(`support-ack:${email.toLowerCase()}`);
  const since = k.clock.now() - windowHours * 3600_000;
  const r = await trx.selectFrom('support_autoreplies').select((eb) => eb.fn.countAll<number>().as('n')).where('sender_hash', '=', hash).where('sent_at', '>', since).executeTakeFirstOrThrow();
  if (Number(r.n) >= limit) return false;
  await trx.insertInto('support_autoreplies').values({ id: newId(), sender_hash: hash, sent_at: k.clock.now() }).execute();
  return true;
}

/**
 * The automatic acknowledgement of a new ticket. Callers have already refused bounces, automatic mail,
 * lists and our own addresses; this adds the per-sender limit and the RFC 3834 headers.
 */
/**
 * The automatic acknowledgement. `quote` false leaves the sender's words out (subject and file names):
 * the web form takes any address, and a branded mail repeating a visitor's text to an address they
 * typed would carry their phishing or spam for them.
 */
export async function sendAcknowledgement(k: Kernel, trx: Db, e: SupportEnv, ticket: Ticket, to: { email: string; participantId: string }, inReplyTo: string | null, notes: string[] = [], quote = true): Promise<boolean> {
  const s = e.settings;
  if (!s.autoAcknowledge || isOurAddress(e.ours, to.email)) return false;
  if (!(await ackAllowed(k, trx, to.email, s.ackLimit, s.ackWindowHours))) return false;
  const messageId = signedMessageId(k.secrets, { number: ticket.number, recipientKind: 'p', recipientId: to.participantId }, e.domain);
  const body = withSeparator(renderEmail({
    brandName: e.brand.name, heading: `We have received your request #${ticket.number}`,
    paragraphs: [
      `Thank you for contacting ${e.brand.name} support. Your request ${quote ? `"${ticket.subject}" ` : ''}has the number #${ticket.number}; a member of our team will answer by email.`,
      ...notes,
      'To add anything, reply to this email and keep the ticket number in the subject.', marker(k, ticket),
    ],
    reason: `This is an automatic reply: you are receiving it because you wrote to ${e.settings.address}.`, senderAddress: e.brand.address,
  }));
  await k.mail.send({
    to: to.email, from: e.from, subject: quote ? `[#${ticket.number}] Received: ${ticket.subject}` : `[#${ticket.number}] We have received your request`, ...body, category: 'support', messageId: `<${messageId}>`,
    // The null sender (RFC 3834 §3.3): a bounce of an automatic reply goes nowhere, so it cannot start a loop.
    envelopeFrom: '',
    headers: {
      'Auto-Submitted': 'auto-replied', 'X-Auto-Response-Suppress': 'All', 'X-Loop': e.settings.address, 'Reply-To': e.settings.address,
      ...(inReplyTo ? { 'In-Reply-To': `<${inReplyTo}>`, References: `<${inReplyTo}>` } : {}),
    },
  }, trx);
  // Kept so the first staff reply threads under it, also for a ticket opened on the web (no customer Message-ID).
  await trx.updateTable('support_tickets').set({ ack_message_id: messageId }).where('id', '=', ticket.id).execute();
  return true;
}

/** Tells the assignee (or, while nobody is assigned, every agent) about a new customer message. */
export async function notifyStaff(k: Kernel, trx: Db, e: SupportEnv, ticket: Ticket, msg: { from: string; text: string; isNew: boolean }): Promise<void> {
  const agents = (await supportAgents(trx)).filter((a) => !ticket.assignee_id || a.id === ticket.assignee_id);
  for (const a of agents) {
    const ref: SignedRef = { number: ticket.number, recipientKind: 's', recipientId: a.id };
    const body = renderEmail({
      brandName: e.brand.name, heading: `${msg.isNew ? 'New ticket' : 'New message on'} #${ticket.number}: ${ticket.subject}`,
      paragraphs: [`From ${msg.from}:`, msg.text.slice(0, 20_000), 'Reply to this email to answer the customer. Start your reply with #note to add an internal note instead.', marker(k, ticket)],
      action: { label: 'Open the ticket', url: `${k.config.publicUrl}/admin/tickets/${ticket.number}` },
      reason: 'You are receiving this because you work on support tickets in Keyward.',
    });
    await k.mail.send({
      to: a.email, from: e.from, subject: `[#${ticket.number}] ${msg.isNew ? 'New ticket' : 'New message'}: ${ticket.subject}`, ...withSeparator(body), category: 'support-staff',
      messageId: `<${signedMessageId(k.secrets, ref, e.domain)}>`, headers: { 'Reply-To': e.settings.address, 'X-Loop': e.settings.address, 'Auto-Submitted': 'auto-generated' },
    }, trx);
  }
}
