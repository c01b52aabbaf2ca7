import type { Kernel } from '../../kernel/context.js';
import type { InboundMessage } from '../../kernel/mail/inbound.js';
import { LISTS, LIST_IDS } from './lists.js';
import { complaintWording, mailtoWording } from './consent.js';
import { suppress } from './suppression.js';
import { parseMailtoUnsubscribe, parseUnsubscribeToken, parseVerp } from './tokens.js';
import type { SubscriptionService } from './subscriptions.service.js';
import { subscriberById } from './subscriptions.service.js';

export type BounceKind = 'hard' | 'soft' | 'complaint' | 'ignore';

/**
 * Reads a message that came back to a bounce address. Feedback reports (ARF, RFC 5965) are complaints;
 * delivery-status notifications (RFC 3464) are hard when the action failed with a 5.x.x status, soft when
 * delayed or 4.x.x; auto-replies and delivery confirmations are ignored. Reports that are not standard
 * (old MTAs) count as hard only with a permanent SMTP reply that says the mailbox does not exist.
 */
export function classifyBounce(raw: string): { kind: BounceKind; status: string | null } {
  const head = raw.slice(0, 200_000);
  if (/report-type\s*=\s*"?feedback-report/i.test(head) || /^Feedback-Type:\s*(abuse|fraud|complaint)/im.test(head)) return { kind: 'complaint', status: null };
  const action = /^Action:\s*(failed|delayed|delivered|relayed|expanded)/im.exec(head)?.[1]?.toLowerCase();
  const status = /^Status:\s*([245]\.\d{1,3}\.\d{1,3})/im.exec(head)?.[1] ?? null;
  if (action === 'delivered' || action === 'relayed' || action === 'expanded') return { kind: 'ignore', status };
  if (action === 'failed' && status?.startsWith('5')) return { kind: 'hard', status };
  if (action === 'delayed' || status?.startsWith('4')) return { kind: 'soft', status };
  if (action === 'failed') return { kind: 'hard', status };
  if (/^Auto-Submitted:\s*auto-replied/im.test(head) || /^X-Autoreply:/im.test(head)) return { kind: 'ignore', status: null };
  if (/\b5\d\d[ -](?:5\.1\.[0-3]\b|.*(?:user unknown|no such user|does not exist|mailbox unavailable|unknown recipient))/i.test(head)) return { kind: 'hard', status: '5.1.1' };
  return { kind: 'soft', status: null };
}

export const isNewsletterRecipient = (rcpt: string) => /^(?:bounces(?:\+[^@]*)?|unsub\+[^@]+)@/i.test(rcpt);

/** Handles mail to the bounce (VERP) and mailto-unsubscribe addresses, routed from the SMTP intake. */
export function inboundHandler(k: Kernel, subs: SubscriptionService) {
  return async (msg: InboundMessage, rcpt: string): Promise<void> => {
    const unsub = parseMailtoUnsubscribe(k.secrets, rcpt);
    if (unsub) {
      await subs.unsubscribe(unsub.subscriberId, unsub.listId, mailtoWording(LISTS[unsub.listId]),
        { ip: msg.remoteAddress, userAgent: null, source: 'email', method: 'mailto' });
      return;
    }
    if (!/^bounces/i.test(rcpt)) return;
    const raw = msg.raw.toString('latin1');
    // The VERP address names the subscriber; a report sent to the plain bounce address may still quote
    // our original message, whose Return-Path or unsubscribe link names them.
    let subscriberId = parseVerp(k.secrets, rcpt);
    if (!subscriberId) {
      const quoted = /bounces\+[0-9a-f]{52}@[^\s>;]+/i.exec(raw)?.[0];
      subscriberId = quoted ? parseVerp(k.secrets, quoted) : null;
      const token = /\/u\/([0-9a-f]{32}[a-z][0-9a-f]{24})\b/i.exec(raw)?.[1];
      if (!subscriberId && token) subscriberId = parseUnsubscribeToken(k.secrets, token)?.subscriberId ?? null;
    }
    if (!subscriberId) { k.log.info({ route: 'newsletter.bounce' }, 'bounce names no subscriber; ignored'); return; }
    const { kind, status } = classifyBounce(raw);
    if (kind === 'ignore') return;
    await recordBounce(k, subs, subscriberId, kind, msg.remoteAddress);
    k.log.info({ route: 'newsletter.bounce', kind, status }, 'bounce recorded');
  };
}

async function recordBounce(k: Kernel, subs: SubscriptionService, subscriberId: string, kind: Exclude<BounceKind, 'ignore'>, ip: string): Promise<void> {
  const s = await subscriberById(k.db, subscriberId);
  if (!s) return;
  const now = k.clock.now();
  await k.db.transaction().execute(async (trx) => {
    if (kind === 'soft') {
      await trx.updateTable('newsletter_subscribers').set((eb) => ({ soft_bounces: eb('soft_bounces', '+', 1), last_bounce_at: now })).where('id', '=', s.id).execute();
    } else {
      await suppress(k, s.email, kind === 'hard' ? 'hard_bounce' : 'complaint', null, trx);
      await trx.updateTable('newsletter_subscribers').set({ last_bounce_at: now }).where('id', '=', s.id).execute();
    }
    if (kind === 'complaint') {
      // A spam report is the strongest "stop": leave every list, recorded like any other unsubscribe.
      for (const l of LIST_IDS) {
        await subs.unsubscribe(s.id, l, complaintWording(LISTS[l]), { ip, userAgent: null, source: 'email', method: 'complaint_report' }, trx);
      }
    }
    const last = await trx.selectFrom('newsletter_campaign_sends').select('idempotency_key').where('subscriber_id', '=', s.id).where('status', '=', 'queued')
      .orderBy('updated_at', 'desc').limit(1).executeTakeFirst();
    if (last) await trx.updateTable('newsletter_campaign_sends').set({ bounce: kind }).where('idempotency_key', '=', last.idempotency_key).execute();
  });
}
