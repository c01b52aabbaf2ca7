import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kernel } from '../../kernel/context.js';
import { formBody, page } from '../../kernel/http/page.js';
import { Csrf, Field } from '../../kernel/views/layout.js';
import type { AccountsService } from './accounts.service.js';
import { requireCustomer } from './auth.hooks.js';
import * as repo from './accounts.repository.js';

/** The start of "My account": profile and password. Licences, invoices and the rest join as their modules land. */
export function registerAccountPages(app: FastifyInstance, k: Kernel, accounts: AccountsService): void {
  const home = async (request: FastifyRequest, reply: FastifyReply, flash?: string, pwError?: string) => {
    const c = (await repo.customerById(k.db, request.auth!.subjectId))!;
    return page(k.settings, request, reply, { title: 'My account', flash, status: pwError ? 400 : 200 }, (
      <>
        <h1>My account</h1>
        <nav aria-label="My account" class="card">
          <ul class="account-links">
            <li><a href="/account/orders">Orders, invoices and licences</a></li>
            <li><a href="/shop/licences">Renew, upgrade or add to a licence</a></li>
            <li><a href="/account/tickets">Support requests</a></li>
            <li><a href="/account/email">Email preferences</a></li>
            <li><a href="/account/privacy">Your data: export, comment, close account</a></li>
          </ul>
        </nav>
        <div class="grid">
          <section class="card">
            <h2>Your details</h2>
            <dl>
              <dt>Name</dt><dd>{c.name}</dd>
              <dt>Email</dt><dd>{c.email}</dd>
              {c.company ? <><dt>Company</dt><dd>{c.company}</dd></> : null}
            </dl>
          </section>
          <section class="card">
            <h2>Change password</h2>
            <form method="post" action="/account/password">
              <Csrf token={request.csrfToken()} />
              <Field label="Current password" name="current" type="password" required autocomplete="current-password" />
              <Field label="New password" name="password" type="password" required autocomplete="new-password" hint="At least 10 characters." error={pwError} />
              <button type="submit">Change password</button>
            </form>
          </section>
        </div>
      </>
    ));
  };

  app.get('/account', { preHandler: requireCustomer() }, async (request, reply) => home(request, reply));

  app.post('/account/password', { preHandler: requireCustomer(), schema: { body: formBody({ current: 1024, password: 1024 }) } }, async (request, reply) => {
    const body = request.body as Record<string, string | undefined>;
    try {
      await accounts.changePassword('customer', request.auth!.subjectId, body.current, body.password, request.auth!.sessionIdHash);
    } catch (err) {
      const e = err as { code?: string; message: string };
      if (!e.code?.startsWith('ACC_')) throw err;
      return home(request, reply, undefined, e.message);
    }
    return home(request, reply, 'Your password has been changed. Other devices have been signed out.');
  });
}
