import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Kernel } from '../../kernel/context.js';
import { clearCookie } from '../../kernel/http/cookies.js';
import { formBody, page } from '../../kernel/http/page.js';
import { randomToken } from '../../kernel/crypto/tokens.js';
import { Csrf, ErrorSummary, Field } from '../../kernel/views/layout.js';
import { accountsRepository, checkPasswordStrength, normaliseEmail, requireCustomer, startSession } from '../accounts/index.js';
import type { AccountsModule } from '../accounts/index.js';

type AccountsService = AccountsModule['accounts'];
import { formatMoney } from '../billing/index.js';
import type { BasketService } from './basket.service.js';
import { CheckoutService } from './checkout.service.js';
import type { PaymentsService } from './payments.service.js';
import { FieldError, FieldErrors, fieldErrorsOf, parseBilling, type BillingDetails } from './billing-form.js';
import { BasketChanged, EmptyBasket } from './orders.errors.js';
import { COUNTRIES, decideTax } from './tax.js';
import { orderById, orderLines, taxRates } from './orders.repository.js';
import { BASKET_COOKIE, basketToken, isUserError } from './basket.pages.js';
import { BillingAddress, OrderTable, treatmentText } from './orders.views.js';

const FIELDS = { name: 200, email: 300, password: 1024, billing_name: 300, company: 300, line1: 300, line2: 300, city: 200, region: 200, postcode: 40, country: 4, phone: 60, vat_number: 40, payment_method: 20, checkout_key: 80, basket_version: 12 };

export function CountrySelect({ value, error }: { value?: string; error?: string }) {
  return (
    <div class={error ? 'field has-error' : 'field'}>
      <label for="f-country">Country</label>
      <select id="f-country" name="country" required autoComplete="country" aria-invalid={error ? 'true' : undefined} aria-describedby={error ? 'f-country-error' : undefined}>
        <option value="">Choose…</option>
        {Object.entries(COUNTRIES).sort((a, b) => a[1].localeCompare(b[1])).map(([code, name]) => <option value={code} selected={code === value}>{name}</option>)}
      </select>
      {error ? <p class="error" id="f-country-error">{error}</p> : null}
    </div>
  );
}

export function BillingFields({ v, errors }: { v: Record<string, string | undefined>; errors: Record<string, string> }) {
  return (
    <>
      <Field label="Name for the invoice" name="billing_name" value={v.billing_name} required autocomplete="name" error={errors.billing_name} />
      <Field label="Company" name="company" value={v.company} autocomplete="organization" error={errors.company} />
      <Field label="Address" name="line1" value={v.line1} required autocomplete="address-line1" error={errors.line1} />
      <Field label="Address line 2" name="line2" value={v.line2} autocomplete="address-line2" error={errors.line2} />
      <Field label="Town or city" name="city" value={v.city} required autocomplete="address-level2" error={errors.city} />
      <Field label="County, state or region" name="region" value={v.region} autocomplete="address-level1" error={errors.region} />
      <Field label="Postcode" name="postcode" value={v.postcode} autocomplete="postal-code" error={errors.postcode} hint="Required in the UK." />
      <CountrySelect value={v.country} error={errors.country} />
      <Field label="Telephone" name="phone" type="tel" value={v.phone} required autocomplete="tel" error={errors.phone} hint="With its country code (+44 …). Used if there is a problem with your order; in the EU its country code is also our evidence of your country for VAT." />
      <Field label="VAT number" name="vat_number" value={v.vat_number} error={errors.vat_number} hint="EU businesses: with a valid VAT number you are not charged VAT (reverse charge)." />
    </>
  );
}

/** Checkout in two steps that work without JavaScript: details (account, billing, payment method) → review with VAT → pay. */
export function registerCheckoutPages(app: FastifyInstance, k: Kernel, deps: { baskets: BasketService; checkout: CheckoutService; payments: PaymentsService; accounts: AccountsService }): void {
  const { baskets, checkout, payments, accounts } = deps;

  const form = async (request: FastifyRequest, reply: FastifyReply, v: Record<string, string | undefined>, errors: Record<string, string> = {}) => {
    const b = await baskets.find(basketToken(k, request));
    if (!b || b.lines.length === 0) {
      if (Object.keys(errors).length === 0) return reply.redirect('/basket', 303);
      // The basket went with an order this form placed (the form sent again, changed): say why, rather
      // than land on an empty basket without a word.
      return page(k.settings, request, reply, { title: 'Checkout', status: 409 }, (
        <>
          <h1>Checkout</h1>
          <ErrorSummary errors={errors} />
          <p>Your basket is empty. <a href="/account/orders">See your orders</a> or <a href="/shop">go back to the shop</a>.</p>
        </>
      ));
    }
    const priced = await baskets.price(b, 0);
    const methods = await payments.availableMethods();
    const signedIn = request.auth?.kind === 'customer';
    return page(k.settings, request, reply, { title: 'Checkout', status: Object.keys(errors).length ? 400 : 200 }, (
      <>
        <h1>Checkout</h1>
        <ErrorSummary errors={errors} />
        {request.auth?.kind === 'staff' ? <p class="flash">You are signed in as staff. To order for a customer, use Admin → Orders → New phone order.</p> : null}
        <form method="post" action="/checkout" novalidate>
          <Csrf token={request.csrfToken()} />
          <input type="hidden" name="checkout_key" value={v.checkout_key || randomToken(24)} />
          <input type="hidden" name="basket_version" value={String(b.row.version)} />
          <div class="grid">
            <section class="card">
              {signedIn ? <p>Signed in as <strong>{request.auth!.email}</strong>.</p> : (
                <>
                  <h2>Your account</h2>
                  <p>Already a customer? <a href="/account/login?next=/checkout">Sign in</a> first. Otherwise create your account here: your licence keys and invoices will be in it.</p>
                  <Field label="Your name" name="name" value={v.name} required autocomplete="name" error={errors.name} />
                  <Field label="Email address" name="email" type="email" value={v.email} required autocomplete="email" error={errors.email} />
                  <Field label="Choose a password" name="password" type="password" required autocomplete="new-password" hint="At least 10 characters." error={errors.password} />
                </>
              )}
              <h2>Payment</h2>
              <fieldset class="field">
                <legend>How would you like to pay?</legend>
                {methods.map((m, i) => <label class="checkbox"><input type="radio" name="payment_method" value={m.method} checked={v.payment_method ? v.payment_method === m.method : i === 0} /> {m.label}</label>)}
                {errors.payment_method ? <p class="error">{errors.payment_method}</p> : null}
              </fieldset>
            </section>
            <section class="card">
              <h2>Billing details</h2>
              <BillingFields v={v} errors={errors} />
            </section>
          </div>
          <div class="card">
            <h2>Your order</h2>
            <ul>{priced.lines.map((l) => <li>{l.line.quantity} × {l.sale.plan.name}</li>)}</ul>
            <p>Total before VAT: <strong>{formatMoney(priced.totals.net, b.row.currency)}</strong>. You see the VAT and the total before you pay.</p>
            <button type="submit">Continue to review</button>
          </div>
        </form>
      </>
    ));
  };

  app.get('/checkout', async (request, reply) => {
    const v: Record<string, string | undefined> = {};
    if (request.auth?.kind === 'customer') {
      const c = await accountsRepository.customerById(k.db, request.auth.subjectId);
      if (c) Object.assign(v, { billing_name: c.name, company: c.company ?? '', line1: c.address_line1 ?? '', line2: c.address_line2 ?? '', city: c.city ?? '', region: c.region ?? '', postcode: c.postcode ?? '', country: c.country ?? '', phone: c.phone ?? '', vat_number: c.vat_number ?? '' });
      // No address in the profile: the one on their last order, so a returning customer types it once.
      const last = c && !c.address_line1 ? await k.db.selectFrom('orders').selectAll().where('customer_id', '=', c.id).orderBy('created_at', 'desc').limit(1).executeTakeFirst() : undefined;
      if (last) {
        Object.assign(v, {
          billing_name: last.billing_name, company: last.billing_company ?? '', line1: last.billing_address_line1, line2: last.billing_address_line2 ?? '',
          city: last.billing_city, region: last.billing_region ?? '', postcode: last.billing_postcode ?? '', country: last.billing_country, phone: last.phone ?? '', vat_number: last.vat_number ?? '',
        });
      }
    }
    return form(request, reply, v);
  });

  app.post('/checkout', { schema: { body: formBody(FIELDS) }, config: { csrf: 'anon' } }, async (request, reply) => {
    const body = request.body as Record<string, string | undefined>;
    const token = basketToken(k, request);
    const requestHash = CheckoutService.requestHash(body);
    try {
      // A repeated submit (double click, reload) goes to the order the first one made.
      const prior = await checkout.alreadyPlaced({ checkoutKey: body.checkout_key, requestHash });
      if (prior) return reply.redirect(`/checkout/review/${prior}`, 303);
      // Every problem of the form at once: the billing fields and, for a new customer, the account's.
      const [billing, billingErrors] = parsedBilling(body);
      const fieldProblems = { ...(request.auth ? {} : accountProblems(body)), ...billingErrors };
      if (!billing || Object.keys(fieldProblems).length) throw new FieldErrors(fieldProblems);
      // Checked before an account is made, so a wrong VAT number never leaves a half-finished checkout.
      decideTax({ country: billing.country, vatNumber: billing.vatNumber, ratesBp: await taxRates(k.db), now: k.clock.now(), phone: billing.phone, requireSecondEvidence: true });
      const paymentMethod = await payments.checkMethod(body.payment_method);
      const basket = await baskets.find(token);
      if (!basket || basket.lines.length === 0) throw new EmptyBasket();
      if (String(basket.row.version) !== body.basket_version) throw new BasketChanged();
      const problems = (await baskets.price(basket, 0)).problems;
      if (problems.length) throw new FieldError(problems[0]!, '_form');
      let customer: { id: string; email: string };
      if (request.auth?.kind === 'customer') {
        customer = { id: request.auth.subjectId, email: request.auth.email };
      } else if (request.auth?.kind === 'staff') {
        return form(request, reply, body, { _form: 'Staff take orders for customers in the admin.' });
      } else {
        customer = await createAccountOnTheWay(body);
        await startSession(k, reply, 'customer', customer.id, false);
      }
      const r = await checkout.placeFromBasket(token, { checkoutKey: body.checkout_key, basketVersion: body.basket_version, requestHash }, {
        customer, billing, paymentMethod, channel: 'web', actor: { kind: 'customer', id: customer.id }, placedByStaffId: null,
      });
      if (!r.existing) clearCookie(reply, k.cookies, BASKET_COOKIE);
      return reply.redirect(`/checkout/review/${r.orderId}`, 303);
    } catch (err) {
      if (err instanceof EmptyBasket || err instanceof BasketChanged) {
        // A concurrent submit of the same form (a double click) may have placed the order, and emptied
        // the basket, between the check above and the basket read: that order is the answer.
        const placed = await checkout.alreadyPlaced({ checkoutKey: body.checkout_key, requestHash }).catch(() => null);
        if (placed) return reply.redirect(`/checkout/review/${placed}`, 303);
      }
      if (!isUserError(err)) throw err;
      if (fieldErrorsOf(err)) return form(request, reply, body, fieldErrorsOf(err)!);
      const field = (err as { field?: string }).field ?? (err.code === 'ORD_INVALID_VAT_NUMBER' ? 'vat_number' : err.code === 'ORD_VAT_EVIDENCE' ? 'phone' : err.code === 'ORD_PAYMENT_METHOD' ? 'payment_method' : '_form');
      return form(request, reply, body, { [field]: err.message });
    }
  });

  /** The new account's fields, checked as registration checks them; the address's owner is checked later. */
  function accountProblems(body: Record<string, string | undefined>): Record<string, string> {
    const problems: Record<string, string> = {};
    const name = (body.name ?? '').trim();
    if (!name || name.length > 200) problems.name = 'Enter your name (at most 200 characters).';
    let email = '';
    try { email = normaliseEmail(body.email); } catch (err) { problems.email = (err as Error).message; }
    try { checkPasswordStrength(body.password ?? '', email); } catch (err) { problems.password = (err as Error).message; }
    return problems;
  }

  /** The billing details, or the problems by field (parsed once, reported with the account's). */
  function parsedBilling(body: Record<string, string | undefined>): [BillingDetails | null, Record<string, string>] {
    try {
      return [parseBilling(body), {}];
    } catch (err) {
      const fields = fieldErrorsOf(err);
      if (!fields) throw err;
      return [null, fields];
    }
  }

  /** Sign-up during checkout. An address that already has an account must sign in (it is never taken over). */
  async function createAccountOnTheWay(body: Record<string, string | undefined>): Promise<{ id: string; email: string }> {
    const email = normaliseEmail(body.email);
    if (await accountsRepository.customerByEmail(k.db, email)) {
      throw new FieldError('There is already an account with this email address. Sign in first (the link is above), or use another address.', 'email');
    }
    // Only the account this request made: another checkout with the same new address may have won the
    // race since the check above, and its account is not this buyer's to be signed in to.
    const id = await accounts.register({ name: body.name, email, password: body.password });
    if (id === null) throw new FieldError('There is already an account with this email address. Sign in first (the link is above), or use another address.', 'email');
    return { id, email };
  }

  const ownDraft = async (request: FastifyRequest) => {
    const o = await orderById(k.db, (request.params as { id: string }).id);
    return o && o.customer_id === request.auth!.subjectId ? o : null;
  };
  const idParams = { params: Type.Object({ id: Type.String({ maxLength: 64 }) }) };

  app.get('/checkout/review/:id', { preHandler: requireCustomer(), schema: idParams }, async (request, reply) => {
    const o = await ownDraft(request);
    if (!o) return page(k.settings, request, reply, { title: 'Not found', status: 404 }, <div class="card narrow"><h1>Order not found</h1></div>);
    if (o.status !== 'draft') return reply.redirect(`/account/orders/${o.id}`, 303);
    const lines = await orderLines(k.db, o.id);
    const rate = lines[0]?.tax_rate_bp ?? 0;
    return page(k.settings, request, reply, { title: 'Review your order' }, (
      <>
        <h1>Review your order {o.reference}</h1>
        <div class="card"><OrderTable order={o} lines={lines} /><p>{treatmentText(o, rate)}</p></div>
        <div class="grid">
          <section class="card"><h2>Invoice to</h2><BillingAddress o={o} /></section>
          <section class="card">
            <h2>Payment</h2>
            <p>{o.payment_method === 'stripe' ? 'You will pay by card on Stripe\'s secure page.' : 'You will receive a pro forma invoice with our bank details. We send the VAT invoice and your licence keys when the payment arrives.'}</p>
            <form method="post" action={`/checkout/pay/${o.id}`}>
              <Csrf token={request.csrfToken()} />
              <button type="submit">{o.payment_method === 'stripe' ? `Pay ${formatMoney(Number(o.total_gross), o.currency)}` : 'Place order'}</button>
            </form>
            <form method="post" action={`/checkout/cancel/${o.id}`}>
              <Csrf token={request.csrfToken()} />
              <button type="submit" class="link">Cancel this order</button>
            </form>
          </section>
        </div>
      </>
    ));
  });

  app.post('/checkout/pay/:id', { preHandler: requireCustomer(), schema: { ...idParams, body: formBody({}) } }, async (request, reply) => {
    const o = await ownDraft(request);
    if (!o) return reply.redirect('/account', 303);
    try {
      const r = await payments.start(o.id, { kind: 'customer', id: request.auth!.subjectId });
      return reply.redirect(r.redirectUrl ?? `/account/orders/${o.id}`, 303);
    } catch (err) {
      if (!isUserError(err)) throw err;
      return page(k.settings, request, reply, { title: 'Payment problem', status: (err as { statusCode?: number }).statusCode ?? 400 }, (
        <div class="card narrow"><h1>The payment could not be started</h1><p>{err.message}</p><p><a class="button" href={`/checkout/review/${o.id}`}>Try again</a></p></div>
      ));
    }
  });

  app.post('/checkout/cancel/:id', { preHandler: requireCustomer(), schema: { ...idParams, body: formBody({}) } }, async (request, reply) => {
    const o = await ownDraft(request);
    if (o && o.status === 'draft') await payments.cancel(o.id, { kind: 'customer', id: request.auth!.subjectId }, 'cancelled by the buyer at review');
    return reply.redirect('/shop', 303);
  });
}
