import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Kernel } from '../../kernel/context.js';
import { formBody, LONG_FORM_BODY_LIMIT, page } from '../../kernel/http/page.js';
import { Csrf, ErrorSummary } from '../../kernel/views/layout.js';
import { AccountNav, requireCustomer } from '../accounts/index.js';
import type { PortalService } from './portal.service.js';
import { loadSupportSettings } from './support.settings.js';
import { filesOf } from './uploads.js';
import * as repo from './tickets.repository.js';
import { Conversation, FileField, fmtTime, StatusBadge, TextArea } from './views.js';

const numberParams = Type.Object({ number: Type.String({ pattern: '^[0-9]{1,9}$' }) });

/** "My account → Support requests": a customer's own tickets, read and answered on the web. */
export function registerAccountTicketPages(app: FastifyInstance, k: Kernel, portal: PortalService): void {
  app.get('/account/tickets', { preHandler: requireCustomer() }, async (request, reply) => {
    const auth = request.auth!;
    const rows = await repo.ticketsForCustomer(k.db, auth.subjectId, auth.email);
    return page(k.settings, request, reply, { title: 'Support requests' }, (
      <>
        <h1>Your support requests</h1>
        <AccountNav current="/account/tickets" />
        {rows.length === 0
          ? <div class="card"><p>You have not sent us any requests yet.</p><p><a class="button" href="/support/contact">Contact support</a></p></div>
          : (
            <>
              <div class="table-wrap"><table>
                <thead><tr><th>Number</th><th>Subject</th><th>Status</th><th>Last update</th></tr></thead>
                <tbody>{rows.map((t) => (
                  <tr><td><a href={`/account/tickets/${t.number}`}>#{t.number}</a></td><td>{t.subject}</td><td><StatusBadge status={t.status} /></td><td>{fmtTime(t.updated_at)}</td></tr>
                ))}</tbody>
              </table></div>
              <p><a class="button secondary" href="/support/contact">Send a new request</a></p>
            </>
          )}
      </>
    ));
  });

  const view = async (request: FastifyRequest, reply: FastifyReply, number: number, o: { error?: string; field?: string; value?: string; flash?: string } = {}) => {
    const t = await portal.customerTicket(number, request.auth!);
    const [messages, files, s] = await Promise.all([repo.messagesFor(k.db, t.id, { includeInternal: false }), repo.attachmentsFor(k.db, t.id), loadSupportSettings(k)]);
    const visible = new Set(messages.map((m) => m.id));
    return page(k.settings, request, reply, { title: `Request #${t.number}`, status: o.error ? 400 : 200, flash: o.flash }, (
      <>
        <p class="muted"><a href="/account">My account</a> › <a href="/account/tickets">Support requests</a> › #{t.number}</p>
        <h1>{t.subject} <StatusBadge status={t.status} /></h1>
        <p class="muted">Request #{t.number} · opened {fmtTime(t.created_at)}</p>
        <section class="card">
          <Conversation messages={messages} files={files.filter((f) => visible.has(f.message_id))} fileHref={(id) => `/support/attachments/${id}`} staffView={false} />
        </section>
        <section class="card">
          <h2>{t.status === 'closed' ? 'Reopen with a reply' : 'Reply'}</h2>
          {o.error ? <ErrorSummary errors={{ [o.field ?? 'message']: o.error }} /> : null}
          <form method="post" action={`/account/tickets/${t.number}/reply`} enctype="multipart/form-data">
            <Csrf token={request.csrfToken()} />
            <TextArea label="Your message" name="message" value={o.value} required error={o.field === 'files' ? undefined : o.error} />
            <FileField maxMb={s.attachmentMaxMb} error={o.field === 'files' ? o.error : undefined} />
            <button type="submit">Send reply</button>
          </form>
        </section>
      </>
    ));
  };

  app.get('/account/tickets/:number', { preHandler: requireCustomer(), schema: { params: numberParams } }, async (request, reply) => {
    const n = Number((request.params as { number: string }).number);
    const t = await repo.ticketByNumber(k.db, n);
    // A merged ticket's old number leads to the ticket that holds the conversation now, for its own
    // participants only: to anyone else the redirect would tell which tickets were merged into which.
    if (t && t.number !== n) {
      await portal.customerTicket(t.number, request.auth!);
      return reply.redirect(`/account/tickets/${t.number}`, 303);
    }
    return view(request, reply, n);
  });

  app.post('/account/tickets/:number/reply', {
    preHandler: requireCustomer(), bodyLimit: LONG_FORM_BODY_LIMIT, schema: { params: numberParams, body: formBody({ message: 60_000 }) },
  }, async (request, reply) => {
    const n = Number((request.params as { number: string }).number);
    const body = (request.body ?? {}) as { message?: string };
    const { files, tooLarge } = filesOf(request);
    const s = await loadSupportSettings(k);
    if (tooLarge.length) return view(request, reply, n, { error: `Too large (each file may be at most ${s.attachmentMaxMb} MB): ${tooLarge.join(', ')}.`, field: 'files', value: body.message });
    try {
      await portal.customerReply(n, request.auth!, body, files);
    } catch (err) {
      const e = err as { code?: string; message: string; field?: string };
      if (!e.code?.startsWith('SUP_') || e.code === 'SUP_TICKET_NOT_FOUND') throw err;
      return view(request, reply, n, { error: e.message, field: e.field ?? (e.code.includes('ATTACHMENT') ? 'files' : 'message'), value: body.message });
    }
    return reply.redirect(`/account/tickets/${n}`, 303);
  });
}
