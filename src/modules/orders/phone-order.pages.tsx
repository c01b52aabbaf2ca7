import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kernel } from '../../kernel/context.js';
import { formBody, page } from '../../kernel/http/page.js';
import { Csrf, ErrorSummary, Field } from '../../kernel/views/layout.js';
import { accountsRepository, normaliseEmail, requireStaff } from '../accounts/index.js';
import { CURRENCIES, loadCatalogue } from '../catalog/index.js';
import type { CheckoutService } from './checkout.service.js';
import { parseCurrency, parseQuantity } from './basket.service.js';
import { FieldError, fieldErrorsOf, parseBilling } from './billing-form.js';
import { BillingFields } from './checkout.pages.js';
import { isUserError } from './basket.pages.js';
import { saveStripe, loadStripe } from './payments/stripe.js';
import { InvalidOrderInput } from './orders.errors.js';

const ROWS = 5;
const itemFields = Object.fromEntries(Array.from({ length: ROWS }, (_, i) => [[`plan_${i}`, 64], [`qty_${i}`, 10], [`licence_${i}`, 64]]).flat()) as Record<string, number>;

/** Staff take a phone order for an existing customer (bank transfer / pay by invoice), and set VAT rates and Stripe. */
export function registerPhoneOrderPages(app: FastifyInstance, k: Kernel, checkout: CheckoutService): void {
  const form = async (request: FastifyRequest, reply: FastifyReply, v: Record<string, string | undefined>, errors: Record<string, string> = {}) => {
    const catalogue = await loadCatalogue(k.db, { activeOnly: true });
    const plans = catalogue.flatMap((e) => e.plans.map((p) => ({ id: p.plan.id, label: `${e.product.name}: ${p.plan.name} (${p.plan.sku})` })));
    return page(k.settings, request, reply, { title: 'New phone order', variant: 'admin', status: Object.keys(errors).length ? 400 : 200 }, (
      <>
        <h1>New phone order</h1>
        <ErrorSummary errors={errors} />
        <form method="post" action="/admin/orders/new" novalidate>
          <Csrf token={request.csrfToken()} />
          <div class="grid">
            <section class="card">
              <h2>Customer</h2>
              <Field label="Customer's account email" name="email" type="email" value={v.email} required error={errors.email} hint="The customer must have an account; licences and invoices go to it." />
              <div class="field"><label for="f-currency">Currency</label><select id="f-currency" name="currency">{CURRENCIES.map((c) => <option selected={v.currency === c}>{c}</option>)}</select></div>
              <Field label="Coupon code" name="coupon" value={v.coupon} />
              <h2>Items</h2>
              {Array.from({ length: ROWS }, (_, i) => (
                <div class="field">
                  <label for={`f-plan_${i}`}>Item {i + 1}</label>
                  <select id={`f-plan_${i}`} name={`plan_${i}`}><option value="">—</option>{plans.map((p) => <option value={p.id} selected={v[`plan_${i}`] === p.id}>{p.label}</option>)}</select>
                  <input name={`qty_${i}`} aria-label={`Quantity of item ${i + 1}`} value={v[`qty_${i}`] ?? '1'} inputMode="numeric" class="qty" />
                  <input name={`licence_${i}`} aria-label={`Licence id for item ${i + 1} (upgrades, renewals)`} placeholder="licence id (upgrades, renewals)" value={v[`licence_${i}`] ?? ''} />
                </div>
              ))}
            </section>
            <section class="card"><h2>Billing details</h2><BillingFields v={v} errors={errors} /></section>
          </div>
          <p><button type="submit">Create draft order</button></p>
        </form>
      </>
    ));
  };

  app.get('/admin/orders/new', { preHandler: requireStaff('owner', 'admin', 'sales') }, async (request, reply) => form(request, reply, { currency: 'GBP' }));

  app.post('/admin/orders/new', { preHandler: requireStaff('owner', 'admin', 'sales'), schema: { body: formBody({ email: 300, currency: 3, coupon: 40, billing_name: 300, company: 300, line1: 300, line2: 300, city: 200, region: 200, postcode: 40, country: 4, phone: 60, vat_number: 40, ...itemFields }) } }, async (request, reply) => {
    const v = request.body as Record<string, string | undefined>;
    try {
      const customer = await accountsRepository.customerByEmail(k.db, normaliseEmail(v.email));
      if (!customer || customer.closed_at) throw new FieldError('No customer account has this email address. Ask the customer to create one, or check the spelling.', 'email');
      const items = [];
      for (let i = 0; i < ROWS; i++) {
        if (!v[`plan_${i}`]) continue;
        items.push({ planId: v[`plan_${i}`]!, quantity: parseQuantity(v[`qty_${i}`] ?? '1'), licenceId: (v[`licence_${i}`] ?? '').trim() || null });
      }
      if (!items.length) throw new InvalidOrderInput('Choose at least one item.');
      const id = await checkout.createForCustomer({
        customer: { id: customer.id, email: customer.email }, billing: parseBilling(v), currency: parseCurrency(v.currency),
        couponCode: (v.coupon ?? '').trim().toUpperCase() || null, items, paymentMethod: 'bank_transfer', channel: 'phone',
        actor: { kind: 'staff', id: request.auth!.subjectId }, placedByStaffId: request.auth!.subjectId, checkoutKey: null, checkoutHash: null,
      });
      return reply.redirect(`/admin/orders/${id}`, 303);
    } catch (err) {
      if (!isUserError(err)) throw err;
      if (fieldErrorsOf(err)) return form(request, reply, v, fieldErrorsOf(err)!);
      return form(request, reply, v, { [(err as { field?: string }).field ?? (err.code === 'ORD_INVALID_VAT_NUMBER' ? 'vat_number' : '_form')]: err.message });
    }
  });

  const ratesPage = async (request: FastifyRequest, reply: FastifyReply, error?: string, flash?: string) => {
    const rows = await k.db.selectFrom('tax_rates').selectAll().orderBy('country').execute();
    return page(k.settings, request, reply, { title: 'VAT rates', variant: 'admin', status: error ? 400 : 200, flash }, (
      <div class="card">
        <h1>VAT rates</h1>
        <p class="muted">The UK rate applies to UK buyers; an EU country's rate to consumers there (one-stop shop). Rates are percentages, e.g. 20 or 25.5.</p>
        {error ? <ErrorSummary errors={{ _form: error }} /> : null}
        <form method="post" action="/admin/tax-rates">
          <Csrf token={request.csrfToken()} />
          <div class="table-wrap"><table>
            <thead><tr><th>Country</th><th class="num">Rate %</th></tr></thead>
            <tbody>{rows.map((r) => <tr><td>{r.country}</td><td class="num"><input name={`rate_${r.country}`} value={(r.rate_bp / 100).toString()} aria-label={`VAT rate for ${r.country}`} class="qty" inputMode="decimal" /></td></tr>)}</tbody>
          </table></div>
          <button type="submit">Save rates</button>
        </form>
      </div>
    ));
  };
  app.get('/admin/tax-rates', { preHandler: requireStaff('owner', 'admin') }, async (request, reply) => ratesPage(request, reply));
  app.post('/admin/tax-rates', { preHandler: requireStaff('owner', 'admin'), schema: { body: { type: 'object', additionalProperties: { type: 'string', maxLength: 400 }, maxProperties: 100 } } }, async (request, reply) => {
    const body = request.body as Record<string, string>;
    const rows = await k.db.selectFrom('tax_rates').select(['country', 'rate_bp']).execute();
    const changes: Array<[string, number]> = [];
    for (const r of rows) {
      const raw = (body[`rate_${r.country}`] ?? '').trim();
      const m = /^(\d{1,2})(?:\.(\d{1,2}))?$/.exec(raw);
      if (!m) return ratesPage(request, reply, `The rate for ${r.country} must be a percentage like 20 or 25.5.`);
      const bp = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
      if (bp !== r.rate_bp) changes.push([r.country, bp]);
    }
    await k.db.transaction().execute(async (trx) => {
      for (const [country, bp] of changes) await trx.updateTable('tax_rates').set({ rate_bp: bp, updated_at: k.clock.now(), updated_by: request.auth!.subjectId }).where('country', '=', country).execute();
    });
    if (changes.length) await k.audit.record({ actorKind: 'staff', actorId: request.auth!.subjectId, action: 'orders.tax_rates_changed', detail: Object.fromEntries(changes) });
    return ratesPage(request, reply, undefined, changes.length ? `Saved ${changes.length} change(s).` : 'Nothing changed.');
  });

  const stripePage = async (request: FastifyRequest, reply: FastifyReply, flash?: string) => {
    const s = await k.settings.get<{ enabled?: boolean; apiBase?: string } | null>('payments.stripe', null);
    const ready = await loadStripe(k);
    return page(k.settings, request, reply, { title: 'Payments', variant: 'admin', flash }, (
      <div class="card narrow">
        <h1>Card payments (Stripe Checkout)</h1>
        <p>{ready ? <span class="badge ok">On</span> : <span class="badge">Off</span>} Bank transfer is always offered.</p>
        <p class="muted">Point the Stripe webhook at <code class="mono">{k.config.publicUrl}/webhooks/stripe</code> with the events checkout.session.completed and checkout.session.async_payment_succeeded.</p>
        <form method="post" action="/admin/payments">
          <Csrf token={request.csrfToken()} />
          <div class="field"><label class="checkbox"><input type="checkbox" name="enabled" value="1" checked={!!s?.enabled} /> Offer card payments</label></div>
          <Field label="Stripe API base URL" name="api_base" value={s?.apiBase ?? 'https://api.stripe.com'} required />
          <Field label="Secret key" name="secret_key" type="password" hint="Leave empty to keep the stored one." />
          <Field label="Webhook signing secret" name="webhook_secret" type="password" hint="whsec_…; leave empty to keep the stored one." />
          <button type="submit">Save</button>
        </form>
      </div>
    ));
  };
  app.get('/admin/payments', { preHandler: requireStaff('owner', 'admin') }, async (request, reply) => stripePage(request, reply));
  app.post('/admin/payments', { preHandler: requireStaff('owner', 'admin'), schema: { body: formBody({ enabled: 2, api_base: 300, secret_key: 300, webhook_secret: 300 }) } }, async (request, reply) => {
    const b = request.body as Record<string, string | undefined>;
    const apiBase = (b.api_base ?? '').trim();
    if (!/^https?:\/\/[^\s]+$/.test(apiBase)) return stripePage(request, reply, 'The API base URL must start with https://');
    await saveStripe(k, { enabled: b.enabled === '1', apiBase, secretKey: b.secret_key?.trim() || undefined, webhookSecret: b.webhook_secret?.trim() || undefined }, request.auth!.subjectId);
    await k.audit.record({ actorKind: 'staff', actorId: request.auth!.subjectId, action: 'payments.stripe_settings_changed' });
    return stripePage(request, reply, 'Saved.');
  });
}
