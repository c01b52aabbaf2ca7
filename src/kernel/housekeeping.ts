import type { Kernel } from './context.js';
import { pruneRateLimits } from './http/rate-limit-store.js';

const DAY = 86_400_000;

/**
 * The kernel's own retention, as declared in kernel/privacy/kernel.privacy.ts: finished jobs go after
 * 7 days, outbox copies 90 days after they were written (whatever became of them: sent, refused, or
 * held as uncertain and never decided), rate-limit counters an hour after their window started (no
 * window is longer). Only a message in the middle
 * of its SMTP conversation is left alone. Returns what it deleted, for the retention report.
 */
export async function pruneKernelData(k: Kernel): Promise<{ jobs: number; mail: number; rateLimits: number }> {
  const now = k.clock.now();
  const jobs = await k.db.deleteFrom('jobs').where('status', 'in', ['done', 'dead']).where('finished_at', '<', now - 7 * DAY).executeTakeFirst();
  const mail = await k.db.deleteFrom('mail_outbox').where('status', '<>', 'sending').where('created_at', '<', now - 90 * DAY).executeTakeFirst();
  const rateLimits = await pruneRateLimits(k.db, now);
  return { jobs: Number(jobs.numDeletedRows), mail: Number(mail.numDeletedRows), rateLimits: Number(rateLimits) };
}

/** Runs pruneKernelData hourly, once across all nodes. */
export function registerHousekeeping(k: Kernel): void {
  k.jobs.every('kernel.housekeeping', 3600_000, async () => { await pruneKernelData(k); });
}
