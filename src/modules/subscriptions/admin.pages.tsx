import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Kernel } from '../../kernel/context.js';
import { DONE_PARAM, doneFlash, formBody, page } from '../../kernel/http/page.js';
import { Csrf, ErrorSummary, Field } from '../../kernel/views/layout.js';
import { BarChart } from '../../kernel/views/charts.js';
import { requireStaff } from '../accounts/index.js';
import { formatDate, formatMoney } from '../billing/index.js';
import type { LicenceIssuer } from '../orders/index.js';
import { DAY_MS, RENEWAL_DUE_DAYS } from './rules.js';
import { describeItem, type SubscriptionsService } from './subscriptions.service.js';
import { SubStatus } from './account.pages.js';
import { InvalidSubscriptionInput } from './subscriptions.errors.js';
import { customerTimeline, revenueByMonth } from './admin.repository.js';

const SALES = ['owner', 'admin', 'sales'] as const;
export const VIEWS = { due: 'Renewals due', past_due: 'Past due', lapsed: 'Lapsed', all: 'All' } as const;
type View = keyof typeof VIEWS;

/** Admin → Subscriptions: renewals due, past due and lapsed; the grace period; revenue per month; a customer's timeline. */
export function registerSubscriptionAdminPages(app: FastifyInstance, k: Kernel, subs: SubscriptionsService, issuer: LicenceIssuer): void {
  const list = async (view: View) => {
    const now = k.clock.now();
    const grace = await subs.graceDays();
    let q = k.db.selectFrom('subscriptions as s').leftJoin('customers as c', 'c.id', 's.customer_id').selectAll('s').select(['c.email', 'c.name']);
    // The same boundaries as rules.statusAt, as ranges on the paid end so the lists use the index.
    if (view === 'due') q = q.where('s.period_end', '>', now).where('s.period_end', '<=', now + RENEWAL_DUE_DAYS * DAY_MS).where('s.cancel_at_period_end', '=', 0);
    if (view === 'past_due') q = q.where('s.period_end', '<=', now).where('s.period_end', '>', now - grace * DAY_MS).where('s.cancel_at_period_end', '=', 0);
    if (view === 'lapsed') q = q.where((eb) => eb.or([eb('s.period_end', '<=', now - grace * DAY_MS), eb.and([eb('s.period_end', '<=', now), eb('s.cancel_at_period_end', '=', 1)])]));
    const rows = await q.orderBy('s.period_end', view === 'lapsed' ? 'desc' : 'asc').orderBy('s.id').limit(500).execute();
    return rows.map((r) => ({ ...subs.view(r, now, grace), email: r.email, name: r.name }));
  };

  app.get('/admin/subscriptions', {
    preHandler: requireStaff(...SALES), schema: { querystring: Type.Object({ view: Type.Optional(Type.String({ maxLength: 20 })), done: DONE_PARAM }) },
  }, async (request, reply) => {
    const raw = (request.query as { view?: string }).view ?? 'due';
    const view: View = Object.hasOwn(VIEWS, raw) ? (raw as View) : 'due';
    const [rows, grace] = await Promise.all([list(view), subs.graceDays()]);
    return page(k.settings, request, reply, { title: 'Subscriptions', variant: 'admin', flash: doneFlash(request, { grace: `Grace period saved: ${grace} days.` }) }, (
      <>
        <h1>Subscriptions</h1>
        <p>{(Object.keys(VIEWS) as View[]).map((v) => <>{v === view ? <strong>{VIEWS[v]}</strong> : <a href={`/admin/subscriptions?view=${v}`}>{VIEWS[v]}</a>}{' · '}</>)}<a href="/admin/subscriptions/revenue">Revenue per month</a></p>
        <section class="card">
          <h2>{VIEWS[view]} ({rows.length})</h2>
          {rows.length === 0 ? <p>None.</p> : (
            <div class="table-wrap"><table>
              <thead><tr><th>Customer</th><th>What</th><th>Paid until</th><th>Status</th><th>Renews by</th></tr></thead>
              <tbody>{rows.map((r) => (
                <tr>
                  <td><a href={`/admin/customers/${r.customer_id}/timeline`}>{r.email ?? r.customer_id}</a></td>
                  <td>{describeItem(r)}</td><td>{formatDate(Number(r.period_end))}</td><td><SubStatus status={r.status} /></td>
                  <td>{r.renewal_mode === 'card' ? 'Card' : 'Invoice'}</td>
                </tr>
              ))}</tbody>
            </table></div>
          )}
        </section>
        {request.auth!.role === 'owner' || request.auth!.role === 'admin'
          ? <GraceForm grace={grace} csrf={request.csrfToken()} errors={{}} />
          : <p>Grace period: {grace} days (owners and admins change it).</p>}
      </>
    ));
  });

  app.post('/admin/subscriptions/settings', { preHandler: requireStaff('owner', 'admin'), schema: { body: formBody({ grace_days: 10 }) } }, async (request, reply) => {
    try {
      await subs.setGraceDays((request.body as { grace_days?: string }).grace_days, request.auth!.subjectId);
      return reply.redirect('/admin/subscriptions?done=grace', 303);
    } catch (err) {
      if (!(err instanceof InvalidSubscriptionInput)) throw err;
      return page(k.settings, request, reply, { title: 'Subscriptions', variant: 'admin', status: 400 }, (
        <GraceForm grace={await subs.graceDays()} csrf={request.csrfToken()} errors={{ grace_days: err.message }} value={(request.body as { grace_days?: string }).grace_days} />
      ));
    }
  });

  app.get('/admin/subscriptions/revenue', { preHandler: requireStaff(...SALES) }, async (request, reply) => {
    const months = await revenueByMonth(k.db, k.clock.now(), 12);
    return page(k.settings, request, reply, { title: 'Revenue per month', variant: 'admin' }, (
      <>
        <h1>Revenue per month</h1>
        <p>Net of VAT, in sterling at each document's own rate, invoices less credit notes, by issue date (UTC). <a href="/admin/subscriptions">Subscriptions</a></p>
        <BarChart title="Net revenue (GBP)" labels={months.map((m) => m.month)} series={[{ name: 'Net revenue', values: months.map((m) => m.net / 100) }]} unit="£" />
        <div class="table-wrap"><table>
          <thead><tr><th>Month</th><th class="num">Invoices</th><th class="num">Credit notes</th><th class="num">Net (GBP)</th></tr></thead>
          <tbody>{months.map((m) => <tr><td>{m.month}</td><td class="num">{m.invoices}</td><td class="num">{m.creditNotes}</td><td class="num">{formatMoney(m.net, 'GBP')}</td></tr>)}</tbody>
        </table></div>
      </>
    ));
  });

  // Read by anyone who may read customers (support answering "what did I buy?" too).
  app.get('/admin/customers/:id/timeline', { preHandler: requireStaff('owner', 'admin', 'support', 'sales'), schema: { params: Type.Object({ id: Type.String({ maxLength: 64 }) }) } }, async (request, reply) => {
    const id = (request.params as { id: string }).id;
    const customer = await k.db.selectFrom('customers').select(['id', 'email', 'name']).where('id', '=', id).executeTakeFirst();
    if (!customer) return page(k.settings, request, reply, { title: 'Not found', variant: 'admin', status: 404 }, <div class="card narrow"><h1>No such customer</h1></div>);
    const events = await customerTimeline(k.db, id, await issuer.listForCustomer(k.db, id), await subs.graceDays(), k.clock.now());
    return page(k.settings, request, reply, { title: `Timeline: ${customer.email}`, variant: 'admin' }, (
      <>
        <h1>{customer.name} <small>{customer.email}</small></h1>
        <div class="table-wrap"><table>
          <thead><tr><th>When</th><th>What</th><th>Detail</th></tr></thead>
          <tbody>{events.map((e) => <tr><td>{new Date(e.at).toISOString().slice(0, 16).replace('T', ' ')}</td><td>{e.kind}</td><td>{e.href ? <a href={e.href}>{e.text}</a> : e.text}</td></tr>)}</tbody>
        </table></div>
      </>
    ));
  });
}

function GraceForm({ grace, csrf, errors, value }: { grace: number; csrf: string; errors: Record<string, string>; value?: string }) {
  return (
    <section class="card">
      <h2>Grace period</h2>
      <ErrorSummary errors={errors} />
      <p>After a subscription's paid end it stays past due, and its add-on content keeps flowing, for this many days; a renewal in that time continues from the paid end. Then it lapses.</p>
      <form method="post" action="/admin/subscriptions/settings">
        <Csrf token={csrf} />
        <Field label="Grace period (days)" name="grace_days" value={value ?? String(grace)} required error={errors.grace_days} />
        <button type="submit">Save</button>
      </form>
    </section>
  );
}
