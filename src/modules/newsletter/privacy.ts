import { notPersonal, type PersonalField, type PrivacyDeclarations } from '../../kernel/privacy/types.js';

const field = (table: string, column: string, f: Omit<PersonalField, 'location'>): PersonalField => ({ location: { table, column }, ...f });

const UNTIL_UNSUBSCRIBED = { period: 'P30D', from: 'consent_withdrawn' as const, rationale: 'Kept while you are on a list; removed 30 days after you leave the last one (sign-ups never confirmed: after the days set by the vendor, 14 by default). Customers\' choices are kept until the account closes, so an opt-out is remembered.' };
const PROOF = { period: 'P6Y', from: 'consent_withdrawn' as const, rationale: 'Proof of consent is kept for the life of the consent and six years after, the limitation period for claims.' };
const SENDS = { period: 'P1Y', from: 'collection' as const, rationale: 'Which mailings went to you and what came back, to answer questions and to keep bounce and complaint rates in check.' };
const SUBSCRIBERS = ['newsletter_subscriber', 'customer'] as PersonalField['subjects'];

/** The newsletter's personal data: subscribers, their lists, the consent ledger, sends and suppressions. */
export const newsletterPrivacy: PrivacyDeclarations = {
  module: 'newsletter',
  purposes: [
    {
      id: 'newsletter', dataUse: 'marketing.communications.email', lawfulBasis: 'consent',
      description: 'Sending the newsletter (release news, status updates and helpful tips selected from the blog) to people who signed up and confirmed their address.',
      consent: { recordKind: 'newsletter_consent_events (double opt-in: sign-up, then confirmation from the emailed link)', howToWithdraw: 'The unsubscribe link in every email (one click), the email preferences page, My account → Email preferences, or writing to support.' },
    },
    {
      id: 'security_advisories', dataUse: 'essential.service.notifications', lawfulBasis: 'legitimate_interests',
      legitimateInterest: 'Telling customers that a vulnerability was found in software they run and that a security update is available, so their systems stay safe; rare, and each message lets them opt out.',
      description: 'Sending the occasional security advisory to customers, who are enrolled by default and can opt out at any time.',
    },
    {
      id: 'proof_of_consent', dataUse: 'essential.legal', lawfulBasis: 'legal_obligation',
      legalObligation: 'UK GDPR Article 7(1) (a controller relying on consent must be able to demonstrate it) and PECR regulation 22 (consent for marketing email).',
      description: 'Keeping a record of every subscription, confirmation, opt-out and preference change, with the wording shown, to prove consent.',
    },
    {
      id: 'mail_suppression', dataUse: 'essential.service.operations', lawfulBasis: 'legitimate_interests',
      legitimateInterest: 'Never writing again to an address that bounced, complained or asked to be forgotten, and keeping mail deliverable for everyone.',
      description: 'Honouring bounces, spam complaints and erasure requests by keeping a do-not-mail list of hashed addresses.',
    },
  ],
  fields: [
    field('newsletter_subscribers', 'email', { subjects: SUBSCRIBERS, category: 'user.contact.email', label: 'Email address (newsletter and advisories)', purposes: ['newsletter', 'security_advisories'], source: 'data_subject', provision: 'optional', recipients: ['mailing'], retention: UNTIL_UNSUBSCRIBED, onErasure: 'suppression_list', access: true, portable: true, identity: 'email', protection: 'plain', logging: 'never' }),
    field('newsletter_subscribers', 'name', { subjects: SUBSCRIBERS, category: 'user.name', label: 'Name (possibly)', purposes: ['newsletter'], source: 'data_subject', provision: 'optional', recipients: [], retention: UNTIL_UNSUBSCRIBED, onErasure: 'delete', access: true, portable: true, identity: 'email', protection: 'plain', logging: 'never' }),
    field('newsletter_subscribers', 'customer_id', { subjects: ['customer'], category: 'user.unique_id', label: 'Link to your customer account', purposes: ['security_advisories'], source: 'customer_admin', provision: 'contractual', recipients: [], retention: { period: 'P0D', from: 'account_closure', rationale: 'While the account is open.' }, onErasure: 'delete', access: true, portable: false, identity: 'customer_id', protection: 'plain', logging: 'allowed' }),
    ...['created_at', 'updated_at'].map((c) => field('newsletter_subscribers', c, { subjects: SUBSCRIBERS, category: 'user.behavior', label: 'When you joined and last changed your email choices', purposes: ['newsletter', 'security_advisories'], source: 'data_subject', provision: 'optional', recipients: [], retention: UNTIL_UNSUBSCRIBED, onErasure: 'delete', access: true, portable: false, identity: 'email', protection: 'plain', logging: 'allowed' })),
    ...['soft_bounces', 'last_bounce_at'].map((c) => field('newsletter_subscribers', c, { subjects: SUBSCRIBERS, category: 'user.behavior', label: 'Delivery problems with your address (bounces)', purposes: ['mail_suppression'], source: { processor: 'mailing' }, provision: 'optional', recipients: [], retention: UNTIL_UNSUBSCRIBED, onErasure: 'delete', access: true, portable: false, identity: 'email', protection: 'plain', logging: 'allowed' })),
    ...['subscriber_id', 'list_id', 'status', 'created_at', 'updated_at', 'confirmed_at', 'unsubscribed_at'].map((c) => field('newsletter_subscriptions', c, { subjects: SUBSCRIBERS, category: 'user.privacy_preferences', label: 'Which lists you are on, and since when', purposes: ['newsletter', 'security_advisories'], source: 'data_subject', provision: 'optional', recipients: [], retention: UNTIL_UNSUBSCRIBED, onErasure: 'delete', access: true, portable: true, identity: 'email', protection: 'plain', logging: 'allowed' })),
    field('newsletter_consent_events', 'email', { subjects: SUBSCRIBERS, category: 'user.contact.email', label: 'Consent record: the address that agreed or opted out', purposes: ['proof_of_consent'], source: 'data_subject', provision: 'statutory', recipients: [], retention: PROOF, onErasure: { retain: 'legal_obligation' }, access: true, portable: false, identity: 'email', protection: 'plain', logging: 'never' }),
    field('newsletter_consent_events', 'ip', { subjects: SUBSCRIBERS, category: 'user.device.ip_address', label: 'Consent record: IP address', purposes: ['proof_of_consent'], source: 'data_subject', provision: 'statutory', recipients: [], retention: PROOF, onErasure: { retain: 'legal_obligation' }, access: true, portable: false, identity: 'email', protection: 'plain', logging: 'never' }),
    field('newsletter_consent_events', 'user_agent', { subjects: SUBSCRIBERS, category: 'user.device', label: 'Consent record: browser (user agent)', purposes: ['proof_of_consent'], source: 'data_subject', provision: 'statutory', recipients: [], retention: PROOF, onErasure: { retain: 'legal_obligation' }, access: true, portable: false, identity: 'email', protection: 'plain', logging: 'never' }),
    ...['at', 'subscriber_id', 'list_id', 'action', 'source', 'method'].map((c) => field('newsletter_consent_events', c, { subjects: SUBSCRIBERS, category: 'user.privacy_preferences', label: 'Consent record: what you agreed to or stopped, when, where and how', purposes: ['proof_of_consent'], source: 'data_subject', provision: 'statutory', recipients: [], retention: PROOF, onErasure: { retain: 'legal_obligation' }, access: true, portable: false, identity: 'email', protection: 'plain', logging: 'allowed' })),
    field('newsletter_consent_events', 'note', { subjects: SUBSCRIBERS, category: 'user.content.private', label: 'Consent record: how you asked support to unsubscribe you', purposes: ['proof_of_consent'], source: 'staff', provision: 'statutory', recipients: [], retention: PROOF, onErasure: { retain: 'legal_obligation' }, access: true, portable: false, identity: 'email', protection: 'plain', logging: 'never' }),
    field('newsletter_consent_events', 'actor_staff_id', { subjects: ['staff'], category: 'user.unique_id', label: 'Consent record: staff member who acted on a request', purposes: ['proof_of_consent'], source: 'staff', provision: 'statutory', recipients: [], retention: PROOF, onErasure: { retain: 'legal_obligation' }, access: true, portable: false, protection: 'plain', logging: 'allowed' }),
    field('newsletter_suppressions', 'email_hash', { subjects: SUBSCRIBERS, category: 'user.contact.email', label: 'Do-not-mail list (a keyed hash of the address, not the address)', purposes: ['mail_suppression'], source: 'data_subject', provision: 'optional', recipients: [], retention: { period: 'P6Y', from: 'collection', rationale: 'Long enough that an address that bounced, complained or was erased is not written to again.' }, onErasure: { retain: 'legal_obligation' }, access: false, portable: false, protection: 'sha256', logging: 'never' }),
    field('newsletter_suppressions', 'reason', { subjects: SUBSCRIBERS, category: 'user.privacy_preferences', label: 'Why an address is on the do-not-mail list', purposes: ['mail_suppression'], source: 'data_subject', provision: 'optional', recipients: [], retention: { period: 'P6Y', from: 'collection', rationale: 'As the hash it explains.' }, onErasure: { retain: 'legal_obligation' }, access: true, portable: false, identity: 'email', protection: 'plain', logging: 'allowed' }),
    ...['idempotency_key', 'subscriber_id', 'status', 'skip_reason', 'bounce', 'created_at', 'updated_at'].map((c) => field('newsletter_campaign_sends', c, { subjects: SUBSCRIBERS, category: 'user.behavior', label: 'Which mailings we sent you and whether they bounced', purposes: ['newsletter', 'security_advisories', 'mail_suppression'], source: 'staff', provision: 'optional', recipients: [], retention: SENDS, onErasure: 'delete', access: true, portable: false, identity: 'email', protection: 'plain', logging: 'allowed' })),
  ],
  notPersonal: [
    ...notPersonal('newsletter_subscribers', ['id'], 'Random identifier.'),
    ...notPersonal('newsletter_posts', ['id', 'slug', 'title', 'kind', 'summary', 'body_md', 'status', 'published_at', 'created_at', 'updated_at', 'created_by', 'revision'], 'The vendor\'s published blog content; created_by is a staff id.'),
    ...notPersonal('newsletter_subscriptions', ['confirm_token_hash', 'confirm_expires_at'], 'SHA-256 of a random single-use confirmation token, and its expiry.'),
    ...notPersonal('newsletter_consent_events', ['id', 'source_url', 'wording', 'wording_sha256', 'notice_version'], 'The vendor\'s own page address and wording shown, its hash, and the privacy-notice version.'),
    ...notPersonal('newsletter_suppressions', ['created_at', 'created_by'], 'When the entry was made, and the staff id when staff made it.'),
    ...notPersonal('newsletter_campaigns', ['id', 'list_id', 'subject', 'intro_md', 'status', 'created_by', 'created_at', 'updated_at', 'started_at', 'finished_at', 'batch_seq', 'total', 'body_html', 'body_text'], 'The vendor\'s mailing content and its sending state.'),
    ...notPersonal('newsletter_campaign_posts', ['campaign_id', 'post_id', 'position'], 'Which posts a mailing contains.'),
    ...notPersonal('newsletter_post_sends', ['post_id', 'list_id', 'campaign_id', 'post_revision', 'at'], 'Which posts went to which list (so none is sent twice).'),
    ...notPersonal('newsletter_campaign_sends', ['campaign_id', 'outbox_id'], 'References to the mailing and to the outbox message.'),
  ],
};
