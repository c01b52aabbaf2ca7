import type { Kernel } from '../../kernel/context.js';
import type { Db } from '../../kernel/db/database.js';
import { newId } from '../../kernel/crypto/tokens.js';
import type { SubjectDataProvider } from '../../kernel/privacy/subject-data.js';
import { recordConsent, type ConsentContext, type ConsentTopic } from '../newsletter/index.js';
import { PrivacyCommentInvalid } from './privacy.errors.js';

/**
 * Customer comments (testimonials). A comment is shown on /testimonials only while the consent ledger's
 * latest entry for the customer's address in the "testimonials" scope is a permission (opt_in); withdrawing
 * writes an unsubscribe entry and the comment disappears at once. The ledger is the newsletter's
 * append-only table, shared so that all permissions are proved the same way.
 */
export const TESTIMONIAL_SCOPE: ConsentTopic = 'testimonials';

export const testimonialWording = (vendor: string) =>
  `I allow ${vendor} to show this comment, with the name and company I entered, on its website until I withdraw permission in My account.`;
export const testimonialWithdrawWording = (vendor: string) => `I withdraw permission for ${vendor} to show my comment on its website.`;

export interface TestimonialInput { displayName: string; company: string; body: string }

const clean = (v: string) => v.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '').trim();

export function validateTestimonial(input: TestimonialInput): TestimonialInput {
  const displayName = clean(input.displayName);
  const company = clean(input.company);
  const body = clean(input.body);
  if (!displayName || displayName.length > 100) throw new PrivacyCommentInvalid('Enter the name to show with your comment (up to 100 characters).');
  if (company.length > 120) throw new PrivacyCommentInvalid('The company name is too long (up to 120 characters).');
  if (body.length < 10 || body.length > 2000) throw new PrivacyCommentInvalid('Write your comment in 10 to 2,000 characters.');
  return { displayName, company, body };
}

export async function testimonialOf(db: Db, customerId: string) {
  return db.selectFrom('privacy_testimonials').selectAll().where('customer_id', '=', customerId).executeTakeFirst();
}

/**
 * The ledger's verdict per address: permission only if the latest entry is a permission. Entries in the
 * same millisecond cannot be ordered (ids are random), so there a withdrawal wins.
 */
function verdicts(events: Array<{ email: string; action: string; at: number }>): Map<string, boolean> {
  const last = new Map<string, { at: number; allowed: boolean }>();
  for (const e of events) {
    const prev = last.get(e.email);
    const allowed = e.action === 'opt_in';
    if (!prev || e.at > prev.at) last.set(e.email, { at: e.at, allowed });
    else if (e.at === prev.at) prev.allowed = prev.allowed && allowed;
  }
  return new Map([...last].map(([email, v]) => [email, v.allowed]));
}

/** Whether the ledger's latest testimonial entry for `email` grants permission. */
export async function hasPublishPermission(db: Db, email: string): Promise<boolean> {
  const events = await db.selectFrom('newsletter_consent_events').select(['email', 'action', 'at']).where('email', '=', email).where('list_id', '=', TESTIMONIAL_SCOPE).execute();
  return verdicts(events).get(email) ?? false;
}

/** Saves the customer's comment; `publish` records permission in the ledger (and not publishing withdraws it). */
export async function saveTestimonial(k: Kernel, customer: { id: string; email: string }, input: TestimonialInput, publish: boolean, vendor: string, ctx: Omit<ConsentContext, 'source' | 'method'>): Promise<void> {
  const v = validateTestimonial(input);
  const now = k.clock.now();
  await k.db.transaction().execute(async (trx) => {
    const existing = await testimonialOf(trx, customer.id);
    if (existing) {
      await trx.updateTable('privacy_testimonials').set({ display_name: v.displayName, company: v.company || null, body: v.body, email: customer.email, updated_at: now }).where('id', '=', existing.id).execute();
    } else {
      await trx.insertInto('privacy_testimonials').values({ id: newId(), customer_id: customer.id, email: customer.email, display_name: v.displayName, company: v.company || null, body: v.body, created_at: now, updated_at: now }).execute();
    }
    const had = await hasPublishPermission(trx, customer.email);
    if (publish !== had) {
      await recordConsent(k, trx, {
        subscriberId: null, email: customer.email, listId: TESTIMONIAL_SCOPE, action: publish ? 'opt_in' : 'unsubscribe',
        wording: publish ? testimonialWording(vendor) : testimonialWithdrawWording(vendor),
      }, { ...ctx, source: 'account_page', method: publish ? 'testimonial_permission' : 'testimonial_withdrawal' });
    }
  });
}

export async function withdrawTestimonialPermission(k: Kernel, customer: { id: string; email: string }, vendor: string, ctx: Omit<ConsentContext, 'source' | 'method'>): Promise<boolean> {
  return k.db.transaction().execute(async (trx) => {
    if (!(await hasPublishPermission(trx, customer.email))) return false;
    await recordConsent(k, trx, { subscriberId: null, email: customer.email, listId: TESTIMONIAL_SCOPE, action: 'unsubscribe', wording: testimonialWithdrawWording(vendor) },
      { ...ctx, source: 'account_page', method: 'testimonial_withdrawal' });
    return true;
  });
}

/** The comments that may be shown: those whose author's latest ledger entry grants permission. */
export async function publishedTestimonials(db: Db): Promise<Array<{ displayName: string; company: string | null; body: string; at: number }>> {
  const rows = await db.selectFrom('privacy_testimonials').selectAll().orderBy('created_at', 'desc').limit(200).execute();
  if (!rows.length) return [];
  const events = await db.selectFrom('newsletter_consent_events').select(['email', 'action', 'at']).where('list_id', '=', TESTIMONIAL_SCOPE)
    .where('email', 'in', [...new Set(rows.map((r) => r.email))]).execute();
  const allowed = verdicts(events);
  return rows.filter((r) => allowed.get(r.email) === true).map((r) => ({ displayName: r.display_name, company: r.company, body: r.body, at: r.created_at }));
}

/** The privacy module's own tables: testimonials, and who asked for earlier requests (pseudonymised on erasure). */
export const testimonialsSubjectData: SubjectDataProvider = {
  module: 'privacy',
  tables: ['privacy_testimonials', 'privacy_requests'],
  async export(k, s) {
    const rows = await k.db.selectFrom('privacy_testimonials').selectAll().where((eb) => eb.or([
      eb('email', '=', s.email), ...(s.customerIds.length ? [eb('customer_id', 'in', s.customerIds)] : []),
    ])).execute();
    return [{ table: 'privacy_testimonials', rows }];
  },
  async erase(k, s) {
    const r = await k.db.deleteFrom('privacy_testimonials').where((eb) => eb.or([
      eb('email', '=', s.email), ...(s.customerIds.length ? [eb('customer_id', 'in', s.customerIds)] : []),
    ])).executeTakeFirst();
    const req = s.customerIds.length
      ? await k.db.updateTable('privacy_requests').set({ requested_by_id: null }).where('requested_by_kind', '=', 'customer').where('requested_by_id', 'in', s.customerIds).executeTakeFirst()
      : { numUpdatedRows: 0n };
    return { counts: { privacy_testimonials: Number(r.numDeletedRows), privacy_requests: Number(req.numUpdatedRows) }, kept: [] };
  },
};
