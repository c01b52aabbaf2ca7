import type { Secrets } from '../../kernel/crypto/secrets.js';
import { randomToken, safeEqual, sha256Hex } from '../../kernel/crypto/tokens.js';
import type { ListId } from './newsletter.tables.js';
import { LISTS, listByCode } from './lists.js';

/**
 * Tokens in links and addresses. Unsubscribe and bounce tokens are stateless (subscriber id + HMAC), so
 * every message can carry one without a table row per message; they are lower-case hex because the same
 * token sits in an email address's local part, which mail systems may lower-case, and must fit its
 * 64-character limit (`unsub+<58>` and `bounces+<52>`).
 */
const compact = (uuid: string) => uuid.replace(/-/g, '').toLowerCase();
const expand = (hex: string) => `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
const mac = (secrets: Secrets, purpose: string, data: string, len: number) => secrets.hmac(purpose, data).toString('hex').slice(0, len);

/** The id every test message carries: unsubscribing with it changes nothing. */
export const NOBODY = '00000000-0000-0000-0000-000000000000';

export function unsubscribeToken(secrets: Secrets, subscriberId: string, listId: ListId): string {
  const body = compact(subscriberId) + LISTS[listId].code;
  return body + mac(secrets, 'newsletter-unsubscribe', body, 24);
}

export function parseUnsubscribeToken(secrets: Secrets, token: string): { subscriberId: string; listId: ListId } | null {
  const t = token.toLowerCase();
  if (!/^[0-9a-f]{32}[a-z][0-9a-f]{24}$/.test(t)) return null;
  const body = t.slice(0, 33);
  const list = listByCode(t[32]!);
  if (!list || !safeEqual(t.slice(33), mac(secrets, 'newsletter-unsubscribe', body, 24))) return null;
  return { subscriberId: expand(t.slice(0, 32)), listId: list.id };
}

/** A per-recipient return path (VERP): a bounce to it names the subscriber without parsing the report. */
export function verpAddress(secrets: Secrets, subscriberId: string, domain: string): string {
  const body = compact(subscriberId);
  return `bounces+${body}${mac(secrets, 'newsletter-verp', body, 20)}@${domain}`;
}

export function parseVerp(secrets: Secrets, address: string): string | null {
  const m = /^bounces\+([0-9a-f]{32})([0-9a-f]{20})@/i.exec(address.trim());
  if (!m) return null;
  const body = m[1]!.toLowerCase();
  return safeEqual(m[2]!.toLowerCase(), mac(secrets, 'newsletter-verp', body, 20)) ? expand(body) : null;
}

export function parseMailtoUnsubscribe(secrets: Secrets, address: string) {
  const m = /^unsub\+([0-9a-z]+)@/i.exec(address.trim());
  return m ? parseUnsubscribeToken(secrets, m[1]!) : null;
}

/** Double opt-in: a random token, stored only as its SHA-256. */
export function newConfirmToken(): { token: string; hash: string } {
  const token = randomToken();
  return { token, hash: sha256Hex(token) };
}

export const confirmTokenHash = (token: string) => sha256Hex(token);

/** The suppression list holds keyed hashes, so the list alone gives no address away. */
export const suppressionHash = (secrets: Secrets, email: string) => secrets.hmac('newsletter-suppression', email.trim().toLowerCase()).toString('hex');
