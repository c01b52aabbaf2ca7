import type { Kernel } from '../../kernel/context.js';
import type { Db } from '../../kernel/db/database.js';
import { accountsRepository } from '../accounts/index.js';
import { lockForUpdate } from '../../kernel/db/dialect.js';
import { storeAttachments, type Upload } from './attachments.js';
import { notifyStaff, sendAcknowledgement, sendReply, supportEnv, type SupportEnv } from './outbound.js';
import { eventFor, nextStatus } from './status.js';
import { BadTransition, InvalidInput, MergeRefused, TicketNotFound } from './support.errors.js';
import type { TicketStatus } from './support.tables.js';
import { agentById } from './staff-directory.js';
import * as repo from './tickets.repository.js';
import type { Message, Ticket } from './tickets.repository.js';

export interface Sender { email: string; name: string | null }

export interface NewMessage {
  from: Sender;
  text: string;
  html: string | null;
  via: 'email' | 'web';
  messageId: string | null;
  inboundId: string | null;
  uploads: Upload[];
}

export const MAX_TEXT = 50_000;

export function cleanText(v: unknown, field: string, label: string, max = MAX_TEXT): string {
  const s = typeof v === 'string' ? v.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '').trim() : '';
  if (!s) throw Object.assign(new InvalidInput(`Enter ${label}.`), { field });
  if (s.length > max) throw Object.assign(new InvalidInput(`${label[0]!.toUpperCase()}${label.slice(1)} is too long (at most ${max} characters).`), { field });
  return s;
}

/**
 * Tickets and their conversation: the rules shared by the mail intake, the web form, My account and the
 * staff queue. Each public method opens its transaction; `…In(trx, …)` variants compose with the intake's.
 */
export class TicketService {
  constructor(private readonly k: Kernel) {}

  /** Who a sender is: a customer (by account email) or a support user holding only what they told us. */
  async identify(trx: Db, from: Sender): Promise<{ customerId: string | null; supportUserId: string | null }> {
    const customer = await accountsRepository.customerByEmail(trx, from.email.toLowerCase());
    if (customer && !customer.closed_at) return { customerId: customer.id, supportUserId: null };
    return { customerId: null, supportUserId: await repo.upsertSupportUser(trx, from.email, from.name, this.k.clock.now()) };
  }

  async addPerson(trx: Db, ticketId: string, person: Sender, role: 'requester' | 'cc'): Promise<void> {
    const who = await this.identify(trx, person);
    await repo.addParticipant(trx, { ticketId, email: person.email, role, ...who, now: this.k.clock.now() });
  }

  /** A new ticket with its first message; acknowledges and notifies when asked. */
  async createIn(trx: Db, env: SupportEnv, v: { mailbox: string; subject: string; channel: 'email' | 'web'; cc: Sender[]; message: NewMessage; acknowledge: boolean | 'unquoted'; notify: boolean; followUpOf?: number }) {
    const now = this.k.clock.now();
    const settings = env.settings;
    const ticket = await repo.insertTicket(trx, { mailbox: v.mailbox, subject: v.subject, channel: v.channel, now });
    await this.addPerson(trx, ticket.id, v.message.from, 'requester');
    for (const c of v.cc) if (c.email !== v.message.from.email) await this.addPerson(trx, ticket.id, c, 'cc');
    if (v.followUpOf) await this.systemNote(trx, ticket.id, `Follow-up to the closed ticket #${v.followUpOf}.`);
    const { message, refused } = await this.insertCustomerMessage(trx, ticket, v.message, settings.attachmentMaxMb);
    if (v.acknowledge) {
      const p = await repo.participantByEmail(trx, ticket.id, v.message.from.email);
      const quote = v.acknowledge !== 'unquoted';
      const notes = refused.length ? [`${quote ? `These files were too large to keep` : `Some files were too large to keep`} (the limit is ${settings.attachmentMaxMb} MB each)${quote ? `: ${refused.join(', ')}` : ''}. Please send them as a link.`] : [];
      if (p) await sendAcknowledgement(this.k, trx, env, ticket, { email: p.email, participantId: p.id }, v.message.messageId, notes, quote);
    }
    if (v.notify) await notifyStaff(this.k, trx, env, ticket, { from: v.message.from.email, text: v.message.text, isNew: true });
    return { ticket, message, refused };
  }

  private async insertCustomerMessage(trx: Db, ticket: Ticket, m: NewMessage, maxMb: number): Promise<{ message: Message; refused: string[] }> {
    const message = await repo.insertMessage(trx, {
      ticket_id: ticket.id, kind: 'customer', author_email: m.from.email.toLowerCase(), author_name: m.from.name, author_staff_id: null,
      body_text: m.text, body_html: m.html, via: m.via, message_id: m.messageId, inbound_id: m.inboundId, created_at: this.k.clock.now(),
    });
    const refused = await storeAttachments(this.k, trx, ticket.id, message.id, m.uploads, maxMb);
    if (refused.length) await this.systemNote(trx, ticket.id, `Not kept, too large (limit ${maxMb} MB each): ${refused.join(', ')}.`);
    return { message, refused };
  }

  /** A further message from a participant (or someone holding the thread): reopens, notifies staff. */
  async appendIn(trx: Db, env: SupportEnv, ticket: Ticket, m: NewMessage, opts: { automatic: boolean }): Promise<Message> {
    await this.addPerson(trx, ticket.id, m.from, 'cc');
    const { message } = await this.insertCustomerMessage(trx, ticket, m, env.settings.attachmentMaxMb);
    // An out-of-office answer is kept, but changes nothing and wakes nobody.
    const to = opts.automatic ? ticket.status : nextStatus(ticket.status, 'customer_message') ?? ticket.status;
    await repo.touch(trx, ticket.id, this.k.clock.now(), to !== ticket.status ? to : undefined);
    if (!opts.automatic && ticket.status !== 'spam') await notifyStaff(this.k, trx, env, { ...ticket, status: to }, { from: m.from.email, text: m.text, isNew: false });
    return message;
  }

  async systemNote(trx: Db, ticketId: string, text: string, kind: 'system' | 'note' = 'system', staffId: string | null = null): Promise<void> {
    await repo.insertMessage(trx, {
      ticket_id: ticketId, kind, author_email: null, author_name: null, author_staff_id: staffId, body_text: text.slice(0, MAX_TEXT),
      body_html: null, via: 'system', message_id: null, inbound_id: null, created_at: this.k.clock.now(),
    });
  }

  /** A staff reply: stored, mailed to every participant, and the ticket waits on the customer. */
  async replyIn(trx: Db, env: SupportEnv, ticket: Ticket, staff: { id: string; name: string }, text: string, uploads: Upload[], via: 'web' | 'email' = 'web'): Promise<Message> {
    const settings = env.settings;
    const now = this.k.clock.now();
    const message = await repo.insertMessage(trx, {
      ticket_id: ticket.id, kind: 'staff', author_email: null, author_name: staff.name, author_staff_id: staff.id, body_text: text,
      body_html: null, via, message_id: null, inbound_id: null, created_at: now,
    });
    const refused = await storeAttachments(this.k, trx, ticket.id, message.id, uploads, settings.attachmentMaxMb);
    if (refused.length) throw new InvalidInput(`Too large to send (limit ${settings.attachmentMaxMb} MB each): ${refused.join(', ')}.`);
    const files = await trx.selectFrom('support_attachments').select(['id', 'filename']).where('message_id', '=', message.id).execute();
    const sentId = await sendReply(this.k, trx, env, ticket, { text, staffName: staff.name, attachmentIds: files });
    if (sentId) await trx.updateTable('support_messages').set({ message_id: sentId }).where('id', '=', message.id).execute();
    await repo.touch(trx, ticket.id, now, nextStatus(ticket.status, 'staff_reply') ?? undefined);
    return message;
  }

  async load(ticketId: string): Promise<Ticket> {
    const t = await repo.ticketById(this.k.db, ticketId);
    if (!t) throw new TicketNotFound();
    return t;
  }

  async reply(ticketId: string, staff: { id: string; name: string }, text: unknown, uploads: Upload[]): Promise<void> {
    const body = cleanText(text, 'text', 'a reply');
    const env = await supportEnv(this.k);
    await this.k.db.transaction().execute(async (trx) => {
      const t = await repo.ticketById(trx, ticketId);
      if (!t || t.merged_into_id) throw new TicketNotFound();
      await this.replyIn(trx, env, t, staff, body, uploads);
    });
  }

  async note(ticketId: string, staffId: string, text: unknown): Promise<void> {
    const body = cleanText(text, 'note', 'a note');
    await this.load(ticketId);
    await this.k.db.transaction().execute(async (trx) => {
      await this.systemNote(trx, ticketId, body, 'note', staffId);
      await repo.touch(trx, ticketId, this.k.clock.now());
    });
  }

  async assign(ticketId: string, assigneeId: string | null, by: string): Promise<void> {
    if (assigneeId && !(await agentById(this.k.db, assigneeId))) throw new InvalidInput('Choose a member of staff who works on tickets.');
    await this.load(ticketId);
    await this.k.db.updateTable('support_tickets').set({ assignee_id: assigneeId, updated_at: this.k.clock.now() }).where('id', '=', ticketId).execute();
    await this.k.audit.record({ actorKind: 'staff', actorId: by, action: 'support.ticket.assigned', target: ticketId, detail: { assigneeId } });
  }

  async setStatus(ticketId: string, to: TicketStatus, by: string): Promise<void> {
    const t = await this.load(ticketId);
    if (t.status === to) return;
    if (!eventFor(t.status, to)) throw new BadTransition(t.status, to);
    await repo.touch(this.k.db, ticketId, this.k.clock.now(), to);
    await this.k.audit.record({ actorKind: 'staff', actorId: by, action: 'support.ticket.status', target: ticketId, detail: { from: t.status, to } });
  }

  async setTags(ticketId: string, raw: unknown): Promise<void> {
    await this.load(ticketId);
    const tags = [...new Set(String(raw ?? '').split(',').map((s) => s.trim().toLowerCase().replace(/\s+/g, '-')).filter(Boolean))];
    if (tags.length > 20 || tags.some((t) => !/^[a-z0-9][a-z0-9._-]{0,39}$/.test(t))) {
      throw Object.assign(new InvalidInput('Tags are words of letters, digits, dots and dashes (at most 40 characters, 20 tags), separated by commas.'), { field: 'tags' });
    }
    await this.k.db.transaction().execute((trx) => repo.setTags(trx, ticketId, tags));
  }

  /** Moves one ticket's conversation, people, files and tags into another; the first closes and points at it. */
  async merge(sourceId: string, targetNumber: unknown, by: string, peopleConfirmed = false): Promise<Ticket> {
    const n = typeof targetNumber === 'string' ? Number(targetNumber.replace(/^#/, '').trim()) : NaN;
    if (!Number.isSafeInteger(n)) throw new MergeRefused('Enter the number of the ticket to merge into, like 1042.');
    return this.k.db.transaction().execute(async (trx) => {
      const found = await repo.ticketByNumber(trx, n);
      if (!found) throw new MergeRefused(`There is no ticket #${n}.`);
      // Two merges at once (A into B while B into A, or B into C): both tickets are locked in one order
      // (PostgreSQL; SQLite runs write transactions one at a time) and read again under the locks, so the
      // second merge sees what the first did instead of making a cycle or stranding messages.
      await lockForUpdate(trx.selectFrom('support_tickets').select('id').where('id', 'in', [sourceId, found.id]).orderBy('id'), this.k.dbh.flags).execute();
      const source = await repo.ticketById(trx, sourceId);
      const target = await repo.ticketById(trx, found.id);
      if (!source || source.merged_into_id) throw new TicketNotFound();
      if (!target) throw new MergeRefused(`There is no ticket #${n}.`);
      if (target.merged_into_id) throw new MergeRefused(`Ticket #${target.number} has just been merged into another ticket: open it to see which, and merge into that one.`);
      if (target.id === source.id) throw new MergeRefused('A ticket cannot be merged into itself.');
      if (target.anonymised_at || source.anonymised_at) throw new MergeRefused('Anonymised tickets cannot be merged.');
      // Everyone on either ticket sees the merged conversation, files included: one mistyped number
      // would show a customer's ticket to a stranger, so tickets of different people need a yes.
      if (!peopleConfirmed && !(await sameRequester(trx, source.id, target.id))) {
        throw new MergeRefused(`Ticket #${target.number} is from someone else, and after merging each would see the other's messages and files. Tick the box to merge anyway.`);
      }
      const now = this.k.clock.now();
      for (const table of ['support_messages', 'support_attachments', 'support_inbound'] as const) {
        await trx.updateTable(table).set({ ticket_id: target.id }).where('ticket_id', '=', source.id).execute();
      }
      for (const p of await repo.participants(trx, source.id)) {
        await repo.addParticipant(trx, { ticketId: target.id, email: p.email, role: 'cc', customerId: p.customer_id, supportUserId: p.support_user_id, now });
      }
      await trx.deleteFrom('support_participants').where('ticket_id', '=', source.id).execute();
      await repo.setTags(trx, target.id, [...new Set([...(await repo.tagsFor(trx, target.id)), ...(await repo.tagsFor(trx, source.id))])]);
      await repo.setTags(trx, source.id, []);
      await trx.updateTable('support_tickets').set({ merged_into_id: target.id, status: 'closed', closed_at: now, updated_at: now }).where('id', '=', source.id).execute();
      await this.systemNote(trx, target.id, `Ticket #${source.number} ("${source.subject}") was merged into this one.`);
      await this.systemNote(trx, source.id, `Merged into #${target.number}.`);
      await repo.touch(trx, target.id, now, target.status === 'closed' ? 'open' : undefined);
      await this.k.audit.record({ actorKind: 'staff', actorId: by, action: 'support.ticket.merged', target: source.id, detail: { into: target.id } }, trx);
      return target;
    });
  }
}

/** Whether two tickets share a requester: the same customer account, or the same address. */
async function sameRequester(db: Db, a: string, b: string): Promise<boolean> {
  const [ra, rb] = await Promise.all([repo.requester(db, a), repo.requester(db, b)]);
  if (!ra || !rb) return false;
  return (ra.customer_id !== null && ra.customer_id === rb.customer_id) || ra.email === rb.email;
}
