/** When to call next: the server's interval with jitter, never earlier than a Retry-After. */

/** Fraction of the interval by which a check moves either way, so installations spread out. */
export const JITTER_FRACTION = 0.1;
/** Floor on any interval, so a buggy or hostile value cannot turn a program into a hammer. */
export const MIN_INTERVAL_SECONDS = 60;
/** Interval used when no answer told us one (first start failed, server unreachable). */
export const DEFAULT_RETRY_SECONDS = 3600;
/** Ceiling on any interval (30 days): a huge or non-finite value must not make an Invalid Date. */
export const MAX_INTERVAL_SECONDS = 30 * 86_400;

export type RandomSource = () => number;

/**
 * `now + seconds`, moved by a random ±JITTER_FRACTION. The result never lands on a whole minute,
 * so installations started by cron at :00 do not stay in step with each other or the wall clock.
 */
export function jitteredTime(now: Date, seconds: number, random: RandomSource = Math.random): Date {
  const bounded = Number.isFinite(seconds) ? Math.min(seconds, MAX_INTERVAL_SECONDS) : DEFAULT_RETRY_SECONDS;
  const interval = Math.max(bounded, MIN_INTERVAL_SECONDS) * 1000;
  const offset = (random() * 2 - 1) * JITTER_FRACTION * interval;
  let at = Math.round(now.getTime() + interval + offset);
  if (at % 60_000 === 0) at += 1000 + Math.floor(random() * 58_000);
  return new Date(at);
}

/** The time after which a call is allowed again: the later of the jittered interval and Retry-After. */
export function nextCheckTime(
  now: Date,
  nextCheckSeconds: number | undefined,
  retryAt: Date | undefined,
  random: RandomSource = Math.random,
): Date {
  const jittered = jitteredTime(now, nextCheckSeconds ?? DEFAULT_RETRY_SECONDS, random);
  if (retryAt && retryAt.getTime() > jittered.getTime()) {
    // A small extra spread so every client told "retry at T" does not come back at exactly T.
    return new Date(retryAt.getTime() + Math.floor(random() * 5000) + 1);
  }
  return jittered;
}

/**
 * Reads a `Retry-After` header (delay-seconds or an HTTP date). Missing or unreadable values
 * fall back to `fallbackSeconds`; the result is capped because error answers carry no nonce and
 * a replayed 429 must not silence a program for months.
 */
export function retryAfterTime(header: string | null, now: Date, fallbackSeconds: number, maxSeconds: number): Date {
  let seconds = fallbackSeconds;
  if (header !== null && /^\s*\d+\s*$/.test(header)) {
    seconds = Number(header);
  } else if (header !== null && !Number.isNaN(Date.parse(header))) {
    seconds = Math.ceil((Date.parse(header) - now.getTime()) / 1000);
  }
  return new Date(now.getTime() + Math.min(Math.max(seconds, 0), maxSeconds) * 1000);
}
