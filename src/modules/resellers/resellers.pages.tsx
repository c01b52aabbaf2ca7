import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Kernel } from '../../kernel/context.js';
import { formBody, page } from '../../kernel/http/page.js';
import { randomToken, sha256Hex } from '../../kernel/crypto/tokens.js';
import { Csrf, ErrorSummary, Field } from '../../kernel/views/layout.js';
import { loadBrand } from '../../kernel/views/brand.js';
import { accountsRepository, requireCustomer } from '../accounts/index.js';
import { formatMoney, billingRepository } from '../billing/index.js';
import { loadCatalogue } from '../catalog/index.js';
import { BillingFields, COUNTRIES, type LicenceIssuer } from '../orders/index.js';
import { resellerDirectoryWording } from '../newsletter/index.js';
import type { ResellerService } from './resellers.service.js';
import * as repo from './resellers.repository.js';
import { ResellerNotFound } from './resellers.errors.js';

const ORDER_FIELDS = { plan_id: 64, quantity: 4, end_name: 300, end_company: 300, end_email: 300, end_country: 4, billing_name: 300, company: 300, line1: 300, line2: 300, city: 200, region: 200, postcode: 40, country: 4, phone: 60, vat_number: 40, checkout_key: 80 };
const idParams = { params: Type.Object({ id: Type.String({ maxLength: 64 }) }) };
const date = (t: number) => new Date(t).toISOString().slice(0, 10);

function requestHash(body: Record<string, string | undefined>): string {
  const fields = Object.entries(body).filter(([k]) => k !== '_csrf').sort(([a], [b]) => a.localeCompare(b));
  return sha256Hex(JSON.stringify(fields.map(([k, v]) => [k, (v ?? '').trim()])));
}

/** My account → Reseller (orders for end customers, sales, invoices, public listing) and the public resellers page. */
export function registerResellerPages(app: FastifyInstance, k: Kernel, resellers: ResellerService, issuer: LicenceIssuer): void {
  const home = async (request: FastifyRequest, reply: FastifyReply, flash?: string) => {
    const me = request.auth!.subjectId;
    const r = await resellers.activeReseller(me);
    const [sales, listed, brand] = await Promise.all([repo.salesOf(k.db, me), resellers.isListed(me), loadBrand(k.settings)]);
    return page(k.settings, request, reply, { title: 'Reseller', flash }, (
      <>
        <h1>Reseller: {r.public_name}</h1>
        <section class="card">
          <p>Your terms: {Number(r.discount_percent)}% off list prices (or your agreed prices), prices in {r.currency}; {Number(r.payment_terms_days) > 0 ? `invoices payable within ${r.payment_terms_days} days` : 'pay by bank transfer before delivery'}.</p>
          <p><a class="button" href="/account/reseller/order">Order for an end customer</a></p>
        </section>
        <section class="card">
          <h2>Your sales</h2>
          {sales.length === 0 ? <p class="muted">No sales yet.</p> : (
            <div class="table-wrap"><table>
              <thead><tr><th>Date</th><th>Order</th><th>End customer</th><th>Status</th><th class="num">Total</th></tr></thead>
              <tbody>{sales.map((s) => (
                <tr><td>{date(Number(s.created_at))}</td><td><a href={`/account/reseller/sales/${s.order_id}`}>{s.reference}</a></td>
                  <td>{s.end_company ? `${s.end_company} (${s.end_name})` : s.end_name}</td><td>{s.status.replace('_', ' ')}</td><td class="num">{formatMoney(Number(s.total_gross), s.currency)}</td></tr>
              ))}</tbody>
            </table></div>
          )}
        </section>
        <form method="post" action="/account/reseller/listing" class="card">
          <Csrf token={request.csrfToken()} />
          <h2>Public resellers page</h2>
          {listed ? (
            <><p>You are listed on our <a href="/resellers">resellers page</a>.</p><input type="hidden" name="listed" value="0" /><button type="submit">Remove my listing</button></>
          ) : (
            <><p>{resellerDirectoryWording(brand, r.public_name)}</p><input type="hidden" name="listed" value="1" /><button type="submit">List me</button></>
          )}
        </form>
      </>
    ));
  };

  app.get('/account/reseller', { preHandler: requireCustomer() }, async (request, reply) => home(request, reply));

  app.post('/account/reseller/listing', { preHandler: requireCustomer(), schema: { body: formBody({ listed: 2 }) } }, async (request, reply) => {
    const grant = (request.body as { listed?: string }).listed === '1';
    await resellers.setListing(request.auth!.subjectId, grant, {
      ip: request.ip, userAgent: String(request.headers['user-agent'] ?? '') || null, source: 'account_page', sourceUrl: '/account/reseller', method: grant ? 'reseller page: list me' : 'reseller page: remove my listing',
    });
    return home(request, reply, grant ? 'You are now listed on the resellers page.' : 'Your listing has been removed.');
  });

  const orderForm = async (request: FastifyRequest, reply: FastifyReply, v: Record<string, string | undefined>, error?: string) => {
    const me = request.auth!.subjectId;
    const r = await resellers.activeReseller(me);
    const price = await resellers.pricing(k.db, me, r.currency, Number(r.discount_percent));
    const plans = (await loadCatalogue(k.db, { activeOnly: true })).flatMap((e) => e.plans.filter((p) => p.plan.kind === 'perpetual').map((p) => {
      const list = p.prices[r.currency];
      return list === undefined ? null : { id: p.plan.id, name: p.plan.name, catalogue: list };
    })).filter((x): x is NonNullable<typeof x> => x !== null);
    return page(k.settings, request, reply, { title: 'Order for an end customer', status: error ? 400 : 200 }, (
      <>
        <h1>Order for an end customer</h1>
        {error ? <ErrorSummary errors={{ _form: error }} /> : null}
        <form method="post" action="/account/reseller/order" class="card">
          <Csrf token={request.csrfToken()} />
          <input type="hidden" name="checkout_key" value={v.checkout_key ?? randomToken(24)} />
          <h2>What</h2>
          <div class="field"><label for="f-plan_id">Product</label>
            <select id="f-plan_id" name="plan_id" required>
              <option value="">Choose…</option>
              {plans.map((p) => { const x = price(p.id, p.catalogue); const net = Math.round(x.unitNet * (100 - x.percentOff) / 100); return <option value={p.id} selected={p.id === v.plan_id}>{p.name}: {formatMoney(net, r.currency)} + VAT (list {formatMoney(p.catalogue, r.currency)})</option>; })}
            </select></div>
          <Field label="Quantity" name="quantity" value={v.quantity ?? '1'} required inputmode="numeric" />
          <h2>End customer (named on the licence)</h2>
          <Field label="Name" name="end_name" value={v.end_name} required />
          <Field label="Company" name="end_company" value={v.end_company} />
          <Field label="Email" name="end_email" type="email" value={v.end_email} required />
          <div class="field"><label for="f-end_country">Country</label>
            <select id="f-end_country" name="end_country" required>
              <option value="">Choose…</option>
              {Object.entries(COUNTRIES).sort((a, b) => a[1].localeCompare(b[1])).map(([code, name]) => <option value={code} selected={code === v.end_country}>{name}</option>)}
            </select></div>
          <h2>Invoice to (you)</h2>
          <BillingFields v={v} errors={{}} />
          <button type="submit">Place order</button>
        </form>
      </>
    ));
  };

  app.get('/account/reseller/order', { preHandler: requireCustomer() }, async (request, reply) => {
    const c = (await accountsRepository.customerById(k.db, request.auth!.subjectId))!;
    return orderForm(request, reply, { billing_name: c.name, company: c.company ?? '', line1: c.address_line1 ?? '', line2: c.address_line2 ?? '', city: c.city ?? '', region: c.region ?? '', postcode: c.postcode ?? '', country: c.country ?? '', phone: c.phone ?? '', vat_number: c.vat_number ?? '' });
  });

  app.post('/account/reseller/order', { preHandler: requireCustomer(), schema: { body: formBody(ORDER_FIELDS) } }, async (request, reply) => {
    const body = request.body as Record<string, string | undefined>;
    try {
      const { orderId } = await resellers.placeOrder(request.auth!.subjectId, body, { checkoutKey: body.checkout_key, requestHash: requestHash(body) });
      return reply.redirect(`/account/reseller/sales/${orderId}`, 303);
    } catch (err) {
      const e = err as { code?: string; message: string };
      if (e.code === 'RSL_NOT_A_RESELLER' || !/^(RSL_|ORD_|CAT_)/.test(e.code ?? '')) throw err;
      return orderForm(request, reply, body, e.message);
    }
  });

  app.get('/account/reseller/sales/:id', { preHandler: requireCustomer(), schema: idParams }, async (request, reply) => {
    const me = request.auth!.subjectId;
    await resellers.activeReseller(me);
    const s = await repo.saleOf(k.db, me, (request.params as { id: string }).id);
    if (!s) throw new ResellerNotFound();
    const lines = await k.db.selectFrom('order_lines').select(['description', 'quantity', 'net', 'licence_ids']).where('order_id', '=', s.order_id).orderBy('line_no').execute();
    const licenceIds = lines.flatMap((l) => JSON.parse(l.licence_ids) as string[]);
    const licences = (await Promise.all(licenceIds.map((id) => issuer.find(k.db, id)))).filter((l) => l !== null);
    const docs = await billingRepository.documentsForOrder(k.db, s.order_id);
    return page(k.settings, request, reply, { title: `Sale ${s.reference}` }, (
      <>
        <h1>Sale {s.reference}</h1>
        <div class="grid">
          <section class="card">
            <h2>End customer</h2>
            <dl><dt>Name</dt><dd>{s.end_name}</dd>{s.end_company ? <><dt>Company</dt><dd>{s.end_company}</dd></> : null}<dt>Email</dt><dd>{s.end_email}</dd><dt>Country</dt><dd>{COUNTRIES[s.end_country] ?? s.end_country}</dd></dl>
          </section>
          <section class="card">
            <h2>Order</h2>
            <ul>{lines.map((l) => <li>{l.quantity} × {l.description}: {formatMoney(Number(l.net), s.currency)} + VAT</li>)}</ul>
            <p>Total {formatMoney(Number(s.total_gross), s.currency)}; status: {s.status.replace('_', ' ')}{s.terms_days > 0 ? `; payable within ${s.terms_days} days` : ''}.</p>
          </section>
        </div>
        <section class="card">
          <h2>Licences</h2>
          {licences.length === 0 ? <p class="muted">Issued when the order is paid.</p> : <ul>{licences.map((l) => <li>{l!.label} ({l!.productCode}, {l!.maxUsers === null ? 'unlimited' : l!.maxUsers} users)</li>)}</ul>}
          <h2>Invoices</h2>
          {docs.length === 0 ? <p class="muted">None yet.</p> : <ul>{docs.map((d) => <li><a href={`/account/invoices/${d.id}/pdf`}>{d.kind === 'credit_note' ? 'Credit note' : 'Invoice'} {d.number}</a></li>)}</ul>}
        </section>
      </>
    ));
  });

  app.get('/resellers', async (request, reply) => {
    const list = await resellers.listed();
    return page(k.settings, request, reply, { title: 'Resellers' }, (
      <>
        <h1>Resellers</h1>
        {list.length === 0 ? <p>No resellers are listed yet.</p> : (
          <ul class="card">{list.map((r) => (
            <li class="reseller">{r.public_url ? <a href={r.public_url} rel="nofollow noopener">{r.public_name}</a> : r.public_name}{r.public_country ? ` (${COUNTRIES[r.public_country] ?? r.public_country})` : ''}</li>
          ))}</ul>
        )}
      </>
    ));
  });
}
