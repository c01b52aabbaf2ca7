import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Kernel } from '../../kernel/context.js';
import { DONE_PARAM, doneFlash, page } from '../../kernel/http/page.js';
import { Csrf, ErrorSummary } from '../../kernel/views/layout.js';
import { requireStaff } from '../accounts/index.js';
import { STATUS_LABEL, statusChoices } from './status.js';
import { loadSupportSettings } from './support.settings.js';
import { supportAgents } from './staff-directory.js';
import type { TicketStatus } from './support.tables.js';
import * as repo from './tickets.repository.js';
import { Conversation, FileField, fmtTime, StatusBadge, Tabs, TextArea } from './views.js';

export const STAFF = requireStaff('owner', 'admin', 'support');
export const ADMIN_TABS = [
  { href: '/admin/tickets', label: 'Queue' }, { href: '/admin/tickets/canned', label: 'Canned replies' },
  { href: '/admin/tickets/mailbox', label: 'Mailbox' }, { href: '/admin/tickets/settings', label: 'Settings' },
  { href: '/admin/kb', label: 'Knowledge base' }, { href: '/admin/forum', label: 'Forum' },
];

const DONE: Record<string, string> = {
  replied: 'Your reply has been sent.', noted: 'Note added.', assigned: 'Assignment saved.', status: 'Status changed.', tags: 'Tags saved.', merged: 'Tickets merged.',
};

const listQuery = Type.Object({
  status: Type.Optional(Type.Union(['active', 'open', 'pending', 'closed', 'spam', 'all'].map((s) => Type.Literal(s)))),
  assignee: Type.Optional(Type.Union([Type.Literal('any'), Type.Literal('me'), Type.Literal('none')])),
  tag: Type.Optional(Type.String({ maxLength: 40 })),
  q: Type.Optional(Type.String({ maxLength: 200 })),
  page: Type.Optional(Type.String({ pattern: '^[0-9]{1,5}$' })),
});

export interface TicketViewError { form: 'reply' | 'note' | 'assign' | 'status' | 'tags' | 'merge'; message: string; value?: string; status?: number }

/** The staff queue: a filtered list and the ticket page with every action on it. */
export function registerAdminTicketPages(app: FastifyInstance, k: Kernel): (request: FastifyRequest, reply: FastifyReply, number: number, err?: TicketViewError) => Promise<FastifyReply> {
  app.get('/admin/tickets', { preHandler: STAFF, schema: { querystring: listQuery } }, async (request, reply) => {
    const q = request.query as { status?: TicketStatus | 'active' | 'all'; assignee?: 'any' | 'me' | 'none'; tag?: string; q?: string; page?: string };
    const p = Number(q.page ?? '1') || 1;
    const rows = await repo.listTickets(k.db, { ...q, staffId: request.auth!.subjectId, page: p });
    const agents = new Map((await supportAgents(k.db)).map((a) => [a.id, a.name]));
    const more = rows.length > 50;
    const link = (n: number) => `/admin/tickets?${new URLSearchParams({ ...(q as Record<string, string>), page: String(n) })}`;
    return page(k.settings, request, reply, { title: 'Tickets', variant: 'admin' }, (
      <>
        <h1>Tickets</h1>
        <Tabs items={ADMIN_TABS} current="/admin/tickets" />
        <form method="get" action="/admin/tickets" class="card filters">
          <div class="filter-row">
            <div class="field"><label for="f-status">Status</label>
              <select id="f-status" name="status">{[['active', 'Open and waiting'], ['open', 'Open'], ['pending', 'Waiting on customer'], ['closed', 'Closed'], ['spam', 'Spam'], ['all', 'All']].map(([v, l]) => <option value={v} selected={(q.status ?? 'active') === v}>{l}</option>)}</select></div>
            <div class="field"><label for="f-assignee">Assigned to</label>
              <select id="f-assignee" name="assignee">{[['any', 'Anyone'], ['me', 'Me'], ['none', 'Nobody']].map(([v, l]) => <option value={v} selected={(q.assignee ?? 'any') === v}>{l}</option>)}</select></div>
            <div class="field"><label for="f-tag">Tag</label><input id="f-tag" name="tag" type="text" value={q.tag ?? ''} maxLength={40} /></div>
            <div class="field"><label for="f-q">Search</label><input id="f-q" name="q" type="search" value={q.q ?? ''} placeholder="Number, subject or email" maxLength={200} /></div>
            <div class="field"><button type="submit">Filter</button></div>
          </div>
        </form>
        <div class="table-wrap"><table>
          <thead><tr><th>#</th><th>Subject</th><th>Status</th><th>Assignee</th><th>Updated</th></tr></thead>
          <tbody>
            {rows.slice(0, 50).map((t) => (
              <tr><td><a href={`/admin/tickets/${t.number}`}>#{t.number}</a></td><td><a href={`/admin/tickets/${t.number}`}>{t.subject}</a> {t.channel === 'web' ? <span class="badge">web</span> : null}</td>
                <td><StatusBadge status={t.status} /></td><td>{t.assignee_id ? agents.get(t.assignee_id) ?? '—' : <span class="muted">Nobody</span>}</td><td>{fmtTime(t.updated_at)}</td></tr>
            ))}
            {rows.length === 0 ? <tr><td colSpan={5} class="muted">No tickets match.</td></tr> : null}
          </tbody>
        </table></div>
        <p>{p > 1 ? <a href={link(p - 1)}>Previous</a> : null} {more ? <a href={link(p + 1)}>Next</a> : null}</p>
      </>
    ));
  });

  const view = async (request: FastifyRequest, reply: FastifyReply, number: number, err?: TicketViewError): Promise<FastifyReply> => {
    const t = await repo.ticketByNumber(k.db, number);
    if (!t) return page(k.settings, request, reply, { title: 'Not found', variant: 'admin', status: 404 }, <div class="card"><h1>No ticket #{number}</h1><p><a href="/admin/tickets">Back to the queue</a></p></div>);
    if (t.number !== number && !err) return reply.redirect(`/admin/tickets/${t.number}`, 303);
    const query = request.query as { canned?: string } | undefined;
    const [messages, files, people, tags, agents, canned, s] = await Promise.all([
      repo.messagesFor(k.db, t.id, { includeInternal: true }), repo.attachmentsFor(k.db, t.id), repo.participants(k.db, t.id), repo.tagsFor(k.db, t.id),
      supportAgents(k.db), k.db.selectFrom('support_canned_replies').select(['id', 'title', 'body']).orderBy('title').execute(), loadSupportSettings(k),
    ]);
    const inbound = await k.db.selectFrom('support_inbound').select(['id', 'support_message_id']).where('ticket_id', '=', t.id).execute();
    const cannedBody = canned.find((c) => c.id === query?.canned)?.body;
    const names = new Map(agents.map((a) => [a.id, a.name]));
    const error = (form: TicketViewError['form']) => (err?.form === form ? err.message : undefined);
    const action = (what: string) => `/admin/tickets/${t.number}/${what}`;
    return page(k.settings, request, reply, { title: `#${t.number} ${t.subject}`, variant: 'admin', status: err ? err.status ?? 400 : 200, flash: doneFlash(request, DONE) }, (
      <>
        <p class="muted"><a href="/admin/tickets">Tickets</a> › #{t.number}</p>
        <h1>{t.subject} <StatusBadge status={t.status} /></h1>
        <p class="muted">#{t.number} · by {t.channel} · opened {fmtTime(t.created_at)} · updated {fmtTime(t.updated_at)}{t.anonymised_at ? ` · anonymised ${fmtTime(t.anonymised_at)}` : ''}</p>
        {err ? <ErrorSummary errors={{ [err.form === 'reply' ? 'text' : err.form]: err.message }} /> : null}
        <div class="ticket-layout">
          <div>
            <section class="card">
              <Conversation messages={messages} files={files} fileHref={(id) => `/support/attachments/${id}`} staffView staffNames={names} />
              {inbound.length ? <p class="muted">Original emails: {inbound.map((i, n) => <><a href={`/admin/tickets/mailbox/${i.id}/raw`}>{n + 1}</a>{' '}</>)}</p> : null}
            </section>
            {t.merged_into_id ? null : (
              <>
                <section class="card" id="reply">
                  <h2>Reply to the customer</h2>
                  {canned.length ? (
                    <form method="get" action={`/admin/tickets/${t.number}#reply`} class="inline-form">
                      <label for="f-canned">Canned reply</label>
                      <select id="f-canned" name="canned"><option value="">Choose…</option>{canned.map((c) => <option value={c.id} selected={c.id === query?.canned}>{c.title}</option>)}</select>
                      <button type="submit" class="secondary">Insert</button>
                    </form>
                  ) : null}
                  <form method="post" action={action('reply')} enctype="multipart/form-data">
                    <Csrf token={request.csrfToken()} />
                    <TextArea label="Message" name="text" value={err?.form === 'reply' ? err.value : cannedBody} required error={error('reply')} rows={10}
                      hint={`Sent by email to ${people.map((p) => p.email).join(', ') || 'nobody (no participants)'}.`} />
                    <FileField maxMb={s.attachmentMaxMb} />
                    <button type="submit">Send reply</button>
                  </form>
                </section>
                <section class="card">
                  <h2>Internal note</h2>
                  <form method="post" action={action('note')}>
                    <Csrf token={request.csrfToken()} />
                    <TextArea label="Note (only staff see it)" name="note" value={err?.form === 'note' ? err.value : undefined} required error={error('note')} rows={4} />
                    <button type="submit" class="secondary">Add note</button>
                  </form>
                </section>
              </>
            )}
          </div>
          <aside>
            <section class="card">
              <h2>People</h2>
              <ul class="plain">{people.map((p) => <li>{p.email} <span class="muted">({p.role}{p.customer_id ? ', customer' : ''})</span></li>)}</ul>
            </section>
            {t.merged_into_id ? null : (
              <section class="card side-forms">
                <form method="post" action={action('assign')}>
                  <Csrf token={request.csrfToken()} />
                  <label for="f-assign">Assigned to</label>
                  <select id="f-assign" name="assignee"><option value="">Nobody</option>{agents.map((a) => <option value={a.id} selected={a.id === t.assignee_id}>{a.name}</option>)}</select>
                  <button type="submit" class="secondary">Assign</button>
                  {error('assign') ? <p class="error">{error('assign')}</p> : null}
                </form>
                <form method="post" action={action('status')}>
                  <Csrf token={request.csrfToken()} />
                  {/* The list holds only the statuses it can change to: no option looks chosen that is not. */}
                  <p class="ticket-meta">Status: <strong>{STATUS_LABEL[t.status]}</strong></p>
                  <label for="f-status">Change the status to</label>
                  <select id="f-status" name="status">{statusChoices(t.status).map((s2) => <option value={s2}>{STATUS_LABEL[s2]}</option>)}</select>
                  <button type="submit" class="secondary">Change status</button>
                  {error('status') ? <p class="error">{error('status')}</p> : null}
                </form>
                <form method="post" action={action('tags')}>
                  <Csrf token={request.csrfToken()} />
                  <label for="f-tags">Tags</label>
                  <input id="f-tags" name="tags" type="text" value={err?.form === 'tags' ? err.value : tags.join(', ')} maxLength={900} />
                  <button type="submit" class="secondary">Save tags</button>
                  {error('tags') ? <p class="error">{error('tags')}</p> : null}
                </form>
                <form method="post" action={action('merge')}>
                  <Csrf token={request.csrfToken()} />
                  <label for="f-into">Merge into ticket number</label>
                  <input id="f-into" name="into" type="text" inputMode="numeric" value={err?.form === 'merge' ? err.value : ''} maxLength={12} />
                  <label class="checkbox"><input type="checkbox" name="people" value="yes" /> Even if the other ticket is from someone else (each will then see the other's conversation and files)</label>
                  <button type="submit" class="secondary">Merge</button>
                  {error('merge') ? <p class="error">{error('merge')}</p> : null}
                </form>
              </section>
            )}
          </aside>
        </div>
      </>
    ));
  };

  app.get('/admin/tickets/:number', {
    preHandler: STAFF,
    schema: { params: Type.Object({ number: Type.String({ pattern: '^[0-9]{1,9}$' }) }), querystring: Type.Object({ canned: Type.Optional(Type.String({ maxLength: 40 })), done: DONE_PARAM }) },
  }, async (request, reply) => view(request, reply, Number((request.params as { number: string }).number)));

  return view;
}
