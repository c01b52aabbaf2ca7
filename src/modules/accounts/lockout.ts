import type { Db } from '../../kernel/db/database.js';
import { sha256Hex } from '../../kernel/crypto/tokens.js';

/**
 * Failed sign-ins are counted per email address, whether or not an account has it (so the answer never
 * tells which addresses exist). After 5 failures the address is locked for 30 s, doubling with each
 * further failure up to 15 minutes: guessing becomes useless, while an attacker can keep a real user out
 * for at most 15 minutes at a time (and the user can always reset the password by email).
 */
const FREE_FAILURES = 5;
const BASE_LOCK_MS = 30_000;
const MAX_LOCK_MS = 15 * 60_000;
const FORGET_AFTER_MS = 60 * 60_000;

const keyFor = (kind: string, email: string) => `loginfail:${kind}:${sha256Hex(email.toLowerCase())}`;

export function lockDuration(failures: number): number {
  if (failures < FREE_FAILURES) return 0;
  return Math.min(MAX_LOCK_MS, BASE_LOCK_MS * 2 ** (failures - FREE_FAILURES));
}

/** Milliseconds until the address may try again (0 when not locked). */
export async function lockedFor(db: Db, kind: string, email: string, now: number): Promise<number> {
  const row = await db.selectFrom('rate_limits').select(['window_start', 'count']).where('key', '=', keyFor(kind, email)).executeTakeFirst();
  if (!row || now - row.window_start > FORGET_AFTER_MS) return 0;
  return Math.max(0, row.window_start + lockDuration(row.count) - now);
}

export async function recordFailure(db: Db, kind: string, email: string, now: number): Promise<void> {
  const key = keyFor(kind, email);
  await db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('rate_limits').select(['window_start', 'count']).where('key', '=', key).executeTakeFirst();
    const count = !row || now - row.window_start > FORGET_AFTER_MS ? 1 : row.count + 1;
    // window_start holds the time of the latest failure: the lock runs from there.
    await trx.insertInto('rate_limits').values({ key, window_start: now, count })
      .onConflict((oc) => oc.column('key').doUpdateSet({ window_start: now, count })).execute();
  });
}

export async function clearFailures(db: Db, kind: string, email: string): Promise<void> {
  await db.deleteFrom('rate_limits').where('key', '=', keyFor(kind, email)).execute();
}
