import { sql, type ExpressionBuilder } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Kernel } from '../context.js';
import type { SubjectDataProvider } from './subject-data.js';
import { truncateIp } from './subject-data.js';

/** `LIKE` pattern for a literal value (the values are emails and ids; `%`, `_` and `\` are escaped). */
export const likeLiteral = (v: string) => `%${v.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** The stand-in for an erased account's id in records that are kept (the same id always gives the same one). */
export function erasedPseudonym(k: Pick<Kernel, 'secrets'>, id: string): string {
  return `erased:${k.secrets.hmac('privacy-pseudonym', id).toString('hex').slice(0, 16)}`;
}

/**
 * Copies of emails that are the person's: sent to them, or naming their address in the subject or
 * body (a new-ticket notice to staff quotes the customer's address and message). Compared in lower
 * case on both databases (SQLite's LIKE ignores ASCII case, PostgreSQL's does not).
 */
function personsMail(email: string) {
  const pattern = likeLiteral(email.toLowerCase());
  return (eb: ExpressionBuilder<Database, 'mail_outbox'>) => eb.or([
    eb('to_addr', '=', email),
    sql<boolean>`lower(${sql.ref('subject')}) like ${pattern} escape '\\'`,
    sql<boolean>`lower(${sql.ref('text_body')}) like ${pattern} escape '\\'`,
    sql<boolean>`lower(coalesce(${sql.ref('html_body')}, '')) like ${pattern} escape '\\'`,
  ]);
}

/** What a subject-access export shows in place of the address of a mail that went to someone else. */
export const ANOTHER_RECIPIENT = '(another recipient: our staff or a person you named)';

/**
 * The kernel's tables: copies of emails sent to the person or naming them, their security-log entries,
 * pending jobs and rate-limit counters that name them. Audit entries are kept (security, six years) with
 * the actor pseudonymised and the IP cut to its network.
 */
export const kernelSubjectData: SubjectDataProvider = {
  module: 'kernel',
  tables: ['mail_outbox', 'audit_log', 'jobs', 'rate_limits'],
  async export(k, s) {
    // A mail to someone else that names the person (a staff notice quoting their message) is theirs to
    // see, but its recipient is another person's data: that address is left out (GDPR Art. 15(4)).
    const own = s.email.toLowerCase();
    const mail = (await k.db.selectFrom('mail_outbox').selectAll().where(personsMail(s.email)).orderBy('created_at').execute())
      .map((m) => (m.to_addr.toLowerCase() === own ? m : { ...m, to_addr: ANOTHER_RECIPIENT }));
    const audit = s.customerIds.length
      ? await k.db.selectFrom('audit_log').selectAll().where((eb) => eb.or([eb('actor_id', 'in', s.customerIds), eb('target', 'in', s.customerIds)])).orderBy('at').execute()
      : [];
    return [{ table: 'mail_outbox', rows: mail }, { table: 'audit_log', rows: audit }];
  },
  async erase(k, s) {
    const counts: Record<string, number> = {};
    const needles = [s.email, ...s.customerIds];
    await k.db.transaction().execute(async (trx) => {
      counts.mail_outbox = Number((await trx.deleteFrom('mail_outbox').where(personsMail(s.email)).executeTakeFirst()).numDeletedRows);
      // Pending work that names the person (a reset email not yet sent…); a job being run right now is left to finish.
      let jobs = 0;
      for (const n of needles) {
        jobs += Number((await trx.deleteFrom('jobs').where('status', '!=', 'running').where(sql<boolean>`payload like ${likeLiteral(n)} escape '\\'`).executeTakeFirst()).numDeletedRows);
      }
      counts.jobs = jobs;
      let limits = 0;
      for (const n of needles) limits += Number((await trx.deleteFrom('rate_limits').where(sql<boolean>`${sql.ref('key')} like ${likeLiteral(n)} escape '\\'`).executeTakeFirst()).numDeletedRows);
      counts.rate_limits = limits;
      let audit = 0;
      if (s.customerIds.length) {
        const rows = await trx.selectFrom('audit_log').select(['id', 'actor_id', 'ip', 'target']).where((eb) => eb.or([eb('actor_id', 'in', s.customerIds), eb('target', 'in', s.customerIds)])).execute();
        for (const r of rows) {
          await trx.updateTable('audit_log').set({
            actor_id: r.actor_id && s.customerIds.includes(r.actor_id) ? erasedPseudonym(k, r.actor_id) : r.actor_id,
            target: r.target && s.customerIds.includes(r.target) ? erasedPseudonym(k, r.target) : r.target,
            ip: truncateIp(r.ip),
          }).where('id', '=', r.id).execute();
          audit++;
        }
      }
      counts.audit_log = audit;
    });
    return { counts, kept: counts.audit_log ? ['Security-log entries about your account are kept for six years, with your account id replaced by a pseudonym and IP addresses cut to their network.'] : [] };
  },
};
