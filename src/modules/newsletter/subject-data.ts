import type { Kernel } from '../../kernel/context.js';
import { DAY_MS, addMonths } from '../../kernel/clock.js';
import { consentHistory } from './consent.js';
import { suppress, suppressionReason } from './suppression.js';
import { normaliseEmail, subscriberByEmail, subscriptionsOf } from './subscriptions.service.js';
import { loadNewsletterSettings } from './newsletter.settings.js';

/**
 * What the privacy module needs from the newsletter: everything held about an email address (subject
 * access), and erasure. Erasure deletes the subscriber (their lists and send rows go with it) and adds a
 * suppression entry so they are never written to again; the consent ledger is kept (legal obligation:
 * the vendor must be able to prove consent, UK GDPR Art. 7(1)).
 */
export async function exportNewsletterData(k: Kernel, emailRaw: string) {
  const email = normaliseEmail(emailRaw);
  const s = await subscriberByEmail(k.db, email);
  const subscriptions = s ? await subscriptionsOf(k.db, s.id) : [];
  const sends = s
    ? await k.db.selectFrom('newsletter_campaign_sends as x').innerJoin('newsletter_campaigns as c', 'c.id', 'x.campaign_id')
      .select(['c.subject', 'c.list_id', 'x.status', 'x.bounce', 'x.updated_at']).where('x.subscriber_id', '=', s.id).orderBy('x.updated_at').execute()
    : [];
  return {
    subscriber: s ? { email: s.email, name: s.name, customerId: s.customer_id, createdAt: s.created_at, softBounces: s.soft_bounces, lastBounceAt: s.last_bounce_at } : null,
    lists: subscriptions.map((x) => ({ list: x.list_id, status: x.status, since: x.created_at, confirmedAt: x.confirmed_at, unsubscribedAt: x.unsubscribed_at })),
    messagesSent: sends.map((x) => ({ subject: x.subject, list: x.list_id, status: x.status, bounce: x.bounce, at: x.updated_at })),
    consentRecords: (await consentHistory(k.db, email)).map((e) => ({
      at: e.at, list: e.list_id, action: e.action, source: e.source, sourceUrl: e.source_url, method: e.method, ip: e.ip, userAgent: e.user_agent,
      wording: e.wording, wordingSha256: e.wording_sha256, noticeVersion: e.notice_version,
    })),
    suppressed: await suppressionReason(k, email),
  };
}

export async function eraseNewsletterData(k: Kernel, emailRaw: string, by: string | null): Promise<{ subscriberDeleted: boolean; suppressed: true; consentRecordsKept: number }> {
  const email = normaliseEmail(emailRaw);
  let deleted = false;
  await k.db.transaction().execute(async (trx) => {
    const r = await trx.deleteFrom('newsletter_subscribers').where('email', '=', email).executeTakeFirst();
    deleted = Number(r.numDeletedRows) > 0;
    await suppress(k, email, 'erasure', by, trx);
    await k.audit.record({ actorKind: by ? 'staff' : 'system', actorId: by, action: 'newsletter.erased', detail: { subscriberDeleted: deleted } }, trx);
  });
  return { subscriberDeleted: deleted, suppressed: true, consentRecordsKept: (await consentHistory(k.db, email)).length };
}

/**
 * Daily retention: sign-ups never confirmed are removed after the configured days; a person who is on no
 * list any more (and is not a customer, whose opt-out must be remembered) is removed after 30 days;
 * the record of which mailings went to whom after a year; suppression entries after six years; and a
 * person's consent records for a list six years after their last one, when that one withdrew consent.
 */
export async function applyRetention(k: Kernel): Promise<{ unconfirmedSignups: number; peopleRemoved: number; mailingsSent: number; suppressions: number; consentRecords: number }> {
  const s = await loadNewsletterSettings(k);
  const now = k.clock.now();
  const cutoff = now - 30 * DAY_MS;
  const stale = await k.db.deleteFrom('newsletter_subscriptions').where('status', '=', 'pending').where('updated_at', '<', now - s.unconfirmedDays * DAY_MS).executeTakeFirst();
  // Each delete is one statement, and a sign-up writes the person and their list row in one transaction,
  // so nobody is caught half-made.
  const orphans = await k.db.deleteFrom('newsletter_subscribers').where('customer_id', 'is', null)
    .where((eb) => eb.not(eb.exists(eb.selectFrom('newsletter_subscriptions as l').select('l.subscriber_id').whereRef('l.subscriber_id', '=', 'newsletter_subscribers.id'))))
    .executeTakeFirst();
  const withdrawn = await k.db.deleteFrom('newsletter_subscribers').where('customer_id', 'is', null)
    .where((eb) => eb.not(eb.exists(eb.selectFrom('newsletter_subscriptions as l').select('l.subscriber_id')
      .whereRef('l.subscriber_id', '=', 'newsletter_subscribers.id')
      .where((w) => w.or([w('l.status', '!=', 'unsubscribed'), w('l.updated_at', '>=', cutoff)])))))
    .executeTakeFirst();
  const sends = await k.db.deleteFrom('newsletter_campaign_sends').where('created_at', '<', addMonths(now, -12)).executeTakeFirst();
  const suppressions = await k.db.deleteFrom('newsletter_suppressions').where('created_at', '<', addMonths(now, -6 * 12)).executeTakeFirst();
  return {
    unconfirmedSignups: Number(stale.numDeletedRows), peopleRemoved: Number(orphans.numDeletedRows) + Number(withdrawn.numDeletedRows),
    mailingsSent: Number(sends.numDeletedRows), suppressions: Number(suppressions.numDeletedRows),
    consentRecords: await pruneWithdrawnConsent(k, now - CONSENT_PROOF_MS),
  };
}

/**
 * Six years of 365.25 days: the database's own guard on the ledger (migration 2026-11-25T1510) refuses to
 * delete a record younger than this, so the job uses the very same span.
 */
const CONSENT_PROOF_MS = 189_345_600_000;

/** Deletes the consent records of each (address, list) whose newest record withdrew consent before `cutoff`. */
async function pruneWithdrawnConsent(k: Kernel, cutoff: number): Promise<number> {
  const pairs = await k.db.selectFrom('newsletter_consent_events').select(['email', 'list_id', (eb) => eb.fn.max('at').as('last')])
    .groupBy(['email', 'list_id']).having((eb) => eb.fn.max('at'), '<', cutoff).execute();
  let deleted = 0;
  for (const p of pairs) {
    await k.db.transaction().execute(async (trx) => {
      const newest = await trx.selectFrom('newsletter_consent_events').select(['action', 'at']).where('email', '=', p.email).where('list_id', '=', p.list_id)
        .orderBy('at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
      // Read again inside the transaction: a record written since the listing keeps the history.
      if (!newest || newest.action !== 'unsubscribe' || Number(newest.at) >= cutoff) return;
      deleted += Number((await trx.deleteFrom('newsletter_consent_events').where('email', '=', p.email).where('list_id', '=', p.list_id).executeTakeFirst()).numDeletedRows);
    });
  }
  return deleted;
}
