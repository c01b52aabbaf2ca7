import type { Kernel } from '../../kernel/context.js';
import type { SubjectDataProvider } from '../../kernel/privacy/subject-data.js';

const END_COLUMNS = ['end_name', 'end_company', 'end_email', 'end_country'] as const;

const pseudonym = (k: Kernel, email: string) =>
  email.endsWith('@erased.invalid') ? email : `${k.secrets.hmac('privacy-pseudonym', email).toString('hex').slice(0, 16)}@erased.invalid`;

/**
 * Resellers for subject access and erasure, for two kinds of person:
 * - the reseller (its customer account): its agreement, price list and the sales it made. The end
 *   customers named on those sales are other people: a reseller's export shows its sales without their
 *   details (the reseller sees them on its reseller page). Erasure removes the public listing details and
 *   suspends the agreement; the terms, prices and sales are kept (legal claims and order records).
 * - the end customer a reseller named on a sale (by email): the sale is exported with the details; erasure
 *   replaces the email with the same pseudonym orders use and keeps the rest with the order records.
 */
export const resellersSubjectData: SubjectDataProvider = {
  module: 'resellers',
  tables: ['resellers', 'reseller_prices', 'reseller_sales'],
  async export(k, s) {
    const ids = s.customerIds;
    const sales = await k.db.selectFrom('reseller_sales').selectAll().where((eb) => eb.or([
      eb('end_email', '=', s.email), ...(ids.length ? [eb('reseller_id', 'in', ids)] : []),
    ])).orderBy('created_at').execute();
    return [
      { table: 'resellers', rows: ids.length ? await k.db.selectFrom('resellers').selectAll().where('customer_id', 'in', ids).execute() : [] },
      { table: 'reseller_prices', rows: ids.length ? await k.db.selectFrom('reseller_prices').selectAll().where('reseller_id', 'in', ids).orderBy('plan_id').execute() : [] },
      {
        table: 'reseller_sales',
        rows: sales.map((r) => (r.end_email === s.email ? r : { ...r, ...Object.fromEntries(END_COLUMNS.map((c) => [c, null])) })),
      },
    ];
  },
  async erase(k, s) {
    const counts: Record<string, number> = {};
    const kept: string[] = [];
    const ids = s.customerIds;
    await k.db.transaction().execute(async (trx) => {
      if (ids.length) {
        counts.resellers = Number((await trx.updateTable('resellers')
          .set({ public_name: '', public_url: null, public_country: null, status: 'suspended', updated_at: k.clock.now() })
          .where('customer_id', 'in', ids).executeTakeFirst()).numUpdatedRows);
        if (counts.resellers) {
          kept.push('Your reseller agreement (discount, payment terms and price list) is kept for six years after your account closed, the limitation period for claims; your public listing details are removed and the agreement is suspended.');
        }
        const sold = await trx.selectFrom('reseller_sales').select((eb) => eb.fn.countAll<number>().as('n')).where('reseller_id', 'in', ids).executeTakeFirstOrThrow();
        if (Number(sold.n)) kept.push(`${Number(sold.n)} sale(s) you made as a reseller are kept with the order records for six years from the end of the financial year, as tax law requires.`);
      }
      const named = await trx.selectFrom('reseller_sales').select(['order_id', 'end_email']).where('end_email', '=', s.email).execute();
      for (const r of named) await trx.updateTable('reseller_sales').set({ end_email: pseudonym(k, r.end_email) }).where('order_id', '=', r.order_id).execute();
      counts.reseller_sales = named.length;
      if (named.length) kept.push('Sales a reseller made for you are kept with the order records for six years from the end of the financial year, as tax law requires, with the name, company and country the reseller gave; your email address on them is replaced by a pseudonym.');
    });
    return { counts, kept };
  },
};
