import type { Kernel } from './context.js';
import { pruneRateLimits } from './http/rate-limit-store.js';

const DAY = 86_400_000;

/**
 * The kernel's own retention, as declared in kernel/privacy/kernel.privacy.ts: finished jobs go after
 * 7 days, delivered mail after 90, rate-limit counters after a day. Runs hourly, once across all nodes.
 */
export function registerHousekeeping(k: Kernel): void {
  k.jobs.every('kernel.housekeeping', 3600_000, async () => {
    const now = k.clock.now();
    await k.db.deleteFrom('jobs').where('status', 'in', ['done', 'dead']).where('finished_at', '<', now - 7 * DAY).execute();
    await k.db.deleteFrom('mail_outbox').where('status', '=', 'sent').where('sent_at', '<', now - 90 * DAY).execute();
    await pruneRateLimits(k.db, now);
  });
}
