import type { Db } from '../../kernel/db/database.js';
import { randomToken, safeEqual, sha256Hex } from '../../kernel/crypto/tokens.js';
import type { SubjectKind } from './accounts.tables.js';

/**
 * Server-side sessions behind a random 256-bit cookie; the table stores only its SHA-256, so a copy of
 * the database cannot be used to sign in. Sessions end at sign-out, on password change, after an idle
 * period, and at an absolute limit.
 */
export const SESSION_IDLE_MS = { customer: 24 * 3600_000, staff: 8 * 3600_000 } as const;
export const SESSION_ABSOLUTE_MS = 7 * 24 * 3600_000;
export const REMEMBER_MS = 30 * 24 * 3600_000;
const TOUCH_EVERY_MS = 5 * 60_000;

export interface SessionInfo {
  idHash: string;
  kind: SubjectKind;
  subjectId: string;
  createdAt: number;
}

export async function createSession(db: Db, kind: SubjectKind, subjectId: string, now: number, device: string | null = null): Promise<{ token: string; idHash: string }> {
  const token = randomToken(32);
  const idHash = sha256Hex(token);
  await db.insertInto('sessions').values({
    id_hash: idHash, subject_kind: kind, subject_id: subjectId, created_at: now, last_seen_at: now,
    expires_at: Math.min(now + SESSION_IDLE_MS[kind], now + SESSION_ABSOLUTE_MS), device,
  }).execute();
  return { token, idHash };
}

export async function resolveSession(db: Db, token: string, now: number): Promise<SessionInfo | null> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
  const idHash = sha256Hex(token);
  const row = await db.selectFrom('sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
  if (!row) return null;
  if (row.expires_at <= now) {
    await db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
    return null;
  }
  if (now - row.last_seen_at > TOUCH_EVERY_MS) {
    const idle = SESSION_IDLE_MS[row.subject_kind];
    await db.updateTable('sessions')
      .set({ last_seen_at: now, expires_at: Math.min(now + idle, row.created_at + SESSION_ABSOLUTE_MS) })
      .where('id_hash', '=', idHash).execute();
  }
  return { idHash, kind: row.subject_kind, subjectId: row.subject_id, createdAt: row.created_at };
}

export async function endSession(db: Db, idHash: string): Promise<void> {
  await db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
}

export async function endAllSessions(db: Db, kind: SubjectKind, subjectId: string, exceptIdHash?: string): Promise<void> {
  let q = db.deleteFrom('sessions').where('subject_kind', '=', kind).where('subject_id', '=', subjectId);
  if (exceptIdHash) q = q.where('id_hash', '!=', exceptIdHash);
  await q.execute();
}

/**
 * "Remember me": a separate persistent selector/validator token (Paragon's split-token design). The
 * selector finds the row; the validator is stored hashed and compared in constant time; each use rotates
 * the validator. A wrong validator for a known selector means the token was copied and one copy has been
 * used already: every remembered device of that account is revoked.
 */
export async function issueRememberToken(db: Db, kind: SubjectKind, subjectId: string, now: number, device: string | null = null): Promise<string> {
  const selector = randomToken(12);
  const validator = randomToken(32);
  await db.insertInto('remember_tokens').values({
    selector, validator_hash: sha256Hex(validator), subject_kind: kind, subject_id: subjectId,
    created_at: now, expires_at: now + REMEMBER_MS, last_used_at: null, device,
  }).execute();
  return `${selector}.${validator}`;
}

export type RememberResult =
  | { ok: true; kind: SubjectKind; subjectId: string; cookie: string }
  | { ok: false; theft: boolean };

export async function consumeRememberToken(db: Db, cookie: string, now: number): Promise<RememberResult> {
  const m = /^([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{43})$/.exec(cookie);
  if (!m) return { ok: false, theft: false };
  const [, selector, validator] = m;
  return db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('remember_tokens').selectAll().where('selector', '=', selector!).executeTakeFirst();
    if (!row) return { ok: false, theft: false } as const;
    if (row.expires_at <= now) {
      await trx.deleteFrom('remember_tokens').where('selector', '=', selector!).execute();
      return { ok: false, theft: false } as const;
    }
    if (!safeEqual(row.validator_hash, sha256Hex(validator!))) {
      await trx.deleteFrom('remember_tokens').where('subject_kind', '=', row.subject_kind).where('subject_id', '=', row.subject_id).execute();
      await trx.deleteFrom('sessions').where('subject_kind', '=', row.subject_kind).where('subject_id', '=', row.subject_id).execute();
      return { ok: false, theft: true } as const;
    }
    const next = randomToken(32);
    // Compare-and-set on the old hash: two tabs racing with the same cookie cannot both rotate it.
    const updated = await trx.updateTable('remember_tokens').set({ validator_hash: sha256Hex(next), last_used_at: now })
      .where('selector', '=', selector!).where('validator_hash', '=', row.validator_hash).executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) return { ok: false, theft: false } as const;
    return { ok: true, kind: row.subject_kind, subjectId: row.subject_id, cookie: `${selector}.${next}` } as const;
  });
}

export async function revokeRememberToken(db: Db, cookie: string): Promise<void> {
  const selector = cookie.split('.')[0];
  if (selector) await db.deleteFrom('remember_tokens').where('selector', '=', selector).execute();
}

export async function revokeAllRememberTokens(db: Db, kind: SubjectKind, subjectId: string): Promise<void> {
  await db.deleteFrom('remember_tokens').where('subject_kind', '=', kind).where('subject_id', '=', subjectId).execute();
}

/**
 * What My account lists as "signed-in sessions" and "remembered devices". Each row is named by a
 * reference derived from its id (never the id itself: a session's id hash keys its CSRF tokens, and a
 * remember-me selector is half of the cookie).
 */
export interface DeviceRow { ref: string; device: string | null; createdAt: number; lastUsedAt: number | null; expiresAt: number; current: boolean }

export const rowRef = (id: string): string => sha256Hex(`device-ref:${id}`).slice(0, 32);

export async function listSessions(db: Db, kind: SubjectKind, subjectId: string, now: number, currentIdHash: string): Promise<DeviceRow[]> {
  const rows = await db.selectFrom('sessions').select(['id_hash', 'device', 'created_at', 'last_seen_at', 'expires_at'])
    .where('subject_kind', '=', kind).where('subject_id', '=', subjectId).where('expires_at', '>', now).execute();
  return rows.map((r) => ({ ref: rowRef(r.id_hash), device: r.device, createdAt: Number(r.created_at), lastUsedAt: Number(r.last_seen_at), expiresAt: Number(r.expires_at), current: r.id_hash === currentIdHash }))
    .sort((a, b) => Number(b.current) - Number(a.current) || (b.lastUsedAt ?? 0) - (a.lastUsedAt ?? 0));
}

export async function listRememberTokens(db: Db, kind: SubjectKind, subjectId: string, now: number, currentCookie: string | undefined): Promise<DeviceRow[]> {
  const currentSelector = currentCookie?.split('.')[0];
  const rows = await db.selectFrom('remember_tokens').select(['selector', 'device', 'created_at', 'last_used_at', 'expires_at'])
    .where('subject_kind', '=', kind).where('subject_id', '=', subjectId).where('expires_at', '>', now).execute();
  return rows.map((r) => ({ ref: rowRef(r.selector), device: r.device, createdAt: Number(r.created_at), lastUsedAt: r.last_used_at === null ? null : Number(r.last_used_at), expiresAt: Number(r.expires_at), current: r.selector === currentSelector }))
    .sort((a, b) => Number(b.current) - Number(a.current) || (b.lastUsedAt ?? b.createdAt) - (a.lastUsedAt ?? a.createdAt));
}

/** Ends the subject's session with this reference; false when they have none (someone else's, or gone). */
export async function endSessionByRef(db: Db, kind: SubjectKind, subjectId: string, ref: string): Promise<boolean> {
  const rows = await db.selectFrom('sessions').select('id_hash').where('subject_kind', '=', kind).where('subject_id', '=', subjectId).execute();
  const hit = rows.find((r) => rowRef(r.id_hash) === ref);
  if (!hit) return false;
  await db.deleteFrom('sessions').where('id_hash', '=', hit.id_hash).where('subject_id', '=', subjectId).execute();
  return true;
}

/** Forgets the subject's remembered device with this reference; false when they have none. */
export async function revokeRememberByRef(db: Db, kind: SubjectKind, subjectId: string, ref: string): Promise<boolean> {
  const rows = await db.selectFrom('remember_tokens').select('selector').where('subject_kind', '=', kind).where('subject_id', '=', subjectId).execute();
  const hit = rows.find((r) => rowRef(r.selector) === ref);
  if (!hit) return false;
  await db.deleteFrom('remember_tokens').where('selector', '=', hit.selector).where('subject_id', '=', subjectId).execute();
  return true;
}

/** "Sign out everywhere else": every other session and every other remembered device of the subject. */
export async function endAllOthers(db: Db, kind: SubjectKind, subjectId: string, keepIdHash: string, keepRememberCookie: string | undefined): Promise<void> {
  await endAllSessions(db, kind, subjectId, keepIdHash);
  let q = db.deleteFrom('remember_tokens').where('subject_kind', '=', kind).where('subject_id', '=', subjectId);
  const keep = keepRememberCookie?.split('.')[0];
  if (keep) q = q.where('selector', '!=', keep);
  await q.execute();
}
