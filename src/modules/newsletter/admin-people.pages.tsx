import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sql, type SqlBool } from 'kysely';
import { Type } from 'typebox';
import type { Kernel } from '../../kernel/context.js';
import { formBody, page } from '../../kernel/http/page.js';
import { Csrf, ErrorSummary, Field } from '../../kernel/views/layout.js';
import { requireStaff } from '../accounts/index.js';
import type { ListId } from './newsletter.tables.js';
import { LISTS, LIST_IDS } from './lists.js';
import { consentHistory, staffWording } from './consent.js';
import { suppress, suppressionReason, unsuppress } from './suppression.js';
import { normaliseEmail, subscriberById, subscriptionsOf, type SubscriptionService } from './subscriptions.service.js';
import { Checkbox, TextArea, fmtTime, newsMessage } from './views.js';

const ALL_STAFF = ['owner', 'admin', 'support', 'sales'] as const;
const idParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const REASONS: Record<string, string> = { hard_bounce: 'hard bounce', complaint: 'spam complaint', erasure: 'asked to be forgotten', staff: 'added by staff' };

/** Subscribers (search, consent history, unsubscribe on request) and the suppression list. */
export function registerAdminPeoplePages(app: FastifyInstance, k: Kernel, subs: SubscriptionService): void {
  app.get('/admin/newsletter/subscribers', { preHandler: requireStaff(...ALL_STAFF), schema: { querystring: Type.Object({ q: Type.Optional(Type.String({ maxLength: 200 })) }) } }, async (request, reply) => {
    const q = ((request.query as { q?: string }).q ?? '').trim().toLowerCase();
    const pattern = `%${q.replace(/[!%_]/g, (c) => `!${c}`)}%`;
    const people = await k.db.selectFrom('newsletter_subscribers').selectAll()
      .$if(q.length > 0, (qb) => qb.where(sql<SqlBool>`email like ${pattern} escape '!'`))
      .orderBy('created_at', 'desc').limit(100).execute();
    const lists = people.length
      ? await k.db.selectFrom('newsletter_subscriptions').select(['subscriber_id', 'list_id', 'status']).where('subscriber_id', 'in', people.map((p) => p.id)).execute()
      : [];
    return page(k.settings, request, reply, { title: 'Subscribers', variant: 'admin' }, (
      <>
        <p><a href="/admin/newsletter">Newsletter</a></p>
        <h1>Subscribers</h1>
        <form method="get" action="/admin/newsletter/subscribers" class="card">
          <Field label="Find by email address" name="q" type="search" value={q} maxLength={200} />
          <button type="submit">Search</button>
        </form>
        <div class="table-wrap"><table>
          <thead><tr><th>Email</th><th>Name</th><th>Lists</th><th>Since</th></tr></thead>
          <tbody>{people.map((p) => (
            <tr>
              <td><a href={`/admin/newsletter/subscribers/${p.id}`}>{p.email}</a>{p.customer_id ? <> <span class="badge">customer</span></> : null}</td>
              <td>{p.name ?? ''}</td>
              <td>{lists.filter((l) => l.subscriber_id === p.id).map((l) => <><span class={`badge ${l.status === 'subscribed' ? 'ok' : l.status === 'pending' ? 'warn' : ''}`}>{LISTS[l.list_id].name}: {l.status}</span> </>)}</td>
              <td>{fmtTime(p.created_at)}</td>
            </tr>
          ))}</tbody>
        </table></div>
        {people.length === 0 ? <p class="muted">Nobody found.</p> : null}
      </>
    ));
  });

  const detail = async (request: FastifyRequest, reply: FastifyReply, id: string, opts: { flash?: string; error?: string } = {}) => {
    const s = await subscriberById(k.db, id);
    if (!s) return page(k.settings, request, reply, { title: 'Not found', variant: 'admin', status: 404 }, <div class="card"><h1>Not found</h1><p>No such subscriber (they may have been erased).</p></div>);
    const lists = await subscriptionsOf(k.db, s.id);
    const history = await consentHistory(k.db, s.email);
    const suppressed = await suppressionReason(k, s.email);
    const active = lists.filter((l) => l.status !== 'unsubscribed');
    return page(k.settings, request, reply, { title: s.email, variant: 'admin', flash: opts.flash, status: opts.error ? 400 : 200 }, (
      <>
        <p><a href="/admin/newsletter/subscribers">Subscribers</a></p>
        <h1>{s.email}</h1>
        {opts.error ? <ErrorSummary errors={{ _form: opts.error }} /> : null}
        <p class="muted">{s.name ? `${s.name} · ` : ''}{s.customer_id ? 'customer · ' : ''}since {fmtTime(s.created_at)}{s.soft_bounces ? ` · ${s.soft_bounces} soft bounce(s)` : ''}{suppressed ? ` · suppressed (${REASONS[suppressed]})` : ''}</p>
        <div class="grid">
          <section class="card">
            <h2>Lists</h2>
            <ul>{lists.map((l) => <li>{LISTS[l.list_id].name}: <strong>{l.status}</strong> {l.confirmed_at ? `(since ${fmtTime(l.confirmed_at)})` : ''}</li>)}</ul>
          </section>
          <form method="post" action={`/admin/newsletter/subscribers/${s.id}/unsubscribe`} class="card">
            <h2>Unsubscribe on request</h2>
            <Csrf token={request.csrfToken()} />
            {active.length === 0 ? <p class="muted">On no list.</p> : active.map((l) => <Checkbox name={`list_${l.list_id}`} checked label={LISTS[l.list_id].name} />)}
            <TextArea label="How they asked" name="note" rows={2} maxLength={500} hint="For example: email to support on 3 May, ticket 1234. Kept in the consent record." />
            <button type="submit" disabled={active.length === 0}>Unsubscribe</button>
          </form>
        </div>
        <h2>Consent record</h2>
        <div class="table-wrap"><table>
          <thead><tr><th>When</th><th>List</th><th>Action</th><th>How</th><th>Where</th><th>IP</th><th>Wording shown</th></tr></thead>
          <tbody>{history.map((e) => (
            <tr><td>{fmtTime(e.at)}</td><td>{(LISTS as Record<string, { name: string } | undefined>)[e.list_id]?.name ?? e.list_id}</td><td>{e.action}</td><td>{e.method} ({e.source})</td><td>{e.source_url ?? ''}</td><td>{e.ip ?? ''}</td>
              <td><details><summary class="mono">{e.wording_sha256.slice(0, 12)}… · notice v{e.notice_version}</summary><p class="pre-wrap">{e.wording}</p>{e.note ? <p class="muted">Note: {e.note}</p> : null}</details></td></tr>
          ))}</tbody>
        </table></div>
        {history.length === 0 ? <p class="muted">No consent records for this address (for example, added before Keyward kept them).</p> : null}
      </>
    ));
  };

  app.get('/admin/newsletter/subscribers/:id', { preHandler: requireStaff(...ALL_STAFF), schema: { params: idParams } }, async (request, reply) => detail(request, reply, (request.params as { id: string }).id));

  app.post('/admin/newsletter/subscribers/:id/unsubscribe', {
    preHandler: requireStaff(...ALL_STAFF), schema: { params: idParams, body: formBody({ note: 600, list_newsletter: 5, list_advisories: 5 }) },
  }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const body = request.body as Record<string, string | undefined>;
    const s = await subscriberById(k.db, id);
    const lists = LIST_IDS.filter((l) => body[`list_${l}`] === '1') as ListId[];
    if (!s || lists.length === 0) return detail(request, reply, id, { error: 'Choose at least one list.' });
    const done = await subs.staffUnsubscribe(s.email, lists, request.auth!.subjectId, body.note?.trim() || null, request.ip, (l) => staffWording(LISTS[l]));
    return detail(request, reply, id, { flash: done.length ? `Unsubscribed from: ${done.map((l) => LISTS[l].name).join(', ')}.` : 'Nothing to change.' });
  });

  const suppressionPage = async (request: FastifyRequest, reply: FastifyReply, opts: { flash?: string; error?: string } = {}) => {
    const counts = await k.db.selectFrom('newsletter_suppressions').select(['reason', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('reason').execute();
    const canRemove = request.auth!.role === 'owner' || request.auth!.role === 'admin';
    return page(k.settings, request, reply, { title: 'Suppression list', variant: 'admin', flash: opts.flash, status: opts.error ? 400 : 200 }, (
      <>
        <p><a href="/admin/newsletter">Newsletter</a></p>
        <h1>Suppression list</h1>
        {opts.error ? <ErrorSummary errors={{ _form: opts.error }} /> : null}
        <p class="muted">Addresses here are never sent list mail or sign-up confirmations. The list stores keyed hashes, not addresses: check one by typing it.</p>
        <div class="table-wrap"><table>
          <thead><tr><th>Reason</th><th class="num">Addresses</th></tr></thead>
          <tbody>{counts.map((c) => <tr><td>{REASONS[c.reason] ?? c.reason}</td><td class="num">{Number(c.n)}</td></tr>)}</tbody>
        </table></div>
        <div class="grid">
          {(['check', 'add', ...(canRemove ? ['remove'] : [])] as const).map((action) => (
            <form method="post" action={`/admin/newsletter/suppressions/${action}`} class="card">
              <h2>{action === 'check' ? 'Check an address' : action === 'add' ? 'Never mail an address' : 'Lift a suppression'}</h2>
              <Csrf token={request.csrfToken()} />
              <Field label="Email address" name="email" type="email" required />
              {action === 'remove' ? <p class="hint">Only when the person asks again, for example after a typo was fixed.</p> : null}
              <button type="submit" class={action === 'check' ? 'secondary' : action === 'remove' ? 'danger' : ''}>{action === 'check' ? 'Check' : action === 'add' ? 'Suppress' : 'Lift'}</button>
            </form>
          ))}
        </div>
      </>
    ));
  };

  app.get('/admin/newsletter/suppressions', { preHandler: requireStaff(...ALL_STAFF) }, async (request, reply) => suppressionPage(request, reply));

  const roles = { check: ALL_STAFF, add: ['owner', 'admin', 'support'] as const, remove: ['owner', 'admin'] as const };
  for (const action of ['check', 'add', 'remove'] as const) {
    app.post(`/admin/newsletter/suppressions/${action}`, { preHandler: requireStaff(...roles[action]), schema: { body: formBody({ email: 300 }) } }, async (request, reply) => {
      let email: string;
      try {
        email = normaliseEmail((request.body as { email?: string }).email);
      } catch (err) {
        return suppressionPage(request, reply, { error: newsMessage(err) });
      }
      if (action === 'check') {
        const reason = await suppressionReason(k, email);
        return suppressionPage(request, reply, { flash: reason ? `${email} is suppressed (${REASONS[reason]}).` : `${email} is not suppressed.` });
      }
      if (action === 'add') await suppress(k, email, 'staff', request.auth!.subjectId);
      const lifted = action === 'remove' ? await unsuppress(k, email) : true;
      await k.audit.record({ actorKind: 'staff', actorId: request.auth!.subjectId, action: `newsletter.suppression_${action === 'add' ? 'added' : 'lifted'}`, ip: request.ip });
      return suppressionPage(request, reply, { flash: action === 'add' ? `${email} will never be mailed.` : lifted ? `${email} may be mailed again if they subscribe.` : `${email} was not suppressed.` });
    });
  }
}
