import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Kernel } from '../../kernel/context.js';
import { newId } from '../../kernel/crypto/tokens.js';
import { formBody, LONG_FORM_BODY_LIMIT, page } from '../../kernel/http/page.js';
import { Csrf, ErrorSummary, Field } from '../../kernel/views/layout.js';
import { requireStaff } from '../accounts/index.js';
import { ADMIN_TABS, STAFF } from './admin-tickets.pages.js';
import { readAttachment } from './attachments.js';
import { fallbackSupportAddress, loadSupportSettings, parseSupportSettings, SUPPORT_SETTING } from './support.settings.js';
import { cleanText } from './tickets.service.js';
import { fmtSize, fmtTime, Tabs, TextArea } from './views.js';

const idParams = Type.Object({ id: Type.String({ pattern: '^[0-9a-f-]{36}$' }) });
type Values = Record<string, string | undefined>;

/** Canned replies, the mailbox log (every message received, with its original) and the helpdesk settings. */
export function registerAdminSupportPages(app: FastifyInstance, k: Kernel, onSettingsSaved: () => Promise<void>): void {
  const cannedPage = async (request: FastifyRequest, reply: FastifyReply, edit?: { id?: string; v: Values; error?: string }) => {
    const rows = await k.db.selectFrom('support_canned_replies').selectAll().orderBy('title').execute();
    return page(k.settings, request, reply, { title: 'Canned replies', variant: 'admin', status: edit?.error ? 400 : 200 }, (
      <>
        <h1>Canned replies</h1>
        <Tabs items={ADMIN_TABS} current="/admin/tickets/canned" />
        <div class="table-wrap"><table>
          <thead><tr><th>Title</th><th>Text</th><th></th></tr></thead>
          <tbody>{rows.map((r) => (
            <tr><td><a href={`/admin/tickets/canned/${r.id}`}>{r.title}</a></td><td class="muted">{r.body.slice(0, 120)}{r.body.length > 120 ? '…' : ''}</td>
              <td><form method="post" action={`/admin/tickets/canned/${r.id}/delete`} class="inline"><Csrf token={request.csrfToken()} /><button type="submit" class="link">Delete</button></form></td></tr>
          ))}{rows.length === 0 ? <tr><td colSpan={3} class="muted">None yet.</td></tr> : null}</tbody>
        </table></div>
        <section class="card">
          <h2>{edit?.id ? 'Edit canned reply' : 'New canned reply'}</h2>
          {edit?.error ? <ErrorSummary errors={{ _form: edit.error }} /> : null}
          <form method="post" action={edit?.id ? `/admin/tickets/canned/${edit.id}` : '/admin/tickets/canned'}>
            <Csrf token={request.csrfToken()} />
            <Field label="Title" name="title" value={edit?.v.title} required maxLength={200} />
            <TextArea label="Text" name="body" value={edit?.v.body} required rows={8} />
            <button type="submit">Save</button>
          </form>
        </section>
      </>
    ));
  };

  app.get('/admin/tickets/canned', { preHandler: STAFF }, async (request, reply) => cannedPage(request, reply));
  app.get('/admin/tickets/canned/:id', { preHandler: STAFF, schema: { params: idParams } }, async (request, reply) => {
    const r = await k.db.selectFrom('support_canned_replies').selectAll().where('id', '=', (request.params as { id: string }).id).executeTakeFirst();
    if (!r) return reply.redirect('/admin/tickets/canned', 303);
    return cannedPage(request, reply, { id: r.id, v: { title: r.title, body: r.body } });
  });

  const saveCanned = async (request: FastifyRequest, reply: FastifyReply, id: string | null) => {
    const v = (request.body ?? {}) as Values;
    let title: string; let body: string;
    try {
      title = cleanText(v.title, 'title', 'a title', 200);
      body = cleanText(v.body, 'body', 'the text');
    } catch (err) {
      return cannedPage(request, reply, { id: id ?? undefined, v, error: (err as Error).message });
    }
    const now = k.clock.now();
    if (id) await k.db.updateTable('support_canned_replies').set({ title, body, updated_at: now }).where('id', '=', id).execute();
    else await k.db.insertInto('support_canned_replies').values({ id: newId(), title, body, created_by: request.auth!.subjectId, created_at: now, updated_at: now }).execute();
    return reply.redirect('/admin/tickets/canned', 303);
  };
  const cannedBody = formBody({ title: 400, body: 60_000 });
  app.post('/admin/tickets/canned', { preHandler: STAFF, bodyLimit: LONG_FORM_BODY_LIMIT, schema: { body: cannedBody } }, async (request, reply) => saveCanned(request, reply, null));
  app.post('/admin/tickets/canned/:id', { preHandler: STAFF, bodyLimit: LONG_FORM_BODY_LIMIT, schema: { params: idParams, body: cannedBody } }, async (request, reply) => saveCanned(request, reply, (request.params as { id: string }).id));
  app.post('/admin/tickets/canned/:id/delete', { preHandler: STAFF, schema: { params: idParams, body: formBody({}) } }, async (request, reply) => {
    await k.db.deleteFrom('support_canned_replies').where('id', '=', (request.params as { id: string }).id).execute();
    return reply.redirect('/admin/tickets/canned', 303);
  });

  app.get('/admin/tickets/mailbox', { preHandler: STAFF }, async (request, reply) => {
    const rows = await k.db.selectFrom('support_inbound').selectAll().orderBy('received_at', 'desc').limit(200).execute();
    const numbers = new Map((await k.db.selectFrom('support_tickets').select(['id', 'number']).where('id', 'in', [...new Set(rows.map((r) => r.ticket_id).filter((x): x is string => !!x)), '-']).execute()).map((t) => [t.id, t.number]));
    const imap = k.config.imap;
    // The IMAP poll's last run, so a wrong password or an unreachable server shows here (never the password).
    const lastPoll = imap ? await k.db.selectFrom('jobs').select(['status', 'last_error', 'finished_at', 'created_at']).where('name', '=', 'support.imap-poll').orderBy('created_at', 'desc').limit(1).executeTakeFirst() : undefined;
    return page(k.settings, request, reply, { title: 'Support mailbox', variant: 'admin' }, (
      <>
        <h1>Support mailbox</h1>
        <Tabs items={ADMIN_TABS} current="/admin/tickets/mailbox" />
        <p class="muted">Every message that reached the support address, newest first. Bounces are never answered; messages that could not be filed are kept here with their original.</p>
        <ul class="muted" id="mail-intake">
          <li>SMTP listener: {k.config.smtpListen ? `${k.config.smtpListen.host}:${k.config.smtpListen.port}` : 'off (KEYWARD_SMTP_LISTEN)'}</li>
          <li>LMTP listener: {k.config.lmtpListen ? `${k.config.lmtpListen.host}:${k.config.lmtpListen.port}` : 'off (KEYWARD_LMTP_LISTEN)'}</li>
          <li>IMAP polling: {imap ? `${imap.user} at ${imap.host}:${imap.port}, mailbox ${imap.mailbox}, every ${Math.round(imap.pollMs / 1000)} s` : 'off (KEYWARD_IMAP_HOST)'}
            {imap ? (lastPoll ? (lastPoll.status !== 'done' && lastPoll.last_error
              ? <> — <span class="badge bad">last poll failed</span> {lastPoll.last_error.slice(0, 200)}</>
              : <> — last poll {lastPoll.finished_at ? fmtTime(lastPoll.finished_at) : 'running'}</>) : ' — not polled yet') : null}</li>
        </ul>
        <div class="table-wrap"><table>
          <thead><tr><th>Received</th><th>Kind</th><th>What happened</th><th>Ticket</th><th>Size</th><th>Original</th></tr></thead>
          <tbody>{rows.map((r) => {
            const n = r.ticket_id ? numbers.get(r.ticket_id) : undefined;
            return (
              <tr><td>{fmtTime(r.received_at)}</td><td>{r.kind}</td>
                <td><span class={`badge ${r.disposition === 'failed' ? 'bad' : r.disposition.startsWith('bounce') ? 'warn' : 'ok'}`}>{r.disposition.replace('_', ' ')}</span>{r.error ? <span class="muted"> {r.error.slice(0, 80)}</span> : null}</td>
                <td>{n ? <a href={`/admin/tickets/${n}`}>#{n}</a> : '—'}</td><td>{fmtSize(r.size)}</td>
                <td>{r.raw_path ? <a href={`/admin/tickets/mailbox/${r.id}/raw`}>View</a> : <span class="muted">removed</span>}</td></tr>
            );
          })}</tbody>
        </table></div>
      </>
    ));
  });

  app.get('/admin/tickets/mailbox/:id/raw', { preHandler: STAFF, schema: { params: idParams } }, async (request, reply) => {
    const r = await k.db.selectFrom('support_inbound').select(['raw_path']).where('id', '=', (request.params as { id: string }).id).executeTakeFirst();
    const data = r?.raw_path ? readAttachment(k, r.raw_path) : null;
    if (!data) return page(k.settings, request, reply, { title: 'Not found', variant: 'admin', status: 404 }, <div class="card"><p>This original is no longer kept.</p></div>);
    // Shown as plain text, never rendered: it is exactly what a stranger sent.
    return reply.type('text/plain; charset=utf-8').header('content-disposition', 'inline').header('cache-control', 'private, no-store').send(data);
  });

  const settingsPage = async (request: FastifyRequest, reply: FastifyReply, v?: Values, error?: string, saved = false) => {
    const s = await loadSupportSettings(k);
    const val = (name: keyof typeof s) => v?.[name] ?? String(s[name] ?? '');
    return page(k.settings, request, reply, { title: 'Support settings', variant: 'admin', status: error ? 400 : 200, flash: saved ? 'Settings saved.' : null }, (
      <>
        <h1>Support settings</h1>
        <Tabs items={ADMIN_TABS} current="/admin/tickets/settings" />
        <div class="card narrow wide-form">
          {error ? <ErrorSummary errors={{ _form: error }} /> : null}
          <form method="post" action="/admin/tickets/settings">
            <Csrf token={request.csrfToken()} />
            <Field label="Support address" name="address" type="email" value={v?.address ?? ((await k.settings.get<{ address?: string | null }>(SUPPORT_SETTING, {})).address ?? '')} hint={`Mail to this address becomes tickets. Empty: ${await fallbackSupportAddress(k)} (the support address in Settings → Name and branding, if given there).`} />
            <div class="field"><label class="checkbox"><input type="checkbox" name="autoAcknowledge" value="1" checked={v ? v.autoAcknowledge === '1' : s.autoAcknowledge} /> Acknowledge new requests automatically</label></div>
            <Field label="Automatic replies per sender" name="ackLimit" value={val('ackLimit')} inputmode="numeric" hint="At most this many in the window below (RFC 3834 loop protection)." required />
            <Field label="Window for automatic replies (hours)" name="ackWindowHours" value={val('ackWindowHours')} inputmode="numeric" required />
            <Field label="Reopen closed tickets for (days)" name="reopenDays" value={val('reopenDays')} inputmode="numeric" hint="A later reply starts a new ticket." required />
            <Field label="Anonymise closed tickets after (days)" name="retentionDays" value={val('retentionDays')} inputmode="numeric" required />
            <Field label="Largest attachment (MB)" name="attachmentMaxMb" value={val('attachmentMaxMb')} inputmode="numeric" required />
            <Field label="Contact-form requests per IP address per hour" name="contactPerHour" value={val('contactPerHour')} inputmode="numeric" required />
            <Field label="Minimum time to fill in the contact form (seconds)" name="minFillSeconds" value={val('minFillSeconds')} inputmode="numeric" required />
            <button type="submit">Save settings</button>
          </form>
        </div>
      </>
    ));
  };

  const OWNERS = requireStaff('owner', 'admin');
  app.get('/admin/tickets/settings', { preHandler: OWNERS }, async (request, reply) => settingsPage(request, reply));
  app.post('/admin/tickets/settings', {
    preHandler: OWNERS,
    schema: { body: formBody({ address: 300, autoAcknowledge: 5, ackLimit: 10, ackWindowHours: 10, reopenDays: 10, retentionDays: 10, attachmentMaxMb: 10, contactPerHour: 10, minFillSeconds: 10 }) },
  }, async (request, reply) => {
    const v = (request.body ?? {}) as Values;
    try {
      await k.settings.set(SUPPORT_SETTING, parseSupportSettings(v), request.auth!.subjectId);
    } catch (err) {
      if (!(err as { code?: string }).code?.startsWith('SUP_')) throw err;
      return settingsPage(request, reply, v, (err as Error).message);
    }
    await k.audit.record({ actorKind: 'staff', actorId: request.auth!.subjectId, action: 'support.settings.saved', ip: request.ip });
    await onSettingsSaved();
    return settingsPage(request, reply, undefined, undefined, true);
  });
}
