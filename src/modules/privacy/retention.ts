import type { Kernel } from '../../kernel/context.js';
import { DAY_MS, addMonths } from '../../kernel/clock.js';
import { newId } from '../../kernel/crypto/tokens.js';
import { pruneKernelData } from '../../kernel/housekeeping.js';
import { applyLicensingRetention } from '../licensing/index.js';
import { purgeStaleBaskets } from '../orders/index.js';
import { applyNewsletterRetention } from '../newsletter/index.js';
import { applySupportRetention } from '../support/index.js';
import { hasPublishPermission, TESTIMONIAL_SCOPE } from './testimonials.js';

export const RETENTION_JOB = 'privacy.retention';

export interface RetentionRule {
  id: string;
  /** What the rule does, in the words of the declarations it carries out. */
  description: string;
  run(k: Kernel): Promise<Record<string, number>>;
}

const n = (r: { numDeletedRows?: bigint; numUpdatedRows?: bigint }) => Number(r.numDeletedRows ?? r.numUpdatedRows ?? 0);

/**
 * Every retention rule of every module, applied by one daily job that writes a report row. Modules that
 * already run their own schedule (support, newsletter, call-home IPs) keep it; their rules are idempotent,
 * so running them here too only makes sure nothing is missed and gives one report. Append new rules here.
 */
export const retentionRules: RetentionRule[] = [
  {
    id: 'kernel.outbox_jobs_counters', description: 'Emails deleted 90 days after they were written, finished jobs after 7 days, rate-limit counters an hour after their window started; security-log addresses cut to their network after a year, entries deleted after six years.',
    run: (k) => pruneKernelData(k),
  },
  {
    id: 'accounts.sessions', description: 'Expired sessions and remember-me tokens deleted; used or expired email links deleted a day after they expire.',
    async run(k) {
      const now = k.clock.now();
      return {
        sessions: n(await k.db.deleteFrom('sessions').where('expires_at', '<', now).executeTakeFirst()),
        rememberTokens: n(await k.db.deleteFrom('remember_tokens').where('expires_at', '<', now).executeTakeFirst()),
        accountTokens: n(await k.db.deleteFrom('account_tokens').where('expires_at', '<', now - DAY_MS).executeTakeFirst()),
      };
    },
  },
  {
    id: 'orders.baskets', description: 'Baskets untouched for 7 days deleted (the shop\'s own housekeeping rule).',
    async run(k) { return { baskets: await purgeStaleBaskets(k.db, k.clock.now()) }; },
  },
  {
    id: 'licensing.callhome_ips', description: 'Call-home IP addresses cut to their network after the retention period (30 days by default); networks seen deleted.',
    async run(k) { return { ...(await applyLicensingRetention(k)) }; },
  },
  {
    id: 'licensing.self_releases', description: 'Records of computers released in My account deleted after 31 days (they only count towards the current month\'s limit).',
    async run(k) { return { selfReleases: n(await k.db.deleteFrom('licence_self_releases').where('released_at', '<', k.clock.now() - 31 * DAY_MS).executeTakeFirst()) }; },
  },
  {
    id: 'support.tickets', description: 'Closed and spam tickets anonymised after the vendor\'s period; stale intake records and auto-reply markers deleted.',
    async run(k) { return { ...(await applySupportRetention(k)) }; },
  },
  {
    id: 'newsletter.subscribers', description: 'Sign-ups never confirmed removed; people on no list removed after 30 days; records of mailings sent deleted after a year; suppression entries after six years; consent records six years after the consent was withdrawn.',
    async run(k) { return { ...(await applyNewsletterRetention(k)) }; },
  },
  {
    id: 'privacy.testimonials', description: 'Comments whose permission was withdrawn more than 30 days ago deleted; retention reports kept a year.',
    async run(k) {
      const now = k.clock.now();
      const rows = await k.db.selectFrom('privacy_testimonials').select(['id', 'email']).execute();
      let deleted = 0;
      for (const r of rows) {
        const last = await k.db.selectFrom('newsletter_consent_events').select(['action', 'at']).where('email', '=', r.email).where('list_id', '=', TESTIMONIAL_SCOPE)
          .orderBy('at', 'desc').limit(1).executeTakeFirst();
        if (last && !(await hasPublishPermission(k.db, r.email)) && last.at < now - 30 * DAY_MS) {
          await k.db.deleteFrom('privacy_testimonials').where('id', '=', r.id).execute();
          deleted++;
        }
      }
      const reports = n(await k.db.deleteFrom('privacy_retention_runs').where('started_at', '<', now - 365 * DAY_MS).executeTakeFirst());
      return { testimonials: deleted, oldReports: reports };
    },
  },
  {
    id: 'privacy.requests', description: 'Records of access and erasure requests, with what processors were told, and the erasure journal deleted after six years.',
    async run(k) {
      const cutoff = addMonths(k.clock.now(), -6 * 12);
      return k.db.transaction().execute(async (trx) => {
        const old = trx.selectFrom('privacy_requests').select('id').where('created_at', '<', cutoff);
        const notices = n(await trx.deleteFrom('privacy_processor_notices').where('request_id', 'in', old).executeTakeFirst());
        const requests = n(await trx.deleteFrom('privacy_requests').where('created_at', '<', cutoff).executeTakeFirst());
        // An erasure re-applied after a restore counts from then: the journal entry was needed until that.
        const journal = n(await trx.deleteFrom('privacy_erasure_journal').where('erased_at', '<', cutoff)
          .where((eb) => eb.or([eb('reapplied_at', 'is', null), eb('reapplied_at', '<', cutoff)])).executeTakeFirst());
        return { requests, processorNotices: notices, journal };
      });
    },
  },
];

export interface RetentionReport { rule: string; description: string; result?: Record<string, number>; error?: string }

/** Runs every rule (one failing does not stop the others) and writes the report row. */
export async function runRetention(k: Kernel, rules: RetentionRule[] = retentionRules): Promise<{ id: string; report: RetentionReport[]; failures: number }> {
  const started = k.clock.now();
  const report: RetentionReport[] = [];
  for (const rule of rules) {
    try {
      report.push({ rule: rule.id, description: rule.description, result: await rule.run(k) });
    } catch (err) {
      // Errors are written without values: a message naming a row could carry personal data.
      report.push({ rule: rule.id, description: rule.description, error: err instanceof Error ? err.name + (('code' in err && typeof err.code === 'string') ? ` ${err.code}` : '') : 'error' });
    }
  }
  const failures = report.filter((r) => r.error).length;
  const id = newId();
  await k.db.insertInto('privacy_retention_runs').values({ id, started_at: started, finished_at: k.clock.now(), report: JSON.stringify(report), failures }).execute();
  return { id, report, failures };
}

export async function retentionRuns(k: Kernel, limit = 30) {
  const rows = await k.db.selectFrom('privacy_retention_runs').selectAll().orderBy('started_at', 'desc').limit(limit).execute();
  return rows.map((r) => ({ ...r, report: JSON.parse(r.report) as RetentionReport[] }));
}

/** A run staff asked for ("Run now"): the same work as the daily one, in the job worker, not the web request. */
export const RETENTION_NOW_JOB = 'privacy.retention.now';

export function registerRetentionJob(k: Kernel): void {
  const run = async () => {
    // Not retried on failure: the rules that worked are done, the report says which did not.
    const r = await runRetention(k);
    if (r.failures) k.log.warn({ report: r.id, failures: r.failures }, 'retention rules failed');
  };
  k.jobs.every(RETENTION_JOB, DAY_MS, run);
  k.jobs.register(RETENTION_NOW_JOB, run);
}

/**
 * Queues a run now, unless one asked for is still queued or running (a second click waits for it).
 * Returns whether a run was queued by this call.
 */
export async function queueRetentionRun(k: Kernel): Promise<boolean> {
  if (await retentionRunPending(k)) return false;
  return (await k.jobs.enqueue(RETENTION_NOW_JOB, null, { maxAttempts: 1 })) !== null;
}

/** Whether a run staff asked for is queued or running. */
export async function retentionRunPending(k: Kernel): Promise<boolean> {
  return !!(await k.db.selectFrom('jobs').select('id').where('name', '=', RETENTION_NOW_JOB).where('status', 'in', ['queued', 'running']).executeTakeFirst());
}
