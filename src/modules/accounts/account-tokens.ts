import type { Db } from '../../kernel/db/database.js';
import { randomToken, sha256Hex } from '../../kernel/crypto/tokens.js';
import type { AccountTokensTable, SubjectKind } from './accounts.tables.js';
import { InvalidToken } from './accounts.errors.js';

/** Single-use, short-lived tokens sent by email (verification, password reset, first-run setup), stored hashed. */
export async function issueAccountToken(
  db: Db, purpose: AccountTokensTable['purpose'], kind: SubjectKind, subjectId: string | null, ttlMs: number, now: number,
): Promise<string> {
  const token = randomToken(32);
  await db.insertInto('account_tokens').values({
    token_hash: sha256Hex(token), purpose, subject_kind: kind, subject_id: subjectId, created_at: now, expires_at: now + ttlMs, used_at: null,
  }).execute();
  return token;
}

/** Looks a token up without using it (to show a form); throws InvalidToken when it cannot be used. */
export async function peekAccountToken(db: Db, purpose: AccountTokensTable['purpose'], token: string, now: number) {
  if (typeof token !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(token)) throw new InvalidToken();
  const row = await db.selectFrom('account_tokens').selectAll()
    .where('token_hash', '=', sha256Hex(token)).where('purpose', '=', purpose).executeTakeFirst();
  if (!row || row.used_at !== null || row.expires_at <= now) throw new InvalidToken();
  return row;
}

/** Uses a token exactly once: the conditional update means two concurrent submissions cannot both succeed. */
export async function consumeAccountToken(db: Db, purpose: AccountTokensTable['purpose'], token: string, now: number) {
  const row = await peekAccountToken(db, purpose, token, now);
  const r = await db.updateTable('account_tokens').set({ used_at: now })
    .where('token_hash', '=', row.token_hash).where('used_at', 'is', null).executeTakeFirst();
  if (Number(r.numUpdatedRows) !== 1) throw new InvalidToken();
  return row;
}
