import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Kernel } from '../../kernel/context.js';
import { formBody, page } from '../../kernel/http/page.js';
import { Csrf } from '../../kernel/views/layout.js';
import { AccountNav, requireCustomer } from '../accounts/index.js';
import { formatDate, formatMoney } from '../billing/index.js';
import type { SubscriptionStatus } from './rules.js';
import { describeItem, type SubscriptionView, type SubscriptionsService } from './subscriptions.service.js';
import type { RenewalsService } from './renewals.service.js';
import type { LicenceIssuer } from '../orders/index.js';

export const STATUS_TEXT: Record<SubscriptionStatus, { label: string; tone: string }> = {
  active: { label: 'Active', tone: 'ok' },
  renewal_due: { label: 'Renewal due', tone: 'warn' },
  past_due: { label: 'Past due (grace period)', tone: 'bad' },
  expired: { label: 'Expired', tone: 'bad' },
  cancelled_at_period_end: { label: 'Ends at period end', tone: 'warn' },
};

export function SubStatus({ status }: { status: SubscriptionStatus }) {
  return <span class={`badge ${STATUS_TEXT[status].tone}`}>{STATUS_TEXT[status].label}</span>;
}

/** Known problems (not found, no plan, no term…) re-show as a page with the message; anything else is a real error. */
function isUserError(err: unknown): err is Error & { statusCode: number; code: string } {
  const e = err as { statusCode?: number; code?: string };
  return typeof e?.statusCode === 'number' && e.statusCode < 500 && typeof e.code === 'string';
}

/** My account → subscriptions: list, renew now (a pre-filled order), cancel at period end, renewal mode, upgrades. */
export function registerSubscriptionAccountPages(app: FastifyInstance, k: Kernel, subs: SubscriptionsService, renewals: RenewalsService, issuer: LicenceIssuer): void {
  const idParams = { params: Type.Object({ id: Type.String({ maxLength: 64 }) }) };
  const who = (request: FastifyRequest) => ({ id: request.auth!.subjectId, email: request.auth!.email });
  const problem = (request: FastifyRequest, reply: FastifyReply, err: Error & { statusCode: number }) =>
    page(k.settings, request, reply, { title: 'There is a problem', status: err.statusCode }, (
      <div class="card narrow"><h1>There is a problem</h1><p>{err.message}</p><p><a href="/account/subscriptions">Back to your subscriptions</a></p></div>
    ));
  const guard = async (request: FastifyRequest, reply: FastifyReply, fn: () => Promise<FastifyReply>) => {
    try { return await fn(); } catch (err) { if (isUserError(err)) return problem(request, reply, err); throw err; }
  };

  app.get('/account/subscriptions', { preHandler: requireCustomer() }, async (request, reply) => {
    const list = await subs.listForCustomer(request.auth!.subjectId);
    const labels = new Map((await issuer.listForCustomer(k.db, request.auth!.subjectId)).map((l) => [l.licenceId, `${l.productCode} ${l.label}`]));
    // Card renewal is offered only while the shop takes cards (a subscription already on card keeps showing it).
    const cards = (await subs.orders!.payments.availableMethods()).some((p) => p.method === 'stripe');
    return page(k.settings, request, reply, { title: 'Subscriptions' }, (
      <>
        <h1>Subscriptions</h1>
        <AccountNav current="/account/subscriptions" />
        <p>Support and updates, and add-ons, renew for a year at a time. Renewing early adds the year to the current end date.</p>
        {list.length === 0 ? <div class="card"><p>No subscriptions yet. <a href="/shop">Visit the shop</a>.</p></div> : (
          <div class="table-wrap"><table class="stack">
            <thead><tr><th>What</th><th>Licence</th><th>Paid until</th><th>Status</th><th>Renewal</th><th>Actions</th></tr></thead>
            <tbody>{list.map((s) => <Row s={s} label={labels.get(s.licence_id) ?? s.licence_id.slice(0, 8)} csrf={request.csrfToken()} cards={cards} />)}</tbody>
          </table></div>
        )}
      </>
    ));
  });

  app.get('/account/subscriptions/:id/renew', { preHandler: requireCustomer(), schema: idParams }, async (request, reply) => guard(request, reply, async () => {
    const q = await renewals.quoteRenewal(request.auth!.subjectId, (request.params as { id: string }).id);
    const billing = await renewals.lastBilling(request.auth!.subjectId);
    const methods = new Set((await subs.orders!.payments.availableMethods()).map((p) => p.method));
    const pick = q.sub.renewal_mode === 'card' && methods.has('stripe') ? 'stripe' : 'bank_transfer';
    return page(k.settings, request, reply, { title: 'Renew' }, (
      <div class="card narrow">
        <h1>Renew {describeItem(q.sub).toLowerCase()}</h1>
        <p><strong>{q.name}</strong>: {formatMoney(q.unitNet, q.sub.currency)} plus any VAT.</p>
        <p>The new term runs from <strong>{formatDate(q.start)}</strong> to <strong>{formatDate(q.end)}</strong>.</p>
        <p>Invoice to {billing.name}{billing.company ? `, ${billing.company}` : ''}, {billing.city}, {billing.country}. You review the order, with VAT, before paying.</p>
        <form method="post" action={`/account/subscriptions/${q.sub.id}/renew`}>
          <Csrf token={request.csrfToken()} />
          <fieldset><legend>Pay by</legend>
            {methods.has('stripe') ? <label><input type="radio" name="payment_method" value="stripe" checked={pick === 'stripe'} /> Card</label> : null}
            {methods.has('bank_transfer') ? <label><input type="radio" name="payment_method" value="bank_transfer" checked={pick === 'bank_transfer'} /> Invoice (bank transfer)</label> : null}
          </fieldset>
          <button type="submit">Continue to review</button>
        </form>
      </div>
    ));
  }));

  app.post('/account/subscriptions/:id/renew', { preHandler: requireCustomer(), schema: { ...idParams, body: formBody({ payment_method: 20 }) } }, async (request, reply) => guard(request, reply, async () => {
    const orderId = await renewals.placeRenewal(who(request), (request.params as { id: string }).id, (request.body as { payment_method?: string }).payment_method);
    return reply.redirect(`/checkout/review/${orderId}`, 303);
  }));

  app.post('/account/subscriptions/:id/cancel', { preHandler: requireCustomer(), schema: { ...idParams, body: formBody({ cancel: 4 }) } }, async (request, reply) => guard(request, reply, async () => {
    await subs.setCancelAtPeriodEnd(request.auth!.subjectId, (request.params as { id: string }).id, (request.body as { cancel?: string }).cancel !== '0');
    return reply.redirect('/account/subscriptions', 303);
  }));

  app.post('/account/subscriptions/:id/mode', { preHandler: requireCustomer(), schema: { ...idParams, body: formBody({ mode: 10 }) } }, async (request, reply) => guard(request, reply, async () => {
    await subs.setMode(request.auth!.subjectId, (request.params as { id: string }).id, (request.body as { mode?: string }).mode);
    return reply.redirect('/account/subscriptions', 303);
  }));

  app.get('/account/subscriptions/:id/upgrade', { preHandler: requireCustomer(), schema: idParams }, async (request, reply) => guard(request, reply, async () => {
    const { sub, offers } = await renewals.upgradeOffers(request.auth!.subjectId, (request.params as { id: string }).id);
    return page(k.settings, request, reply, { title: 'Upgrade' }, (
      <>
        <h1>Upgrade or add to your licence</h1>
        <p>Prices are for the {offers[0]?.price.daysLeft ?? '—'} days left of your current support term (to {formatDate(Number(sub.period_end))}), plus any VAT. Add-ons end with the support term, so both renew together.</p>
        {offers.length === 0 ? <div class="card"><p>Nothing more to add: this licence has the largest tier and every add-on.</p></div> : (
          <div class="table-wrap"><table class="stack">
            <thead><tr><th>What</th><th class="num">Full term</th><th class="num">Now (pro rata)</th><th><span class="sr-only">Choose</span></th></tr></thead>
            <tbody>{offers.map((o) => (
              <tr>
                <td><strong>{o.name}</strong></td>
                <td class="num" data-label="Full term">{formatMoney(o.fullPrice, sub.currency)}</td>
                <td class="num" data-label="Now (pro rata)">{formatMoney(o.price.unitNet, sub.currency)} <small>({o.price.daysLeft}/{o.price.daysInTerm} days)</small></td>
                <td><form method="post" action={`/account/subscriptions/${sub.id}/upgrade`}>
                  <Csrf token={request.csrfToken()} /><input type="hidden" name="plan_id" value={o.planId} />
                  <button type="submit">Continue to review</button>
                </form></td>
              </tr>
            ))}</tbody>
          </table></div>
        )}
      </>
    ));
  }));

  app.post('/account/subscriptions/:id/upgrade', { preHandler: requireCustomer(), schema: { ...idParams, body: formBody({ plan_id: 64, payment_method: 20 }) } }, async (request, reply) => guard(request, reply, async () => {
    const b = request.body as { plan_id?: string; payment_method?: string };
    const orderId = await renewals.placeUpgrade(who(request), (request.params as { id: string }).id, b.plan_id, b.payment_method);
    return reply.redirect(`/checkout/review/${orderId}`, 303);
  }));
}

function Row({ s, label, csrf, cards }: { s: SubscriptionView; label: string; csrf: string; cards: boolean }) {
  const live = s.status !== 'expired';
  return (
    <tr>
      <td>{describeItem(s)}</td>
      <td data-label="Licence">{label}</td>
      <td data-label="Paid until">{formatDate(Number(s.period_end))}</td>
      <td data-label="Status"><SubStatus status={s.status} /></td>
      <td data-label="Renewal">
        <form method="post" action={`/account/subscriptions/${s.id}/mode`}>
          <Csrf token={csrf} />
          <select name="mode" aria-label="Renewal mode">
            {cards || s.renewal_mode === 'card' ? <option value="card" selected={s.renewal_mode === 'card'}>Card</option> : null}
            <option value="invoice" selected={s.renewal_mode === 'invoice'}>Invoice</option>
          </select>
          <button type="submit" class="link">Save</button>
        </form>
      </td>
      <td>
        <a class="button" href={`/account/subscriptions/${s.id}/renew`}>Renew now</a>
        {s.item === 'support' && live && s.status !== 'past_due' ? <> <a href={`/account/subscriptions/${s.id}/upgrade`}>Upgrade</a></> : null}
        {live ? (
          <form method="post" action={`/account/subscriptions/${s.id}/cancel`}>
            <Csrf token={csrf} />
            <input type="hidden" name="cancel" value={s.cancel_at_period_end ? '0' : '1'} />
            <button type="submit" class="link">{s.cancel_at_period_end ? 'Keep renewing' : 'Cancel at period end'}</button>
          </form>
        ) : null}
      </td>
    </tr>
  );
}
