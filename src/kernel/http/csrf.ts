import type { FastifyRequest } from 'fastify';
import type { Secrets } from '../crypto/secrets.js';
import { randomToken, safeEqual } from '../crypto/tokens.js';

/**
 * CSRF protection without a pre-sign-in cookie (DESIGN non-negotiable 6):
 *  - signed-in forms carry an HMAC of the session id, so the token is bound to that session;
 *  - forms used before sign-in (login, registration, contact, newsletter) carry a signed, time-limited
 *    token, and the request must also pass an Origin / Sec-Fetch-Site check.
 */
const ANON_TTL_MS = 2 * 3600_000;

export function sessionCsrfToken(secrets: Secrets, sessionRef: string): string {
  return 's.' + secrets.hmacB64('csrf-session', sessionRef);
}

export function anonCsrfToken(secrets: Secrets, now: number): string {
  const exp = (now + ANON_TTL_MS).toString(36);
  const nonce = randomToken(12);
  return `a.${exp}.${nonce}.${secrets.hmacB64('csrf-anon', `${exp}.${nonce}`)}`;
}

/** A token bound to this session (forms shown to a signed-in user). */
export function verifySessionCsrf(secrets: Secrets, token: unknown, sessionRef: string): boolean {
  return typeof token === 'string' && token.length < 300 && token.startsWith('s.') && safeEqual(token, sessionCsrfToken(secrets, sessionRef));
}

/** A signed, unexpired anonymous token (forms used before sign-in). */
export function verifyAnonCsrf(secrets: Secrets, token: unknown, now: number): boolean {
  if (typeof token !== 'string' || token.length > 300 || !token.startsWith('a.')) return false;
  const [, exp, nonce, mac] = token.split('.');
  if (!exp || !nonce || !mac) return false;
  if (!safeEqual(mac, secrets.hmacB64('csrf-anon', `${exp}.${nonce}`))) return false;
  return parseInt(exp, 36) > now;
}

/**
 * Same-origin check from the browser's own headers. `Sec-Fetch-Site` is decisive where sent (every
 * current browser); otherwise a real `Origin` must be ours. `Origin: null` (privacy modes, opaque
 * origins) is accepted only with `Sec-Fetch-Site: same-origin`. Absent headers (old browsers, curl) pass:
 * the token still has to be right.
 */
export function sameOrigin(request: FastifyRequest, publicUrl: string): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site) return site === 'same-origin' || site === 'none';
  const origin = request.headers.origin;
  if (!origin) return true;
  if (origin === 'null') return false;
  const allowed = new Set([new URL(publicUrl).origin]);
  const host = request.headers.host;
  if (host) { allowed.add(`http://${host}`); allowed.add(`https://${host}`); }
  return allowed.has(origin);
}
