/** The helpdesk's tables: tickets and their conversation, mail intake, knowledge base and forum. */
export type TicketStatus = 'open' | 'pending' | 'closed' | 'spam';
export type MessageKind = 'customer' | 'staff' | 'note' | 'system';
export type InboundDisposition =
  | 'new_ticket' | 'appended' | 'staff_reply' | 'bounce' | 'bounce_unmatched' | 'failed';

/** People who wrote to support without a customer account: only what they volunteered. */
export interface SupportUsersTable {
  id: string;
  email: string;
  name: string | null;
  created_at: number;
  last_seen_at: number;
}

export interface SupportTicketsTable {
  id: string;
  /** The public number shown to people and used in `[#1234]` subject tokens. */
  number: number;
  mailbox: string;
  subject: string;
  status: TicketStatus;
  channel: 'email' | 'web';
  assignee_id: string | null;
  merged_into_id: string | null;
  created_at: number;
  updated_at: number;
  closed_at: number | null;
  anonymised_at: number | null;
  /** Our signed Message-ID of the automatic acknowledgement (replies thread under it); null when none was sent. */
  ack_message_id: string | null;
}

export interface SupportParticipantsTable {
  id: string;
  ticket_id: string;
  email: string;
  role: 'requester' | 'cc';
  customer_id: string | null;
  support_user_id: string | null;
  added_at: number;
}

export interface SupportMessagesTable {
  id: string;
  ticket_id: string;
  kind: MessageKind;
  author_email: string | null;
  author_name: string | null;
  author_staff_id: string | null;
  body_text: string;
  body_html: string | null;
  via: 'email' | 'web' | 'system';
  /** RFC 5322 Message-ID: the incoming one, or the one we gave the first copy of a staff reply. */
  message_id: string | null;
  inbound_id: string | null;
  created_at: number;
}

export interface SupportTagsTable {
  ticket_id: string;
  tag: string;
}

export interface SupportAttachmentsTable {
  id: string;
  ticket_id: string;
  message_id: string;
  filename: string;
  content_type: string;
  size: number;
  sha256: string;
  /** Relative to `${dataDir}/files/support/`; never derived from the sender's file name. */
  stored_path: string;
  created_at: number;
}

/** Every message that reached the support mailbox, stored before anything else happens to it. */
export interface SupportInboundTable {
  id: string;
  mailbox: string;
  /** The Message-ID, or `sha256:<hex>` of the raw message when it has none. */
  dedupe_key: string;
  envelope_from: string | null;
  kind: 'normal' | 'bounce' | 'auto';
  disposition: InboundDisposition;
  ticket_id: string | null;
  support_message_id: string | null;
  raw_path: string | null;
  size: number;
  error: string | null;
  received_at: number;
}

/** Automatic acknowledgements sent, per sender (hashed), for RFC 3834 rate limiting. */
export interface SupportAutorepliesTable {
  id: string;
  sender_hash: string;
  sent_at: number;
}

export interface SupportCannedRepliesTable {
  id: string;
  title: string;
  body: string;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

export interface SupportSequencesTable {
  name: string;
  value: number;
}

export interface SupportKbCategoriesTable {
  id: string;
  slug: string;
  name: string;
  position: number;
}

export interface SupportKbArticlesTable {
  id: string;
  slug: string;
  category_id: string | null;
  title: string;
  body: string;
  published: number;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

export interface SupportForumCategoriesTable {
  id: string;
  slug: string;
  name: string;
  description: string;
  position: number;
}

export interface SupportForumThreadsTable {
  id: string;
  category_id: string;
  title: string;
  author_customer_id: string | null;
  author_name: string;
  accepted_post_id: string | null;
  locked: number;
  hidden: number;
  created_at: number;
  last_post_at: number;
}

export interface SupportForumPostsTable {
  id: string;
  thread_id: string;
  author_customer_id: string | null;
  author_staff_id: string | null;
  author_name: string;
  body: string;
  hidden: number;
  created_at: number;
}

declare module '../../kernel/db/schema.js' {
  interface Database {
    support_users: SupportUsersTable;
    support_tickets: SupportTicketsTable;
    support_participants: SupportParticipantsTable;
    support_messages: SupportMessagesTable;
    support_tags: SupportTagsTable;
    support_attachments: SupportAttachmentsTable;
    support_inbound: SupportInboundTable;
    support_autoreplies: SupportAutorepliesTable;
    support_canned_replies: SupportCannedRepliesTable;
    support_sequences: SupportSequencesTable;
    support_kb_categories: SupportKbCategoriesTable;
    support_kb_articles: SupportKbArticlesTable;
    support_forum_categories: SupportForumCategoriesTable;
    support_forum_threads: SupportForumThreadsTable;
    support_forum_posts: SupportForumPostsTable;
  }
}
