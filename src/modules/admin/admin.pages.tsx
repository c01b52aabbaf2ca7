import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Kernel } from '../../kernel/context.js';
import { formBody, page } from '../../kernel/http/page.js';
import { Csrf } from '../../kernel/views/layout.js';
import { requireStaff } from '../accounts/index.js';
import type { LicensingModule } from '../licensing/index.js';
import { installAdminAccess } from './access.js';
import { DashboardService } from './dashboard.service.js';
import { registerDashboardPage } from './dashboard.pages.js';
import { registerRecordPages } from './records.pages.js';
import { registerReleasePages } from './releases.pages.js';
import { registerSettingsPages } from './settings.pages.js';
import { redactMailSecrets } from './mail-redaction.js';

const fmt = (t: number | null) => (t ? new Date(t).toISOString().replace('T', ' ').slice(0, 16) + ' UTC' : '—');

function UncertainActions({ id, csrf }: { id: string; csrf: string }) {
  return (
    <div class="inline-form">
      <form method="post" action={`/admin/mail/${id}/send-again`}><Csrf token={csrf} /><button type="submit">Send again</button></form>
      <form method="post" action={`/admin/mail/${id}/mark-delivered`}><Csrf token={csrf} /><button class="secondary" type="submit">Mark as delivered</button></form>
    </div>
  );
}

/**
 * The back office: the access table on every /admin request, the dashboard, search, customers and
 * licences, settings, the mail outbox and the audit log.
 */
export function registerAdminPages(app: FastifyInstance, k: Kernel, deps: { licensing: LicensingModule }): void {
  installAdminAccess(app, k);
  const dashboard = new DashboardService(k, deps.licensing.abuse);
  // Once across nodes. The shared-licence scan costs seconds with 100,000 licences: hourly, not more.
  k.jobs.every('admin.dashboard-rollup', 15 * 60_000, async () => { await dashboard.rollUp(); });
  k.jobs.every('admin.shared-licences', 60 * 60_000, async () => { await dashboard.sharedLicences(k.clock.now(), true); });
  registerDashboardPage(app, k, dashboard);
  registerRecordPages(app, k, deps.licensing);
  registerSettingsPages(app, k, deps.licensing);
  registerReleasePages(app, k, deps.licensing);

  app.get('/admin/mail', { preHandler: requireStaff('owner', 'admin', 'support'), schema: { querystring: Type.Object({ page: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$' })) }) } }, async (request, reply) => {
    const p = Number((request.query as { page?: string }).page ?? '1') || 1;
    const rows = await k.db.selectFrom('mail_outbox').select(['id', 'to_addr', 'subject', 'category', 'status', 'created_at', 'sent_at', 'last_error'])
      .orderBy('created_at', 'desc').limit(50).offset((p - 1) * 50).execute();
    const smtp = await k.mail.smtpUrl();
    const uncertain = await k.mail.uncertain();
    const canAct = request.auth!.role === 'owner' || request.auth!.role === 'admin';
    return page(k.settings, request, reply, { title: 'Mail outbox', variant: 'admin' }, (
      <>
        <h1>Mail outbox</h1>
        <p class="muted">{smtp ? 'Mail is delivered through the configured SMTP server.' : 'No SMTP server is configured: mail is held here. Set SMTP_URL or the SMTP setting to deliver it.'}</p>
        {smtp ? <form method="post" action="/admin/mail/release"><Csrf token={request.csrfToken()} /><button class="secondary" type="submit">Deliver held mail now</button></form> : null}
        {uncertain.length ? (
          <section class="card" id="uncertain">
            <h2>Delivery uncertain ({uncertain.length})</h2>
            <p>These messages were being handed to the mail server when the sending process stopped, or the connection broke before the server answered. The server may or may not have accepted them. They are never sent again automatically, so nobody gets a message twice: check with the recipient if it matters, then send it again or mark it delivered.</p>
            <div class="table-wrap"><table>
              <thead><tr><th>Sending started</th><th>To</th><th>Subject</th><th>Kind</th><th>Sent by</th><th>Decision</th></tr></thead>
              <tbody>{uncertain.map((r) => (
                <tr><td>{fmt(r.claimed_at)}</td><td>{r.to_addr}</td><td><a href={`/admin/mail/${r.id}`}>{r.subject}</a></td><td>{r.category}</td><td class="mono">{r.claimed_by ?? ''}</td>
                  <td>{canAct ? <UncertainActions id={r.id} csrf={request.csrfToken()} /> : 'An owner or admin decides.'}</td></tr>
              ))}</tbody>
            </table></div>
          </section>
        ) : null}
        <div class="table-wrap"><table>
          <thead><tr><th>Created</th><th>To</th><th>Subject</th><th>Kind</th><th>Status</th></tr></thead>
          <tbody>{rows.map((r) => (
            <tr><td>{fmt(r.created_at)}</td><td>{r.to_addr}</td><td><a href={`/admin/mail/${r.id}`}>{r.subject}</a></td><td>{r.category}</td>
              <td><span class={`badge ${r.status === 'sent' ? 'ok' : r.status === 'failed' ? 'bad' : 'warn'}`}>{r.status}</span></td></tr>
          ))}</tbody>
        </table></div>
        <p>{p > 1 ? <a href={`/admin/mail?page=${p - 1}`}>Newer</a> : null} {rows.length === 50 ? <a href={`/admin/mail?page=${p + 1}`}>Older</a> : null}</p>
      </>
    ));
  });

  app.post('/admin/mail/release', { preHandler: requireStaff('owner', 'admin'), schema: { body: formBody({}) } }, async (request, reply) => {
    const n = await k.mail.releaseHeld();
    await k.audit.record({ actorKind: 'staff', actorId: request.auth!.subjectId, action: 'mail.release_held', detail: { count: n }, ip: request.ip });
    return reply.redirect('/admin/mail', 303);
  });

  app.get('/admin/mail/:id', { preHandler: requireStaff('owner', 'admin', 'support'), schema: { params: Type.Object({ id: Type.String({ maxLength: 64 }) }) } }, async (request, reply) => {
    const r = await k.db.selectFrom('mail_outbox').selectAll().where('id', '=', (request.params as { id: string }).id).executeTakeFirst();
    if (!r) return page(k.settings, request, reply, { title: 'Not found', variant: 'admin', status: 404 }, <p>No such message.</p>);
    return page(k.settings, request, reply, { title: r.subject, variant: 'admin' }, (
      <div class="card">
        <h1>{r.subject}</h1>
        <p class="muted">To {r.to_addr} · from {r.from_addr} · {fmt(r.created_at)} · {r.status}{r.last_error ? ` · last error: ${r.last_error}` : ''}</p>
        {r.status === 'uncertain' ? (
          <div class="error-summary">
            <p>Delivery uncertain: sending started {fmt(r.claimed_at)} by {r.claimed_by ?? 'a worker'} and never got the server's answer. It will not be sent again unless you choose to.</p>
            {request.auth!.role === 'owner' || request.auth!.role === 'admin' ? <UncertainActions id={r.id} csrf={request.csrfToken()} /> : null}
          </div>
        ) : null}
        <p class="muted">Links that act for the recipient (password resets, confirmations, unsubscribes, downloads) and licence keys are hidden here: they are the recipient's alone.</p>
        <pre class="mono pre-wrap">{redactMailSecrets(r.text_body)}</pre>
      </div>
    ));
  });

  const decide = (action: 'send-again' | 'mark-delivered') => async (request: FastifyRequest, reply: FastifyReply) => {
    const id = (request.params as { id: string }).id;
    if (action === 'send-again') await k.mail.sendAgain(id);
    else await k.mail.markDelivered(id);
    await k.audit.record({ actorKind: 'staff', actorId: request.auth!.subjectId, action: action === 'send-again' ? 'mail.uncertain_sent_again' : 'mail.uncertain_marked_delivered', target: id, ip: request.ip });
    return reply.redirect(`/admin/mail/${id}`, 303);
  };
  const decisionRoute = { preHandler: requireStaff('owner', 'admin'), schema: { params: Type.Object({ id: Type.String({ maxLength: 64 }) }), body: formBody({}) } };
  app.post('/admin/mail/:id/send-again', decisionRoute, decide('send-again'));
  app.post('/admin/mail/:id/mark-delivered', decisionRoute, decide('mark-delivered'));

  app.get('/admin/audit', { preHandler: requireStaff('owner', 'admin') }, async (request, reply) => {
    const rows = await k.audit.recent(200);
    return page(k.settings, request, reply, { title: 'Audit log', variant: 'admin' }, (
      <>
        <h1>Audit log</h1>
        <div class="table-wrap"><table>
          <thead><tr><th>When</th><th>Who</th><th>What</th><th>Target</th><th>IP</th></tr></thead>
          <tbody>{rows.map((r) => <tr><td>{fmt(r.at)}</td><td>{r.actor_kind} {r.actor_id?.slice(0, 8) ?? ''}</td><td>{r.action}</td><td>{r.target?.slice(0, 12) ?? ''}</td><td>{r.ip ?? ''}</td></tr>)}</tbody>
        </table></div>
      </>
    ));
  });
}
