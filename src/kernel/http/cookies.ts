import type { FastifyReply } from 'fastify';

/**
 * Cookie names and attributes in one place. Over HTTPS (production) names get the `__Host-` prefix and
 * `Secure`; on plain-HTTP development the prefix and Secure are dropped and nothing else changes.
 * Every name here is declared in the privacy registry (kernel/privacy.ts and the modules' privacy.ts).
 */
export interface CookiePolicy {
  secure: boolean;
  name(base: string): string;
}

export function cookiePolicy(secure: boolean): CookiePolicy {
  return { secure, name: (base) => (secure ? `__Host-${base}` : base) };
}

export interface SetCookieOptions {
  /** Seconds; omitted for a browser-session cookie that dies with the browser. */
  maxAge?: number;
  sameSite?: 'lax' | 'strict';
}

export function setCookie(reply: FastifyReply, policy: CookiePolicy, base: string, value: string, opts: SetCookieOptions = {}): void {
  reply.setCookie(policy.name(base), value, {
    path: '/', httpOnly: true, secure: policy.secure, sameSite: opts.sameSite ?? 'lax',
    ...(opts.maxAge !== undefined ? { maxAge: opts.maxAge } : {}),
  });
}

export function clearCookie(reply: FastifyReply, policy: CookiePolicy, base: string): void {
  reply.clearCookie(policy.name(base), { path: '/', httpOnly: true, secure: policy.secure, sameSite: 'lax' });
}
