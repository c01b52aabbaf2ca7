import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Kernel } from '../../kernel/context.js';
import { formBody, page } from '../../kernel/http/page.js';
import { randomToken } from '../../kernel/crypto/tokens.js';
import { Csrf, ErrorSummary, Field } from '../../kernel/views/layout.js';
import { requireStaff } from '../accounts/index.js';
import { billingRepository, formatDate, formatMoney, formatRate } from '../billing/index.js';
import { parseMoney } from '../catalog/index.js';
import type { FulfilmentService } from './fulfilment.service.js';
import type { PaymentsService } from './payments.service.js';
import { listOrders, orderById, orderLines, orderPayments, orderRefunds, orderTransitions } from './orders.repository.js';
import { BillingAddress, OrderTable, StatusBadge } from './orders.views.js';
import { COUNTRIES } from './tax.js';
import { STATUS_LABEL, TRANSITIONS } from './state.js';
import type { OrderStatus } from './orders.tables.js';
import { isUserError } from './basket.pages.js';
import { InvalidOrderInput } from './orders.errors.js';

const fmt = (t: number | null) => (t ? new Date(Number(t)).toISOString().replace('T', ' ').slice(0, 16) + ' UTC' : '—');
const SALES = ['owner', 'admin', 'sales'] as const;

/** Admin → Orders: list, detail with history, mark paid, cancel, refund (credit note). */
export function registerOrdersAdminPages(app: FastifyInstance, k: Kernel, deps: { fulfilment: FulfilmentService; payments: PaymentsService }): void {
  const idParams = { params: Type.Object({ id: Type.String({ maxLength: 64 }) }) };

  app.get('/admin/orders', { preHandler: requireStaff(...SALES), schema: { querystring: Type.Object({ status: Type.Optional(Type.String({ maxLength: 20 })) }) } }, async (request, reply) => {
    const s = (request.query as { status?: string }).status;
    const status = s && Object.hasOwn(TRANSITIONS, s) ? (s as OrderStatus) : null;
    const rows = await listOrders(k.db, status);
    return page(k.settings, request, reply, { title: 'Orders', variant: 'admin' }, (
      <>
        <h1>Orders</h1>
        <p><a class="button" href="/admin/orders/new">New phone order</a> <a href="/admin/tax-rates">VAT rates</a> · <a href="/admin/payments">Payment settings</a> · <a href="/admin/billing">Billing settings and invoices</a></p>
        <p class="muted">Show: <a href="/admin/orders">all</a>{(Object.keys(STATUS_LABEL) as OrderStatus[]).map((st) => <> · <a href={`/admin/orders?status=${st}`}>{STATUS_LABEL[st].toLowerCase()}</a></>)}</p>
        <div class="table-wrap"><table>
          <thead><tr><th>Order</th><th>Created</th><th>Buyer</th><th>Channel</th><th>Payment</th><th>Status</th><th class="num">Total</th></tr></thead>
          <tbody>{rows.map((o) => (
            <tr><td><a href={`/admin/orders/${o.id}`}>{o.reference}</a></td><td>{fmt(o.created_at)}</td><td>{o.billing_company || o.billing_name}</td><td>{o.channel}</td>
              <td>{o.payment_method === 'stripe' ? 'card' : 'bank transfer'}</td><td><StatusBadge status={o.status} /></td><td class="num">{formatMoney(Number(o.total_gross), o.currency)}</td></tr>
          ))}</tbody>
        </table></div>
      </>
    ));
  });

  const detail = async (request: FastifyRequest, reply: FastifyReply, id: string, error?: string, flash?: string) => {
    const o = await orderById(k.db, id);
    if (!o) return page(k.settings, request, reply, { title: 'Not found', variant: 'admin', status: 404 }, <p>No such order.</p>);
    const [lines, history, pays, refunds, docs] = await Promise.all([orderLines(k.db, id), orderTransitions(k.db, id), orderPayments(k.db, id), orderRefunds(k.db, id), billingRepository.documentsForOrder(k.db, id)]);
    // Who moved the order, by name: staff members by theirs, the buyer as "the customer".
    const staffIds = [...new Set(history.filter((h) => h.actor_kind === 'staff' && h.actor_id).map((h) => h.actor_id!))];
    const staffNames = new Map(staffIds.length ? (await k.db.selectFrom('staff').select(['id', 'name']).where('id', 'in', staffIds).execute()).map((r) => [r.id, r.name]) : []);
    const who = (h: { actor_kind: string; actor_id: string | null }) =>
      h.actor_kind === 'staff' ? (h.actor_id ? staffNames.get(h.actor_id) ?? `staff ${h.actor_id.slice(0, 8)}` : 'staff') : h.actor_kind === 'customer' ? 'the customer' : h.actor_kind === 'system' ? 'Keyward' : h.actor_kind;
    const csrf = request.csrfToken();
    const left = Number(o.total_gross) - Number(o.refunded_amount);
    const canPay = o.status === 'draft' || o.status === 'awaiting_payment';
    // More money in than the order asks for: a second payment (card after a transfer marked paid) or one
    // for a cancelled order. Staff must see it to pay it back.
    const received = pays.filter((p) => p.status === 'succeeded').reduce((n, p) => n + Number(p.amount), 0);
    const owedBack = o.status === 'cancelled' ? received : received - Number(o.total_gross);
    return page(k.settings, request, reply, { title: `Order ${o.reference}`, variant: 'admin', status: error ? 400 : 200, flash }, (
      <>
        <h1>Order {o.reference} <StatusBadge status={o.status} /></h1>
        {error ? <ErrorSummary errors={{ _form: error }} /> : null}
        {owedBack > 0 ? (
          <div class="card warning" role="alert">
            <p><strong>{formatMoney(received, o.currency)} received for {o.status === 'cancelled' ? 'a cancelled order' : `an order of ${formatMoney(Number(o.total_gross), o.currency)}`}.</strong> {formatMoney(owedBack, o.currency)} was paid {o.status === 'cancelled' ? 'after the order was cancelled' : 'twice'}: pay it back to the buyer (for a card payment, refund it in Stripe), and see Payments below.</p>
          </div>
        ) : null}
        <div class="card"><OrderTable order={o} lines={lines} /></div>
        <div class="grid">
          <section class="card"><h2>Buyer</h2><BillingAddress o={o} /><p>{o.email}<br />{o.phone}</p><p class="muted">Tax: {TREATMENT_LABEL[o.tax_treatment] ?? o.tax_treatment}.</p><TaxEvidence json={o.tax_evidence} /></section>
          <section class="card">
            <h2>Actions</h2>
            {o.status === 'draft' && o.payment_method === 'bank_transfer' ? (
              <form method="post" action={`/admin/orders/${o.id}/proforma`}><Csrf token={csrf} /><p><button type="submit" class="secondary">Send pro forma to the buyer</button></p></form>
            ) : null}
            {canPay ? (
              <form method="post" action={`/admin/orders/${o.id}/paid`}>
                <Csrf token={csrf} />
                <Field label="Payment reference or note" name="note" hint="E.g. the bank statement line. Issues the VAT invoice and the licences." />
                <button type="submit">Mark paid ({formatMoney(Number(o.total_gross), o.currency)} received)</button>
              </form>
            ) : null}
            {canPay ? <form method="post" action={`/admin/orders/${o.id}/cancel`}><Csrf token={csrf} /><p><button type="submit" class="danger">Cancel order</button></p></form> : null}
            {['paid', 'fulfilled', 'partly_refunded'].includes(o.status) && left > 0 ? (
              <form method="post" action={`/admin/orders/${o.id}/refund`}>
                <Csrf token={csrf} />
                <input type="hidden" name="refund_key" value={randomToken(24)} />
                <Field label={`Amount to refund (${o.currency}, at most ${formatMoney(left, o.currency)})`} name="amount" value={(left / 100).toFixed(2)} required />
                <Field label="Reason (printed on the credit note)" name="reason" required maxLength={300} />
                <button type="submit" class="danger">Refund and issue credit note</button>
              </form>
            ) : null}
          </section>
        </div>
        <section class="card">
          <h2>Documents</h2>
          {docs.length ? <ul>{docs.map((d) => <li><a href={`/admin/invoices/${d.id}/pdf`}>{d.kind === 'credit_note' ? 'Credit note' : 'Invoice'} {d.number}</a> · {formatDate(Number(d.issue_date))} · {formatMoney(Number(d.total_gross), d.currency)}</li>)}</ul> : <p>No invoice yet (issued when paid).</p>}
          <h2>Payments</h2>
          {pays.length ? <ul>{pays.map((p) => <li>{PROVIDER_LABEL[p.provider] ?? p.provider} · {p.status} · {formatMoney(Number(p.amount), p.currency)} {p.provider_ref ? <code class="mono">{p.provider_ref}</code> : null}</li>)}</ul> : <p>None.</p>}
          {refunds.length ? <><h2>Refunds</h2><ul>{refunds.map((r) => <li>{fmt(r.created_at)} · {formatMoney(Number(r.amount), o.currency)} · {r.reason}</li>)}</ul></> : null}
          <h2>History</h2>
          <div class="table-wrap"><table>
            <thead><tr><th>When</th><th>From</th><th>To</th><th>Who</th><th>Note</th></tr></thead>
            <tbody>{history.map((h) => <tr><td>{fmt(h.at)}</td><td>{h.from_status ? STATUS_LABEL[h.from_status] : '—'}</td><td>{STATUS_LABEL[h.to_status]}</td><td>{who(h)}</td><td>{h.note ?? ''}</td></tr>)}</tbody>
          </table></div>
        </section>
      </>
    ));
  };

  app.get('/admin/orders/:id', { preHandler: requireStaff(...SALES), schema: idParams }, async (request, reply) => detail(request, reply, (request.params as { id: string }).id));

  const action = (path: string, fields: Record<string, number>, fn: (id: string, body: Record<string, string | undefined>, staffId: string) => Promise<string>) =>
    app.post(`/admin/orders/:id/${path}`, { preHandler: requireStaff(...SALES), schema: { ...idParams, body: formBody(fields) } }, async (request, reply) => {
      const id = (request.params as { id: string }).id;
      try {
        const flash = await fn(id, request.body as Record<string, string | undefined>, request.auth!.subjectId);
        return detail(request, reply, id, undefined, flash);
      } catch (err) {
        if (!isUserError(err)) throw err;
        return detail(request, reply, id, err.message);
      }
    });

  action('proforma', {}, async (id, _b, staffId) => {
    await deps.payments.start(id, { kind: 'staff', id: staffId });
    return 'The pro forma has been emailed; the order now waits for payment.';
  });
  action('paid', { note: 300 }, async (id, b, staffId) => {
    const o = await orderById(k.db, id);
    if (!o) return 'No such order.';
    const r = await deps.fulfilment.markPaid(id, { kind: 'staff', id: staffId }, { provider: 'bank_transfer', providerRef: null, providerPaymentRef: null, amount: Number(o.total_gross), currency: o.currency, note: (b.note ?? '').trim().slice(0, 300) || null });
    return r === 'paid' ? 'Marked paid: the invoice and licence keys have been emailed.' : 'This order was already paid.';
  });
  action('cancel', {}, async (id, _b, staffId) => {
    await deps.payments.cancel(id, { kind: 'staff', id: staffId }, 'cancelled by staff');
    return 'The order has been cancelled.';
  });
  action('refund', { amount: 20, reason: 300, refund_key: 80 }, async (id, b, staffId) => {
    const amount = parseMoney(b.amount, 'The amount');
    const key = b.refund_key ?? '';
    if (!/^[A-Za-z0-9_-]{20,64}$/.test(key)) throw new InvalidOrderInput('This form has expired. Reload the page and try again.');
    const r = await deps.payments.refund(id, amount, b.reason ?? '', staffId, key);
    return `Refunded; credit note ${r.creditNoteNumber} issued and emailed.`;
  });
}

const PROVIDER_LABEL: Record<string, string> = { bank_transfer: 'Bank transfer', stripe: 'Card (Stripe)' };

const TREATMENT_LABEL: Record<string, string> = {
  uk_vat: 'UK VAT', eu_reverse_charge: 'EU reverse charge (the buyer accounts for VAT)', eu_oss: 'VAT of the buyer\'s EU country (One Stop Shop)', outside_scope: 'outside the scope of UK VAT',
};

/** The evidence's facts in words; a fact not listed here shows under its own name. */
const EVIDENCE_LABEL: Record<string, string> = {
  billingCountry: 'Billing country', phonePrefix: 'Telephone prefix', phoneCountry: 'Telephone\'s country', evidenceAgrees: 'Evidence agrees',
  decidedAt: 'Decided', rules: 'Rules version', rateBp: 'VAT rate', ipCountry: 'Country of the IP address',
};

function evidenceValue(key: string, v: unknown): string {
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (key === 'rateBp' && typeof v === 'number') return formatRate(v);
  if ((key === 'billingCountry' || key === 'phoneCountry') && typeof v === 'string') return COUNTRIES[v] ? `${COUNTRIES[v]} (${v})` : v;
  if (/At$/.test(key) && typeof v === 'number') return fmt(v);
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** The location evidence kept for the tax decision, one fact a line (one long JSON line ran out of its card). */
function TaxEvidence({ json }: { json: string }) {
  let facts: [string, unknown][];
  try {
    const v: unknown = JSON.parse(json);
    facts = v && typeof v === 'object' && !Array.isArray(v) ? Object.entries(v) : [['evidence', v]];
  } catch {
    facts = [['evidence', json]];
  }
  const shown = facts.filter(([, v]) => v !== null && v !== undefined && v !== '');
  return shown.length === 0 ? null : (
    <dl class="facts muted">{shown.map(([k, v]) => <><dt>{EVIDENCE_LABEL[k] ?? k}</dt><dd class="pre-wrap">{evidenceValue(k, v)}</dd></>)}</dl>
  );
}
