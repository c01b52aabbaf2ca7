import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Kernel } from '../../kernel/context.js';
import { formBody, page, safeNext } from '../../kernel/http/page.js';
import { clearCookie } from '../../kernel/http/cookies.js';
import { Csrf, ErrorSummary, Field } from '../../kernel/views/layout.js';
import type { SubjectKind } from './accounts.tables.js';
import type { AccountsService } from './accounts.service.js';
import type { StaffService } from './staff.service.js';
import { endSession, revokeRememberToken } from './sessions.js';
import { REMEMBER_COOKIE, SESSION_COOKIE, startSession } from './auth.hooks.js';

/** Sign-in, sign-out, forgotten and reset password: one set of pages for customers (/account) and staff (/admin). */
export const loginRate = (k: Kernel) => ({ max: k.config.loginRatePerMinute, timeWindow: 60_000 });

const TOTP_PENDING_MS = 5 * 60_000;

export function registerAuthPages(app: FastifyInstance, k: Kernel, accounts: AccountsService, staff: StaffService, kind: SubjectKind): void {
  const base = kind === 'customer' ? '/account' : '/admin';
  const who = kind === 'customer' ? 'your account' : 'the back office';
  const variant = kind === 'staff' ? 'admin' : 'public';

  const loginForm = (request: FastifyRequest, reply: FastifyReply, o: { email?: string; error?: string; next?: string; status?: number }) =>
    page(k.settings, request, reply, { title: 'Sign in', variant, status: o.status }, (
      <div class="card narrow">
        <h1>Sign in to {who}</h1>
        {o.error ? <ErrorSummary errors={{ _form: o.error }} /> : null}
        <form method="post" action={`${base}/login`} novalidate>
          <Csrf token={request.csrfToken()} />
          <input type="hidden" name="next" value={o.next ?? ''} />
          <Field label="Email address" name="email" type="email" value={o.email} required autocomplete="username" />
          <Field label="Password" name="password" type="password" required autocomplete="current-password" />
          <div class="field"><label class="checkbox"><input type="checkbox" name="remember" value="1" /> Remember me on this device for 30 days</label></div>
          <button type="submit">Sign in</button>
        </form>
        <p><a href={`${base}/password/forgot`}>Forgotten your password?</a></p>
        {kind === 'customer' ? <p>New here? <a href="/account/register">Create an account</a></p> : null}
      </div>
    ));

  app.get(`${base}/login`, { schema: { querystring: Type.Object({ next: Type.Optional(Type.String({ maxLength: 500 })) }) } }, async (request, reply) => {
    const next = (request.query as { next?: string }).next;
    if (request.auth?.kind === kind) return reply.redirect(safeNext(next, base), 303);
    return loginForm(request, reply, { next });
  });

  app.post(`${base}/login`, {
    schema: { body: formBody({ email: 300, password: 1024, remember: 10, next: 500 }) },
    config: { csrf: 'signin', rateLimit: loginRate(k) },
  }, async (request, reply) => {
    const body = request.body as Record<string, string | undefined>;
    try {
      const r = await accounts.login(kind, body.email, body.password, request.ip);
      if (r.totpRequired) {
        const exp = k.clock.now() + TOTP_PENDING_MS;
        const pending = `${r.subjectId}.${exp}.${body.remember === '1' ? 1 : 0}`;
        return totpForm(request, reply, `${pending}.${k.secrets.hmacB64('totp-pending', pending)}`, body.next);
      }
      await startSession(k, reply, kind, r.subjectId, body.remember === '1');
      return reply.redirect(safeNext(body.next, base), 303);
    } catch (err) {
      const e = err as { code?: string; message: string; statusCode?: number };
      if (!e.code?.startsWith('ACC_')) throw err;
      return loginForm(request, reply, { email: body.email, error: e.message, next: body.next, status: e.statusCode ?? 400 });
    }
  });

  const totpForm = (request: FastifyRequest, reply: FastifyReply, pending: string, next?: string, error?: string) =>
    page(k.settings, request, reply, { title: 'Two-factor code', variant, status: error ? 401 : 200 }, (
      <div class="card narrow">
        <h1>Enter your code</h1>
        {error ? <ErrorSummary errors={{ code: error }} /> : null}
        <form method="post" action={`${base}/login/totp`}>
          <Csrf token={request.csrfToken()} />
          <input type="hidden" name="pending" value={pending} />
          <input type="hidden" name="next" value={next ?? ''} />
          <Field label="6-digit code from your authenticator app" name="code" inputmode="numeric" autocomplete="one-time-code" required maxLength={7} />
          <button type="submit">Verify</button>
        </form>
      </div>
    ));

  if (kind === 'staff') {
    app.post(`${base}/login/totp`, {
      schema: { body: formBody({ pending: 300, code: 20, next: 500 }) },
      config: { csrf: 'signin', rateLimit: loginRate(k) },
    }, async (request, reply) => {
      const body = request.body as Record<string, string | undefined>;
      const [id, exp, remember, mac] = (body.pending ?? '').split('.');
      const pendingOk = id && exp && remember && mac && k.secrets.hmacB64('totp-pending', `${id}.${exp}.${remember}`) === mac && Number(exp) > k.clock.now();
      if (!pendingOk) return loginForm(request, reply, { error: 'Your sign-in took too long. Please sign in again.', status: 400 });
      try {
        await staff.verifyTotp(id!, body.code);
      } catch (err) {
        return totpForm(request, reply, body.pending!, body.next, (err as Error).message);
      }
      await accounts.recordLogin('staff', id!, request.ip);
      await startSession(k, reply, 'staff', id!, remember === '1');
      return reply.redirect(safeNext(body.next, base), 303);
    });
  }

  app.post(`${base}/logout`, { schema: { body: formBody({}) } }, async (request, reply) => {
    if (request.auth) {
      await endSession(k.db, request.auth.sessionIdHash);
      await k.audit.record({ actorKind: request.auth.kind, actorId: request.auth.subjectId, action: `${request.auth.kind}.logout`, ip: request.ip });
    }
    const remember = request.cookies[k.cookies.name(REMEMBER_COOKIE)];
    if (remember) await revokeRememberToken(k.db, remember);
    clearCookie(reply, k.cookies, SESSION_COOKIE);
    clearCookie(reply, k.cookies, REMEMBER_COOKIE);
    return reply.redirect(kind === 'customer' ? '/' : '/admin/login', 303);
  });

  const forgotForm = (request: FastifyRequest, reply: FastifyReply, sent: boolean) =>
    page(k.settings, request, reply, { title: 'Forgotten password', variant }, (
      <div class="card narrow">
        <h1>Forgotten your password?</h1>
        {sent
          ? <p role="status">If an account uses that address, we have sent it a link to choose a new password. The link works for 30 minutes.</p>
          : (
            <form method="post" action={`${base}/password/forgot`}>
              <Csrf token={request.csrfToken()} />
              <Field label="Email address" name="email" type="email" required autocomplete="email" />
              <button type="submit">Send me a reset link</button>
            </form>
          )}
      </div>
    ));

  app.get(`${base}/password/forgot`, async (request, reply) => forgotForm(request, reply, false));
  app.post(`${base}/password/forgot`, {
    schema: { body: formBody({ email: 300 }) }, config: { csrf: 'signin', rateLimit: loginRate(k) },
  }, async (request, reply) => {
    await accounts.requestPasswordReset(kind, (request.body as { email?: string }).email);
    return forgotForm(request, reply, true);
  });

  const resetForm = (request: FastifyRequest, reply: FastifyReply, token: string, error?: string, status = 200) =>
    page(k.settings, request, reply, { title: 'Choose a new password', variant, status }, (
      <div class="card narrow">
        <h1>Choose a new password</h1>
        {error ? <ErrorSummary errors={{ password: error }} /> : null}
        <form method="post" action={`${base}/password/reset/${token}`}>
          <Csrf token={request.csrfToken()} />
          <Field label="New password" name="password" type="password" required autocomplete="new-password" hint="At least 10 characters." error={error} />
          <button type="submit">Save password</button>
        </form>
      </div>
    ));

  const linkExpired = (request: FastifyRequest, reply: FastifyReply) =>
    page(k.settings, request, reply, { title: 'Link expired', variant, status: 400 }, (
      <div class="card narrow">
        <h1>This link has expired</h1>
        <p>It has already been used, or its time ran out. Your password is unchanged.</p>
        <p><a class="button" href={`${base}/password/forgot`}>Ask for a new link</a></p>
      </div>
    ));

  const tokenParams = { params: Type.Object({ token: Type.String({ maxLength: 100 }) }) };
  app.get(`${base}/password/reset/:token`, { schema: tokenParams }, async (request, reply) => {
    const { token } = request.params as { token: string };
    return (await accounts.resetLinkUsable(kind, token)) ? resetForm(request, reply, token) : linkExpired(request, reply);
  });
  app.post(`${base}/password/reset/:token`, {
    schema: { ...tokenParams, body: formBody({ password: 1024 }) }, config: { csrf: 'signin', rateLimit: loginRate(k) },
  }, async (request, reply) => {
    const { token } = request.params as { token: string };
    try {
      await accounts.resetPassword(kind, token, (request.body as { password?: string }).password);
    } catch (err) {
      const e = err as { code?: string; message: string };
      if (!e.code?.startsWith('ACC_')) throw err;
      if (e.code === 'ACC_INVALID_TOKEN') return linkExpired(request, reply);
      return resetForm(request, reply, token, e.message, 400);
    }
    return page(k.settings, request, reply, { title: 'Password changed', variant }, (
      <div class="card narrow"><h1>Password changed</h1><p>Your password has been changed and every other session signed out.</p><p><a class="button" href={`${base}/login`}>Sign in</a></p></div>
    ));
  });
}
