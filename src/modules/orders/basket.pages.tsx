import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kernel } from '../../kernel/context.js';
import { clearCookie, setCookie } from '../../kernel/http/cookies.js';
import { formBody, page } from '../../kernel/http/page.js';
import { Csrf, ErrorSummary } from '../../kernel/views/layout.js';
import { formatMoney } from '../billing/index.js';
import type { BasketService } from './basket.service.js';
import type { LicenceIssuer } from './licence-issuer.js';
import { CurrencySwitch } from './shop.pages.js';

export const BASKET_COOKIE = 'kw_basket';

export const basketToken = (k: Kernel, request: FastifyRequest): string | undefined => request.cookies[k.cookies.name(BASKET_COOKIE)];

/** Our own error codes are shown to the buyer beside the form; anything else goes to the error boundary. */
export function isUserError(err: unknown): err is { code: string; message: string; field?: string } {
  const c = (err as { code?: unknown })?.code;
  return typeof c === 'string' && /^(ORD|CAT|BIL|ACC)_/.test(c);
}

/** The basket page and its forms. Every form works without JavaScript and answers with a redirect or the page with its error. */
export function registerBasketPages(app: FastifyInstance, k: Kernel, baskets: BasketService, issuer: LicenceIssuer): void {
  const show = async (request: FastifyRequest, reply: FastifyReply, error?: string) => {
    const b = await baskets.find(basketToken(k, request));
    if (!b || b.lines.length === 0) {
      return page(k.settings, request, reply, { title: 'Basket', status: error ? 400 : 200 }, (
        <div class="card narrow">
          <h1>Your basket</h1>
          {error ? <ErrorSummary errors={{ _form: error }} /> : null}
          <p>Your basket is empty.</p><p><a class="button" href="/shop">Visit the shop</a></p>
        </div>
      ));
    }
    const priced = await baskets.price(b, 0);
    const labels = new Map<string, string>();
    for (const l of b.lines) if (l.target_licence_id) labels.set(l.target_licence_id, (await issuer.find(k.db, l.target_licence_id))?.label ?? 'licence');
    const cur = b.row.currency;
    const csrf = request.csrfToken();
    return page(k.settings, request, reply, { title: 'Basket', status: error ? 400 : 200 }, (
      <>
        <h1>Your basket</h1>
        {error || priced.problems.length ? <ErrorSummary errors={Object.fromEntries([...(error ? [['_form', error]] : []), ...priced.problems.map((p, i) => [`_p${i}`, p])])} /> : null}
        <div class="card">
          <div class="table-wrap"><table class="stack">
            <thead><tr><th>Item</th><th class="num">Unit price</th><th class="num">Quantity</th><th class="num">Net</th><th><span class="sr-only">Remove</span></th></tr></thead>
            <tbody>{priced.lines.map((l, i) => (
              <tr>
                <td>{l.sale.plan.name}{l.line.target_licence_id ? <div class="muted">for {labels.get(l.line.target_licence_id)}</div> : null}</td>
                <td class="num" data-label="Unit price">{formatMoney(l.unitNet, cur)}</td>
                <td class="num" data-label="Quantity">
                  {l.line.target_licence_id ? '1' : (
                    <form method="post" action="/basket/update" class="inline">
                      <Csrf token={csrf} />
                      <input type="hidden" name="line_id" value={l.line.id} />
                      <label for={`q-${l.line.id}`} class="sr-only">Quantity</label>
                      <input id={`q-${l.line.id}`} class="qty" type="number" name="quantity" min="1" max="100" value={String(l.line.quantity)} inputMode="numeric" />{' '}
                      <button type="submit" class="secondary">Update</button>
                    </form>
                  )}
                </td>
                <td class="num" data-label="Net">{formatMoney(priced.totals.lines[i]!.net, cur)}{priced.totals.lines[i]!.discount ? <div class="muted">after {formatMoney(priced.totals.lines[i]!.discount, cur)} off</div> : null}</td>
                <td class="num">
                  <form method="post" action="/basket/remove" class="inline">
                    <Csrf token={csrf} /><input type="hidden" name="line_id" value={l.line.id} />
                    <button type="submit" class="link">Remove</button>
                  </form>
                </td>
              </tr>
            ))}</tbody>
            <tfoot>
              {priced.totals.discount ? <tr><td colSpan={3}>Discount ({b.row.coupon_code}, {priced.percentOff}% off)</td><td class="num">−{formatMoney(priced.totals.discount, cur)}</td><td></td></tr> : null}
              <tr><th colSpan={3}>Total before VAT</th><th class="num">{formatMoney(priced.totals.net, cur)}</th><th></th></tr>
            </tfoot>
          </table></div>
          <p class="muted">VAT is worked out at checkout from your country and VAT number.</p>
          <p><a class="button" href="/checkout">Go to checkout</a> <a href="/shop">Continue shopping</a></p>
        </div>
        <div class="grid">
          <section class="card">
            <h2>Coupon</h2>
            <form method="post" action="/basket/coupon">
              <Csrf token={csrf} />
              <label for="f-coupon">Coupon code</label>
              <input id="f-coupon" type="text" name="coupon" value={b.row.coupon_code ?? ''} maxLength={32} autoComplete="off" />{' '}
              <button type="submit" class="secondary">Apply</button>
            </form>
          </section>
          <section class="card"><h2>Currency</h2><CurrencySwitch current={cur} action="/basket/currency" csrf={csrf} /></section>
        </div>
      </>
    ));
  };

  const anon = { config: { csrf: 'anon' } } as const;
  const act = (fn: (request: FastifyRequest, reply: FastifyReply, body: Record<string, string | undefined>) => Promise<unknown>) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      try {
        await fn(request, reply, request.body as Record<string, string | undefined>);
      } catch (err) {
        if (!isUserError(err)) throw err;
        return show(request, reply, err.message);
      }
      return reply.redirect('/basket', 303);
    };

  app.get('/basket', async (request, reply) => show(request, reply));

  app.post('/basket/add', { ...anon, schema: { body: formBody({ plan_id: 64, quantity: 10, currency: 3, licence_id: 64 }) } }, act(async (request, reply, body) => {
    const r = await baskets.add(basketToken(k, request), { planId: body.plan_id, quantity: body.quantity, currency: body.currency, licenceId: body.licence_id }, request.auth?.kind === 'customer' ? request.auth.subjectId : null);
    // The basket cookie is set only now, with the first item; it has no expiry, so it dies with the browser.
    if (r.created) setCookie(reply, k.cookies, BASKET_COOKIE, r.token);
  }));

  app.post('/basket/update', { ...anon, schema: { body: formBody({ line_id: 64, quantity: 10 }) } }, act(async (request, _reply, body) => {
    await baskets.setQuantity(basketToken(k, request), body.line_id ?? '', body.quantity);
  }));

  app.post('/basket/remove', { ...anon, schema: { body: formBody({ line_id: 64 }) } }, act(async (request, reply, body) => {
    const left = await baskets.remove(basketToken(k, request), body.line_id ?? '');
    if (!left && basketToken(k, request)) clearCookie(reply, k.cookies, BASKET_COOKIE);
  }));

  app.post('/basket/currency', { ...anon, schema: { body: formBody({ currency: 3 }) } }, act(async (request, _reply, body) => {
    await baskets.setCurrency(basketToken(k, request), body.currency);
  }));

  app.post('/basket/coupon', { ...anon, schema: { body: formBody({ coupon: 40 }) } }, act(async (request, _reply, body) => {
    await baskets.applyCoupon(basketToken(k, request), body.coupon);
  }));
}
