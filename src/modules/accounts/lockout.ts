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

/**
 * Takes one attempt for the address: 0 and the attempt is counted as a failure now, before the slow
 * password check (a success clears it), or the milliseconds until the address may try again. Counting
 * first, under the row's lock, is what holds a burst to the free failures: checked first and counted
 * after, ten guesses sent at once all passed the check, and on PostgreSQL their counts overwrote each other.
 */
export async function takeAttempt(db: Db, kind: string, email: string, now: number): Promise<number> {
  const key = keyFor(kind, email);
  return db.transaction().execute(async (trx) => {
    // One statement makes the row and locks it. An insert that did nothing followed by a SELECT … FOR
    // UPDATE found no row on PostgreSQL when a sign-in that succeeded (clearFailures) or the purge
    // deleted it in between: the guess got a 500. An upsert that updates is atomic against a delete.
    const row = await trx.insertInto('rate_limits').values({ key, window_start: now, count: 0 })
      .onConflict((oc) => oc.column('key').doUpdateSet((eb) => ({ count: eb.ref('rate_limits.count') })))
      .returning(['window_start', 'count']).executeTakeFirstOrThrow();
    const failures = now - row.window_start > FORGET_AFTER_MS ? 0 : row.count;
    const wait = Math.max(0, row.window_start + lockDuration(failures) - now);
    if (wait > 0) return wait;
    // window_start holds the time of the latest failure: a lock runs from there.
    await trx.updateTable('rate_limits').set({ count: failures + 1, window_start: now }).where('key', '=', key).execute();
    return 0;
  });
}

export async function clearFailures(db: Db, kind: string, email: string): Promise<void> {
  await db.deleteFrom('rate_limits').where('key', '=', keyFor(kind, email)).execute();
}
