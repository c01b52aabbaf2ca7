import type { SubjectDataProvider } from '../../kernel/privacy/subject-data.js';

/**
 * Licences and what installed copies reported. Erasure unlinks the licence from the person (the key stays:
 * it is on an invoice) and deletes the machines, daily call-home counts, networks seen and self-service
 * releases for it. A licence issued to the person's email but owned by another account (a reseller that
 * sold it) stays with that account; only the email is removed.
 */
export const licensingSubjectData: SubjectDataProvider = {
  module: 'licensing',
  tables: ['licences', 'machines', 'callhome_daily', 'licence_networks', 'licence_self_releases'],
  async export(k, s) {
    if (!s.licenceIds.length) return [];
    const ids = s.licenceIds;
    return [
      { table: 'licences', rows: await k.db.selectFrom('licences').selectAll().where('id', 'in', ids).execute() },
      { table: 'machines', rows: await k.db.selectFrom('machines').selectAll().where('licence_id', 'in', ids).execute() },
      { table: 'callhome_daily', rows: await k.db.selectFrom('callhome_daily').selectAll().where('licence_id', 'in', ids).execute() },
      { table: 'licence_networks', rows: await k.db.selectFrom('licence_networks').selectAll().where('licence_id', 'in', ids).execute() },
      { table: 'licence_self_releases', rows: await k.db.selectFrom('licence_self_releases').selectAll().where('licence_id', 'in', ids).orderBy('released_at').execute() },
    ];
  },
  async erase(k, s) {
    const counts: Record<string, number> = {};
    if (!s.licenceIds.length) return { counts, kept: [] };
    const ids = s.licenceIds;
    await k.db.transaction().execute(async (trx) => {
      counts.machines = Number((await trx.deleteFrom('machines').where('licence_id', 'in', ids).executeTakeFirst()).numDeletedRows);
      counts.callhome_daily = Number((await trx.deleteFrom('callhome_daily').where('licence_id', 'in', ids).executeTakeFirst()).numDeletedRows);
      counts.licence_networks = Number((await trx.deleteFrom('licence_networks').where('licence_id', 'in', ids).executeTakeFirst()).numDeletedRows);
      counts.licence_self_releases = Number((await trx.deleteFrom('licence_self_releases').where('licence_id', 'in', ids).executeTakeFirst()).numDeletedRows);
      // A licence issued to this email may belong to someone else's account (a reseller that sold it):
      // only the person's own links are removed.
      const now = k.clock.now();
      counts.licences = ids.length;
      await trx.updateTable('licences').set({ customer_email: null, updated_at: now }).where('id', 'in', ids).where('customer_email', '=', s.email).execute();
      if (s.customerIds.length) await trx.updateTable('licences').set({ customer_id: null, updated_at: now }).where('id', 'in', ids).where('customer_id', 'in', s.customerIds).execute();
    });
    return { counts, kept: counts.licences ? ['Your licences and their keys are kept, no longer linked to you, so copies of the software already installed with them keep working.'] : [] };
  },
};

/** The call-home IP rule for the daily retention job: the same rule and setting as `licensing.ip-retention`. */
export async function applyLicensingRetention(k: import('../../kernel/context.js').Kernel) {
  const { callhomeSettingsFromEnv, currentCallhomeSettings } = await import('./licensing.settings.js');
  const { truncateOldIps } = await import('./retention.js');
  const s = await currentCallhomeSettings(k.settings, callhomeSettingsFromEnv());
  return truncateOldIps(k, s.ipRetentionDays);
}
