import type { Kernel } from '../../kernel/context.js';
import type { Db } from '../../kernel/db/database.js';
import { newId, sha256Hex } from '../../kernel/crypto/tokens.js';
import { renderEmail } from '../../kernel/mail/template.js';
import { loadBrand } from '../../kernel/views/brand.js';
import { accountsRepository, normaliseEmail as accountsNormalise } from '../accounts/index.js';
import type { ListId, NewsletterSubscribersTable } from './newsletter.tables.js';
import { LISTS, LIST_IDS } from './lists.js';
import { ConfirmExpired, InvalidInput, Suppressed, WordingChanged } from './newsletter.errors.js';
import { confirmWording, enrolWording, recordConsent, signupWording, type ConsentContext } from './consent.js';
import { isSuppressed } from './suppression.js';
import { confirmTokenHash, newConfirmToken, verpAddress } from './tokens.js';
import { loadNewsletterSettings, sendingIdentity } from './newsletter.settings.js';

const CONFIRM_TTL_MS = 7 * 86_400_000;
/** A second sign-up for a pending address within this time sends no second email (no mail-bombing). */
const RESEND_AFTER_MS = 10 * 60_000;

export function normaliseEmail(email: unknown): string {
  try {
    return accountsNormalise(email);
  } catch (err) {
    throw new InvalidInput((err as Error).message);
  }
}

function cleanName(name: unknown): string | null {
  if (typeof name !== 'string') return null;
  const n = name.replace(/[\u0000-\u001f\u007f<>]/g, ' ').replace(/\s+/g, ' ').trim();
  if (n.length > 200) throw new InvalidInput('Your name can be at most 200 characters.');
  return n || null;
}

export const subscriberByEmail = (db: Db, email: string) => db.selectFrom('newsletter_subscribers').selectAll().where('email', '=', email).executeTakeFirst();
export const subscriberById = (db: Db, id: string) => db.selectFrom('newsletter_subscribers').selectAll().where('id', '=', id).executeTakeFirst();
export const subscriptionsOf = (db: Db, subscriberId: string) => db.selectFrom('newsletter_subscriptions').selectAll().where('subscriber_id', '=', subscriberId).execute();

async function ensureSubscriber(k: Kernel, trx: Db, email: string, extra: { name?: string | null; customerId?: string | null }): Promise<NewsletterSubscribersTable> {
  const now = k.clock.now();
  await trx.insertInto('newsletter_subscribers').values({
    id: newId(), email, name: extra.name ?? null, customer_id: extra.customerId ?? null, created_at: now, updated_at: now, soft_bounces: 0, last_bounce_at: null,
  }).onConflict((oc) => oc.column('email').doNothing()).execute();
  const s = (await subscriberByEmail(trx, email))!;
  // Fill gaps only: a stranger typing someone's address must not rename them or relink their account.
  const patch: Partial<NewsletterSubscribersTable> = {};
  if (!s.name && extra.name) patch.name = extra.name;
  if (!s.customer_id && extra.customerId) patch.customer_id = extra.customerId;
  if (Object.keys(patch).length) {
    await trx.updateTable('newsletter_subscribers').set({ ...patch, updated_at: now }).where('id', '=', s.id).execute();
    Object.assign(s, patch);
  }
  return s;
}

async function setStatus(k: Kernel, trx: Db, subscriberId: string, listId: ListId, status: 'subscribed' | 'unsubscribed'): Promise<void> {
  const now = k.clock.now();
  const values = status === 'subscribed'
    ? { status, confirmed_at: now, unsubscribed_at: null, confirm_token_hash: null, confirm_expires_at: null, updated_at: now }
    : { status, unsubscribed_at: now, confirm_token_hash: null, confirm_expires_at: null, updated_at: now };
  await trx.insertInto('newsletter_subscriptions').values({
    confirmed_at: null, ...values, subscriber_id: subscriberId, list_id: listId, created_at: now,
  }).onConflict((oc) => oc.columns(['subscriber_id', 'list_id']).doUpdateSet(values)).execute();
}

/**
 * Sign-ups, double opt-in, unsubscribing, preferences and the customers' advisory enrolment. Every change
 * of a person's lists writes a consent record in the same transaction as the change.
 */
export class SubscriptionService {
  constructor(private readonly k: Kernel) {}

  /**
   * A sign-up from the public form. The answer is the same whether or not the address is known,
   * subscribed or suppressed; only a fresh or stale pending sign-up gets a confirmation email.
   */
  async requestSignup(input: { email?: unknown; name?: unknown; wordingSha256?: unknown }, ctx: ConsentContext): Promise<void> {
    const k = this.k;
    const email = normaliseEmail(input.email);
    const name = cleanName(input.name);
    const brand = await loadBrand(k.settings);
    const wording = signupWording(brand);
    if (input.wordingSha256 !== sha256Hex(wording)) throw new WordingChanged();
    if (await isSuppressed(k, email)) return;
    const settings = await loadNewsletterSettings(k);
    const identity = await sendingIdentity(k, settings);
    const now = k.clock.now();
    await k.db.transaction().execute(async (trx) => {
      const existing = await subscriberByEmail(trx, email);
      const sub = existing
        ? await trx.selectFrom('newsletter_subscriptions').selectAll().where('subscriber_id', '=', existing.id).where('list_id', '=', 'newsletter').executeTakeFirst()
        : undefined;
      if (sub?.status === 'subscribed') return;
      if (sub?.status === 'pending' && sub.confirm_expires_at && sub.confirm_expires_at - CONFIRM_TTL_MS + RESEND_AFTER_MS > now) return;
      const s = await ensureSubscriber(k, trx, email, { name });
      const { token, hash } = newConfirmToken();
      const values = { status: 'pending' as const, confirm_token_hash: hash, confirm_expires_at: now + CONFIRM_TTL_MS, updated_at: now };
      await trx.insertInto('newsletter_subscriptions').values({
        subscriber_id: s.id, list_id: 'newsletter', created_at: now, confirmed_at: null, unsubscribed_at: null, ...values,
      }).onConflict((oc) => oc.columns(['subscriber_id', 'list_id']).doUpdateSet(values)).execute();
      await recordConsent(k, trx, { subscriberId: s.id, email, listId: 'newsletter', action: 'subscribe', wording }, ctx);
      const url = `${k.config.publicUrl}/newsletter/confirm/${token}`;
      const { text, html } = renderEmail({
        brandName: brand.name, heading: 'Please confirm your subscription',
        paragraphs: [`Someone, hopefully you, asked to receive ${brand.name}'s newsletter (${LISTS.newsletter.about}) at this address.`,
          'To start receiving it, open the link below and press the button to confirm.'],
        action: { label: 'Confirm my subscription', url },
        reason: `You receive this one email because this address was entered on our sign-up form${ctx.sourceUrl ? ` (${ctx.sourceUrl.split(/[?#]/)[0]})` : ''}. If it was not you, ignore it: you will not be subscribed and we will not write again.`,
        senderAddress: brand.address,
      });
      await k.mail.send({
        to: email, subject: `Confirm your subscription · ${brand.name}`, text, html, category: 'newsletter.confirm',
        from: identity.from, envelopeFrom: verpAddress(k.secrets, s.id, identity.domain), headers: { 'Auto-Submitted': 'auto-generated' },
      }, trx);
    });
  }

  /** Checks a confirmation link without using it (the GET page); throws when it is not usable. */
  async peekConfirm(token: string): Promise<{ email: string }> {
    const row = await this.k.db.selectFrom('newsletter_subscriptions as s').innerJoin('newsletter_subscribers as p', 'p.id', 's.subscriber_id')
      .select(['p.email', 's.status', 's.confirm_expires_at'])
      .where('s.confirm_token_hash', '=', confirmTokenHash(token)).executeTakeFirst();
    if (!row || row.status !== 'pending' || (row.confirm_expires_at ?? 0) < this.k.clock.now()) throw new ConfirmExpired();
    return { email: row.email };
  }

  /** Double opt-in, second step: only a POST from the confirmation page reaches here. */
  async confirm(token: string, ctx: ConsentContext): Promise<{ email: string }> {
    const k = this.k;
    const brand = await loadBrand(k.settings);
    return k.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('newsletter_subscriptions as s').innerJoin('newsletter_subscribers as p', 'p.id', 's.subscriber_id')
        .select(['p.email', 'p.id', 's.status', 's.confirm_expires_at', 's.list_id'])
        .where('s.confirm_token_hash', '=', confirmTokenHash(token)).executeTakeFirst();
      if (!row || row.status !== 'pending' || (row.confirm_expires_at ?? 0) < k.clock.now()) throw new ConfirmExpired();
      await setStatus(k, trx, row.id, row.list_id, 'subscribed');
      await recordConsent(k, trx, { subscriberId: row.id, email: row.email, listId: row.list_id, action: 'confirm', wording: confirmWording(brand) }, ctx);
      return { email: row.email };
    });
  }

  /** Leaves a list. Repeating it (mailbox providers retry one-click posts) changes and records nothing. */
  async unsubscribe(subscriberId: string, listId: ListId, wording: string, ctx: ConsentContext, trxIn?: Db): Promise<boolean> {
    const run = async (trx: Db) => {
      const row = await trx.selectFrom('newsletter_subscriptions as s').innerJoin('newsletter_subscribers as p', 'p.id', 's.subscriber_id')
        .select(['p.email', 's.status']).where('s.subscriber_id', '=', subscriberId).where('s.list_id', '=', listId).executeTakeFirst();
      if (!row || row.status === 'unsubscribed') return false;
      await setStatus(this.k, trx, subscriberId, listId, 'unsubscribed');
      await recordConsent(this.k, trx, { subscriberId, email: row.email, listId, action: 'unsubscribe', wording }, ctx);
      return true;
    };
    return trxIn ? run(trxIn) : this.k.db.transaction().execute(run);
  }

  /**
   * Sets every list at once (the preference page and My account). The address is proven, by the token
   * from an email or by the verified account, so joining the newsletter here needs no second email.
   */
  async setPreferences(
    who: { subscriberId: string } | { email: string; customerId: string },
    wanted: Record<ListId, boolean>, wordingFor: (l: ListId) => string, ctx: ConsentContext,
  ): Promise<{ changed: ListId[] }> {
    const k = this.k;
    const existing = 'subscriberId' in who ? await subscriberById(k.db, who.subscriberId) : await subscriberByEmail(k.db, who.email);
    const email = 'email' in who ? who.email : existing?.email;
    if (!email) return { changed: [] };
    const before = existing ? await subscriptionsOf(k.db, existing.id) : [];
    const joining = LIST_IDS.filter((l) => wanted[l] && before.find((c) => c.list_id === l)?.status !== 'subscribed');
    if (joining.length && (await isSuppressed(k, email))) throw new Suppressed();
    return k.db.transaction().execute(async (trx) => {
      const s = 'subscriberId' in who ? (await subscriberById(trx, who.subscriberId))! : await ensureSubscriber(k, trx, email, { customerId: who.customerId });
      const current = await subscriptionsOf(trx, s.id);
      const changed: ListId[] = [];
      for (const l of LIST_IDS) {
        const status = current.find((c) => c.list_id === l)?.status;
        if (wanted[l] && status !== 'subscribed') {
          await setStatus(k, trx, s.id, l, 'subscribed');
          await recordConsent(k, trx, { subscriberId: s.id, email: s.email, listId: l, action: 'opt_in', wording: wordingFor(l) }, ctx);
          changed.push(l);
        } else if (!wanted[l] && (status === 'subscribed' || status === 'pending' || (status === undefined && l === 'advisories' && s.customer_id))) {
          // A customer who was never enrolled still gets an explicit opt-out row, so a later enrolment respects it.
          await setStatus(k, trx, s.id, l, 'unsubscribed');
          await recordConsent(k, trx, { subscriberId: s.id, email: s.email, listId: l, action: 'unsubscribe', wording: wordingFor(l) }, ctx);
          changed.push(l);
        }
      }
      return { changed };
    });
  }

  /**
   * Puts a customer on the security-advisory list unless they opted out before or the address is
   * suppressed. Called by other modules (registration, orders) with a customer id or an email address.
   */
  async enrolCustomerInAdvisories(customerIdOrEmail: string): Promise<'enrolled' | 'already' | 'opted_out' | 'suppressed' | 'unknown'> {
    const k = this.k;
    let email: string;
    let customerId: string | null = null;
    if (customerIdOrEmail.includes('@')) {
      email = normaliseEmail(customerIdOrEmail);
      customerId = (await accountsRepository.customerByEmail(k.db, email))?.id ?? null;
    } else {
      const c = await accountsRepository.customerById(k.db, customerIdOrEmail);
      if (!c || c.closed_at) return 'unknown';
      email = c.email.toLowerCase();
      customerId = c.id;
    }
    if (await isSuppressed(k, email)) return 'suppressed';
    const brand = await loadBrand(k.settings);
    return k.db.transaction().execute(async (trx) => {
      const s = await ensureSubscriber(k, trx, email, { customerId });
      const row = await trx.selectFrom('newsletter_subscriptions').select('status').where('subscriber_id', '=', s.id).where('list_id', '=', 'advisories').executeTakeFirst();
      if (row) return row.status === 'unsubscribed' ? 'opted_out' : 'already';
      await setStatus(k, trx, s.id, 'advisories', 'subscribed');
      await recordConsent(k, trx, { subscriberId: s.id, email, listId: 'advisories', action: 'enrol', wording: enrolWording(brand) },
        { ip: null, userAgent: null, source: 'system', method: 'customer_enrolment' });
      return 'enrolled';
    });
  }

  /** Support staff unsubscribing someone who asked by phone, email or ticket: consent record plus audit entry. */
  async staffUnsubscribe(email: string, lists: ListId[], staffId: string, note: string | null, ip: string | null, wordingFor: (l: ListId) => string): Promise<ListId[]> {
    const k = this.k;
    const s = await subscriberByEmail(k.db, normaliseEmail(email));
    if (!s) return [];
    const done: ListId[] = [];
    await k.db.transaction().execute(async (trx) => {
      for (const l of lists) {
        if (await this.unsubscribe(s.id, l, wordingFor(l), { ip, userAgent: null, source: 'support_request', method: 'staff_on_request', staffId, note }, trx)) done.push(l);
      }
      await k.audit.record({ actorKind: 'staff', actorId: staffId, action: 'newsletter.unsubscribed_on_request', target: s.id, detail: { lists: done }, ip }, trx);
    });
    return done;
  }
}
