// Call-home rate limits, per licence and per external IP (spec: "the defaults never refuse a call
// while fewer than 30 calls for that licence, and 600 from that external IP, were accepted in the
// preceding 60 seconds").
//
// Fixed windows aligned to the clock: the calls counted in the current window all fall within the
// preceding `windowMs`, so refusing at `limit` in the window never refuses a call the contract says must
// pass, and a counter per key costs one Map entry. Counters are per process; with several processes
// the effective limit is higher, never lower, which the contract allows.

import { FixedWindowCounter } from '../../../kernel/http/window-counter.js';

export interface RateLimits {
  perLicence: number;
  perIp: number;
  windowSeconds: number;
}

export const RATE_LIMIT_DEFAULTS: RateLimits = Object.freeze({ perLicence: 30, perIp: 600, windowSeconds: 60 });

export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

export class CallhomeRateLimiter {
  /** One pair of fixed-window counters; made anew when staff change the window length. */
  private counters: { windowMs: number; ips: FixedWindowCounter; licences: FixedWindowCounter } | null = null;

  constructor(private readonly now: () => number) {}

  /**
   * Counts one call for `ip` and (when the body named one) the normalised licence key, unless either
   * is already at its limit; a refused call is not counted ("accepted" calls are what the limit counts).
   */
  take(limits: RateLimits, ip: string, licence: string | null): RateDecision {
    const windowMs = limits.windowSeconds * 1000;
    if (this.counters?.windowMs !== windowMs) {
      this.counters = { windowMs, ips: new FixedWindowCounter(windowMs, this.now), licences: new FixedWindowCounter(windowMs, this.now) };
    }
    const { ips, licences } = this.counters;
    if (ips.count(ip) >= limits.perIp || (licence !== null && licences.count(licence) >= limits.perLicence)) {
      const now = this.now();
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(((Math.floor(now / windowMs) + 1) * windowMs - now) / 1000)) };
    }
    ips.hit(ip);
    if (licence !== null) licences.hit(licence);
    return { ok: true };
  }
}
