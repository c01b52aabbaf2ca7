import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Kernel } from '../../kernel/context.js';
import { formBody, page } from '../../kernel/http/page.js';
import { Csrf, ErrorSummary, Field } from '../../kernel/views/layout.js';
import { requireStaff } from '../accounts/index.js';
import { formatRateMicros, loadBank, loadExchangeRates, loadSeller, saveExchangeRates } from './billing.settings.js';
import { invoiceById, recentDocuments } from './billing.repository.js';
import { printableFromInvoice } from './documents.js';
import { formatDate, renderPdf } from './pdf.js';
import { formatMoney } from './money.js';

/**
 * Admin → Billing: the sterling exchange rates, the seller and bank details as invoices print them
 * (changed only by the owner, in Settings, where they are checked), and the issued documents and their PDFs.
 */
export function registerBillingAdminPages(app: FastifyInstance, k: Kernel): void {
  const settingsPage = async (request: FastifyRequest, reply: FastifyReply, error?: string, flash?: string, v?: Record<string, string | undefined>) => {
    const [seller, bank, rates, docs] = await Promise.all([loadSeller(k.settings), loadBank(k.settings), loadExchangeRates(k.settings), recentDocuments(k.db)]);
    const val = (key: string, fallback: string) => v?.[key] ?? fallback;
    const owner = request.auth?.role === 'owner';
    const change = (anchor: string) => (owner ? <p><a href={`/admin/settings#${anchor}`}>Change in Settings</a></p> : <p class="muted">The owner changes these in Settings.</p>);
    return page(k.settings, request, reply, { title: 'Billing', variant: 'admin', status: error ? 400 : 200, flash }, (
      <>
        <h1>Billing</h1>
        {error ? <ErrorSummary errors={{ _form: error }} /> : null}
        <div class="grid">
          <form method="post" action="/admin/billing" class="card">
            <h2>Sterling exchange rates</h2>
            <Csrf token={request.csrfToken()} />
            <p class="muted">£ per unit, used for "VAT in sterling" on EUR and USD invoices; the rate used is stored on each invoice.</p>
            <Field label="1 EUR in GBP" name="rate_EUR" value={val('rate_EUR', formatRateMicros(rates.EUR))} />
            <Field label="1 USD in GBP" name="rate_USD" value={val('rate_USD', formatRateMicros(rates.USD))} />
            <button type="submit">Save exchange rates</button>
          </form>
          <section class="card">
            <h2>Seller (printed on invoices)</h2>
            {seller.name ? <p class="pre-wrap">{seller.name}{'\n'}{seller.address}{seller.vatNumber ? `\nVAT ${seller.vatNumber}` : ''}{seller.companyNumber ? `\nCompany ${seller.companyNumber}` : ''}</p> : <p>Not set yet: invoices cannot be issued until it is.</p>}
            {change('seller')}
            <h2>Bank details (pro formas)</h2>
            {bank.accountName ? <p class="pre-wrap">{bank.accountName}{bank.bankName ? `, ${bank.bankName}` : ''}{bank.sortCode ? `\nSort code ${bank.sortCode}, account ${bank.accountNumber}` : ''}{bank.iban ? `\nIBAN ${bank.iban}` : ''}{bank.bic ? `\nBIC ${bank.bic}` : ''}{`\nPayment term ${bank.paymentTermsDays} days`}</p> : <p>Not set yet.</p>}
            {change('bank')}
          </section>
        </div>
        <section class="card">
          <h2>Invoices and credit notes</h2>
          <div class="table-wrap"><table>
            <thead><tr><th>Number</th><th>Kind</th><th>Date</th><th>Buyer</th><th class="num">Net</th><th class="num">VAT</th><th class="num">Total</th></tr></thead>
            <tbody>{docs.map((d) => (
              <tr><td><a href={`/admin/invoices/${d.id}/pdf`}>{d.number}</a></td><td>{d.kind === 'credit_note' ? 'credit note' : 'invoice'}</td><td>{formatDate(Number(d.issue_date))}</td>
                <td><a href={`/admin/orders/${d.order_id}`}>{d.buyer_company || d.buyer_name}</a></td><td class="num">{formatMoney(Number(d.total_net), d.currency)}</td><td class="num">{formatMoney(Number(d.total_tax), d.currency)}</td><td class="num">{formatMoney(Number(d.total_gross), d.currency)}</td></tr>
            ))}</tbody>
          </table></div>
        </section>
      </>
    ));
  };

  app.get('/admin/billing', { preHandler: requireStaff('owner', 'admin', 'sales') }, async (request, reply) => settingsPage(request, reply));
  // The exchange rates only: the seller and bank details are the owner's, in Settings (a bank account
  // changed here would redirect every bank-transfer payment).
  app.post('/admin/billing', {
    preHandler: requireStaff('owner', 'admin'),
    schema: { body: formBody({ rate_EUR: 20, rate_USD: 20 }) },
  }, async (request, reply) => {
    const body = request.body as Record<string, string | undefined>;
    try {
      await saveExchangeRates(k.settings, body, request.auth!.subjectId);
    } catch (err) {
      const e = err as { code?: string; message: string };
      if (!e.code?.startsWith('BIL_')) throw err;
      return settingsPage(request, reply, e.message, undefined, body);
    }
    await k.audit.record({ actorKind: 'staff', actorId: request.auth!.subjectId, action: 'billing.exchange_rates_changed' });
    return settingsPage(request, reply, undefined, 'Saved.');
  });

  app.get('/admin/invoices/:id/pdf', { preHandler: requireStaff('owner', 'admin', 'sales'), schema: { params: Type.Object({ id: Type.String({ maxLength: 64 }) }) } }, async (request, reply) => {
    const inv = await invoiceById(k.db, (request.params as { id: string }).id);
    if (!inv) return page(k.settings, request, reply, { title: 'Not found', variant: 'admin', status: 404 }, <p>No such invoice.</p>);
    return reply.type('application/pdf').header('content-disposition', `inline; filename="${inv.kind === 'credit_note' ? 'credit-note' : 'invoice'}-${inv.number}.pdf"`).header('cache-control', 'private, no-store').send(await renderPdf(printableFromInvoice(inv)));
  });
}
