import type { Kernel } from '../../kernel/context.js';
import { loadBrand } from '../../kernel/views/brand.js';
import { LISTS } from './lists.js';
import { composeListMail } from './list-mail.js';
import { suppressedHashes } from './suppression.js';
import { suppressionHash } from './tokens.js';
import { loadNewsletterSettings, sendingIdentity } from './newsletter.settings.js';
import { SEND_BATCH_JOB } from './campaigns.service.js';

/** At most this many messages go to the outbox in one transaction, whatever the rate. */
const MAX_BATCH = 200;

/**
 * Sends a campaign in batches, each a job. A batch hands up to `rate` messages a minute to the outbox and
 * queues the next batch for when the rate allows. Nobody gets a message twice, across crashes and restarts:
 *  - the batch claims the campaign's batch counter by compare-and-set, so each batch number runs once;
 *  - each recipient's send row goes from pending to queued by compare-and-set, in the same transaction as
 *    the outbox insert, so a crash before commit undoes both and a rerun finds the row still pending;
 *  - the next batch is queued in that transaction too, under an idempotency key.
 * Suppression and unsubscribes are checked again for every recipient at send time. Past the outbox the
 * kernel's mailer delivers each message at most once: a message whose SMTP conversation was cut short by a
 * crash is held as 'uncertain' for staff (see Mailer.deliver), never re-sent by itself.
 */
export function registerSender(k: Kernel): void {
  k.jobs.register(SEND_BATCH_JOB, async (p: { campaignId: string; seq: number }) => runBatch(k, p.campaignId, p.seq));
}

export async function runBatch(k: Kernel, campaignId: string, seq: number): Promise<void> {
  // Everything that reads settings is read before the transaction (SQLite has one connection).
  const settings = await loadNewsletterSettings(k);
  const identity = await sendingIdentity(k, settings);
  const brand = await loadBrand(k.settings);
  const batchSize = Math.max(1, Math.min(settings.ratePerMinute, MAX_BATCH));
  const intervalMs = Math.ceil((batchSize / settings.ratePerMinute) * 60_000);

  await k.db.transaction().execute(async (trx) => {
    const now = k.clock.now();
    const won = await trx.updateTable('newsletter_campaigns').set({ batch_seq: seq + 1, updated_at: now })
      .where('id', '=', campaignId).where('status', '=', 'sending').where('batch_seq', '=', seq).executeTakeFirst();
    if (Number(won.numUpdatedRows) !== 1) return; // paused, finished, or this batch already ran
    const c = await trx.selectFrom('newsletter_campaigns').selectAll().where('id', '=', campaignId).executeTakeFirstOrThrow();
    const list = LISTS[c.list_id];
    const rows = await trx.selectFrom('newsletter_campaign_sends as s')
      .leftJoin('newsletter_subscribers as p', 'p.id', 's.subscriber_id')
      .leftJoin('newsletter_subscriptions as l', (j) => j.onRef('l.subscriber_id', '=', 's.subscriber_id').on('l.list_id', '=', c.list_id))
      .select(['s.idempotency_key', 's.subscriber_id', 'p.email', 'l.status as list_status'])
      .where('s.campaign_id', '=', campaignId).where('s.status', '=', 'pending')
      .orderBy('s.idempotency_key').limit(batchSize).execute();
    const suppressed = await suppressedHashes(k, trx, rows.flatMap((r) => (r.email ? [r.email] : [])));

    for (const r of rows) {
      const skip = !r.email || !r.subscriber_id ? 'gone' as const
        : suppressed.has(suppressionHash(k.secrets, r.email)) ? 'suppressed' as const
          : r.list_status !== 'subscribed' ? 'unsubscribed' as const : null;
      const claimed = await trx.updateTable('newsletter_campaign_sends')
        .set({ status: skip ? 'skipped' : 'queued', skip_reason: skip, updated_at: now })
        .where('idempotency_key', '=', r.idempotency_key).where('status', '=', 'pending').executeTakeFirst();
      if (skip || Number(claimed.numUpdatedRows) !== 1) continue;
      const mail = composeListMail(k, { subscriberId: r.subscriber_id!, email: r.email!, list, subject: c.subject, body: { html: c.body_html ?? '', text: c.body_text ?? '' }, brand, identity });
      const outboxId = await k.mail.send(mail, trx);
      await trx.updateTable('newsletter_campaign_sends').set({ outbox_id: outboxId }).where('idempotency_key', '=', r.idempotency_key).execute();
    }

    if (rows.length < batchSize) {
      await trx.updateTable('newsletter_campaigns').set({ status: 'sent', finished_at: now, updated_at: now }).where('id', '=', campaignId).execute();
    } else {
      await k.jobs.enqueue(SEND_BATCH_JOB, { campaignId, seq: seq + 1 }, { trx, runAt: now + intervalMs, idempotencyKey: `newsletter:${campaignId}:batch:${seq + 1}` });
    }
  });
}
