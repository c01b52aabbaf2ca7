import { notPersonal, type PersonalField, type PrivacyDeclarations } from '../../kernel/privacy/types.js';

/**
 * The helpdesk's personal data (privacy notice, "Technical support users"): the email address, the name
 * when people give it, and whatever they volunteer in their requests. Closed tickets are anonymised after
 * the period the vendor sets in Support settings (default 730 days); the declared period is that default.
 */
const AFTER_CLOSING = { period: 'P730D', from: 'ticket_closed' as const, rationale: 'Kept so follow-ups and repeated problems can be handled; the vendor sets the period in Support settings (default two years), then the ticket is anonymised.' };
const FORUM = { period: 'P0D', from: 'account_closure' as const, rationale: 'Public posts stay while the forum runs; on erasure or account closure the author is removed and the text deleted.' };

const ticketField = (table: string, column: string, f: Partial<PersonalField> & Pick<PersonalField, 'category' | 'label'>): PersonalField => ({
  location: { table, column }, subjects: ['support_user', 'customer'], purposes: ['support'], source: 'data_subject', provision: 'optional',
  recipients: ['helpdesk'], retention: AFTER_CLOSING, onErasure: 'delete', access: true, portable: true, identity: 'email',
  protection: 'plain', logging: 'never', ...f,
});

const forumField = (table: string, column: string, f: Partial<PersonalField> & Pick<PersonalField, 'category' | 'label'>): PersonalField => ({
  location: { table, column }, subjects: ['customer'], purposes: ['support_community'], source: 'data_subject', provision: 'optional',
  recipients: [], retention: FORUM, onErasure: 'pseudonymise', access: true, portable: true, identity: 'customer_id',
  protection: 'plain', logging: 'never', ...f,
});

export const supportPrivacy: PrivacyDeclarations = {
  module: 'support',
  purposes: [
    {
      id: 'support', dataUse: 'essential.service.operations', lawfulBasis: 'legitimate_interests',
      description: 'Providing the technical support people ask for by email or the contact form: answering them by email, keeping the conversation, and acknowledging requests automatically.',
      legitimateInterest: 'Helping the people who use our software when they ask us for help, and keeping the conversation so that follow-ups and repeated problems can be handled well.',
    },
    {
      id: 'support_community', dataUse: 'essential.service', lawfulBasis: 'legitimate_interests',
      description: 'Running the public knowledge base and the community forum, where signed-in customers ask questions and help each other.',
      legitimateInterest: 'Letting users of our software find answers themselves and help one another, in a forum they choose to post in.',
    },
  ],
  fields: [
    ticketField('support_users', 'email', { category: 'user.contact.email', label: 'Email address', provision: 'contractual', logging: 'masked' }),
    ticketField('support_users', 'name', { category: 'user.name', label: 'Name (if you gave it)' }),
    ...['created_at', 'last_seen_at'].map((c) => ticketField('support_users', c, { category: 'user.behavior', label: 'When you first and last wrote to support', recipients: [], portable: false, logging: 'allowed' })),
    ticketField('support_tickets', 'subject', { category: 'user.content.private', label: 'Subject of your request' }),
    ticketField('support_participants', 'email', { category: 'user.contact.email', label: 'Email address (on the requests you take part in)', provision: 'contractual', logging: 'masked' }),
    ticketField('support_participants', 'customer_id', { category: 'user.unique_id', label: 'Your customer account, linked to your requests', recipients: [], portable: false, identity: 'customer_id' }),
    ticketField('support_participants', 'support_user_id', { category: 'user.unique_id', label: 'Your support record, linked to your requests', recipients: [], portable: false }),
    ticketField('support_messages', 'author_email', { category: 'user.contact.email', label: 'Email address (on your messages)' }),
    ticketField('support_messages', 'author_name', { category: 'user.name', label: 'Name (on your messages, if your email carried one)' }),
    ticketField('support_messages', 'body_text', { category: 'user.content.private', label: 'What you wrote to us, and our replies' }),
    ticketField('support_messages', 'body_html', { category: 'user.content.private', label: 'What you wrote to us (formatted)', portable: false }),
    ticketField('support_tickets', 'ack_message_id', { category: 'user.unique_id', label: 'Email message identifiers (for threading replies)', recipients: [], access: false, portable: false }),
    ticketField('support_messages', 'message_id', { category: 'user.unique_id', label: 'Email message identifiers (for threading replies)', recipients: [], access: false, portable: false }),
    ticketField('support_attachments', 'filename', { category: 'user.content.private', label: 'Files you sent (the name; the file is kept on our server and removed with the request)' }),
    ticketField('support_inbound', 'dedupe_key', { category: 'user.unique_id', label: 'Identifiers of the emails you sent to support (to skip duplicates)', recipients: [], access: false, portable: false, onErasure: 'pseudonymise' }),
    ticketField('support_inbound', 'envelope_from', { category: 'user.contact.email', label: 'Sending address of the emails you sent to support', recipients: [], portable: false, onErasure: 'null' }),
    {
      location: { table: 'support_autoreplies', column: 'sender_hash' }, subjects: ['support_user', 'customer'], category: 'user.contact.email',
      label: 'Automatic replies we sent you (a hashed address, to send at most a few)', purposes: ['support', 'security'], source: 'data_subject',
      provision: 'contractual', recipients: [], retention: { period: 'P7D', from: 'collection', rationale: 'Only the last hours count for the limit; older entries are deleted daily.' },
      onErasure: 'delete', access: false, portable: false, protection: 'sha256', logging: 'never',
    },
    forumField('support_forum_threads', 'title', { category: 'user.content.public', label: 'Forum topics you started (title)', onErasure: 'delete' }),
    forumField('support_forum_threads', 'author_customer_id', { category: 'user.unique_id', label: 'Your account, linked to your forum topics', portable: false }),
    forumField('support_forum_threads', 'author_name', { category: 'user.name', label: 'Name shown on your forum topics (first name and initial)' }),
    forumField('support_forum_posts', 'body', { category: 'user.content.public', label: 'Your forum posts', onErasure: 'delete' }),
    forumField('support_forum_posts', 'author_customer_id', { category: 'user.unique_id', label: 'Your account, linked to your forum posts', portable: false }),
    forumField('support_forum_posts', 'author_name', { category: 'user.name', label: 'Name shown on your forum posts (first name and initial)' }),
  ],
  notPersonal: [
    ...notPersonal('support_users', ['id'], 'Random identifier.'),
    ...notPersonal('support_tickets', ['id', 'number', 'mailbox', 'status', 'channel', 'assignee_id', 'merged_into_id', 'created_at', 'updated_at', 'closed_at', 'anonymised_at'], 'Ticket bookkeeping; the assignee is a staff id, the mailbox is ours.'),
    ...notPersonal('support_participants', ['id', 'ticket_id', 'role', 'added_at'], 'Links people to tickets.'),
    ...notPersonal('support_messages', ['id', 'ticket_id', 'kind', 'author_staff_id', 'via', 'inbound_id', 'created_at'], 'Message bookkeeping; the author is a staff id for replies.'),
    ...notPersonal('support_tags', ['ticket_id', 'tag'], 'Staff labels for tickets, from a short vocabulary.'),
    ...notPersonal('support_attachments', ['id', 'ticket_id', 'message_id', 'content_type', 'size', 'sha256', 'stored_path', 'created_at'], 'File bookkeeping; stored under a random name.'),
    ...notPersonal('support_inbound', ['id', 'mailbox', 'kind', 'disposition', 'ticket_id', 'support_message_id', 'raw_path', 'size', 'error', 'received_at'], 'What the mail intake did with a message; the original is a file removed with the ticket.'),
    ...notPersonal('support_autoreplies', ['id', 'sent_at'], 'When an automatic reply went out.'),
    ...notPersonal('support_canned_replies', ['id', 'title', 'body', 'created_by', 'created_at', 'updated_at'], 'Staff-written answer templates.'),
    ...notPersonal('support_sequences', ['name', 'value'], 'The next ticket number.'),
    ...notPersonal('support_kb_categories', ['id', 'slug', 'name', 'position'], 'Knowledge-base structure.'),
    ...notPersonal('support_kb_articles', ['id', 'slug', 'category_id', 'title', 'body', 'published', 'created_by', 'created_at', 'updated_at'], 'Articles written by staff.'),
    ...notPersonal('support_forum_categories', ['id', 'slug', 'name', 'description', 'position'], 'Forum structure.'),
    ...notPersonal('support_forum_threads', ['id', 'category_id', 'accepted_post_id', 'locked', 'hidden', 'created_at', 'last_post_at'], 'Forum bookkeeping.'),
    ...notPersonal('support_forum_posts', ['id', 'thread_id', 'author_staff_id', 'hidden', 'created_at'], 'Forum bookkeeping; staff posts carry a staff id.'),
  ],
};
