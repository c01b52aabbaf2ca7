// Search, customers and licences (with their machines) in the back office. Reading is for every role the
// access table allows; releasing a machine and revealing a key are changes, audited with who and when.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Kernel } from '../../kernel/context.js';
import { formBody, page } from '../../kernel/http/page.js';
import { Csrf } from '../../kernel/views/layout.js';
import { requireStaff, type StaffRole } from '../accounts/index.js';
import { typedComputerId, type LicensingModule } from '../licensing/index.js';
import { allows } from './access.js';
import { search } from './search.js';

const fmt = (t: number | string | null) => (t ? new Date(typeof t === 'string' ? t : Number(t)).toISOString().slice(0, 16).replace('T', ' ') + ' UTC' : '—');
const idParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const STAFF = requireStaff();

export function SearchForm({ q }: { q: string }) {
  return (
    <form method="get" action="/admin/search" class="search-row" role="search">
      <label for="admin-q" class="visually-hidden">Search again</label>
      <input id="admin-q" name="q" type="search" value={q} maxLength={200} placeholder="Email, order reference, invoice or ticket number, licence key or id, computer ID" />
      <button type="submit">Search</button>
    </form>
  );
}

export function registerRecordPages(app: FastifyInstance, k: Kernel, licensing: LicensingModule): void {
  const notFound = (request: FastifyRequest, reply: FastifyReply, what: string) =>
    page(k.settings, request, reply, { title: 'Not found', variant: 'admin', status: 404 }, <div class="card"><h1>Not found</h1><p>No such {what}.</p></div>);
  const keyToId = async (key: string) => { try { return await licensing.licences.licenceId(key); } catch { return null; } };

  app.get('/admin/search', { preHandler: STAFF, schema: { querystring: Type.Object({ q: Type.Optional(Type.String({ maxLength: 200 })) }) } }, async (request, reply) => {
    const q = (request.query as { q?: string }).q ?? '';
    const hits = await search(k, q, request.auth!.role as StaffRole, keyToId);
    return page(k.settings, request, reply, { title: 'Search', variant: 'admin' }, (
      <>
        <h1>Search</h1>
        <SearchForm q={q} />
        {q.trim().length > 0 && q.trim().length < 2 ? <p class="error">Type at least two characters.</p> : null}
        {q.trim().length >= 2 ? (hits.length ? (
          <div class="table-wrap"><table>
            <thead><tr><th>Kind</th><th>Record</th><th>Details</th></tr></thead>
            <tbody>{hits.map((h) => <tr><td>{h.kind}</td><td><a href={h.href}>{h.label}</a></td><td>{h.detail}</td></tr>)}</tbody>
          </table></div>
        ) : <p>Nothing found for “{q}”. Licence keys are stored hashed: search by the whole key, the licence id or the customer's email.</p>) : null}
      </>
    ));
  });

  app.get('/admin/customers', { preHandler: STAFF }, async (request, reply) => {
    const rows = await k.db.selectFrom('customers').select(['id', 'email', 'name', 'company', 'created_at', 'closed_at']).orderBy('created_at', 'desc').limit(50).execute();
    return page(k.settings, request, reply, { title: 'Customers', variant: 'admin' }, (
      <>
        <h1>Customers</h1>
        <p class="muted">The 50 newest; use the search box for the others.</p>
        <div class="table-wrap"><table>
          <thead><tr><th>Name</th><th>Email</th><th>Company</th><th>Since</th></tr></thead>
          <tbody>{rows.map((r) => <tr><td><a href={`/admin/customers/${r.id}`}>{r.name}</a>{r.closed_at ? <span class="badge">closed</span> : null}</td><td>{r.email}</td><td>{r.company ?? ''}</td><td>{fmt(r.created_at)}</td></tr>)}</tbody>
        </table></div>
      </>
    ));
  });

  app.get('/admin/customers/:id', { preHandler: STAFF, schema: { params: idParams } }, async (request, reply) => {
    const id = (request.params as { id: string }).id;
    const c = await k.db.selectFrom('customers').select(['id', 'email', 'name', 'company', 'country', 'vat_number', 'created_at', 'last_login_at', 'closed_at']).where('id', '=', id).executeTakeFirst();
    if (!c) return notFound(request, reply, 'customer');
    const role = request.auth!.role as StaffRole;
    const [licences, orders, invoices] = await Promise.all([
      k.db.selectFrom('licences as l').innerJoin('products as p', 'p.id', 'l.product_id').select(['l.id', 'p.code', 'l.status', 'l.maintenance_until']).where('l.customer_id', '=', id).execute(),
      allows(role, 'GET', '/admin/orders') ? k.db.selectFrom('orders').select(['id', 'reference', 'status', 'created_at']).where('customer_id', '=', id).orderBy('created_at', 'desc').limit(50).execute() : Promise.resolve([]),
      allows(role, 'GET', '/admin/invoices') ? k.db.selectFrom('invoices').select(['id', 'number', 'kind', 'issue_date', 'currency', 'total_gross']).where('customer_id', '=', id).orderBy('issue_date', 'desc').limit(50).execute() : Promise.resolve([]),
    ]);
    return page(k.settings, request, reply, { title: c.name, variant: 'admin' }, (
      <>
        <h1>{c.name}</h1>
        <div class="card">
          <p>{c.email}{c.company ? ` · ${c.company}` : ''}{c.country ? ` · ${c.country}` : ''}{c.vat_number ? ` · VAT ${c.vat_number}` : ''}</p>
          <p class="muted">Customer since {fmt(c.created_at)} · last sign-in {fmt(c.last_login_at)}{c.closed_at ? ` · closed ${fmt(c.closed_at)}` : ''}</p>
        </div>
        <section class="card"><h2>Licences</h2>
          {licences.length ? <ul>{licences.map((l) => <li><a href={`/admin/licences/${l.id}`}>{l.code} {l.id.slice(0, 8)}</a> · {l.status} · maintenance until {fmt(l.maintenance_until)}</li>)}</ul> : <p>None.</p>}
        </section>
        {allows(role, 'GET', '/admin/orders') ? <section class="card"><h2>Orders</h2>
          {orders.length ? <ul>{orders.map((o) => <li><a href={`/admin/orders/${o.id}`}>{o.reference}</a> · {o.status} · {fmt(o.created_at)}</li>)}</ul> : <p>None.</p>}
        </section> : null}
        {allows(role, 'GET', '/admin/invoices') ? <section class="card"><h2>Invoices and credit notes</h2>
          {invoices.length ? <ul>{invoices.map((d) => <li><a href={`/admin/invoices/${d.id}/pdf`}>{d.kind === 'credit_note' ? 'Credit note' : 'Invoice'} {d.number}</a> · {fmt(d.issue_date)} · {(Number(d.total_gross) / 100).toFixed(2)} {d.currency}</li>)}</ul> : <p>None.</p>}
        </section> : null}
      </>
    ));
  });

  app.get('/admin/licences', { preHandler: STAFF }, async (request, reply) => {
    const rows = await k.db.selectFrom('licences as l').innerJoin('products as p', 'p.id', 'l.product_id')
      .select(['l.id', 'p.code', 'l.status', 'l.customer_email', 'l.max_users', 'l.maintenance_until', 'l.created_at']).orderBy('l.created_at', 'desc').limit(50).execute();
    return page(k.settings, request, reply, { title: 'Licences', variant: 'admin' }, (
      <>
        <h1>Licences</h1>
        <p class="muted">The 50 newest; use the search box for the others.</p>
        <div class="table-wrap"><table>
          <thead><tr><th>Licence</th><th>Product</th><th>Status</th><th>Users</th><th>Maintenance until</th><th>Customer</th></tr></thead>
          <tbody>{rows.map((r) => <tr><td><a class="mono" href={`/admin/licences/${r.id}`}>{r.id.slice(0, 8)}</a></td><td>{r.code}</td><td>{r.status}</td><td class="num">{r.max_users ?? '∞'}</td><td>{fmt(r.maintenance_until)}</td><td>{r.customer_email ?? ''}</td></tr>)}</tbody>
        </table></div>
      </>
    ));
  });

  /** The licence with this id, or null when there is none (the page answers 404). */
  const licenceView = async (id: string) =>
    (await k.db.selectFrom('licences').select('id').where('id', '=', id).executeTakeFirst()) ? licensing.licences.view(id) : null;

  const licencePage = async (request: FastifyRequest, reply: FastifyReply, id: string, opts: { reveal?: boolean; flash?: string; status?: number; fileProblem?: { message: string; value: string } } = {}) => {
    const v = await licenceView(id);
    if (!v) return notFound(request, reply, 'licence');
    const full = await licensing.licences.getLicence(v.key);
    const role = request.auth!.role as StaffRole;
    const canRelease = allows(role, 'POST', `/admin/licences/${id}/release`);
    const canIssueFile = allows(role, 'POST', `/admin/licences/${id}/licence-file`);
    const problem = opts.fileProblem;
    const signals = await licensing.abuse.forLicence(id);
    return page(k.settings, request, reply, { title: `Licence ${id.slice(0, 8)}`, variant: 'admin', flash: opts.flash, status: opts.status ?? 200 }, (
      <>
        <h1>Licence {id.slice(0, 8)} <span class={`badge ${v.status === 'active' ? 'ok' : 'warn'}`}>{v.status}</span></h1>
        <div class="card">
          <dl class="facts">
            <dt>Product</dt><dd>{v.product}</dd>
            <dt>Key</dt><dd class="mono">{opts.reveal ? v.key : `•••••-${v.key.slice(-5)}`}
              {opts.reveal ? null : <form method="post" action={`/admin/licences/${id}/reveal`} class="inline"> <Csrf token={request.csrfToken()} /><button class="link" type="submit">Reveal (recorded in the audit log)</button></form>}</dd>
            <dt>Users</dt><dd>{v.maxUsers ?? 'unlimited'}</dd>
            <dt>Computers</dt><dd>{v.maxMachines ?? 'unlimited'}</dd>
            <dt>Expires</dt><dd>{fmt(v.expiresAt)}</dd>
            <dt>Maintenance until</dt><dd>{fmt(v.maintenanceUntil)}</dd>
            <dt>Add-ons</dt><dd>{v.addons.length ? v.addons.map((a) => `${a.code} (until ${fmt(a.until)})`).join(', ') : 'none'}</dd>
            <dt>Customer</dt><dd>{v.customerEmail ?? '—'}</dd>
          </dl>
          {signals?.reasons.length ? <p class="error">Looks shared: {signals.reasons.join('; ')}.</p> : null}
        </div>
        <section class="card" id="machines"><h2>Machines</h2>
          {full.machines.length ? <div class="table-wrap"><table>
            <thead><tr><th>Computer ID</th><th>Status</th><th>Version</th><th class="num">Users</th><th>Last seen</th>{canRelease ? <th><span class="visually-hidden">Action</span></th> : null}</tr></thead>
            <tbody>{full.machines.map((m) => (
              <tr><td class="mono">{m.computerId.slice(0, 16)}…</td><td>{m.status}</td><td>{m.lastVersion ?? ''}</td><td class="num">{m.lastUsersInUse ?? ''}</td><td>{fmt(m.lastSeen)}</td>
                {canRelease ? <td>
                  {m.status === 'active' || m.status === 'over-limit' || m.status === 'blocked' ? (
                    <form method="post" action={`/admin/licences/${id}/release`} class="inline"><Csrf token={request.csrfToken()} />
                      <input type="hidden" name="computer_id" value={m.computerId} /><button class="secondary" type="submit">{m.status === 'blocked' ? 'Unblock (release)' : 'Release'}</button></form>
                  ) : null}
                  {m.status !== 'blocked' ? (
                    <form method="post" action={`/admin/licences/${id}/block`} class="inline"><Csrf token={request.csrfToken()} />
                      <input type="hidden" name="computer_id" value={m.computerId} /><button class="danger" type="submit">Block</button></form>
                  ) : null}
                </td> : null}</tr>
            ))}</tbody>
          </table></div> : <p>No machine has called with this licence yet.</p>}
        </section>
        {canIssueFile ? (
          <section class="card" id="licence-file"><h2>Offline licence file</h2>
            <p class="muted">For a site without internet: the customer reads the computer ID off the program's licence screen. The file takes a seat like a call home and is recorded in the audit log.</p>
            <form method="post" action={`/admin/licences/${id}/licence-file`}>
              <Csrf token={request.csrfToken()} />
              <div class={problem ? 'field has-error' : 'field'}>
                <label for="f-computer-id">Computer ID</label>
                <p class="hint" id="f-computer-id-hint">64 characters, 0–9 and a–f.</p>
                <input id="f-computer-id" name="computer_id" type="text" class="mono" required autoComplete="off" spellcheck={false}
                  value={problem?.value ?? ''} aria-invalid={problem ? 'true' : undefined}
                  aria-describedby={problem ? 'f-computer-id-hint f-computer-id-error' : 'f-computer-id-hint'} />
                {problem ? <p class="error" id="f-computer-id-error">{problem.message}</p> : null}
              </div>
              <button type="submit">Download licence file</button>
            </form>
          </section>
        ) : null}
      </>
    ));
  };

  app.get('/admin/licences/:id', { preHandler: STAFF, schema: { params: idParams } }, async (request, reply) => licencePage(request, reply, (request.params as { id: string }).id));

  app.post('/admin/licences/:id/reveal', { preHandler: STAFF, schema: { params: idParams, body: formBody({}) } }, async (request, reply) => {
    const id = (request.params as { id: string }).id;
    if (!(await k.db.selectFrom('licences').select('id').where('id', '=', id).executeTakeFirst())) return notFound(request, reply, 'licence');
    await k.audit.record({ actorKind: 'staff', actorId: request.auth!.subjectId, action: 'admin.licence_key_revealed', target: id, ip: request.ip });
    return licencePage(request, reply, id, { reveal: true });
  });

  // The admin API's POST /api/v1/admin/licences/{key}/licence-file, as a form for staff.
  app.post('/admin/licences/:id/licence-file', { preHandler: STAFF, schema: { params: idParams, body: formBody({ computer_id: 200 }) } }, async (request, reply) => {
    const id = (request.params as { id: string }).id;
    const typed = ((request.body as { computer_id?: string }).computer_id ?? '').trim();
    const v = await licenceView(id);
    if (!v) return notFound(request, reply, 'licence');
    const computerId = typedComputerId(typed);
    if (computerId === null) {
      return licencePage(request, reply, id, { status: 400, fileProblem: { message: 'A computer ID is 64 characters, 0–9 and a–f. Copy it from the program\'s licence screen.', value: typed } });
    }
    try {
      const file = await licensing.licences.issueLicenceFile(v.key, computerId, { kind: 'staff', id: request.auth!.subjectId, ip: request.ip });
      return reply.type('text/plain; charset=utf-8')
        .header('content-disposition', `attachment; filename="licence-${v.key.slice(-5)}-${computerId.slice(0, 8)}.lic"`)
        .header('cache-control', 'private, no-store').send(file.text);
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 409) throw err;
      return licencePage(request, reply, id, { status: 409, fileProblem: { message: `No file: ${(err as Error).message}`, value: typed } });
    }
  });

  // Blocking: the computer's calls are refused (MACHINE_BLOCKED) and its seat is free; releasing undoes it.
  app.post('/admin/licences/:id/block', { preHandler: STAFF, schema: { params: idParams, body: formBody({ computer_id: 200 }) } }, async (request, reply) => {
    const id = (request.params as { id: string }).id;
    const v = await licenceView(id);
    if (!v) return notFound(request, reply, 'licence');
    const computerId = typedComputerId((request.body as { computer_id?: string }).computer_id ?? '');
    if (computerId === null) return licencePage(request, reply, id, { flash: 'A computer ID is 64 characters, 0–9 and a–f.', status: 400 });
    await licensing.licences.blockMachine(v.key, computerId, { kind: 'staff', id: request.auth!.subjectId, ip: request.ip });
    return licencePage(request, reply, id, { flash: 'Machine blocked: its calls are refused and its seat is free. Release it to undo.' });
  });

  app.post('/admin/licences/:id/release', { preHandler: STAFF, schema: { params: idParams, body: formBody({ computer_id: 64 }) } }, async (request, reply) => {
    const id = (request.params as { id: string }).id;
    const computerId = ((request.body as { computer_id?: string }).computer_id ?? '').trim();
    const v = await licenceView(id);
    if (!v) return notFound(request, reply, 'licence');
    try {
      await licensing.licences.releaseMachine(v.key, computerId, { kind: 'staff', id: request.auth!.subjectId, ip: request.ip });
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404 || (err as { statusCode?: number }).statusCode === 400) {
        return licencePage(request, reply, id, { flash: 'That computer ID is not a machine of this licence.', status: 400 });
      }
      throw err;
    }
    return licencePage(request, reply, id, { flash: 'Machine released: its seat is free.' });
  });
}
