import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Kernel } from '../../kernel/context.js';
import { formBody, page } from '../../kernel/http/page.js';
import { Csrf, ErrorSummary, Field } from '../../kernel/views/layout.js';
import type { AccountsService } from './accounts.service.js';
import { peekAccountToken } from './account-tokens.js';
import { loginRate } from './auth.pages.js';

/** Customer registration and email confirmation (a GET shows a button; only the POST confirms). */
export function registerRegistrationPages(app: FastifyInstance, k: Kernel, accounts: AccountsService): void {
  const form = (request: FastifyRequest, reply: FastifyReply, v: Record<string, string | undefined> = {}, error?: string) =>
    page(k.settings, request, reply, { title: 'Create an account', status: error ? 400 : 200 }, (
      <div class="card narrow">
        <h1>Create an account</h1>
        {error ? <ErrorSummary errors={{ _form: error }} /> : null}
        <form method="post" action="/account/register" novalidate>
          <Csrf token={request.csrfToken()} />
          <Field label="Your name" name="name" value={v.name} required autocomplete="name" maxLength={200} />
          <Field label="Email address" name="email" type="email" value={v.email} required autocomplete="email" />
          <Field label="Password" name="password" type="password" required autocomplete="new-password" hint="At least 10 characters." />
          <button type="submit">Create account</button>
        </form>
        <p class="muted">We use your details to run your account, send your licence keys and invoices. See our <a href="/privacy">privacy notice</a>.</p>
      </div>
    ));

  app.get('/account/register', async (request, reply) => form(request, reply));
  app.post('/account/register', {
    schema: { body: formBody({ name: 300, email: 300, password: 1024 }) }, config: { csrf: 'signin', rateLimit: loginRate(k) },
  }, async (request, reply) => {
    const body = request.body as Record<string, string | undefined>;
    try {
      await accounts.register(body);
    } catch (err) {
      const e = err as { code?: string; message: string };
      if (!e.code?.startsWith('ACC_')) throw err;
      return form(request, reply, body, e.message);
    }
    return page(k.settings, request, reply, { title: 'Check your email' }, (
      <div class="card narrow"><h1>Check your email</h1><p>We have sent a link to <strong>{body.email}</strong>. Open it to confirm your address and finish creating your account.</p></div>
    ));
  });

  const params = { params: Type.Object({ token: Type.String({ maxLength: 100 }) }) };
  app.get('/account/verify/:token', { schema: params }, async (request, reply) => {
    const { token } = request.params as { token: string };
    try {
      await peekAccountToken(k.db, 'verify_email', token, k.clock.now());
    } catch (err) {
      return page(k.settings, request, reply, { title: 'Link expired', status: 400 }, <div class="card narrow"><h1>This link has expired</h1><p>{(err as Error).message} Sign in to get a new one.</p></div>);
    }
    return page(k.settings, request, reply, { title: 'Confirm your email' }, (
      <div class="card narrow">
        <h1>Confirm your email address</h1>
        <form method="post" action={`/account/verify/${token}`}>
          <Csrf token={request.csrfToken()} />
          <button type="submit">Confirm my email address</button>
        </form>
      </div>
    ));
  });

  app.post('/account/verify/:token', { schema: { ...params, body: formBody({}) }, config: { csrf: 'signin' } }, async (request, reply) => {
    try {
      await accounts.verifyEmail((request.params as { token: string }).token);
    } catch (err) {
      return page(k.settings, request, reply, { title: 'Link expired', status: 400 }, <div class="card narrow"><h1>This link has expired</h1><p>{(err as Error).message}</p></div>);
    }
    return page(k.settings, request, reply, { title: 'Email confirmed' }, (
      <div class="card narrow"><h1>Thank you</h1><p>Your email address is confirmed.</p><p><a class="button" href="/account/login">Sign in</a></p></div>
    ));
  });
}
