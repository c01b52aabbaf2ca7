import type { SubjectDataProvider } from '../../kernel/privacy/subject-data.js';
import { eraseSupportData } from './privacy-data.js';

/** The helpdesk for the privacy module (export of raw rows; erasure through eraseSupportData). */
export const supportSubjectData: SubjectDataProvider = {
  module: 'support',
  tables: ['support_users', 'support_tickets', 'support_participants', 'support_messages', 'support_attachments', 'support_inbound', 'support_autoreplies', 'support_forum_threads', 'support_forum_posts'],
  async export(k, s) {
    const parts = await k.db.selectFrom('support_participants').selectAll().where((eb) => eb.or([
      eb('email', '=', s.email), ...(s.customerIds.length ? [eb('customer_id', 'in', s.customerIds)] : []),
    ])).execute();
    const ticketIds = [...new Set(parts.map((p) => p.ticket_id))];
    const byTicket = ticketIds.length > 0;
    return [
      { table: 'support_users', rows: await k.db.selectFrom('support_users').selectAll().where('email', '=', s.email).execute() },
      { table: 'support_participants', rows: parts },
      { table: 'support_tickets', rows: byTicket ? await k.db.selectFrom('support_tickets').selectAll().where('id', 'in', ticketIds).execute() : [] },
      { table: 'support_messages', rows: byTicket ? await k.db.selectFrom('support_messages').selectAll().where('ticket_id', 'in', ticketIds).orderBy('created_at').execute() : [] },
      { table: 'support_attachments', rows: byTicket ? await k.db.selectFrom('support_attachments').select(['id', 'ticket_id', 'message_id', 'filename', 'content_type', 'size', 'created_at']).where('ticket_id', 'in', ticketIds).execute() : [] },
      { table: 'support_inbound', rows: await k.db.selectFrom('support_inbound').select(['id', 'ticket_id', 'envelope_from', 'kind', 'received_at']).where((eb) => eb.or([
        eb('envelope_from', '=', s.email), ...(byTicket ? [eb('ticket_id', 'in', ticketIds)] : []),
      ])).execute() },
      ...(s.customerIds.length ? [
        { table: 'support_forum_threads', rows: await k.db.selectFrom('support_forum_threads').selectAll().where('author_customer_id', 'in', s.customerIds).execute() },
        { table: 'support_forum_posts', rows: await k.db.selectFrom('support_forum_posts').selectAll().where('author_customer_id', 'in', s.customerIds).execute() },
      ] : []),
    ];
  },
  async erase(k, s) {
    const counts: Record<string, number> = { support_tickets_anonymised: 0, support_tickets_redacted: 0, support_forum_posts: 0 };
    for (const customerId of s.customerIds.length ? s.customerIds : [undefined]) {
      const r = await eraseSupportData(k, s.email, customerId);
      counts.support_tickets_anonymised! += r.ticketsAnonymised;
      counts.support_tickets_redacted! += r.ticketsRedacted;
      counts.support_forum_posts! += r.forumPosts;
    }
    return { counts, kept: [] };
  },
};
