import type { Kernel } from '../../kernel/context.js';
import { safeEqual } from '../../kernel/crypto/tokens.js';

/**
 * Spam protection for the contact form without third parties or cookies: a hidden honeypot field that
 * people never see (robots fill it), a signed time stamp for a minimum fill time (robots post at once),
 * and a per-IP rate limit on the route.
 */
export const HONEYPOT = 'website';
const MAX_AGE_MS = 6 * 3600_000;

export function formStamp(k: Kernel): string {
  const t = k.clock.now().toString(36);
  return `${t}.${k.secrets.hmacB64('support-form-stamp', t).slice(0, 22)}`;
}

export type StampCheck = 'ok' | 'too_fast' | 'invalid';

export function checkStamp(k: Kernel, stamp: unknown, minSeconds: number): StampCheck {
  if (typeof stamp !== 'string' || stamp.length > 80) return 'invalid';
  const [t, mac] = stamp.split('.');
  if (!t || !mac || !/^[0-9a-z]{1,12}$/.test(t) || !safeEqual(mac, k.secrets.hmacB64('support-form-stamp', t).slice(0, 22))) return 'invalid';
  const age = k.clock.now() - parseInt(t, 36);
  if (age < minSeconds * 1000) return 'too_fast';
  return age > MAX_AGE_MS ? 'invalid' : 'ok';
}
