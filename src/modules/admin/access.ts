// Who may open which part of the admin. One table, checked on the server for every /admin request by a
// hook on the pages surface (in addition to each route's own requireStaff): a page a module forgets to
// guard is still refused, and an admin path nobody listed here is for owners and admins only.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kernel } from '../../kernel/context.js';
import type { StaffRole } from '../accounts/index.js';
import { AdminForbidden } from './admin.errors.js';

type Roles = readonly StaffRole[];

export interface AccessRule {
  /** A path prefix, matched on whole segments ('/admin/orders' covers '/admin/orders/1', not '/admin/ordersx'). */
  prefix: string;
  /** Roles that may read (GET/HEAD). */
  read: Roles;
  /** Roles that may change things (POST and the rest). */
  write: Roles;
}

const ALL: Roles = ['owner', 'admin', 'support', 'sales'];
const MANAGERS: Roles = ['owner', 'admin'];
const OWNER: Roles = ['owner'];
const SUPPORT: Roles = ['owner', 'admin', 'support'];
const SALES: Roles = ['owner', 'admin', 'sales'];

const rule = (prefix: string, read: Roles, write: Roles = read): AccessRule => ({ prefix, read, write });

/**
 * Support: tickets, customers, licences and machines (look up; reveal a key, issue an offline licence
 * file, release or block a machine for a customer on the line, each action in the audit log); sales:
 * orders, customers, invoices, the catalogue; owner: everything, and alone the settings and signing keys.
 */
export const ACCESS_RULES: readonly AccessRule[] = [
  rule('/admin', ALL, MANAGERS),
  rule('/admin/search', ALL),
  rule('/admin/security', ALL),
  rule('/admin/settings', OWNER),
  rule('/admin/audit', MANAGERS),
  rule('/admin/mail', SUPPORT, MANAGERS),
  rule('/admin/customers', ALL, MANAGERS),
  rule('/admin/licences', ALL, SUPPORT),
  rule('/admin/machines', SUPPORT),
  rule('/admin/orders', SALES),
  rule('/admin/billing', SALES, MANAGERS),
  rule('/admin/invoices', SALES),
  rule('/admin/subscriptions', SALES),
  rule('/admin/subscriptions/settings', SALES, MANAGERS),
  rule('/admin/resellers', SALES),
  rule('/admin/catalog', SALES),
  rule('/admin/tickets', SUPPORT),
  rule('/admin/tickets/settings', MANAGERS),
  rule('/admin/kb', SUPPORT),
  rule('/admin/forum', SUPPORT),
  rule('/admin/newsletter', ALL, MANAGERS),
  rule('/admin/newsletter/subscribers', ALL, SUPPORT),
  // Suppressing an address is always safe, so support may check and add; only managers lift one.
  rule('/admin/newsletter/suppressions', ALL, SUPPORT),
  rule('/admin/newsletter/suppressions/remove', MANAGERS),
  rule('/admin/newsletter/settings', MANAGERS),
  rule('/admin/newsletter/posts', SALES),
  rule('/admin/newsletter/campaigns', SALES),
  rule('/admin/tax-rates', MANAGERS),
  rule('/admin/payments', MANAGERS),
  rule('/admin/privacy', MANAGERS),
  rule('/admin/accounting', MANAGERS),
  // Releases, add-ons and content packs are product management: everyone reads, managers publish.
  rule('/admin/releases', ALL, MANAGERS),
  rule('/admin/addons', ALL, MANAGERS),
];

/** Paths that must stay open to signed-out visitors (the sign-in pages themselves). */
const OPEN = ['/admin/login', '/admin/logout'];

const covers = (prefix: string, path: string) => path === prefix || path.startsWith(prefix + '/');

/** The most specific rule for a path; unknown admin paths get the managers-only default. */
export function ruleFor(path: string): AccessRule {
  if (path === '/admin' || path === '/admin/') return ACCESS_RULES[0]!;
  let best: AccessRule | null = null;
  for (const r of ACCESS_RULES) {
    if (r.prefix !== '/admin' && covers(r.prefix, path) && (!best || r.prefix.length > best.prefix.length)) best = r;
  }
  return best ?? rule(path, MANAGERS);
}

export function allows(role: StaffRole | null | undefined, method: string, path: string): boolean {
  if (!role) return false;
  const r = ruleFor(path);
  return (['GET', 'HEAD'].includes(method.toUpperCase()) ? r.read : r.write).includes(role);
}

const isAdminPath = (path: string) => covers('/admin', path) && !OPEN.some((p) => covers(p, path));

/**
 * Installs the check on the pages surface. Signed-out visitors and customers pass through to the route's
 * own guard (which sends them to the staff sign-in); staff whose role the table does not allow get 403.
 * It also tells the layout which navigation links to show, and records every change in the audit log.
 */
export function installAdminAccess(app: FastifyInstance, k: Kernel): void {
  // preValidation: a refused role gets 403 before its input is even checked (and before the CSRF check).
  app.addHook('preValidation', async (request: FastifyRequest) => {
    // The route's own pattern, not the raw URL: percent-encoding or doubled slashes cannot dodge a rule.
    const path = request.routeOptions.url ?? request.url.split('?')[0]!;
    if (!isAdminPath(path) || request.auth?.kind !== 'staff') return;
    const role = request.auth.role as StaffRole;
    request.adminNavAllows = (href: string) => allows(role, 'GET', href);
    if (!allows(role, request.method, path)) throw new AdminForbidden();
  });
  // The audit log's safety net: every change staff make through the admin is recorded with who, when and
  // where, even where a module records nothing more specific. Form bodies are not recorded (secrets).
  // onSend, not onResponse: the entry is written before the answer leaves, so no one reads a log without it.
  app.addHook('onSend', async (request, reply, payload) => {
    const path = request.url.split('?')[0]!;
    if (['GET', 'HEAD', 'OPTIONS'].includes(request.method) || !isAdminPath(path) || request.auth?.kind !== 'staff' || reply.statusCode >= 400) return payload;
    try {
      await k.audit.record({ actorKind: 'staff', actorId: request.auth.subjectId, action: 'admin.change', target: path.slice(0, 200), detail: { method: request.method, status: reply.statusCode }, ip: request.ip });
    } catch (err) {
      request.log.error({ err }, 'could not write the audit entry of an admin change');
    }
    return payload;
  });
}
