import { notPersonal, type PrivacyDeclarations } from './types.js';

/** The kernel's own tables. */
export const kernelPrivacy: PrivacyDeclarations = {
  module: 'kernel',
  purposes: [
    {
      id: 'security', dataUse: 'essential.service.security',
      description: 'Keeping accounts and the service secure: detecting and stopping password guessing, abuse and fraud, and keeping an audit trail of staff actions.',
      lawfulBasis: 'legitimate_interests',
      legitimateInterest: 'Protecting customers\' accounts and the vendor\'s systems from misuse, and being able to investigate incidents.',
    },
    {
      id: 'service_mail', dataUse: 'essential.service.notifications',
      description: 'Sending the emails a service needs: account confirmations, password resets, invoices, licence keys and replies to support requests.',
      lawfulBasis: 'contract',
    },
  ],
  fields: [
    {
      location: { table: 'mail_outbox', column: 'to_addr' }, subjects: ['customer', 'support_user', 'newsletter_subscriber', 'staff'],
      category: 'user.contact.email', label: 'Copies of emails we sent you', purposes: ['service_mail'],
      source: 'data_subject', provision: 'contractual', recipients: [],
      retention: { period: 'P90D', from: 'collection', rationale: 'Kept long enough to answer "did you send it?" and to resend; then deleted.' },
      onErasure: 'delete', access: true, portable: false, identity: 'email', protection: 'plain', logging: 'never',
    },
    {
      location: { table: 'mail_outbox', column: 'subject' }, subjects: ['customer', 'support_user', 'newsletter_subscriber', 'staff'],
      category: 'user.content.private', label: 'Copies of emails we sent you', purposes: ['service_mail'],
      source: 'staff', provision: 'contractual', recipients: [],
      retention: { period: 'P90D', from: 'collection', rationale: 'Same as the recipient address.' },
      onErasure: 'delete', access: true, portable: false, protection: 'plain', logging: 'never',
    },
    {
      location: { table: 'mail_outbox', column: 'text_body' }, subjects: ['customer', 'support_user', 'newsletter_subscriber', 'staff'],
      category: 'user.content.private', label: 'Copies of emails we sent you', purposes: ['service_mail'],
      source: 'staff', provision: 'contractual', recipients: [],
      retention: { period: 'P90D', from: 'collection', rationale: 'Same as the recipient address.' },
      onErasure: 'delete', access: true, portable: false, protection: 'plain', logging: 'never',
    },
    {
      location: { table: 'mail_outbox', column: 'html_body' }, subjects: ['customer', 'support_user', 'newsletter_subscriber', 'staff'],
      category: 'user.content.private', label: 'Copies of emails we sent you', purposes: ['service_mail'],
      source: 'staff', provision: 'contractual', recipients: [],
      retention: { period: 'P90D', from: 'collection', rationale: 'Same as the recipient address.' },
      onErasure: 'delete', access: false, portable: false, protection: 'plain', logging: 'never',
    },
    {
      location: { table: 'mail_outbox', column: 'attachments' }, subjects: ['customer'],
      category: 'user.financial', label: 'Copies of emails we sent you', purposes: ['service_mail'],
      source: 'staff', provision: 'contractual', recipients: [],
      retention: { period: 'P90D', from: 'collection', rationale: 'The invoice itself is kept in billing; the emailed copy is not needed after delivery.' },
      onErasure: 'delete', access: false, portable: false, protection: 'plain', logging: 'never',
    },
    {
      location: { table: 'jobs', column: 'payload' }, subjects: ['customer', 'support_user', 'newsletter_subscriber'],
      category: 'user.contact.email', label: 'Pending work about you (for example a password-reset email to send)', purposes: ['service_mail'],
      source: 'data_subject', provision: 'contractual', recipients: [],
      retention: { period: 'P7D', from: 'collection', rationale: 'Finished jobs are deleted after a week.' },
      onErasure: 'delete', access: false, portable: false, protection: 'plain', logging: 'never',
    },
    {
      location: { table: 'audit_log', column: 'ip' }, subjects: ['customer', 'staff'],
      category: 'user.device.ip_address', label: 'Security log (sign-ins and password changes, with IP address)', purposes: ['security'],
      source: 'data_subject', provision: 'contractual', recipients: [],
      retention: { period: 'P1Y', from: 'collection', rationale: 'Long enough to investigate an account takeover reported late.' },
      onErasure: 'truncate_ip', access: true, portable: false, protection: 'plain', logging: 'allowed',
    },
    {
      location: { table: 'audit_log', column: 'actor_id' }, subjects: ['customer', 'staff'],
      category: 'user.unique_id', label: 'Security log (sign-ins and password changes, with IP address)', purposes: ['security'],
      source: 'staff', provision: 'contractual', recipients: [],
      retention: { period: 'P6Y', from: 'collection', rationale: 'The audit trail supports financial records, kept six years.' },
      onErasure: 'pseudonymise', access: true, portable: false, identity: 'customer_id', protection: 'plain', logging: 'allowed',
    },
    {
      location: { table: 'rate_limits', column: 'key' }, subjects: ['customer', 'installed_software'],
      category: 'user.device.ip_address', label: 'Short-lived counters of requests per IP address or account', purposes: ['security'],
      source: 'data_subject', provision: 'contractual', recipients: [],
      retention: { period: 'PT2H', from: 'collection', rationale: 'A counter is only useful within its window (at most an hour); counters are pruned hourly.' },
      onErasure: 'delete', access: false, portable: false, protection: 'plain', logging: 'never',
    },
    {
      location: { log: 'http', field: 'req.remoteAddress' }, subjects: ['customer', 'support_user', 'installed_software', 'staff'],
      category: 'user.device.ip_address', label: 'IP address in the server log', purposes: ['security'],
      source: 'data_subject', provision: 'contractual', recipients: [],
      retention: { period: 'P14D', from: 'collection', rationale: 'Server logs rotate after two weeks.' },
      onErasure: 'delete', access: false, portable: false, protection: 'plain', logging: 'allowed',
    },
  ],
  notPersonal: [
    ...notPersonal('settings', ['key', 'value', 'updated_at', 'updated_by'], 'Vendor configuration (seller details, SMTP…); updated_by is a staff id.'),
    ...notPersonal('jobs', ['id', 'name', 'status', 'attempts', 'max_attempts', 'run_at', 'locked_by', 'locked_until', 'last_error', 'idempotency_key', 'created_at', 'finished_at'], 'Job bookkeeping; errors are written without personal values.'),
    ...notPersonal('job_schedules', ['name', 'interval_ms', 'next_run_at', 'last_run_at'], 'Schedule of periodic jobs.'),
    ...notPersonal('mail_outbox', ['id', 'from_addr', 'headers', 'category', 'status', 'attempts', 'last_error', 'message_id', 'created_at', 'sent_at'], 'Delivery bookkeeping; the sender is the vendor.'),
    ...notPersonal('mail_outbox', ['claimed_by', 'claimed_at', 'claim_until'], 'Which worker process was sending the message, and when: delivery bookkeeping.'),
    ...notPersonal('mail_outbox', ['envelope_from'], 'The vendor\'s bounce address; for list mail it carries a random-looking signed token (VERP) that names no one by itself.'),
    ...notPersonal('audit_log', ['id', 'at', 'actor_kind', 'action', 'target', 'detail'], 'What happened and when; details hold ids, never personal values.'),
    ...notPersonal('rate_limits', ['window_start', 'count'], 'Counter values.'),
    ...notPersonal('signing_keys', ['kid', 'algorithm', 'public_key', 'private_key_sealed', 'status', 'created_at', 'retired_at'], 'The vendor\'s signing keys.'),
    ...notPersonal('kysely_migration', ['name', 'timestamp'], 'Which migrations ran.'),
    ...notPersonal('kysely_migration_lock', ['id', 'is_locked'], 'Migration lock.'),
  ],
};
