import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Kernel } from '../../kernel/context.js';
import { page } from '../../kernel/http/page.js';
import { Csrf } from '../../kernel/views/layout.js';
import { AccountNav, requireCustomer } from '../accounts/index.js';
import { billingRepository, formatDate, formatMoney, loadBank, printableFromInvoice, renderPdf } from '../billing/index.js';
import { orderById, orderLines, ordersForCustomer } from './orders.repository.js';
import { BillingAddress, OrderTable, StatusBadge, treatmentText } from './orders.views.js';

/** My account → orders and invoices (the buyer's own only). */
export function registerAccountOrderPages(app: FastifyInstance, k: Kernel): void {
  const idParams = { params: Type.Object({ id: Type.String({ maxLength: 64 }) }) };

  app.get('/account/orders', { preHandler: requireCustomer() }, async (request, reply) => {
    const [orders, docs] = await Promise.all([ordersForCustomer(k.db, request.auth!.subjectId), billingRepository.documentsForCustomer(k.db, request.auth!.subjectId)]);
    return page(k.settings, request, reply, { title: 'Orders and invoices' }, (
      <>
        <h1>Orders and invoices</h1>
        <AccountNav current="/account/orders" />
        <section class="card">
          <h2>Orders</h2>
          {orders.length === 0 ? <p>No orders yet. <a href="/shop">Visit the shop</a>.</p> : (
            <div class="table-wrap"><table class="stack">
              <thead><tr><th>Order</th><th>Date</th><th>Status</th><th class="num">Total</th></tr></thead>
              <tbody>{orders.map((o) => <tr><td data-label="Order"><a href={`/account/orders/${o.id}`}>{o.reference}</a></td><td data-label="Date">{formatDate(Number(o.created_at))}</td><td data-label="Status"><StatusBadge status={o.status} /></td><td class="num" data-label="Total">{formatMoney(Number(o.total_gross), o.currency)}</td></tr>)}</tbody>
            </table></div>
          )}
        </section>
        <section class="card">
          <h2>Invoices and credit notes</h2>
          {docs.length === 0 ? <p>None yet.</p> : (
            <div class="table-wrap"><table class="stack">
              <thead><tr><th>Number</th><th>Date</th><th>Order</th><th class="num">Amount</th><th></th></tr></thead>
              <tbody>{docs.map((d) => <tr><td>{d.kind === 'credit_note' ? 'Credit note ' : 'Invoice '}{d.number}</td><td data-label="Date">{formatDate(Number(d.issue_date))}</td><td data-label="Order">{d.order_reference}</td><td class="num" data-label="Amount">{formatMoney(Number(d.total_gross) * (d.kind === 'credit_note' ? -1 : 1), d.currency)}</td><td><a href={`/account/invoices/${d.id}/pdf`} aria-label={`${d.kind === 'credit_note' ? 'Credit note' : 'Invoice'} ${d.number} as PDF`}>PDF</a></td></tr>)}</tbody>
            </table></div>
          )}
        </section>
      </>
    ));
  });

  app.get('/account/orders/:id', { preHandler: requireCustomer(), schema: idParams }, async (request, reply) => {
    const o = await orderById(k.db, (request.params as { id: string }).id);
    if (!o || o.customer_id !== request.auth!.subjectId || o.status === 'draft') {
      return page(k.settings, request, reply, { title: 'Not found', status: 404 }, <div class="card narrow"><h1>Order not found</h1><p><a href="/account/orders">Your orders</a></p></div>);
    }
    const lines = await orderLines(k.db, o.id);
    const bank = o.status === 'awaiting_payment' && o.payment_method === 'bank_transfer' ? await loadBank(k.settings) : null;
    return page(k.settings, request, reply, { title: `Order ${o.reference}` }, (
      <>
        <h1>Order {o.reference} <StatusBadge status={o.status} /></h1>
        {bank ? (
          <div class="card">
            <h2>How to pay</h2>
            <p>Please transfer <strong>{formatMoney(Number(o.total_gross), o.currency)}</strong> quoting <strong>{o.reference}</strong>. We have emailed you a pro forma invoice.</p>
            <p class="pre-wrap">{[bank.accountName && `Account name: ${bank.accountName}`, bank.bankName && `Bank: ${bank.bankName}`, bank.sortCode && `Sort code: ${bank.sortCode}`, bank.accountNumber && `Account number: ${bank.accountNumber}`, bank.iban && `IBAN: ${bank.iban}`, bank.bic && `BIC: ${bank.bic}`].filter(Boolean).join('\n')}</p>
          </div>
        ) : null}
        {o.status === 'awaiting_payment' && o.payment_method === 'stripe' ? (
          <div class="card">
            <p>We have not received your card payment yet. If you closed the payment page, you can go back to it.</p>
            <form method="post" action={`/checkout/pay/${o.id}`}><Csrf token={request.csrfToken()} /><button type="submit">Pay {formatMoney(Number(o.total_gross), o.currency)} by card</button></form>
          </div>
        ) : null}
        <div class="card"><OrderTable order={o} lines={lines} /><p class="muted">{treatmentText(o, lines[0]?.tax_rate_bp ?? 0)}</p></div>
        <div class="card"><h2>Invoice to</h2><BillingAddress o={o} /><p><a href="/account/orders">All orders and invoices</a></p></div>
      </>
    ));
  });

  app.get('/account/invoices/:id/pdf', { preHandler: requireCustomer(), schema: idParams }, async (request, reply) => {
    const inv = await billingRepository.invoiceById(k.db, (request.params as { id: string }).id);
    if (!inv || inv.customer_id !== request.auth!.subjectId) {
      return page(k.settings, request, reply, { title: 'Not found', status: 404 }, <div class="card narrow"><h1>Invoice not found</h1></div>);
    }
    const pdf = await renderPdf(printableFromInvoice(inv));
    return reply.type('application/pdf').header('content-disposition', `inline; filename="${inv.kind === 'credit_note' ? 'credit-note' : 'invoice'}-${inv.number}.pdf"`).header('cache-control', 'private, no-store').send(pdf);
  });
}
