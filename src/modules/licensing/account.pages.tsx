// My account → Licences: the customer's own licences, their machines, key reveal (a POST, audited),
// releasing a machine, and an offline licence file for a computer ID typed in. Works without JavaScript.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Kernel } from '../../kernel/context.js';
import { formBody, page } from '../../kernel/http/page.js';
import { Csrf } from '../../kernel/views/layout.js';
import { AccountNav, requireCustomer } from '../accounts/index.js';
import { selfServiceSettings, type CustomerLicence, type CustomerLicencesService, type CustomerMachine } from './customer-licences.service.js';

const idParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

interface ViewState {
  flash?: string;
  status?: number;
  /** A key the customer asked to see, for one licence. */
  revealed?: { id: string; key: string };
  /** A problem to show inside one licence's card. */
  problem?: { id: string; field: 'release' | 'computer_id'; message: string; value?: string };
}

const day = (t: number | null) => (t === null ? null : new Date(t).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' }));
const when = (t: number | null) => (t === null ? 'never' : `${day(t)}, ${new Date(t).toISOString().slice(11, 16)} UTC`);

const STATUS_BADGE: Record<CustomerLicence['status'], [string, string]> = {
  active: ['ok', 'Active'], expired: ['warn', 'Expired'], suspended: ['bad', 'Suspended'], revoked: ['bad', 'Revoked'],
};
const MACHINE_STATUS: Record<CustomerMachine['status'], string> = {
  active: 'In use', released: 'Released', blocked: 'Blocked', 'over-limit': 'Over the limit',
};

export function registerLicenceAccountPages(app: FastifyInstance, k: Kernel, service: CustomerLicencesService): void {
  const actor = (request: FastifyRequest) => ({ customerId: request.auth!.subjectId, ip: request.ip });

  const render = async (request: FastifyRequest, reply: FastifyReply, state: ViewState = {}) => {
    const [licences, { releasesPerMonth }] = await Promise.all([service.list(request.auth!.subjectId), selfServiceSettings(k.settings)]);
    return page(k.settings, request, reply, { title: 'Your licences', flash: state.flash, status: state.status }, (
      <>
        <h1>Your licences</h1>
        <AccountNav current="/account/licences" />
        {state.problem ? (
          <div class="error-summary" role="alert">
            <p>There is a problem</p>
            <ul><li><a href={state.problem.field === 'computer_id' ? `#f-file-${state.problem.id}` : `#machines-${state.problem.id}`}>{state.problem.message}</a></li></ul>
          </div>
        ) : null}
        {licences.length === 0
          ? <div class="card"><p>You have no licences yet. <a href="/shop">Visit the shop</a>.</p></div>
          : licences.map((l) => <LicenceCard l={l} csrf={request.csrfToken()} limit={releasesPerMonth} state={state} />)}
      </>
    ));
  };

  const notFound = (request: FastifyRequest, reply: FastifyReply) =>
    page(k.settings, request, reply, { title: 'Licence not found', status: 404 }, (
      <div class="card narrow"><h1>Licence not found</h1><p>We could not find that licence in your account.</p><p><a href="/account/licences">Your licences</a></p></div>
    ));

  /** Runs `fn`; a LIC_ error becomes the list page with the message in the licence's card (404s: the not-found page). */
  const guarded = async (request: FastifyRequest, reply: FastifyReply, field: 'release' | 'computer_id', fn: () => Promise<FastifyReply>) => {
    const id = (request.params as { id: string }).id;
    try {
      return await fn();
    } catch (err) {
      const e = err as { code?: string; message: string; statusCode?: number };
      if (e.code === 'LIC_LICENCE_NOT_FOUND') return notFound(request, reply);
      if (!e.code?.startsWith('LIC_')) throw err;
      const value = (request.body as { computer_id?: string } | undefined)?.computer_id;
      const message = e.code === 'LIC_MACHINE_NOT_FOUND' ? 'That computer is not using this licence (it may have been released already).' : e.message;
      return render(request, reply, { status: e.statusCode ?? 400, problem: { id, field, message, value } });
    }
  };

  app.get('/account/licences', { preHandler: requireCustomer() }, async (request, reply) => render(request, reply));

  app.post('/account/licences/:id/key', { preHandler: requireCustomer(), schema: { params: idParams, body: formBody({}) } }, async (request, reply) =>
    guarded(request, reply, 'release', async () => {
      const id = (request.params as { id: string }).id;
      const key = await service.revealKey(id, actor(request));
      return render(request, reply, { revealed: { id, key } });
    }));

  app.post('/account/licences/:id/release', { preHandler: requireCustomer(), schema: { params: idParams, body: formBody({ computer_id: 200 }) } }, async (request, reply) =>
    guarded(request, reply, 'release', async () => {
      const id = (request.params as { id: string }).id;
      const { remaining } = await service.releaseMachine(id, (request.body as { computer_id?: string }).computer_id, actor(request));
      return render(request, reply, {
        flash: `The computer has been released and its seat is free. You can release ${remaining === 0 ? 'no more' : remaining} more from this licence this month.`,
      });
    }));

  app.post('/account/licences/:id/licence-file', { preHandler: requireCustomer(), schema: { params: idParams, body: formBody({ computer_id: 200 }) } }, async (request, reply) =>
    guarded(request, reply, 'computer_id', async () => {
      const id = (request.params as { id: string }).id;
      const file = await service.licenceFile(id, (request.body as { computer_id?: string }).computer_id, actor(request));
      return reply.type('text/plain; charset=utf-8').header('content-disposition', `attachment; filename="${file.fileName}"`)
        .header('cache-control', 'private, no-store').send(file.text);
    }));
}

function LicenceCard({ l, csrf, limit, state }: { l: CustomerLicence; csrf: string; limit: number; state: ViewState }) {
  const [badge, statusText] = STATUS_BADGE[l.status];
  const problem = state.problem?.id === l.id ? state.problem : undefined;
  const revealed = state.revealed?.id === l.id ? state.revealed.key : null;
  const inUse = l.machines.filter((m) => m.status !== 'released');
  const fileId = `f-file-${l.id}`;
  return (
    <section class="card licence" aria-labelledby={`lic-${l.id}`}>
      <h2 id={`lic-${l.id}`}>{l.productName} <span class="mono muted">{l.label}</span> <span class={`badge ${badge}`}>{statusText}</span></h2>
      <dl>
        <dt>Licence key</dt>
        <dd>
          {revealed
            ? <code class="licence-key">{revealed}</code>
            : <form method="post" action={`/account/licences/${l.id}/key`} class="inline"><Csrf token={csrf} /><span class="mono">{l.label}</span> <button type="submit" class="link" aria-label={`Show the key of licence ${l.label}`}>Show key</button></form>}
        </dd>
        <dt>Users</dt><dd>{l.maxUsers === null ? 'Unlimited' : `Up to ${l.maxUsers}`}</dd>
        <dt>Computers</dt><dd>{l.maxMachines === null ? 'Unlimited' : `Up to ${l.maxMachines}`}</dd>
        <dt>Updates and support</dt><dd>{l.maintenanceUntil === null ? 'Not included' : `Until ${day(l.maintenanceUntil)}`}</dd>
        <dt>Licence ends</dt><dd>{l.expiresAt === null ? 'Never (perpetual)' : day(l.expiresAt)}</dd>
        <dt>Add-ons</dt>
        <dd>{l.addons.length === 0 ? 'None' : <ul class="plain">{l.addons.map((a) => <li>{a.name} <span class="muted">({a.until === null ? 'no end' : `until ${day(a.until)}`})</span></li>)}</ul>}</dd>
      </dl>
      <p><a href={`/shop/licence/${l.id}`}>Renew, upgrade or add to this licence</a></p>

      <h3 id={`machines-${l.id}`}>Computers using this licence</h3>
      {problem?.field === 'release' ? <p class="error" role="alert">{problem.message}</p> : null}
      {inUse.length === 0 ? <p class="muted">No computer has used this licence yet.</p> : (
        <div class="table-wrap"><table class="machines stack">
          <thead><tr><th>Computer ID</th><th>Version</th><th class="num">Users in use</th><th>Last seen</th><th>Status</th><th><span class="sr-only">Action</span></th></tr></thead>
          <tbody>{inUse.map((m) => (
            <tr>
              <td data-label="Computer ID"><span class="mono" title={m.computerId}>{m.computerId.slice(0, 12)}…</span></td>
              <td data-label="Version">{m.version ?? '—'}</td>
              <td class="num" data-label="Users in use">{m.usersInUse === null ? '—' : l.maxUsers === null ? m.usersInUse : `${m.usersInUse} of ${l.maxUsers}`}</td>
              <td data-label="Last seen">{when(m.lastSeen)}</td>
              <td data-label="Status">{MACHINE_STATUS[m.status]}</td>
              <td>{m.status === 'blocked' ? null : (
                <form method="post" action={`/account/licences/${l.id}/release`} class="inline">
                  <Csrf token={csrf} /><input type="hidden" name="computer_id" value={m.computerId} />
                  <button type="submit" class="secondary small" aria-label={`Release computer ${m.computerId.slice(0, 12)}`}>Release</button>
                </form>
              )}</td>
            </tr>
          ))}</tbody>
        </table></div>
      )}
      {inUse.length === 0 ? null : <p class="muted">Release a computer you no longer use to free its seat. {limit === 0
        ? 'To release a computer, please contact support.'
        : `You can release ${limit} a month per licence; used this month: ${l.releasesThisMonth}.`}</p>}

      <details class="licence-file" open={problem?.field === 'computer_id' ? true : undefined}>
        <summary>Offline licence file for a computer without internet</summary>
        <form method="post" action={`/account/licences/${l.id}/licence-file`}>
          <Csrf token={csrf} />
          <div class={problem?.field === 'computer_id' ? 'field has-error' : 'field'}>
            <label for={fileId}>Computer ID</label>
            <p class="hint" id={`${fileId}-hint`}>The program shows it on its licence screen: 64 characters, 0–9 and a–f.</p>
            <input id={fileId} name="computer_id" type="text" class="mono" required autoComplete="off" spellcheck={false}
              value={problem?.field === 'computer_id' ? problem.value ?? '' : ''}
              aria-invalid={problem?.field === 'computer_id' ? 'true' : undefined}
              aria-describedby={problem?.field === 'computer_id' ? `${fileId}-hint ${fileId}-error` : `${fileId}-hint`} />
            {problem?.field === 'computer_id' ? <p class="error" id={`${fileId}-error`}>{problem.message}</p> : null}
          </div>
          <button type="submit">Download licence file</button>
        </form>
      </details>
    </section>
  );
}
