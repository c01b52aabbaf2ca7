import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kernel } from '../../kernel/context.js';
import { setCookie, clearCookie } from '../../kernel/http/cookies.js';
import { anonCsrfToken, sameOrigin, sessionCsrfToken, verifyAnonCsrf, verifySessionCsrf } from '../../kernel/http/csrf.js';
import { CsrfFailed } from '../../kernel/http/errors.js';
import { safeNext } from '../../kernel/http/page.js';
import type { RequestAuth } from '../../kernel/http/request-auth.js';
import type { SubjectKind, StaffRole } from './accounts.tables.js';
import { consumeRememberToken, createSession, issueRememberToken, resolveSession, REMEMBER_MS } from './sessions.js';
import * as repo from './accounts.repository.js';
import { NotAllowed } from './accounts.errors.js';
import { describeDevice } from './device.js';

export const SESSION_COOKIE = 'kw_session';
export const REMEMBER_COOKIE = 'kw_remember';

async function loadAuth(k: Kernel, kind: SubjectKind, subjectId: string, idHash: string): Promise<RequestAuth | null> {
  if (kind === 'customer') {
    const c = await repo.customerById(k.db, subjectId);
    return c && !c.closed_at ? { kind, subjectId, name: c.name, email: c.email, role: null, sessionIdHash: idHash } : null;
  }
  const s = await repo.staffById(k.db, subjectId);
  return s && !s.disabled_at ? { kind, subjectId, name: s.name, email: s.email, role: s.role, sessionIdHash: idHash } : null;
}

/** Starts a session and sets its cookie (and, when asked, the persistent Remember-me cookie). */
export async function startSession(k: Kernel, reply: FastifyReply, kind: SubjectKind, subjectId: string, remember: boolean): Promise<void> {
  const now = k.clock.now();
  const device = describeDevice(reply.request.headers['user-agent']);
  const { token } = await createSession(k.db, kind, subjectId, now, device);
  // Every session start is a sign-in: also the owner's first, from the setup link, and a new customer's
  // at checkout (the team page said "never" of an owner who had been working all day).
  if (kind === 'customer') await k.db.updateTable('customers').set({ last_login_at: now }).where('id', '=', subjectId).execute();
  else await k.db.updateTable('staff').set({ last_login_at: now }).where('id', '=', subjectId).execute();
  setCookie(reply, k.cookies, SESSION_COOKIE, token);
  if (remember) setCookie(reply, k.cookies, REMEMBER_COOKIE, await issueRememberToken(k.db, kind, subjectId, now, device), { maxAge: REMEMBER_MS / 1000 });
}

/**
 * The pages surface's hooks: resolve the session cookie (or a Remember-me token, rotating it), offer a
 * CSRF token for forms, and check that token on every state-changing request.
 */
export function installAuthHooks(app: FastifyInstance, k: Kernel): void {
  app.decorateRequest('auth', null);
  app.decorateRequest('csrfToken', function (this: FastifyRequest) {
    return this.auth ? sessionCsrfToken(k.secrets, this.auth.sessionIdHash) : anonCsrfToken(k.secrets, k.clock.now());
  });

  app.addHook('onRequest', async (request, reply) => {
    const now = k.clock.now();
    const sessionToken = request.cookies[k.cookies.name(SESSION_COOKIE)];
    if (sessionToken) {
      const s = await resolveSession(k.db, sessionToken, now);
      if (s) request.auth = await loadAuth(k, s.kind, s.subjectId, s.idHash);
      if (!request.auth) clearCookie(reply, k.cookies, SESSION_COOKIE);
    }
    const remember = request.cookies[k.cookies.name(REMEMBER_COOKIE)];
    if (!request.auth && remember) {
      const r = await consumeRememberToken(k.db, remember, now);
      if (r.ok) {
        const { token, idHash } = await createSession(k.db, r.kind, r.subjectId, now, describeDevice(request.headers['user-agent']));
        request.auth = await loadAuth(k, r.kind, r.subjectId, idHash);
        if (request.auth) {
          setCookie(reply, k.cookies, SESSION_COOKIE, token);
          setCookie(reply, k.cookies, REMEMBER_COOKIE, r.cookie, { maxAge: REMEMBER_MS / 1000 });
          await k.audit.record({ actorKind: r.kind, actorId: r.subjectId, action: `${r.kind}.remembered_login`, ip: request.ip });
        }
      } else {
        clearCookie(reply, k.cookies, REMEMBER_COOKIE);
        if (r.theft) await k.audit.record({ actorKind: 'anonymous', action: 'remember_token.reuse_detected', ip: request.ip });
      }
    }
  });

  app.addHook('preHandler', async (request, reply) => {
    if (['GET', 'HEAD', 'OPTIONS'].includes(request.method)) return;
    const mode = request.routeOptions.config?.csrf;
    if (mode === 'skip') return;
    const token = (request.body as Record<string, unknown> | undefined)?._csrf;
    const now = k.clock.now();
    if (!sameOrigin(request, k.config.publicUrl)) throw new CsrfFailed();
    if (request.auth && verifySessionCsrf(k.secrets, token, request.auth.sessionIdHash)) return;
    // Once signed in, only the session's own token: an anonymous token is anybody's to fetch, so taking
    // it from a signed-in browser would let another site's form act for that account. A sign-in form
    // acts for no session, so a second tab's, opened before the first signed in, still works.
    if ((mode === 'signin' || (mode === 'anon' && !request.auth)) && verifyAnonCsrf(k.secrets, token, now)) return;
    // A form of a session that has ended since (signed out in another tab, timed out): sign in again and
    // come back to the page it was on, rather than a bare refusal. Nothing of the form is acted on.
    if (!request.auth && typeof token === 'string' && token.startsWith('s.')) {
      const area = request.url.startsWith('/admin') ? '/admin' : '/account';
      return reply.redirect(`${area}/login?next=${encodeURIComponent(safeNext(refererPath(request), area))}`, 303);
    }
    throw new CsrfFailed();
  });
}

/** preHandler: the page needs a signed-in customer; otherwise go to the sign-in page and come back. */
export function requireCustomer() {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.auth?.kind === 'customer') return;
    return reply.redirect(`/account/login?next=${encodeURIComponent(request.url)}`, 303);
  };
}

/** preHandler: the page needs a staff member, optionally with one of the given roles. */
export function requireStaff(...roles: StaffRole[]) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.auth?.kind !== 'staff') return reply.redirect(`/admin/login?next=${encodeURIComponent(request.url)}`, 303);
    if (roles.length && !roles.includes(request.auth.role as StaffRole)) throw new NotAllowed();
  };
}

/**
 * The path of the page a form was sent from, when the browser says (the request already passed the
 * same-origin check; safeNext() keeps any path on this site).
 */
function refererPath(request: FastifyRequest): string | undefined {
  try {
    const u = new URL(request.headers.referer ?? '');
    return u.pathname + u.search;
  } catch {
    return undefined;
  }
}
