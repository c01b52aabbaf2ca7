// Call-home rate limits, per licence and per external IP (spec: "the defaults never refuse a call
// while fewer than 30 calls for that licence, and 600 from that external IP, were accepted in the
// preceding 60 seconds").
//
// Fixed windows aligned to the clock: the calls counted in the current window all fall within the
// preceding `windowMs`, so refusing at `limit` in the window never refuses a call the contract says must
// pass, and a counter per key costs one Map entry. With a shared store (Redis when REDIS_URL is set, the
// database on PostgreSQL; see kernel/http/shared-counter.ts) every node counts against the same limit,
// synced in the background so a call never waits on the store; without one (SQLite) counters are per
// process, and with several processes the effective limit is higher, never lower, which the contract allows.

import crypto from 'node:crypto';
import { FixedWindowCounter } from '../../../kernel/http/window-counter.js';
import { SharedWindowCounter, type SharedCounterStore } from '../../../kernel/http/shared-counter.js';

export interface RateLimits {
  perLicence: number;
  perIp: number;
  windowSeconds: number;
}

export const RATE_LIMIT_DEFAULTS: RateLimits = Object.freeze({ perLicence: 30, perIp: 600, windowSeconds: 60 });

type Counter = Pick<FixedWindowCounter, 'count' | 'hit'>;

export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

export class CallhomeRateLimiter {
  /** One pair of fixed-window counters; made anew when staff change the window length. */
  private counters: { windowMs: number; ips: Counter; licences: Counter; shared: SharedWindowCounter[] } | null = null;

  private limits: RateLimits = RATE_LIMIT_DEFAULTS;

  constructor(private readonly now: () => number, private readonly shared: SharedCounterStore | null = null) {}

  private make(windowMs: number): NonNullable<CallhomeRateLimiter['counters']> {
    if (!this.shared) return { windowMs, ips: new FixedWindowCounter(windowMs, this.now), licences: new FixedWindowCounter(windowMs, this.now), shared: [] };
    // Keys past half their limit are re-read on every sync, so other nodes' calls are seen in time.
    const ips = new SharedWindowCounter(windowMs, this.now, this.shared, 'callhome:ip', { watchFrom: () => Math.ceil(this.limits.perIp / 2) });
    const lic = new SharedWindowCounter(windowMs, this.now, this.shared, 'callhome:licence', { watchFrom: () => Math.ceil(this.limits.perLicence / 2) });
    // Licence keys are secrets (stored sealed and hashed): the shared store only ever sees a digest.
    const digest = (key: string) => crypto.createHash('sha256').update(key).digest('base64url').slice(0, 32);
    const licences: Counter = { count: (key) => lic.count(digest(key)), hit: (key) => lic.hit(digest(key)) };
    return { windowMs, ips, licences, shared: [ips, lic] };
  }

  /** Sends pending counts to the shared store now (tests; otherwise it happens in the background). */
  async sync(): Promise<void> {
    await Promise.all((this.counters?.shared ?? []).map((c) => c.sync()));
  }

  async close(): Promise<void> {
    for (const c of this.counters?.shared ?? []) c.stop();
    await this.shared?.close();
  }

  /**
   * Counts one call for `ip` and (when the body named one) the normalised licence key, unless either
   * is already at its limit; a refused call is not counted ("accepted" calls are what the limit counts).
   */
  take(limits: RateLimits, ip: string, licence: string | null): RateDecision {
    this.limits = limits;
    const windowMs = limits.windowSeconds * 1000;
    if (this.counters?.windowMs !== windowMs) {
      for (const c of this.counters?.shared ?? []) c.stop();
      this.counters = this.make(windowMs);
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
