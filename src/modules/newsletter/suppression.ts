import type { Kernel } from '../../kernel/context.js';
import type { Db } from '../../kernel/db/database.js';
import type { NewsletterSuppressionsTable } from './newsletter.tables.js';
import { suppressionHash } from './tokens.js';

/** Addresses that are never mailed: hard bounces, complaints, erasures and staff decisions. */
export async function isSuppressed(k: Kernel, email: string, db: Db = k.db): Promise<boolean> {
  return !!(await db.selectFrom('newsletter_suppressions').select('email_hash').where('email_hash', '=', suppressionHash(k.secrets, email)).executeTakeFirst());
}

export async function suppressionReason(k: Kernel, email: string, db: Db = k.db): Promise<NewsletterSuppressionsTable['reason'] | null> {
  const r = await db.selectFrom('newsletter_suppressions').select('reason').where('email_hash', '=', suppressionHash(k.secrets, email)).executeTakeFirst();
  return r?.reason ?? null;
}

/** Adds an address (first reason wins: a later bounce does not hide that the person complained). */
export async function suppress(k: Kernel, email: string, reason: NewsletterSuppressionsTable['reason'], by: string | null, db: Db = k.db): Promise<void> {
  await db.insertInto('newsletter_suppressions').values({ email_hash: suppressionHash(k.secrets, email), reason, created_at: k.clock.now(), created_by: by })
    .onConflict((oc) => oc.column('email_hash').doNothing()).execute();
}

export async function unsuppress(k: Kernel, email: string, db: Db = k.db): Promise<boolean> {
  const r = await db.deleteFrom('newsletter_suppressions').where('email_hash', '=', suppressionHash(k.secrets, email)).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** The hashed subset of `emails` that is suppressed, in one query (send batches check every recipient). */
export async function suppressedHashes(k: Kernel, db: Db, emails: string[]): Promise<Set<string>> {
  if (emails.length === 0) return new Set();
  const rows = await db.selectFrom('newsletter_suppressions').select('email_hash').where('email_hash', 'in', emails.map((e) => suppressionHash(k.secrets, e))).execute();
  return new Set(rows.map((r) => r.email_hash));
}
