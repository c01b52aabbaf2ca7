/** Time comes from here, never from Date.now() in services, so tests can move it (renewals, expiry, retention). */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export class ManualClock implements Clock {
  constructor(private t: number = Date.UTC(2026, 10, 25, 10, 0, 0)) {}
  now(): number { return this.t; }
  set(t: number | Date): void { this.t = typeof t === 'number' ? t : t.getTime(); }
  advance(ms: number): void { this.t += ms; }
}

export const DAY_MS = 86_400_000;

/** Calendar months in UTC (a year from 29 February is 1 March); negative months go back. */
export function addMonths(t: number, months: number): number {
  const d = new Date(t);
  d.setUTCMonth(d.getUTCMonth() + months);
  return d.getTime();
}
