// Call-home rate limits, per licence and per external IP (spec: "the defaults never refuse a call
// while fewer than 30 calls for that licence, and 600 from that external IP, were accepted in the
// preceding 60 seconds").
//
// Fixed windows aligned to the clock: the calls counted in the current window all fall within the
// preceding `windowMs`, so refusing at `limit` in the window never refuses a call the contract says must
// pass, and a counter per key costs one Map entry. Counters are per process; with several processes
// the effective limit is higher, never lower, which the contract allows.

export interface RateLimits {
  perLicence: number;
  perIp: number;
  windowSeconds: number;
}

export const RATE_LIMIT_DEFAULTS: RateLimits = Object.freeze({ perLicence: 30, perIp: 600, windowSeconds: 60 });

export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

export class CallhomeRateLimiter {
  private window = -1;
  private windowMs = 0;
  private licences = new Map<string, number>();
  private ips = new Map<string, number>();

  constructor(private readonly now: () => number) {}

  /**
   * Counts one call for `ip` and (when the body named one) the normalised licence key, unless either
   * is already at its limit; a refused call is not counted ("accepted" calls are what the limit counts).
   */
  take(limits: RateLimits, ip: string, licence: string | null): RateDecision {
    const now = this.now();
    const windowMs = limits.windowSeconds * 1000;
    const w = Math.floor(now / windowMs);
    if (w !== this.window || windowMs !== this.windowMs) {
      // A new window forgets every key at once: memory stays bounded by one window's callers.
      this.window = w;
      this.windowMs = windowMs;
      this.licences = new Map();
      this.ips = new Map();
    }
    const ipCount = this.ips.get(ip) ?? 0;
    const licenceCount = licence === null ? 0 : (this.licences.get(licence) ?? 0);
    if (ipCount >= limits.perIp || (licence !== null && licenceCount >= limits.perLicence)) {
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(((w + 1) * windowMs - now) / 1000)) };
    }
    this.ips.set(ip, ipCount + 1);
    if (licence !== null) this.licences.set(licence, licenceCount + 1);
    return { ok: true };
  }
}
