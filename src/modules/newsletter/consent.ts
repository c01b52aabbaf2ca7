import type { Kernel } from '../../kernel/context.js';
import type { Db } from '../../kernel/db/database.js';
import { newId, sha256Hex } from '../../kernel/crypto/tokens.js';
import type { Brand } from '../../kernel/views/brand.js';
import type { ConsentTopic, ListId, NewsletterConsentEventsTable } from './newsletter.tables.js';
import { LISTS, type ListDef } from './lists.js';
import { noticeVersion } from './newsletter.settings.js';

/**
 * The consent ledger: one row per subscribe, confirm, opt-in, enrolment and unsubscribe, with who, when,
 * from where, how, and the exact wording shown (text and SHA-256) under the privacy notice then in force.
 * This file is the ledger's only writer and it only inserts; database triggers refuse updates and deletes.
 */
export interface ConsentContext {
  ip: string | null;
  userAgent: string | null;
  source: NewsletterConsentEventsTable['source'];
  /** The page the person acted on (our own site; query strings dropped, tokens never stored). */
  sourceUrl?: string | null;
  method: string;
  staffId?: string | null;
  note?: string | null;
}

export interface ConsentEvent {
  subscriberId: string | null;
  email: string;
  listId: ListId | ConsentTopic;
  action: NewsletterConsentEventsTable['action'];
  wording: string;
}

const clip = (s: string | null | undefined, n: number) => (s ? s.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, n) : null);

export async function recordConsent(k: Kernel, trx: Db, e: ConsentEvent, ctx: ConsentContext): Promise<void> {
  await trx.insertInto('newsletter_consent_events').values({
    id: newId(), at: k.clock.now(), subscriber_id: e.subscriberId, email: e.email, list_id: e.listId, action: e.action,
    ip: clip(ctx.ip, 64), user_agent: clip(ctx.userAgent, 400), source: ctx.source,
    source_url: ctx.sourceUrl ? clip(ctx.sourceUrl.split(/[?#]/)[0]!, 500) : null,
    method: ctx.method, wording: e.wording, wording_sha256: sha256Hex(e.wording),
    notice_version: await noticeVersion(k, trx), actor_staff_id: ctx.staffId ?? null, note: clip(ctx.note, 500),
  }).execute();
}

export function consentHistory(db: Db, email: string) {
  return db.selectFrom('newsletter_consent_events').selectAll().where('email', '=', email).orderBy('at').orderBy('id').execute();
}

// ---- the wording people are shown; each function's text is what the ledger stores ----

export const signupWording = (b: Brand) =>
  `Send me ${b.name}'s newsletter: ${LISTS.newsletter.about}. We will first email you a link to confirm your address. ` +
  `You can unsubscribe at any time with the link in every email, or by writing to ${b.supportEmail}. ` +
  'We keep your email address, and your name if you give it, only to send the newsletter; our privacy notice explains more.';

export const confirmWording = (b: Brand) =>
  `Yes, send ${b.name}'s newsletter (${LISTS.newsletter.about}) to this address. I can unsubscribe at any time.`;

export const unsubscribePageWording = (b: Brand, l: ListDef) => `Unsubscribe this address from ${b.name}'s ${l.name.toLowerCase()}.`;

export const oneClickWording = (l: ListDef) =>
  `One-click unsubscribe (RFC 8058): the mailbox provider posted List-Unsubscribe=One-Click from a ${l.name.toLowerCase()} email.`;

export const mailtoWording = (l: ListDef) => `An email to the List-Unsubscribe mailto address of a ${l.name.toLowerCase()} email.`;

export const complaintWording = (l: ListDef) =>
  `The recipient reported a ${l.name.toLowerCase()} email as spam (a feedback report from the mailbox provider); treated as unsubscribing.`;

export const enrolWording = (b: Brand) =>
  `Customers of ${b.name} receive security advisories (${LISTS.advisories.about}) unless they opt out: ` +
  'every advisory has an unsubscribe link, and the choice is also on the email preferences page and in My account.';

export const staffWording = (l: ListDef) => `Unsubscribed from the ${l.name.toLowerCase()} by staff at the person's request.`;

/** The preference form (token page and My account): one sentence per list, shown next to its checkbox. */
export const preferenceLine = (b: Brand, l: ListDef) =>
  l.kind === 'marketing'
    ? `${l.name}: ${l.description} Tick to receive it from ${b.name}; untick to stop. You can change this at any time.`
    : `${l.name}: ${l.description} Untick to stop receiving them from ${b.name}.`;

export const preferenceWording = (b: Brand) => Object.values(LISTS).map((l) => preferenceLine(b, l)).join('\n');

// ---- permissions outside the mailing lists, kept in the same ledger ----

export const resellerDirectoryWording = (b: Brand, listedAs: string) =>
  `List ${listedAs} on ${b.name}'s public resellers page, with the name, website and country shown there. ` +
  'You can withdraw this at any time on your reseller page; the listing disappears at once.';

export const resellerDirectoryWithdrawWording = (b: Brand) => `Remove this reseller from ${b.name}'s public resellers page.`;

/**
 * The addresses whose latest ledger entry for a topic grants it ('opt_in'); a later 'unsubscribe'
 * withdraws it. Read from the ledger itself, so a listing never outlives its permission.
 */
export async function grantedTopic(db: Db, topic: ConsentTopic, emails: string[]): Promise<Set<string>> {
  if (emails.length === 0) return new Set();
  const rows = await db.selectFrom('newsletter_consent_events').select(['email', 'action', 'at', 'id'])
    .where('list_id', '=', topic).where('email', 'in', emails).orderBy('at').orderBy('id').execute();
  const last = new Map<string, string>();
  for (const r of rows) last.set(r.email, r.action);
  return new Set([...last].filter(([, a]) => a === 'opt_in').map(([e]) => e));
}
