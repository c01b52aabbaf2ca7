import type { Kernel } from './context.js';
import { pruneRateLimits } from './http/rate-limit-store.js';
import { truncateIp } from './privacy/subject-data.js';
import { addMonths } from './clock.js';

const DAY = 86_400_000;
const BATCH = 500;

/**
 * The kernel's own retention, as declared in kernel/privacy/kernel.privacy.ts: finished jobs go after
 * 7 days, outbox copies 90 days after they were written (whatever became of them: sent, refused, or
 * held as uncertain and never decided), rate-limit counters an hour after their window started (no
 * window is longer), security-log addresses are cut to their network after a year and the entries
 * deleted after six. Only a message in the middle of its SMTP conversation is left alone. Returns what
 * it changed, for the retention report.
 */
export async function pruneKernelData(k: Kernel): Promise<{ jobs: number; mail: number; rateLimits: number; auditIps: number; auditEntries: number }> {
  const now = k.clock.now();
  const jobs = await k.db.deleteFrom('jobs').where('status', 'in', ['done', 'dead']).where('finished_at', '<', now - 7 * DAY).executeTakeFirst();
  const mail = await k.db.deleteFrom('mail_outbox').where('status', '<>', 'sending').where('created_at', '<', now - 90 * DAY).executeTakeFirst();
  const rateLimits = await pruneRateLimits(k.db, now);
  const auditEntries = await k.db.deleteFrom('audit_log').where('at', '<', addMonths(now, -6 * 12)).executeTakeFirst();
  return {
    jobs: Number(jobs.numDeletedRows), mail: Number(mail.numDeletedRows), rateLimits: Number(rateLimits),
    auditIps: await truncateOldAuditIps(k, addMonths(now, -12)), auditEntries: Number(auditEntries.numDeletedRows),
  };
}

/** Security-log entries older than `cutoff` keep only the network of their address (IPv4 /24, IPv6 /48). */
async function truncateOldAuditIps(k: Kernel, cutoff: number): Promise<number> {
  let changed = 0;
  for (;;) {
    // A cut address contains '/', a full one never does (the same test as the call-home retention).
    const rows = await k.db.selectFrom('audit_log').select(['id', 'ip']).where('at', '<', cutoff)
      .where('ip', 'is not', null).where('ip', 'not like', '%/%').limit(BATCH).execute();
    if (rows.length === 0) return changed;
    await k.db.transaction().execute(async (trx) => {
      for (const r of rows) await trx.updateTable('audit_log').set({ ip: truncateIp(r.ip) }).where('id', '=', r.id).execute();
    });
    changed += rows.length;
    if (rows.length < BATCH) return changed;
  }
}

/** Runs pruneKernelData hourly, once across all nodes. */
export function registerHousekeeping(k: Kernel): void {
  k.jobs.every('kernel.housekeeping', 3600_000, async () => { await pruneKernelData(k); });
}
