// My account → Password and devices: change the password, see where the account is signed in and which
// devices are remembered, sign any of them out, or sign out everywhere else at once.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kernel } from '../../kernel/context.js';
import { formBody, page } from '../../kernel/http/page.js';
import { Csrf, Field } from '../../kernel/views/layout.js';
import type { AccountsService } from './accounts.service.js';
import { REMEMBER_COOKIE, requireCustomer } from './auth.hooks.js';
import { AccountNav } from './account-nav.js';
import { endAllOthers, endSessionByRef, listRememberTokens, listSessions, revokeRememberByRef, type DeviceRow } from './sessions.js';

const when = (t: number | null) => (t === null ? 'not yet' : `${new Date(t).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' })}, ${new Date(t).toISOString().slice(11, 16)} UTC`);

export function registerSecurityPages(app: FastifyInstance, k: Kernel, accounts: AccountsService): void {
  const rememberCookie = (request: FastifyRequest) => request.cookies[k.cookies.name(REMEMBER_COOKIE)];

  const render = async (request: FastifyRequest, reply: FastifyReply, opts: { flash?: string; pwError?: string; status?: number } = {}) => {
    const auth = request.auth!;
    const now = k.clock.now();
    const [sessions, devices] = await Promise.all([
      listSessions(k.db, 'customer', auth.subjectId, now, auth.sessionIdHash),
      listRememberTokens(k.db, 'customer', auth.subjectId, now, rememberCookie(request)),
    ]);
    const csrf = request.csrfToken();
    const others = sessions.some((s) => !s.current) || devices.some((d) => !d.current);
    return page(k.settings, request, reply, { title: 'Password and devices', flash: opts.flash, status: opts.status ?? (opts.pwError ? 400 : 200) }, (
      <>
        <h1>Password and devices</h1>
        <AccountNav current="/account/security" />
        <div class="grid account-grid">
          <section class="card">
            <h2>Change password</h2>
            <form method="post" action="/account/password">
              <Csrf token={csrf} />
              <Field label="Current password" name="current" type="password" required autocomplete="current-password" />
              <Field label="New password" name="password" type="password" required autocomplete="new-password" hint="At least 10 characters." error={opts.pwError} />
              <button type="submit">Change password</button>
            </form>
            <p class="muted">Changing your password signs out every other device.</p>
          </section>
          <section class="card">
            <h2>Sign out everywhere else</h2>
            <p>If you signed in on a computer that is not yours, or lost a device, sign out all other sessions and forget every other remembered device.</p>
            <form method="post" action="/account/security/sign-out-others">
              <Csrf token={csrf} />
              <button type="submit" class="danger" disabled={!others}>Sign out everywhere else</button>
            </form>
            {others ? null : <p class="muted">You are not signed in anywhere else.</p>}
          </section>
        </div>
        <DeviceTable title="Signed-in sessions" intro="Each time you sign in, a session starts. It ends when you sign out, after a day without use, or after a week." rows={sessions} action="/account/security/sessions/end" button="Sign out" csrf={csrf} lastLabel="Last active" />
        <DeviceTable title="Remembered devices" intro='Devices where you ticked "Remember me" stay signed in for 30 days, even after the browser is closed.' rows={devices} action="/account/security/devices/forget" button="Forget" csrf={csrf} lastLabel="Last used" empty="No device is remembered." />
      </>
    ));
  };

  const refBody = { body: formBody({ ref: 64 }) };

  app.get('/account/security', { preHandler: requireCustomer() }, async (request, reply) => render(request, reply));

  app.post('/account/password', { preHandler: requireCustomer(), schema: { body: formBody({ current: 1024, password: 1024 }) } }, async (request, reply) => {
    const body = request.body as Record<string, string | undefined>;
    try {
      await accounts.changePassword('customer', request.auth!.subjectId, body.current, body.password, request.auth!.sessionIdHash);
    } catch (err) {
      const e = err as { code?: string; message: string };
      if (!e.code?.startsWith('ACC_')) throw err;
      return render(request, reply, { pwError: e.message });
    }
    return render(request, reply, { flash: 'Your password has been changed. Other devices have been signed out.' });
  });

  app.post('/account/security/sessions/end', { preHandler: requireCustomer(), schema: refBody }, async (request, reply) => {
    const ref = (request.body as { ref?: string }).ref ?? '';
    const auth = request.auth!;
    const current = (await listSessions(k.db, 'customer', auth.subjectId, k.clock.now(), auth.sessionIdHash)).find((s) => s.current);
    if (current?.ref === ref) return render(request, reply, { status: 400, flash: 'To end this session, use "Sign out" at the top of the page.' });
    const done = await endSessionByRef(k.db, 'customer', auth.subjectId, ref);
    if (!done) return render(request, reply, { status: 404, flash: 'That session has already ended.' });
    await k.audit.record({ actorKind: 'customer', actorId: auth.subjectId, action: 'customer.session_ended', ip: request.ip });
    return render(request, reply, { flash: 'That session has been signed out.' });
  });

  app.post('/account/security/devices/forget', { preHandler: requireCustomer(), schema: refBody }, async (request, reply) => {
    const ref = (request.body as { ref?: string }).ref ?? '';
    const auth = request.auth!;
    const done = await revokeRememberByRef(k.db, 'customer', auth.subjectId, ref);
    if (!done) return render(request, reply, { status: 404, flash: 'That device is no longer remembered.' });
    await k.audit.record({ actorKind: 'customer', actorId: auth.subjectId, action: 'customer.remembered_device_revoked', ip: request.ip });
    return render(request, reply, { flash: 'That device will no longer be remembered. It is signed out the next time its session ends.' });
  });

  app.post('/account/security/sign-out-others', { preHandler: requireCustomer(), schema: { body: formBody({}) } }, async (request, reply) => {
    const auth = request.auth!;
    await endAllOthers(k.db, 'customer', auth.subjectId, auth.sessionIdHash, rememberCookie(request));
    await k.audit.record({ actorKind: 'customer', actorId: auth.subjectId, action: 'customer.signed_out_elsewhere', ip: request.ip });
    return render(request, reply, { flash: 'You have been signed out everywhere else.' });
  });
}

function DeviceTable(p: { title: string; intro: string; rows: DeviceRow[]; action: string; button: string; csrf: string; lastLabel: string; empty?: string }) {
  return (
    <section class="card">
      <h2>{p.title}</h2>
      <p class="muted">{p.intro}</p>
      {p.rows.length === 0 ? <p>{p.empty}</p> : (
        <div class="table-wrap"><table class="devices stack">
          <thead><tr><th>Device</th><th>Signed in</th><th>{p.lastLabel}</th><th><span class="sr-only">Action</span></th></tr></thead>
          <tbody>{p.rows.map((r) => (
            <tr>
              <td data-label="Device">{r.device ?? 'Unknown browser'}{r.current ? <> <span class="badge ok">This device</span></> : null}</td>
              <td data-label="Signed in">{when(r.createdAt)}</td>
              <td data-label={p.lastLabel}>{when(r.lastUsedAt)}</td>
              <td>{r.current && p.button === 'Sign out' ? null : (
                <form method="post" action={p.action} class="inline">
                  <Csrf token={p.csrf} /><input type="hidden" name="ref" value={r.ref} />
                  <button type="submit" class="secondary small" aria-label={`${p.button}: ${r.device ?? 'unknown browser'}, signed in ${when(r.createdAt)}`}>{p.button}</button>
                </form>
              )}</td>
            </tr>
          ))}</tbody>
        </table></div>
      )}
    </section>
  );
}
