import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kernel } from '../../kernel/context.js';
import { formBody, page } from '../../kernel/http/page.js';
import { clearCookie } from '../../kernel/http/cookies.js';
import { Csrf, ErrorSummary, Field } from '../../kernel/views/layout.js';
import { loadBrand } from '../../kernel/views/brand.js';
import { AccountNav, REMEMBER_COOKIE, SESSION_COOKIE, requireCustomer, requireStaff, verifyPassword } from '../accounts/index.js';
import { eraseSubject, subjectAccess, type ErasureResult, type Requester, type SubjectArchive } from './subject-rights.js';
import { hasPublishPermission, publishedTestimonials, saveTestimonial, testimonialOf, testimonialWording, withdrawTestimonialPermission } from './testimonials.js';
import { queueRetentionRun, retentionRunPending, retentionRuns } from './retention.js';
import { PrivacyNotConfirmed, PrivacyNotFound, PrivacyWrongPassword } from './privacy.errors.js';

const fmt = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';

function sendArchive(reply: FastifyReply, archive: SubjectArchive) {
  const day = archive.generatedAt.slice(0, 10);
  return reply.type('application/json; charset=utf-8').header('cache-control', 'no-store')
    .header('content-disposition', `attachment; filename="personal-data-${day}.json"`).send(JSON.stringify(archive, null, 2));
}

function Confirmation({ r, self }: { r: ErasureResult; self: boolean }) {
  return (
    <div class="card">
      <h1>{self ? 'Your account has been closed' : 'Erasure done'}</h1>
      <p>{self ? 'We have erased your personal data' : 'The person\'s data has been erased or anonymised'} as our privacy notice describes, ended every session and put the address on our suppression list so no mailing reaches it again. Reference: <code>{r.requestId}</code>.</p>
      <h2>What we had to keep</h2>
      {r.kept.length ? <ul>{r.kept.map((s) => <li>{s}</li>)}</ul> : <p>Nothing: no record had to be kept for a legal duty.</p>}
      {r.processors.length ? (
        <>
          <h2>{self ? 'Who we are telling' : 'Processors to tell'}</h2>
          <ul>{r.processors.map((p) => <li>{p.name} ({p.method === 'api' ? 'told automatically where connected, otherwise listed for staff' : 'told by staff'})</li>)}</ul>
        </>
      ) : null}
    </div>
  );
}

export function registerRightsPages(app: FastifyInstance, k: Kernel): void {
  // ---- My account → Your data ----
  const accountPage = async (request: FastifyRequest, reply: FastifyReply, opts: { flash?: string; error?: string } = {}) => {
    const c = await k.db.selectFrom('customers').select(['id', 'email', 'name', 'company']).where('id', '=', request.auth!.subjectId).executeTakeFirstOrThrow();
    const mine = await testimonialOf(k.db, c.id);
    const published = mine ? await hasPublishPermission(k.db, c.email) : false;
    const brand = await loadBrand(k.settings);
    return page(k.settings, request, reply, { title: 'Privacy', flash: opts.flash, status: opts.error ? 400 : 200 }, (
      <>
        <h1>Your data</h1>
        <AccountNav current="/account/privacy" />
        {opts.error ? <ErrorSummary errors={{ _form: opts.error }} /> : null}
        <div class="grid">
          <section class="card">
            <h2>Export my data</h2>
            <p>Download everything we hold about you, from every part of our service, as one JSON file. Each item says why we hold it, who else receives it and how long we keep it. See our <a href="/privacy">privacy notice</a>.</p>
            <form method="post" action="/account/privacy/export">
              <Csrf token={request.csrfToken()} />
              <button type="submit">Export my data</button>
            </form>
          </section>
          <section class="card">
            <h2>Your comment about us</h2>
            <p>{published ? 'Your comment is shown on our testimonials page.' : mine ? 'Your comment is not shown: you have not given permission.' : 'Tell others what you think of our software. We show it only with your permission.'}</p>
            <form method="post" action="/account/privacy/testimonial">
              <Csrf token={request.csrfToken()} />
              <Field label="Name to show" name="display_name" required maxLength={100} value={mine?.display_name ?? c.name} />
              <Field label="Company to show" name="company" maxLength={120} value={mine?.company ?? c.company ?? ''} />
              <div class="field"><label for="f-body">Your comment</label>
                <textarea id="f-body" name="body" rows={4} maxLength={2000} required>{mine?.body ?? ''}</textarea></div>
              <div class="field"><label><input type="checkbox" name="publish" value="1" checked={published} /> {testimonialWording(brand.name)}</label></div>
              <button type="submit">Save</button>
            </form>
            {published ? (
              <form method="post" action="/account/privacy/testimonial/withdraw">
                <Csrf token={request.csrfToken()} />
                <button type="submit" class="secondary">Withdraw permission</button>
              </form>
            ) : null}
          </section>
          <section class="card">
            <h2>Close my account</h2>
            <p>Closing your account erases your personal data from every part of our service, signs you out everywhere and stops all email to you. We keep only what the law requires: invoices and order records for six years, and the record of your email consents. Licences you bought keep working but are no longer linked to you. This cannot be undone.</p>
            <form method="post" action="/account/privacy/close">
              <Csrf token={request.csrfToken()} />
              <Field label="Your password" name="password" type="password" required autocomplete="current-password" hint="To make sure it is you. No password yet (account made at checkout)? Set one with Forgot password first, or write to us." />
              <div class="field"><label><input type="checkbox" name="confirm" value="yes" /> I understand that my account and data will be erased.</label></div>
              <button type="submit" class="danger">Close my account</button>
            </form>
          </section>
        </div>
      </>
    ));
  };

  const customer = (request: FastifyRequest): Requester => ({ kind: 'customer', id: request.auth!.subjectId, ip: request.ip });
  const customerEmail = async (request: FastifyRequest) =>
    (await k.db.selectFrom('customers').select('email').where('id', '=', request.auth!.subjectId).executeTakeFirstOrThrow()).email;

  app.get('/account/privacy', { preHandler: requireCustomer() }, async (request, reply) => accountPage(request, reply));

  app.post('/account/privacy/export', { preHandler: requireCustomer(), schema: { body: formBody({}) } }, async (request, reply) =>
    sendArchive(reply, await subjectAccess(k, await customerEmail(request), customer(request))));

  app.post('/account/privacy/testimonial', { preHandler: requireCustomer(), schema: { body: formBody({ display_name: 200, company: 200, body: 4000, publish: 10 }) } }, async (request, reply) => {
    const b = request.body as Record<string, string | undefined>;
    const email = await customerEmail(request);
    try {
      await saveTestimonial(k, { id: request.auth!.subjectId, email }, { displayName: b.display_name ?? '', company: b.company ?? '', body: b.body ?? '' }, b.publish === '1',
        (await loadBrand(k.settings)).name, { ip: request.ip, userAgent: request.headers['user-agent'] ?? null, sourceUrl: '/account/privacy' });
    } catch (err) {
      if ((err as { code?: string }).code !== 'PRIV_COMMENT_INVALID') throw err;
      return accountPage(request, reply, { error: (err as Error).message });
    }
    return accountPage(request, reply, { flash: b.publish === '1' ? 'Saved. Your comment is shown on our testimonials page.' : 'Saved. Your comment is not shown.' });
  });

  app.post('/account/privacy/testimonial/withdraw', { preHandler: requireCustomer(), schema: { body: formBody({}) } }, async (request, reply) => {
    const email = await customerEmail(request);
    await withdrawTestimonialPermission(k, { id: request.auth!.subjectId, email }, (await loadBrand(k.settings)).name, { ip: request.ip, userAgent: request.headers['user-agent'] ?? null, sourceUrl: '/account/privacy' });
    return accountPage(request, reply, { flash: 'Permission withdrawn. Your comment is no longer shown.' });
  });

  app.post('/account/privacy/close', { preHandler: requireCustomer(), schema: { body: formBody({ confirm: 10, password: 1024 }) } }, async (request, reply) => {
    const b = request.body as Record<string, string | undefined>;
    if (b.confirm !== 'yes') return accountPage(request, reply, { error: new PrivacyNotConfirmed().message });
    // A session alone (a borrowed laptop) is not enough to erase an account: the password is asked again.
    const c = await k.db.selectFrom('customers').select('password_hash').where('id', '=', request.auth!.subjectId).executeTakeFirstOrThrow();
    if (!(await verifyPassword(c.password_hash, b.password ?? ''))) {
      await k.audit.record({ actorKind: 'customer', actorId: request.auth!.subjectId, action: 'privacy.close_refused', ip: request.ip });
      return accountPage(request, reply, { error: new PrivacyWrongPassword().message });
    }
    const r = await eraseSubject(k, await customerEmail(request), customer(request));
    clearCookie(reply, k.cookies, SESSION_COOKIE);
    clearCookie(reply, k.cookies, REMEMBER_COOKIE);
    // The session is gone: the confirmation is rendered as a signed-out page.
    request.auth = null;
    return page(k.settings, request, reply, { title: 'Account closed' }, <Confirmation r={r} self />);
  });

  // ---- Public testimonials ----
  app.get('/testimonials', async (request, reply) => {
    const list = await publishedTestimonials(k.db);
    return page(k.settings, request, reply, { title: 'What customers say' }, (
      <>
        <h1>What customers say</h1>
        {list.length === 0 ? <p>No comments yet.</p> : list.map((t) => (
          <blockquote class="card"><p>{t.body}</p><footer>— {t.displayName}{t.company ? `, ${t.company}` : ''}</footer></blockquote>
        ))}
        <p class="muted">Shown with each customer's permission, which they can withdraw at any time.</p>
      </>
    ));
  });

  // ---- Admin: requests, processor notices, retention ----
  const staff = (request: FastifyRequest): Requester => ({ kind: 'staff', id: request.auth!.subjectId, ip: request.ip });
  const adminPage = async (request: FastifyRequest, reply: FastifyReply, opts: { flash?: string; error?: string; email?: string } = {}) => {
    const notices = await k.db.selectFrom('privacy_processor_notices').selectAll().where('status', '=', 'to_do').orderBy('created_at').limit(100).execute();
    const runs = await retentionRuns(k, 10);
    const requests = await k.db.selectFrom('privacy_requests').select(['id', 'kind', 'requested_by_kind', 'created_at']).orderBy('created_at', 'desc').limit(20).execute();
    return page(k.settings, request, reply, { title: 'Privacy', variant: 'admin', flash: opts.flash, status: opts.error ? 400 : 200 }, (
      <>
        <h1>Privacy</h1>
        <p><a href="/admin/privacy/ropa">Record of processing</a> · <a href="/admin/privacy/retention">Retention reports</a> · <a href="/privacy">Privacy notice</a></p>
        {opts.error ? <ErrorSummary errors={{ email: opts.error }} /> : null}
        <div class="grid">
          <form method="post" action="/admin/privacy/export" class="card">
            <h2>Subject access</h2>
            <p>Everything held about an email address, from every module, as one JSON file. The request is logged.</p>
            <Csrf token={request.csrfToken()} />
            <Field label="Email address" name="email" type="email" required value={opts.email} />
            <button type="submit">Download export</button>
          </form>
          <form method="post" action="/admin/privacy/erase" class="card">
            <h2>Erasure</h2>
            <p>Erases or anonymises everything the declarations say, ends sessions, suppresses the address and lists the processors to tell. Invoices and order records are kept for six years.</p>
            <Csrf token={request.csrfToken()} />
            <Field label="Email address" name="email" type="email" required />
            <div class="field"><label><input type="checkbox" name="confirm" value="yes" /> The person asked for erasure and I checked who they are.</label></div>
            <button type="submit" class="danger">Erase</button>
          </form>
        </div>
        <h2>Processors still to tell</h2>
        {notices.length === 0 ? <p>None.</p> : (
          <div class="table-wrap"><table><thead><tr><th>Since</th><th>Processor</th><th>Request</th><th></th></tr></thead><tbody>
            {notices.map((n) => (
              <tr><td>{fmt(n.created_at)}</td><td>{n.processor_id} ({n.method})</td><td><code>{n.request_id}</code></td>
                <td><form method="post" action={`/admin/privacy/notices/${n.id}/done`}><Csrf token={request.csrfToken()} /><button type="submit" class="secondary">Mark done</button></form></td></tr>
            ))}
          </tbody></table></div>
        )}
        <h2>Recent requests</h2>
        <div class="table-wrap"><table><thead><tr><th>When</th><th>Kind</th><th>Asked by</th><th>Reference</th></tr></thead><tbody>
          {requests.map((r) => <tr><td>{fmt(r.created_at)}</td><td>{r.kind}</td><td>{r.requested_by_kind}</td><td><code>{r.id}</code></td></tr>)}
        </tbody></table></div>
        <h2>Last retention run</h2>
        {runs[0] ? <p>{fmt(runs[0].started_at)}: {runs[0].failures ? `${runs[0].failures} rule(s) failed` : 'all rules applied'}. <a href="/admin/privacy/retention">Details</a></p> : <p>Not run yet.</p>}
      </>
    ));
  };

  app.get('/admin/privacy', { preHandler: requireStaff('owner', 'admin') }, async (request, reply) => adminPage(request, reply));

  app.post('/admin/privacy/export', { preHandler: requireStaff('owner', 'admin'), schema: { body: formBody({ email: 320 }) } }, async (request, reply) => {
    const b = request.body as Record<string, string | undefined>;
    try {
      return sendArchive(reply, await subjectAccess(k, b.email ?? '', staff(request)));
    } catch (err) {
      if ((err as { code?: string }).code !== 'PRIV_BAD_EMAIL') throw err;
      return adminPage(request, reply, { error: (err as Error).message, email: b.email });
    }
  });

  app.post('/admin/privacy/erase', { preHandler: requireStaff('owner', 'admin'), schema: { body: formBody({ email: 320, confirm: 10 }) } }, async (request, reply) => {
    const b = request.body as Record<string, string | undefined>;
    if (b.confirm !== 'yes') return adminPage(request, reply, { error: new PrivacyNotConfirmed().message });
    try {
      const r = await eraseSubject(k, b.email ?? '', staff(request));
      return page(k.settings, request, reply, { title: 'Erasure done', variant: 'admin' }, <><Confirmation r={r} self={false} /><p><a href="/admin/privacy">Back to Privacy</a></p></>);
    } catch (err) {
      if ((err as { code?: string }).code !== 'PRIV_BAD_EMAIL') throw err;
      return adminPage(request, reply, { error: (err as Error).message });
    }
  });

  app.post<{ Params: { id: string } }>('/admin/privacy/notices/:id/done', { preHandler: requireStaff('owner', 'admin'), schema: { body: formBody({}) } }, async (request, reply) => {
    const r = await k.db.updateTable('privacy_processor_notices').set({ status: 'done', done_at: k.clock.now() }).where('id', '=', request.params.id).where('status', '=', 'to_do').executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) throw new PrivacyNotFound();
    await k.audit.record({ actorKind: 'staff', actorId: request.auth!.subjectId, action: 'privacy.processor_told', target: request.params.id, ip: request.ip });
    return adminPage(request, reply, { flash: 'Marked as done.' });
  });

  app.get('/admin/privacy/retention', { preHandler: requireStaff('owner', 'admin') }, async (request, reply) => {
    const [runs, pending] = await Promise.all([retentionRuns(k, 30), retentionRunPending(k)]);
    // Without script (the CSP allows none): the browser reloads while the run is queued or running.
    if (pending) reply.header('refresh', '5');
    return page(k.settings, request, reply, { title: 'Retention reports', variant: 'admin' }, (
      <>
        <p><a href="/admin/privacy">Privacy</a></p>
        <h1>Retention reports</h1>
        <p>The retention job runs daily and applies every rule below; each run is reported here (kept a year).</p>
        {pending
          ? <p class="card" role="status">A run is queued or running: this page reloads until its report appears below.</p>
          : <form method="post" action="/admin/privacy/retention/run"><Csrf token={request.csrfToken()} /><button type="submit">Run now</button></form>}
        {runs.length === 0 ? <p>Not run yet.</p> : runs.map((r) => (
          <section class="card">
            <h2>{fmt(r.started_at)}{r.failures ? ` — ${r.failures} failed` : ''}</h2>
            <div class="table-wrap"><table><thead><tr><th>Rule</th><th>What it does</th><th>Result</th></tr></thead><tbody>
              {r.report.map((x) => <tr><td><code>{x.rule}</code></td><td>{x.description}</td>
                <td>{x.error ? <strong>failed: {x.error}</strong> : Object.entries(x.result ?? {}).map(([key, v]) => `${key}: ${v}`).join(', ')}</td></tr>)}
            </tbody></table></div>
          </section>
        ))}
      </>
    ));
  });

  // Queued for the job worker: the rules may take long on a big database, and a web request is no place to wait.
  app.post('/admin/privacy/retention/run', { preHandler: requireStaff('owner', 'admin'), schema: { body: formBody({}) } }, async (request, reply) => {
    if (await queueRetentionRun(k)) await k.audit.record({ actorKind: 'staff', actorId: request.auth!.subjectId, action: 'privacy.retention_run', ip: request.ip });
    return reply.redirect('/admin/privacy/retention', 303);
  });
}
