import type { SubjectDataProvider } from '../../kernel/privacy/subject-data.js';

/**
 * Orders for subject access and erasure. Orders are accounting records (six years, legal obligation): the
 * billing details stay; the contact email is replaced by a pseudonym and the telephone number removed.
 * Basket lines for the person's licences are deleted.
 */
export const ordersSubjectData: SubjectDataProvider = {
  module: 'orders',
  tables: ['orders', 'order_lines', 'payments', 'basket_lines'],
  async export(k, s) {
    const orders = await k.db.selectFrom('orders').selectAll().where((eb) => eb.or([
      eb('email', '=', s.email), ...(s.customerIds.length ? [eb('customer_id', 'in', s.customerIds)] : []),
    ])).orderBy('created_at').execute();
    const ids = orders.map((o) => o.id);
    return [
      { table: 'orders', rows: orders },
      { table: 'order_lines', rows: ids.length ? await k.db.selectFrom('order_lines').selectAll().where('order_id', 'in', ids).orderBy('order_id').orderBy('line_no').execute() : [] },
      { table: 'payments', rows: ids.length ? await k.db.selectFrom('payments').selectAll().where('order_id', 'in', ids).execute() : [] },
    ];
  },
  async erase(k, s) {
    const counts: Record<string, number> = {};
    await k.db.transaction().execute(async (trx) => {
      const orders = await trx.selectFrom('orders').select(['id', 'email']).where((eb) => eb.or([
        eb('email', '=', s.email), ...(s.customerIds.length ? [eb('customer_id', 'in', s.customerIds)] : []),
      ])).execute();
      for (const o of orders) {
        const pseudonym = o.email.endsWith('@erased.invalid') ? o.email : `${k.secrets.hmac('privacy-pseudonym', o.email).toString('hex').slice(0, 16)}@erased.invalid`;
        await trx.updateTable('orders').set({ email: pseudonym, phone: null }).where('id', '=', o.id).execute();
      }
      counts.orders = orders.length;
      counts.basket_lines = s.licenceIds.length
        ? Number((await trx.deleteFrom('basket_lines').where('target_licence_id', 'in', s.licenceIds).executeTakeFirst()).numDeletedRows) : 0;
    });
    return { counts, kept: counts.orders ? ['Your orders, with the billing name, address and VAT number, are kept for six years from the end of the financial year, as tax law requires; your email address on them is replaced by a pseudonym and the telephone number removed.'] : [] };
  },
};
