import type { Kernel } from '../../kernel/context.js';
import type { Db } from '../../kernel/db/database.js';
import { DAY_MS } from '../../kernel/clock.js';
import { sha256Hex } from '../../kernel/crypto/tokens.js';
import { deleteStoredFile } from './attachments.js';
import { loadSupportSettings } from './support.settings.js';

/**
 * Subject access, erasure and retention for the helpdesk, called by the privacy module (export and
 * erasure requests) and by the daily retention job. Anonymising a ticket keeps its number, dates,
 * status and tags (counts and reports stay true) and removes every word, address, name and file.
 */
export const REMOVED = '[removed]';

/** Anonymises one ticket inside `trx`; returns the stored files to delete once the transaction has committed. */
export async function anonymiseTicket(k: Kernel, trx: Db, ticketId: string): Promise<string[]> {
  const files = await trx.selectFrom('support_attachments').select('stored_path').where('ticket_id', '=', ticketId).execute();
  const raws = await trx.selectFrom('support_inbound').select(['id', 'raw_path', 'dedupe_key']).where('ticket_id', '=', ticketId).execute();
  await trx.updateTable('support_messages').set({ body_text: REMOVED, body_html: null, author_email: null, author_name: null, message_id: null }).where('ticket_id', '=', ticketId).execute();
  await trx.deleteFrom('support_attachments').where('ticket_id', '=', ticketId).execute();
  await trx.deleteFrom('support_participants').where('ticket_id', '=', ticketId).execute();
  for (const r of raws) {
    // The hash still recognises a late duplicate delivery, without keeping the identifier itself.
    const key = r.dedupe_key.startsWith('sha256:') ? r.dedupe_key : `sha256:${sha256Hex(r.dedupe_key)}`;
    await trx.updateTable('support_inbound').set({ raw_path: null, envelope_from: null, dedupe_key: key }).where('id', '=', r.id).execute();
  }
  await trx.updateTable('support_tickets').set({ subject: REMOVED, ack_message_id: null, anonymised_at: k.clock.now() }).where('id', '=', ticketId).execute();
  return [...files.map((f) => f.stored_path), ...raws.flatMap((r) => (r.raw_path ? [r.raw_path] : []))];
}

// Files go only after the transaction commits: a rolled-back erasure must not have lost them.
const removeFiles = (k: Kernel, paths: string[]) => { for (const p of paths) deleteStoredFile(k, p); };

/** Support users no ticket refers to any more hold nothing worth keeping. */
async function dropOrphanSupportUsers(trx: Db): Promise<void> {
  await trx.deleteFrom('support_users').where('id', 'not in', trx.selectFrom('support_participants').select('support_user_id').where('support_user_id', 'is not', null)).execute();
}

/** The daily retention job: closed and spam tickets past the vendor's period, stale intake records, old rate-limit rows. */
export async function applySupportRetention(k: Kernel): Promise<{ anonymised: number }> {
  const s = await loadSupportSettings(k);
  const cutoff = k.clock.now() - s.retentionDays * DAY_MS;
  const due = await k.db.selectFrom('support_tickets').select('id').where('status', 'in', ['closed', 'spam']).where('anonymised_at', 'is', null)
    .where('closed_at', '<', cutoff).limit(500).execute();
  for (const t of due) removeFiles(k, await k.db.transaction().execute((trx) => anonymiseTicket(k, trx, t.id)));
  const stale = await k.db.selectFrom('support_inbound').select(['id', 'raw_path']).where('ticket_id', 'is', null).where('received_at', '<', cutoff).execute();
  for (const r of stale) {
    await k.db.deleteFrom('support_inbound').where('id', '=', r.id).execute();
    if (r.raw_path) deleteStoredFile(k, r.raw_path);
  }
  await k.db.deleteFrom('support_autoreplies').where('sent_at', '<', k.clock.now() - 7 * DAY_MS).execute();
  await k.db.transaction().execute((trx) => dropOrphanSupportUsers(trx));
  return { anonymised: due.length };
}

export interface SupportExport {
  supportUser: { email: string; name: string | null; firstContact: number; lastContact: number } | null;
  tickets: Array<{
    number: number; subject: string; status: string; role: string; createdAt: number; closedAt: number | null;
    messages: Array<{ at: number; kind: string; from: string | null; text: string }>;
    files: Array<{ filename: string; size: number; contentType: string; at: number }>;
  }>;
  forum: Array<{ thread: string; at: number; text: string }>;
}

/** Everything the helpdesk holds about an email address (and, when given, a customer account's forum posts). */
export async function exportSupportData(k: Kernel, email: string, customerId?: string): Promise<SupportExport> {
  const e = email.trim().toLowerCase();
  const u = await k.db.selectFrom('support_users').selectAll().where('email', '=', e).executeTakeFirst();
  const mine = await k.db.selectFrom('support_participants').select(['ticket_id', 'role']).where((eb) => eb.or([
    eb('email', '=', e), ...(customerId ? [eb('customer_id', '=', customerId)] : []),
  ])).execute();
  const tickets: SupportExport['tickets'] = [];
  for (const p of mine) {
    const t = await k.db.selectFrom('support_tickets').selectAll().where('id', '=', p.ticket_id).executeTakeFirst();
    if (!t) continue;
    const messages = await k.db.selectFrom('support_messages').selectAll().where('ticket_id', '=', t.id).orderBy('created_at').orderBy('id').execute();
    const files = await k.db.selectFrom('support_attachments').selectAll().where('ticket_id', '=', t.id).execute();
    tickets.push({
      number: t.number, subject: t.subject, status: t.status, role: p.role, createdAt: t.created_at, closedAt: t.closed_at,
      // Internal notes are included: they are data about the request, and the law gives people access to it.
      messages: messages.map((m) => ({ at: m.created_at, kind: m.kind === 'note' ? 'internal_note' : m.kind, from: m.kind === 'customer' ? m.author_email : m.kind === 'staff' ? m.author_name : null, text: m.body_text })),
      files: files.map((f) => ({ filename: f.filename, size: f.size, contentType: f.content_type, at: f.created_at })),
    });
  }
  const forum = customerId
    ? (await k.db.selectFrom('support_forum_posts').innerJoin('support_forum_threads', 'support_forum_threads.id', 'support_forum_posts.thread_id')
      .select(['support_forum_threads.title as thread', 'support_forum_posts.created_at as at', 'support_forum_posts.body as text'])
      .where('support_forum_posts.author_customer_id', '=', customerId).orderBy('support_forum_posts.created_at').execute())
    : [];
  return {
    supportUser: u ? { email: u.email, name: u.name, firstContact: u.created_at, lastContact: u.last_seen_at } : null,
    tickets, forum,
  };
}

/**
 * Erasure: requests the person started are anonymised whole; in requests others started, the person's
 * own messages, files and address are removed; forum posts lose their author and text.
 */
export async function eraseSupportData(k: Kernel, email: string, customerId?: string): Promise<{ ticketsAnonymised: number; ticketsRedacted: number; forumPosts: number }> {
  const e = email.trim().toLowerCase();
  const paths: string[] = [];
  const result = await k.db.transaction().execute(async (trx) => {
    const mine = await trx.selectFrom('support_participants').select(['ticket_id', 'role']).where((eb) => eb.or([
      eb('email', '=', e), ...(customerId ? [eb('customer_id', '=', customerId)] : []),
    ])).execute();
    let anonymised = 0; let redacted = 0;
    for (const p of mine) {
      if (p.role === 'requester') { paths.push(...(await anonymiseTicket(k, trx, p.ticket_id))); anonymised++; continue; }
      const own = await trx.selectFrom('support_messages').select('id').where('ticket_id', '=', p.ticket_id).where('author_email', '=', e).execute();
      const files = own.length ? await trx.selectFrom('support_attachments').select(['id', 'stored_path']).where('message_id', 'in', own.map((m) => m.id)).execute() : [];
      if (own.length) await trx.updateTable('support_messages').set({ body_text: REMOVED, body_html: null, author_email: null, author_name: null, message_id: null }).where('id', 'in', own.map((m) => m.id)).execute();
      if (files.length) await trx.deleteFrom('support_attachments').where('id', 'in', files.map((f) => f.id)).execute();
      await trx.deleteFrom('support_participants').where('ticket_id', '=', p.ticket_id).where((eb) => eb.or([eb('email', '=', e), ...(customerId ? [eb('customer_id', '=', customerId)] : [])])).execute();
      paths.push(...files.map((f) => f.stored_path));
      redacted++;
    }
    await trx.updateTable('support_inbound').set({ envelope_from: null }).where('envelope_from', '=', e).execute();
    await trx.deleteFrom('support_autoreplies').where('sender_hash', '=', sha256Hex(`support-ack:${e}`)).execute();
    await trx.deleteFrom('support_users').where('email', '=', e).execute();
    await dropOrphanSupportUsers(trx);
    let forumPosts = 0;
    if (customerId) {
      const r = await trx.updateTable('support_forum_posts').set({ body: REMOVED, author_customer_id: null, author_name: 'Former member' }).where('author_customer_id', '=', customerId).executeTakeFirst();
      forumPosts = Number(r.numUpdatedRows);
      await trx.updateTable('support_forum_threads').set({ title: REMOVED, author_customer_id: null, author_name: 'Former member' }).where('author_customer_id', '=', customerId).execute();
    }
    return { ticketsAnonymised: anonymised, ticketsRedacted: redacted, forumPosts };
  });
  removeFiles(k, paths);
  return result;
}
