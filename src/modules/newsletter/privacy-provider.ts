import type { SubjectDataProvider } from '../../kernel/privacy/subject-data.js';
import { eraseNewsletterData } from './subject-data.js';
import { suppressionHash } from './tokens.js';

/**
 * The newsletter for the privacy module: subscriber, lists, sends, consent ledger and suppression entry.
 * Erasure deletes the subscriber with their lists and sends, and suppresses the address; the consent ledger
 * stays (proof of consent, legal obligation).
 */
export const newsletterSubjectData: SubjectDataProvider = {
  module: 'newsletter',
  tables: ['newsletter_subscribers', 'newsletter_subscriptions', 'newsletter_consent_events', 'newsletter_suppressions', 'newsletter_campaign_sends'],
  async export(k, s) {
    const subs = await k.db.selectFrom('newsletter_subscribers').selectAll().where((eb) => eb.or([
      eb('email', '=', s.email), ...(s.customerIds.length ? [eb('customer_id', 'in', s.customerIds)] : []),
    ])).execute();
    const ids = subs.map((x) => x.id);
    return [
      { table: 'newsletter_subscribers', rows: subs },
      { table: 'newsletter_subscriptions', rows: ids.length ? await k.db.selectFrom('newsletter_subscriptions').selectAll().where('subscriber_id', 'in', ids).execute() : [] },
      { table: 'newsletter_campaign_sends', rows: ids.length ? await k.db.selectFrom('newsletter_campaign_sends').selectAll().where('subscriber_id', 'in', ids).execute() : [] },
      { table: 'newsletter_consent_events', rows: await k.db.selectFrom('newsletter_consent_events').selectAll().where('email', '=', s.email).orderBy('at').execute() },
      { table: 'newsletter_suppressions', rows: await k.db.selectFrom('newsletter_suppressions').selectAll().where('email_hash', '=', suppressionHash(k.secrets, s.email)).execute() },
    ];
  },
  async erase(k, s, ctx) {
    const subs = await k.db.selectFrom('newsletter_subscribers').select(['id', 'email']).where((eb) => eb.or([
      eb('email', '=', s.email), ...(s.customerIds.length ? [eb('customer_id', 'in', s.customerIds)] : []),
    ])).execute();
    const ids = subs.map((x) => x.id);
    // Send rows would outlive the subscriber (their foreign key is ON DELETE SET NULL); they are about the person, so they go.
    const sends = ids.length ? Number((await k.db.deleteFrom('newsletter_campaign_sends').where('subscriber_id', 'in', ids).executeTakeFirst()).numDeletedRows) : 0;
    let deleted = 0;
    let kept = 0;
    for (const email of new Set([s.email, ...subs.map((x) => x.email)])) {
      const r = await eraseNewsletterData(k, email, ctx.by);
      if (r.subscriberDeleted) deleted++;
      kept += r.consentRecordsKept;
    }
    return {
      counts: { newsletter_subscribers: deleted, newsletter_campaign_sends: sends },
      kept: [
        'Your address is on our suppression list (as a one-way fingerprint), so no mailing reaches you again.',
        ...(kept ? ['The record of your newsletter consents and opt-outs is kept for six years, to prove consent as the law requires.'] : []),
      ],
    };
  },
};
