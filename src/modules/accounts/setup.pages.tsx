import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Kernel } from '../../kernel/context.js';
import { formBody, page } from '../../kernel/http/page.js';
import { Csrf, ErrorSummary, Field } from '../../kernel/views/layout.js';
import type { StaffService } from './staff.service.js';
import { startSession } from './auth.hooks.js';
import { requireStaff } from './auth.hooks.js';

/** The first-run page (create the owner from the one-time link) and the staff security page (TOTP, API keys). */
export function registerSetupPages(app: FastifyInstance, k: Kernel, staff: StaffService, afterSetup: (opts: { demo: boolean }) => Promise<void>): void {
  const params = { params: Type.Object({ token: Type.String({ maxLength: 100 }) }) };
  const form = (request: FastifyRequest, reply: FastifyReply, token: string, v: Record<string, string | undefined> = {}, error?: string) =>
    page(k.settings, request, reply, { title: 'Set up Keyward', variant: 'admin', status: error ? 400 : 200 }, (
      <div class="card narrow">
        <h1>Welcome to Keyward</h1>
        <p>Create the owner account. You can invite the rest of your team afterwards, in Settings → Team.</p>
        {error ? <ErrorSummary errors={{ _form: error }} /> : null}
        <form method="post" action={`/setup/${token}`} novalidate>
          <Csrf token={request.csrfToken()} />
          <Field label="Your name" name="name" value={v.name} required autocomplete="name" />
          <Field label="Email address" name="email" type="email" value={v.email} required autocomplete="username" />
          <Field label="Password" name="password" type="password" required autocomplete="new-password" hint="At least 10 characters." />
          <div class="field"><label class="checkbox"><input type="checkbox" name="demo" value="1" /> Load the demo catalogue (products, tiers and prices you can edit or delete)</label></div>
          <button type="submit">Create owner account</button>
        </form>
      </div>
    ));

  const invalid = (request: FastifyRequest, reply: FastifyReply, message: string) =>
    page(k.settings, request, reply, { title: 'Set-up link', variant: 'admin', status: 400 }, (
      <div class="card narrow"><h1>This set-up link cannot be used</h1><p>{message}</p><p>Restart Keyward to print a new link, or <a href="/admin/login">sign in</a>.</p></div>
    ));

  app.get('/setup/:token', { schema: params }, async (request, reply) => {
    const { token } = request.params as { token: string };
    try { await staff.checkSetupToken(token); } catch (err) { return invalid(request, reply, (err as Error).message); }
    return form(request, reply, token);
  });

  app.post('/setup/:token', { schema: { ...params, body: formBody({ name: 300, email: 300, password: 1024, demo: 10 }) }, config: { csrf: 'signin' } }, async (request, reply) => {
    const { token } = request.params as { token: string };
    const body = request.body as Record<string, string | undefined>;
    let id: string;
    try {
      id = await staff.completeSetup(token, body);
    } catch (err) {
      const e = err as { code?: string; message: string };
      if (!e.code?.startsWith('ACC_')) throw err;
      return e.code === 'ACC_INVALID_TOKEN' ? invalid(request, reply, e.message) : form(request, reply, token, body, e.message);
    }
    await afterSetup({ demo: body.demo === '1' });
    await startSession(k, reply, 'staff', id, false);
    return reply.redirect('/admin', 303);
  });

  app.get('/admin/security', { preHandler: requireStaff() }, async (request, reply) => {
    const me = await k.db.selectFrom('staff').select(['totp_enabled']).where('id', '=', request.auth!.subjectId).executeTakeFirstOrThrow();
    return page(k.settings, request, reply, { title: 'Security', variant: 'admin' }, (
      <div class="card narrow">
        <h1>Two-factor sign-in</h1>
        {me.totp_enabled
          ? <p><span class="badge ok">On</span> Your account asks for a code from your authenticator app at sign-in.</p>
          : (
            <form method="post" action="/admin/security/totp">
              <Csrf token={request.csrfToken()} />
              <p>Protect your account with a code from an authenticator app.</p>
              <button type="submit">Set up two-factor sign-in</button>
            </form>
          )}
      </div>
    ));
  });

  app.post('/admin/security/totp', { preHandler: requireStaff(), schema: { body: formBody({}) } }, async (request, reply) => {
    const { secret, uri } = await staff.beginTotp(request.auth!.subjectId);
    return totpConfirm(request, reply, secret, uri);
  });

  const totpConfirm = (request: FastifyRequest, reply: FastifyReply, secret: string, uri: string, error?: string) =>
    page(k.settings, request, reply, { title: 'Set up two-factor', variant: 'admin', status: error ? 400 : 200 }, (
      <div class="card narrow">
        <h1>Add Keyward to your authenticator app</h1>
        <p>Enter this key in your app (or open the link on your phone):</p>
        <p><code class="mono">{secret.replace(/(.{4})/g, '$1 ').trim()}</code></p>
        <p><a href={uri}>Open in authenticator app</a></p>
        <form method="post" action="/admin/security/totp/confirm">
          <Csrf token={request.csrfToken()} />
          <input type="hidden" name="secret" value={secret} />
          <input type="hidden" name="uri" value={uri} />
          <Field label="The 6-digit code it shows" name="code" inputmode="numeric" autocomplete="one-time-code" required error={error} />
          <button type="submit">Turn on two-factor sign-in</button>
        </form>
      </div>
    ));

  app.post('/admin/security/totp/confirm', { preHandler: requireStaff(), schema: { body: formBody({ code: 20, secret: 100, uri: 500 }) } }, async (request, reply) => {
    const body = request.body as Record<string, string | undefined>;
    try {
      await staff.confirmTotp(request.auth!.subjectId, body.code);
    } catch (err) {
      return totpConfirm(request, reply, body.secret ?? '', body.uri ?? '', (err as Error).message);
    }
    return reply.redirect('/admin/security', 303);
  });
}
