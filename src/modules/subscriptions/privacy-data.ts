import type { SubjectDataProvider } from '../../kernel/privacy/subject-data.js';

/**
 * Subscriptions (support terms and add-ons on a licence) for subject access and erasure: found by the
 * person's customer accounts and licences. Erasure deletes them and their reminder ledger (no renewal is
 * offered or charged any more); the orders and invoices that paid for them are kept by orders and billing.
 */
export const subscriptionsSubjectData: SubjectDataProvider = {
  module: 'subscriptions',
  tables: ['subscriptions'],
  async export(k, s) {
    if (!s.customerIds.length && !s.licenceIds.length) return [];
    const rows = await k.db.selectFrom('subscriptions').selectAll().where((eb) => eb.or([
      ...(s.customerIds.length ? [eb('customer_id', 'in', s.customerIds)] : []),
      ...(s.licenceIds.length ? [eb('licence_id', 'in', s.licenceIds)] : []),
    ])).orderBy('created_at').execute();
    return [{ table: 'subscriptions', rows }];
  },
  async erase(k, s) {
    const counts: Record<string, number> = {};
    if (!s.customerIds.length && !s.licenceIds.length) return { counts, kept: [] };
    await k.db.transaction().execute(async (trx) => {
      const ids = (await trx.selectFrom('subscriptions').select('id').where((eb) => eb.or([
        ...(s.customerIds.length ? [eb('customer_id', 'in', s.customerIds)] : []),
        ...(s.licenceIds.length ? [eb('licence_id', 'in', s.licenceIds)] : []),
      ])).execute()).map((r) => r.id);
      if (!ids.length) return;
      counts.subscription_reminders = Number((await trx.deleteFrom('subscription_reminders').where('subscription_id', 'in', ids).executeTakeFirst()).numDeletedRows);
      counts.subscriptions = Number((await trx.deleteFrom('subscriptions').where('id', 'in', ids).executeTakeFirst()).numDeletedRows);
    });
    return { counts, kept: counts.subscriptions ? ['Your subscriptions are ended and deleted; the orders and invoices that paid for them are kept as accounting records.'] : [] };
  },
};
