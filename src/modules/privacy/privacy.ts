import { notPersonal, type PersonalField, type PrivacyDeclarations } from '../../kernel/privacy/types.js';

const field = (table: string, column: string, f: Omit<PersonalField, 'location'>): PersonalField => ({ location: { table, column }, ...f });

const TESTIMONIAL = {
  subjects: ['customer'] as PersonalField['subjects'], purposes: ['testimonials'], source: 'data_subject' as const, provision: 'optional' as const,
  recipients: [], retention: { period: 'P30D', from: 'consent_withdrawn' as const, rationale: 'Shown while you allow it; removed from the site at once when you withdraw permission, and deleted 30 days later.' },
  onErasure: 'delete' as const, access: true, portable: true, protection: 'plain' as const, logging: 'never' as const,
};

/** The privacy module's own data: the erasure journal, request log, processor notices, retention runs and testimonials. */
export const privacyPrivacy: PrivacyDeclarations = {
  module: 'privacy',
  purposes: [
    {
      id: 'data_protection_rights', dataUse: 'essential.legal', lawfulBasis: 'legal_obligation',
      legalObligation: 'UK GDPR Articles 5(2), 12, 15, 17 and 19: answering access and erasure requests, proving it, and making sure an erasure stays done after a restore from backup.',
      description: 'Recording that a subject-access or erasure request was answered, and keeping a one-way fingerprint of erased addresses so an erasure is re-applied if an older backup is ever restored.',
    },
    {
      id: 'testimonials', dataUse: 'marketing.advertising.first_party', lawfulBasis: 'consent',
      description: 'Showing a customer\'s comment about our software, with the name and company they chose, on our website.',
      consent: { recordKind: 'newsletter_consent_events (list "testimonials": permission given and withdrawn, with the wording shown)', howToWithdraw: 'My account → Your data → Withdraw permission, or writing to us; the comment disappears at once.' },
    },
  ],
  fields: [
    field('privacy_erasure_journal', 'subject_hash', {
      subjects: ['customer', 'support_user', 'newsletter_subscriber'], category: 'user.contact.email', label: 'Fingerprint of an erased email address',
      purposes: ['data_protection_rights'], source: 'data_subject', provision: 'statutory', recipients: [],
      retention: { period: 'P6Y', from: 'collection', rationale: 'As long as backups taken before the erasure may be restored, and the limitation period for claims.' },
      onErasure: { retain: 'legal_obligation' }, access: false, portable: false, protection: 'sha256', logging: 'never',
    }),
    field('privacy_requests', 'subject_hash', {
      subjects: ['customer', 'support_user', 'newsletter_subscriber'], category: 'user.contact.email', label: 'Record of your data-protection requests',
      purposes: ['data_protection_rights'], source: 'data_subject', provision: 'statutory', recipients: [],
      retention: { period: 'P6Y', from: 'collection', rationale: 'Proof that a request was answered, for the limitation period for claims.' },
      onErasure: { retain: 'legal_obligation' }, access: false, portable: false, protection: 'sha256', logging: 'never',
    }),
    field('privacy_requests', 'requested_by_id', {
      subjects: ['customer', 'staff'], category: 'user.unique_id', label: 'Record of your data-protection requests',
      purposes: ['data_protection_rights'], source: 'staff', provision: 'statutory', recipients: [],
      retention: { period: 'P6Y', from: 'collection', rationale: 'Proof of who asked and who answered.' },
      onErasure: 'pseudonymise', access: false, portable: false, protection: 'plain', logging: 'allowed',
    }),
    field('privacy_testimonials', 'customer_id', { ...TESTIMONIAL, category: 'user.unique_id', label: 'Your published comment', identity: 'customer_id' }),
    field('privacy_testimonials', 'email', { ...TESTIMONIAL, category: 'user.contact.email', label: 'Your published comment', identity: 'email' }),
    field('privacy_testimonials', 'display_name', { ...TESTIMONIAL, category: 'user.name', label: 'Your published comment', identity: 'customer_id' }),
    field('privacy_testimonials', 'company', { ...TESTIMONIAL, category: 'user.workplace', label: 'Your published comment', identity: 'customer_id' }),
    field('privacy_testimonials', 'body', { ...TESTIMONIAL, category: 'user.content.public', label: 'Your published comment', identity: 'customer_id' }),
  ],
  notPersonal: [
    ...notPersonal('privacy_requests', ['id', 'kind', 'requested_by_kind', 'summary', 'created_at'], 'What kind of request and when; the summary holds counts and table names only.'),
    ...notPersonal('privacy_erasure_journal', ['erased_at', 'reapplied_at'], 'When.'),
    ...notPersonal('privacy_processor_notices', ['id', 'request_id', 'processor_id', 'method', 'status', 'created_at', 'done_at'], 'Which processor still has to be told about an erasure; names no one.'),
    ...notPersonal('privacy_retention_runs', ['id', 'started_at', 'finished_at', 'report', 'failures'], 'Counts of what each retention rule removed.'),
    ...notPersonal('privacy_testimonials', ['id', 'created_at', 'updated_at'], 'Bookkeeping.'),
  ],
};
