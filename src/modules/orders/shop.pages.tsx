import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Kernel } from '../../kernel/context.js';
import { page } from '../../kernel/http/page.js';
import { Csrf } from '../../kernel/views/layout.js';
import { CURRENCIES, loadCatalogue, type CatalogueEntry, type Currency } from '../catalog/index.js';
import { computeTotals, formatMoney } from '../billing/index.js';
import { requireCustomer } from '../accounts/index.js';
import type { LicenceIssuer, LicenceSummary } from './licence-issuer.js';
import { taxRates } from './orders.repository.js';

const KIND_HEADING = { perpetual: 'Licences', renewal: 'Support and updates renewals', addon: 'Add-on subscriptions', upgrade: 'Upgrades' } as const;

/** "£299.00 + VAT (£358.80 with UK VAT)" for sterling; other currencies are shown net, VAT added at checkout where due. */
export function PriceTag({ amount, currency, ukRateBp }: { amount: number; currency: Currency; ukRateBp: number }) {
  if (currency === 'GBP') {
    const gross = computeTotals([{ unitNet: amount, quantity: 1, percentOff: 0, rateBp: ukRateBp }]).gross;
    return <span><strong>{formatMoney(amount, currency)}</strong> <span class="muted">+ VAT ({formatMoney(gross, currency)} with UK VAT)</span></span>;
  }
  return <span><strong>{formatMoney(amount, currency)}</strong> <span class="muted">excl. VAT</span></span>;
}

export function CurrencySwitch({ current, action, csrf }: { current: Currency; action?: string; csrf?: string }) {
  if (action) {
    return (
      <form method="post" action={action} class="inline">
        <Csrf token={csrf!} />
        <label for="f-currency" class="inline-label">Currency</label>{' '}
        <select id="f-currency" name="currency">{CURRENCIES.map((c) => <option value={c} selected={c === current}>{c}</option>)}</select>{' '}
        <button type="submit" class="secondary">Change</button>
      </form>
    );
  }
  return <p class="muted">Prices in: {CURRENCIES.map((c) => (c === current ? <strong> {c} </strong> : <a href={`/shop?currency=${c}`}> {c} </a>))}</p>;
}

function AddForm({ planId, currency, csrf, licenceId }: { planId: string; currency: Currency; csrf: string; licenceId?: string }) {
  return (
    <form method="post" action="/basket/add" class="inline">
      <Csrf token={csrf} />
      <input type="hidden" name="plan_id" value={planId} />
      <input type="hidden" name="currency" value={currency} />
      {licenceId ? <input type="hidden" name="licence_id" value={licenceId} /> : <input type="hidden" name="quantity" value="1" />}
      <button type="submit">Add to basket</button>
    </form>
  );
}

function ProductCard({ entry, currency, csrf, ukRateBp, kinds, licence }: { entry: CatalogueEntry; currency: Currency; csrf: string; ukRateBp: number; kinds: Array<keyof typeof KIND_HEADING>; licence?: LicenceSummary }) {
  return (
    <section class="card">
      <h2>{entry.product.name}</h2>
      {entry.product.description ? <p>{entry.product.description}</p> : null}
      {kinds.map((kind) => {
        let plans = entry.plans.filter((p) => p.plan.kind === kind && p.prices[currency] !== undefined);
        if (licence && kind === 'upgrade') plans = plans.filter((p) => entry.tiers.find((t) => t.id === p.plan.from_tier_id)?.max_users === licence.maxUsers);
        if (licence && kind === 'renewal') plans = plans.filter((p) => entry.tiers.find((t) => t.id === p.plan.tier_id)?.max_users === licence.maxUsers);
        if (!plans.length) return null;
        return (
          <>
            <h3>{KIND_HEADING[kind]}</h3>
            <div class="table-wrap"><table>
              <tbody>{plans.map((p) => (
                <tr>
                  <td>{p.plan.name}</td>
                  <td class="num"><PriceTag amount={p.prices[currency]!} currency={currency} ukRateBp={ukRateBp} /></td>
                  <td class="num"><AddForm planId={p.plan.id} currency={currency} csrf={csrf} licenceId={licence?.licenceId} /></td>
                </tr>
              ))}</tbody>
            </table></div>
          </>
        );
      })}
    </section>
  );
}

/** The public storefront. Browsing sets no cookie: the currency is in the address until something is put in the basket. */
export function registerShopPages(app: FastifyInstance, k: Kernel, issuer: LicenceIssuer): void {
  const qs = { querystring: Type.Object({ currency: Type.Optional(Type.String({ maxLength: 3 })) }) };
  const currencyOf = (request: FastifyRequest): Currency => {
    const c = (request.query as { currency?: string }).currency;
    return (CURRENCIES as readonly string[]).includes(c ?? '') ? (c as Currency) : 'GBP';
  };

  app.get('/shop', { schema: qs }, async (request, reply) => {
    const currency = currencyOf(request);
    const [catalogue, rates] = await Promise.all([loadCatalogue(k.db, { activeOnly: true }), taxRates(k.db)]);
    return page(k.settings, request, reply, { title: 'Shop' }, (
      <>
        <h1>Shop</h1>
        <CurrencySwitch current={currency} />
        {catalogue.length === 0 ? <div class="card"><p>Nothing is for sale yet.</p></div> : null}
        {catalogue.map((entry) => <ProductCard entry={entry} currency={currency} csrf={request.csrfToken()} ukRateBp={rates.GB ?? 2000} kinds={['perpetual', 'addon']} />)}
        <p class="muted">Already a customer? Renewals, upgrades and add-ons for a licence you have are on <a href="/shop/licences">your licences</a>.</p>
      </>
    ));
  });

  app.get('/shop/licences', { preHandler: requireCustomer() }, async (request, reply) => {
    const licences = await issuer.listForCustomer(k.db, request.auth!.subjectId);
    return page(k.settings, request, reply, { title: 'Renew or upgrade' }, (
      <div class="card">
        <h1>Renew or upgrade a licence</h1>
        {licences.length === 0 ? <p>You have no licences yet. <a href="/shop">Visit the shop</a>.</p> : (
          <ul>{licences.map((l) => <li><a href={`/shop/licence/${l.licenceId}`}>{l.label}</a> · {l.maxUsers === null ? 'unlimited' : l.maxUsers} users{l.maintenanceUntil ? ` · support until ${new Date(l.maintenanceUntil).toISOString().slice(0, 10)}` : ''}</li>)}</ul>
        )}
      </div>
    ));
  });

  app.get('/shop/licence/:id', { preHandler: requireCustomer(), schema: { params: Type.Object({ id: Type.String({ maxLength: 64 }) }), ...qs } }, async (request: FastifyRequest, reply: FastifyReply) => {
    const lic = await issuer.find(k.db, (request.params as { id: string }).id);
    if (!lic || lic.customerId !== request.auth!.subjectId) {
      return page(k.settings, request, reply, { title: 'Not found', status: 404 }, <div class="card narrow"><h1>Licence not found</h1><p><a href="/shop/licences">Your licences</a></p></div>);
    }
    const currency = currencyOf(request);
    const [catalogue, rates] = await Promise.all([loadCatalogue(k.db, { activeOnly: true }), taxRates(k.db)]);
    const entry = catalogue.find((e) => e.product.code === lic.productCode);
    return page(k.settings, request, reply, { title: 'Renew or upgrade' }, (
      <>
        <h1>{lic.label}</h1>
        <p>{lic.maxUsers === null ? 'Unlimited' : lic.maxUsers} users{lic.maintenanceUntil ? `; support and updates until ${new Date(lic.maintenanceUntil).toISOString().slice(0, 10)}` : ''}.</p>
        {entry ? <ProductCard entry={entry} currency={currency} csrf={request.csrfToken()} ukRateBp={rates.GB ?? 2000} kinds={['renewal', 'upgrade', 'addon']} licence={lic} /> : <p>This product is no longer sold.</p>}
      </>
    ));
  });

  app.get('/shop/thanks/:id', { schema: { params: Type.Object({ id: Type.String({ maxLength: 64 }) }) } }, async (request, reply) => page(k.settings, request, reply, { title: 'Thank you' }, (
    <div class="card narrow">
      <h1>Thank you for your order</h1>
      <p>As soon as the payment is confirmed we email your VAT invoice and licence keys. This usually takes less than a minute.</p>
      <p><a href="/account">Go to My account</a></p>
    </div>
  )));
}
