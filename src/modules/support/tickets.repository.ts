import { sql } from 'kysely';
import type { Db } from '../../kernel/db/database.js';
import { newId } from '../../kernel/crypto/tokens.js';
import type { MessageKind, SupportMessagesTable, SupportTicketsTable, TicketStatus } from './support.tables.js';

/** Queries of tickets and their conversation; every function takes `db` or a transaction first. */
export type Ticket = SupportTicketsTable;
export type Message = SupportMessagesTable;

/** The next public ticket number; the row update serialises concurrent callers on both dialects. */
export async function nextTicketNumber(trx: Db): Promise<number> {
  const r = await trx.updateTable('support_sequences').set((eb) => ({ value: eb('value', '+', 1) }))
    .where('name', '=', 'ticket_number').returning('value').executeTakeFirstOrThrow();
  return Number(r.value);
}

export function ticketById(db: Db, id: string) {
  return db.selectFrom('support_tickets').selectAll().where('id', '=', id).executeTakeFirst();
}

/** A ticket by number, following merges to the ticket that now holds the conversation. */
export async function ticketByNumber(db: Db, number: number): Promise<Ticket | undefined> {
  if (!Number.isSafeInteger(number)) return undefined;
  let t = await db.selectFrom('support_tickets').selectAll().where('number', '=', number).executeTakeFirst();
  for (let i = 0; t?.merged_into_id && i < 10; i++) t = await ticketById(db, t.merged_into_id);
  return t;
}

export async function followMerges(db: Db, t: Ticket | undefined): Promise<Ticket | undefined> {
  for (let i = 0; t?.merged_into_id && i < 10; i++) t = await ticketById(db, t.merged_into_id);
  return t;
}

export async function insertTicket(trx: Db, v: { mailbox: string; subject: string; channel: 'email' | 'web'; status?: TicketStatus; now: number }): Promise<Ticket> {
  const row: Ticket = {
    id: newId(), number: await nextTicketNumber(trx), mailbox: v.mailbox, subject: v.subject, status: v.status ?? 'open', channel: v.channel,
    assignee_id: null, merged_into_id: null, created_at: v.now, updated_at: v.now, closed_at: null, anonymised_at: null, ack_message_id: null,
  };
  await trx.insertInto('support_tickets').values(row).execute();
  return row;
}

export function participants(db: Db, ticketId: string) {
  return db.selectFrom('support_participants').selectAll().where('ticket_id', '=', ticketId).orderBy('added_at').orderBy('id').execute();
}

export async function participantByEmail(db: Db, ticketId: string, email: string) {
  return db.selectFrom('support_participants').selectAll().where('ticket_id', '=', ticketId).where('email', '=', email.toLowerCase()).executeTakeFirst();
}

export async function addParticipant(trx: Db, v: { ticketId: string; email: string; role: 'requester' | 'cc'; customerId: string | null; supportUserId: string | null; now: number }) {
  await trx.insertInto('support_participants').values({
    id: newId(), ticket_id: v.ticketId, email: v.email.toLowerCase(), role: v.role, customer_id: v.customerId, support_user_id: v.supportUserId, added_at: v.now,
  }).onConflict((oc) => oc.columns(['ticket_id', 'email']).doNothing()).execute();
}

export async function requester(db: Db, ticketId: string) {
  return db.selectFrom('support_participants').selectAll().where('ticket_id', '=', ticketId).where('role', '=', 'requester').executeTakeFirst();
}

/**
 * Messages of a ticket get strictly increasing times, so the conversation (and "the last customer
 * message" that replies thread to) has one order even when two arrive within the same millisecond.
 */
export async function insertMessage(trx: Db, v: Omit<Message, 'id'>): Promise<Message> {
  const last = await trx.selectFrom('support_messages').select((eb) => eb.fn.max('created_at').as('t')).where('ticket_id', '=', v.ticket_id).executeTakeFirst();
  const row = { id: newId(), ...v, created_at: Math.max(v.created_at, Number(last?.t ?? 0) + 1) };
  await trx.insertInto('support_messages').values(row).execute();
  return row;
}

export function messagesFor(db: Db, ticketId: string, opts: { includeInternal: boolean }) {
  let q = db.selectFrom('support_messages').selectAll().where('ticket_id', '=', ticketId);
  if (!opts.includeInternal) q = q.where('kind', 'in', ['customer', 'staff'] as MessageKind[]);
  return q.orderBy('created_at').orderBy('id').execute();
}

/** The Message-ID of the latest message from a participant (for In-Reply-To), and every stored ID (References). */
/**
 * The Message-IDs of a ticket's mail thread, oldest first: customer mail and staff replies, with the
 * automatic acknowledgement in its place (right after the first message). `inReplyTo` is the last
 * customer message (domain notes §7); a ticket opened on the web has none, so it is the last message
 * we sent (the acknowledgement, or the previous reply) and the customer's mail program still threads.
 */
export async function threadIds(db: Db, ticketId: string): Promise<{ lastCustomer: string | null; inReplyTo: string | null; all: string[] }> {
  const rows = await db.selectFrom('support_messages').select(['message_id', 'kind', 'created_at']).where('ticket_id', '=', ticketId)
    .where('message_id', 'is not', null).where('kind', 'in', ['customer', 'staff'] as MessageKind[]).orderBy('created_at').orderBy('id').execute();
  const t = await db.selectFrom('support_tickets').select(['ack_message_id', 'created_at']).where('id', '=', ticketId).executeTakeFirst();
  const all = rows.map((r) => r.message_id!);
  if (t?.ack_message_id) {
    // The acknowledgement answers the message that opened the ticket: right after it when that message
    // came by email (it has a Message-ID), first when it came from the web form (it has none).
    const opening = await db.selectFrom('support_messages').select('message_id').where('ticket_id', '=', ticketId)
      .orderBy('created_at').orderBy('id').limit(1).executeTakeFirst();
    all.splice(opening?.message_id && opening.message_id === all[0] ? 1 : 0, 0, t.ack_message_id);
  }
  const customer = rows.filter((r) => r.kind === 'customer');
  const lastCustomer = customer[customer.length - 1]?.message_id ?? null;
  return { lastCustomer, inReplyTo: lastCustomer ?? all[all.length - 1] ?? null, all };
}

export function attachmentsFor(db: Db, ticketId: string) {
  return db.selectFrom('support_attachments').selectAll().where('ticket_id', '=', ticketId).orderBy('created_at').execute();
}

export async function tagsFor(db: Db, ticketId: string): Promise<string[]> {
  return (await db.selectFrom('support_tags').select('tag').where('ticket_id', '=', ticketId).orderBy('tag').execute()).map((r) => r.tag);
}

export async function setTags(trx: Db, ticketId: string, tags: string[]): Promise<void> {
  await trx.deleteFrom('support_tags').where('ticket_id', '=', ticketId).execute();
  if (tags.length) await trx.insertInto('support_tags').values(tags.map((tag) => ({ ticket_id: ticketId, tag }))).execute();
}

export async function touch(trx: Db, ticketId: string, now: number, status?: TicketStatus): Promise<void> {
  const closedAt = status === undefined ? {} : { closed_at: status === 'closed' || status === 'spam' ? now : null };
  await trx.updateTable('support_tickets').set({ updated_at: now, ...(status ? { status } : {}), ...closedAt }).where('id', '=', ticketId).execute();
}

/** `LIKE` with the user's text taken literally, case-insensitive on both dialects. */
export function likePattern(q: string): string {
  return `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export interface TicketFilter { status?: TicketStatus | 'active' | 'all'; assignee?: 'me' | 'none' | 'any'; staffId?: string; tag?: string; q?: string; page?: number }

export async function listTickets(db: Db, f: TicketFilter) {
  let q = db.selectFrom('support_tickets').selectAll().where('merged_into_id', 'is', null);
  if (!f.status || f.status === 'active') q = q.where('status', 'in', ['open', 'pending'] as TicketStatus[]);
  else if (f.status !== 'all') q = q.where('status', '=', f.status);
  if (f.assignee === 'me' && f.staffId) q = q.where('assignee_id', '=', f.staffId);
  if (f.assignee === 'none') q = q.where('assignee_id', 'is', null);
  if (f.tag) q = q.where('id', 'in', db.selectFrom('support_tags').select('ticket_id').where('tag', '=', f.tag));
  if (f.q) {
    const text = f.q.trim();
    const num = /^#?(\d{1,9})$/.exec(text);
    q = num ? q.where('number', '=', Number(num[1]))
      : q.where((eb) => eb.or([
        sql<boolean>`lower(subject) like ${likePattern(text)} escape '\\'`,
        eb('id', 'in', db.selectFrom('support_participants').select('ticket_id').where(sql<boolean>`email like ${likePattern(text)} escape '\\'`)),
      ]));
  }
  const page = Math.max(1, f.page ?? 1);
  return q.orderBy('updated_at', 'desc').orderBy('number', 'desc').limit(51).offset((page - 1) * 50).execute();
}

/** Tickets a signed-in customer takes part in: by account, or by their (verified) email address. */
export function ticketsForCustomer(db: Db, customerId: string, email: string) {
  return db.selectFrom('support_tickets').selectAll()
    .where('id', 'in', db.selectFrom('support_participants').select('ticket_id')
      .where((eb) => eb.or([eb('customer_id', '=', customerId), eb('email', '=', email.toLowerCase())])))
    // The same tickets customerTicket() opens: an anonymised one is listed nowhere, not listed and then a 404.
    .where('merged_into_id', 'is', null).where('status', '!=', 'spam').where('anonymised_at', 'is', null)
    .orderBy('updated_at', 'desc').limit(200).execute();
}

export async function customerIsParticipant(db: Db, ticketId: string, customerId: string, email: string): Promise<boolean> {
  const row = await db.selectFrom('support_participants').select('id').where('ticket_id', '=', ticketId)
    .where((eb) => eb.or([eb('customer_id', '=', customerId), eb('email', '=', email.toLowerCase())])).executeTakeFirst();
  return !!row;
}

/** Finds or creates the support-user record of an unknown sender, keeping only what they told us. */
export async function upsertSupportUser(trx: Db, email: string, name: string | null, now: number): Promise<string> {
  const e = email.toLowerCase();
  const existing = await trx.selectFrom('support_users').select(['id', 'name']).where('email', '=', e).executeTakeFirst();
  if (existing) {
    await trx.updateTable('support_users').set({ last_seen_at: now, ...(name && !existing.name ? { name } : {}) }).where('id', '=', existing.id).execute();
    return existing.id;
  }
  const id = newId();
  await trx.insertInto('support_users').values({ id, email: e, name: name || null, created_at: now, last_seen_at: now })
    .onConflict((oc) => oc.column('email').doNothing()).execute();
  const row = await trx.selectFrom('support_users').select('id').where('email', '=', e).executeTakeFirstOrThrow();
  return row.id;
}

/** A stored incoming Message-ID in this mailbox (or a staff reply's) → its ticket. */
export async function ticketByStoredMessageId(db: Db, mailbox: string, messageId: string): Promise<Ticket | undefined> {
  const inbound = await db.selectFrom('support_inbound').select('ticket_id').where('mailbox', '=', mailbox).where('dedupe_key', '=', messageId)
    .where('ticket_id', 'is not', null).executeTakeFirst();
  const ticketId = inbound?.ticket_id ?? (await db.selectFrom('support_messages').select('ticket_id').where('message_id', '=', messageId).executeTakeFirst())?.ticket_id;
  return ticketId ? followMerges(db, await ticketById(db, ticketId)) : undefined;
}
