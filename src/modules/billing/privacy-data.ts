import type { SubjectDataProvider } from '../../kernel/privacy/subject-data.js';

/** Invoices and credit notes: exported, never erased (six years from the end of the financial year, VAT law). */
export const billingSubjectData: SubjectDataProvider = {
  module: 'billing',
  tables: ['invoices'],
  async export(k, s) {
    const rows = await k.db.selectFrom('invoices').selectAll().where((eb) => eb.or([
      eb('buyer_email', '=', s.email), ...(s.customerIds.length ? [eb('customer_id', 'in', s.customerIds)] : []),
    ])).orderBy('number').execute();
    return [{ table: 'invoices', rows }];
  },
  async erase(k, s) {
    const n = await k.db.selectFrom('invoices').select((eb) => eb.fn.countAll<number>().as('n')).where((eb) => eb.or([
      eb('buyer_email', '=', s.email), ...(s.customerIds.length ? [eb('customer_id', 'in', s.customerIds)] : []),
    ])).executeTakeFirstOrThrow();
    return { counts: {}, kept: Number(n.n) ? [`${Number(n.n)} invoice(s) and credit note(s) are kept unchanged for six years from the end of the financial year, as VAT and company law require; they are deleted after that.`] : [] };
  },
};
