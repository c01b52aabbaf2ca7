import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Kernel } from '../../kernel/context.js';
import { formBody, page } from '../../kernel/http/page.js';
import { Csrf, ErrorSummary, Field } from '../../kernel/views/layout.js';
import { requireStaff } from '../accounts/index.js';
import { formatMoney } from '../billing/index.js';
import type { ResellerService } from './resellers.service.js';
import * as repo from './resellers.repository.js';
import { ResellerNotFound } from './resellers.errors.js';

const STAFF = requireStaff('owner', 'admin', 'sales');
const TERMS = { status: 12, discount_percent: 4, payment_terms_days: 4, currency: 4, public_name: 200, public_url: 400, public_country: 4 };
const idParams = { params: Type.Object({ id: Type.String({ maxLength: 64 }) }) };

function TermsFields({ v }: { v: Record<string, string | undefined> }) {
  return (
    <>
      <Field label="Business name (shown on the public page when the reseller asks to be listed)" name="public_name" value={v.public_name} />
      <Field label="Website" name="public_url" value={v.public_url} hint="https://…" />
      <Field label="Country (two-letter code)" name="public_country" value={v.public_country} />
      <Field label="Discount off list prices (%)" name="discount_percent" value={v.discount_percent ?? '0'} hint="For plans not on the reseller's price list." />
      <Field label="Payment terms (days)" name="payment_terms_days" value={v.payment_terms_days ?? '30'} hint="0: pays by bank transfer before delivery; e.g. 30: invoiced at once, net 30." />
      <Field label="Currency (GBP, EUR or USD)" name="currency" value={v.currency ?? 'GBP'} />
      <div class="field"><label for="f-status">Status</label>
        <select id="f-status" name="status"><option value="active" selected={v.status !== 'suspended'}>Active</option><option value="suspended" selected={v.status === 'suspended'}>Suspended</option></select></div>
    </>
  );
}

/** Admin → Resellers: make a customer account a reseller, set its discount or prices and its payment terms. */
export function registerResellerAdminPages(app: FastifyInstance, k: Kernel, resellers: ResellerService): void {
  const list = async (request: FastifyRequest, reply: FastifyReply, error?: string, v: Record<string, string | undefined> = {}) => {
    const rows = await repo.allResellers(k.db);
    return page(k.settings, request, reply, { title: 'Resellers', variant: 'admin', status: error ? 400 : 200 }, (
      <>
        <h1>Resellers</h1>
        {error ? <ErrorSummary errors={{ _form: error }} /> : null}
        <section class="card">
          <div class="table-wrap"><table>
            <thead><tr><th>Reseller</th><th>Account</th><th>Status</th><th class="num">Discount</th><th class="num">Terms</th><th>Currency</th></tr></thead>
            <tbody>{rows.map((r) => <tr><td><a href={`/admin/resellers/${r.customer_id}`}>{r.public_name}</a></td><td>{r.email}</td><td>{r.status}</td><td class="num">{r.discount_percent}%</td><td class="num">{Number(r.payment_terms_days) ? `net ${r.payment_terms_days}` : 'prepay'}</td><td>{r.currency}</td></tr>)}</tbody>
          </table></div>
        </section>
        <form method="post" action="/admin/resellers" class="card">
          <Csrf token={request.csrfToken()} />
          <h2>Add a reseller</h2>
          <Field label="Reseller's account email" name="email" type="email" value={v.email} required hint="The reseller creates a customer account first." />
          <TermsFields v={v} />
          <button type="submit">Add reseller</button>
        </form>
      </>
    ));
  };

  app.get('/admin/resellers', { preHandler: STAFF }, async (request, reply) => list(request, reply));
  app.post('/admin/resellers', { preHandler: STAFF, schema: { body: formBody({ email: 300, ...TERMS }) } }, async (request, reply) => {
    const b = request.body as Record<string, string | undefined>;
    try {
      const id = await resellers.create(request.auth!.subjectId, b.email ?? '', { ...b, public_name: b.public_name || undefined });
      return reply.redirect(`/admin/resellers/${id}`, 303);
    } catch (err) {
      if (!(err as { code?: string }).code?.startsWith('RSL_')) throw err;
      return list(request, reply, (err as Error).message, b);
    }
  });

  const detail = async (request: FastifyRequest, reply: FastifyReply, o: { error?: string; flash?: string; v?: Record<string, string | undefined> } = {}) => {
    const id = (request.params as { id: string }).id;
    const r = await repo.resellerById(k.db, id);
    if (!r) throw new ResellerNotFound();
    const [prices, sales, listed] = await Promise.all([repo.priceList(k.db, id), repo.salesOf(k.db, id, 50), resellers.isListed(id)]);
    const v = o.v ?? { public_name: r.public_name, public_url: r.public_url ?? '', public_country: r.public_country ?? '', discount_percent: String(r.discount_percent), payment_terms_days: String(r.payment_terms_days), currency: r.currency, status: r.status };
    return page(k.settings, request, reply, { title: r.public_name, variant: 'admin', status: o.error ? 400 : 200, flash: o.flash }, (
      <>
        <h1>{r.public_name}</h1>
        {o.error ? <ErrorSummary errors={{ _form: o.error }} /> : null}
        <p>{listed ? 'Listed on the public resellers page (the reseller\'s permission is in the consent ledger).' : 'Not listed publicly (only the reseller can ask to be listed).'}</p>
        <div class="grid">
          <form method="post" action={`/admin/resellers/${id}`} class="card">
            <Csrf token={request.csrfToken()} />
            <h2>Terms</h2>
            <TermsFields v={v} />
            <button type="submit">Save terms</button>
          </form>
          <section class="card">
            <h2>Price list ({r.currency}, net)</h2>
            <ul>{prices.map((p) => <li>{p.sku}: {p.name}: {formatMoney(Number(p.unit_net), p.currency)}</li>)}</ul>
            <form method="post" action={`/admin/resellers/${id}/prices`}>
              <Csrf token={request.csrfToken()} />
              <Field label="Plan SKU" name="sku" required />
              <Field label="Net price (empty: remove, the discount applies)" name="amount" />
              <button type="submit">Set price</button>
            </form>
          </section>
        </div>
        <section class="card">
          <h2>Recent sales</h2>
          <ul>{sales.map((s) => <li><a href={`/admin/orders/${s.order_id}`}>{s.reference}</a>: {s.end_company || s.end_name}, {formatMoney(Number(s.total_gross), s.currency)} ({s.status.replace('_', ' ')})</li>)}</ul>
        </section>
      </>
    ));
  };

  app.get('/admin/resellers/:id', { preHandler: STAFF, schema: idParams }, async (request, reply) => detail(request, reply));
  app.post('/admin/resellers/:id', { preHandler: STAFF, schema: { ...idParams, body: formBody(TERMS) } }, async (request, reply) => {
    const b = request.body as Record<string, string | undefined>;
    try { await resellers.update(request.auth!.subjectId, (request.params as { id: string }).id, b); } catch (err) {
      if ((err as { code?: string }).code !== 'RSL_INVALID_INPUT') throw err;
      return detail(request, reply, { error: (err as Error).message, v: b });
    }
    return detail(request, reply, { flash: 'Saved.' });
  });
  app.post('/admin/resellers/:id/prices', { preHandler: STAFF, schema: { ...idParams, body: formBody({ sku: 100, amount: 20 }) } }, async (request, reply) => {
    const b = request.body as Record<string, string | undefined>;
    try { await resellers.setPrice(request.auth!.subjectId, (request.params as { id: string }).id, b.sku ?? '', b.amount); } catch (err) {
      if ((err as { code?: string }).code !== 'RSL_INVALID_INPUT') throw err;
      return detail(request, reply, { error: (err as Error).message });
    }
    return detail(request, reply, { flash: 'Price saved.' });
  });
}
