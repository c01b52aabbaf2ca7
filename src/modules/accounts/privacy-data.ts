import type { SubjectDataProvider } from '../../kernel/privacy/subject-data.js';

/**
 * Customer accounts for subject access and erasure. Erasure ends every session and remember-me token,
 * voids outstanding confirmation and reset links, and deletes the account itself; orders and invoices keep
 * their copy of the billing details (billing module), so nothing here has to survive.
 */
export const accountsSubjectData: SubjectDataProvider = {
  module: 'accounts',
  tables: ['customers', 'sessions', 'remember_tokens', 'account_tokens'],
  async export(k, s) {
    if (!s.customerIds.length) return [];
    const ids = s.customerIds;
    return [
      { table: 'customers', rows: await k.db.selectFrom('customers').selectAll().where('id', 'in', ids).execute() },
      { table: 'sessions', rows: await k.db.selectFrom('sessions').select(['subject_id', 'device', 'created_at', 'last_seen_at', 'expires_at']).where('subject_kind', '=', 'customer').where('subject_id', 'in', ids).execute() },
      { table: 'remember_tokens', rows: await k.db.selectFrom('remember_tokens').select(['subject_id', 'device', 'created_at', 'expires_at', 'last_used_at']).where('subject_kind', '=', 'customer').where('subject_id', 'in', ids).execute() },
    ];
  },
  async erase(k, s) {
    const counts: Record<string, number> = {};
    if (!s.customerIds.length) return { counts, kept: [] };
    const ids = s.customerIds;
    await k.db.transaction().execute(async (trx) => {
      counts.sessions = Number((await trx.deleteFrom('sessions').where('subject_kind', '=', 'customer').where('subject_id', 'in', ids).executeTakeFirst()).numDeletedRows);
      counts.remember_tokens = Number((await trx.deleteFrom('remember_tokens').where('subject_kind', '=', 'customer').where('subject_id', 'in', ids).executeTakeFirst()).numDeletedRows);
      counts.account_tokens = Number((await trx.deleteFrom('account_tokens').where('subject_kind', '=', 'customer').where('subject_id', 'in', ids).executeTakeFirst()).numDeletedRows);
      counts.customers = Number((await trx.deleteFrom('customers').where('id', 'in', ids).executeTakeFirst()).numDeletedRows);
    });
    return { counts, kept: [] };
  },
};
