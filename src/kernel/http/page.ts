import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ComponentChildren } from 'preact';
import { Type, type TSchema } from 'typebox';
import type { Settings } from '../settings/settings.js';
import { loadBrand } from '../views/brand.js';
import { Layout, type NavLink } from '../views/layout.js';
import { sendPage } from '../views/render.js';

export const PUBLIC_NAV: NavLink[] = [
  { href: '/shop', label: 'Shop' },
  { href: '/support', label: 'Support' },
  { href: '/blog', label: 'Blog' },
  { href: '/account', label: 'My account' },
];

/**
 * With a basket, the way back to it: the basket cookie (orders' `kw_basket`, `__Host-` on HTTPS) exists
 * only from the first item until checkout, so its presence is enough and no page reads the basket for it.
 */
const PUBLIC_NAV_WITH_BASKET: NavLink[] = [...PUBLIC_NAV.slice(0, 1), { href: '/basket', label: 'Basket' }, ...PUBLIC_NAV.slice(1)];
const hasBasket = (request: FastifyRequest) => request.cookies?.kw_basket !== undefined || request.cookies?.['__Host-kw_basket'] !== undefined;

export const ADMIN_NAV: NavLink[] = [
  { href: '/admin', label: 'Dashboard' },
  { href: '/admin/customers', label: 'Customers' },
  { href: '/admin/orders', label: 'Orders' },
  { href: '/admin/subscriptions', label: 'Subscriptions' },
  { href: '/admin/licences', label: 'Licences' },
  { href: '/admin/releases', label: 'Releases' },
  { href: '/admin/addons', label: 'Add-ons' },
  { href: '/admin/catalog', label: 'Catalogue' },
  { href: '/admin/billing', label: 'Billing' },
  { href: '/admin/accounting', label: 'Accounting' },
  { href: '/admin/resellers', label: 'Resellers' },
  { href: '/admin/tickets', label: 'Tickets' },
  { href: '/admin/mail', label: 'Mail' },
  { href: '/admin/newsletter', label: 'Newsletter' },
  { href: '/admin/privacy', label: 'Privacy' },
  { href: '/admin/audit', label: 'Audit log' },
  { href: '/admin/security', label: 'Security' },
  { href: '/admin/settings', label: 'Settings' },
];

/** Renders a page in the site layout with the vendor's branding and the signed-in user's sign-out button. */
export async function page(
  settings: Settings, request: FastifyRequest, reply: FastifyReply,
  opts: { title: string; variant?: 'public' | 'admin'; status?: number; flash?: string | null },
  children: ComponentChildren,
): Promise<FastifyReply> {
  const brand = await loadBrand(settings);
  const variant = opts.variant ?? (request.auth?.kind === 'staff' && request.url.startsWith('/admin') ? 'admin' : 'public');
  const user = request.auth
    ? { name: request.auth.name, logoutAction: request.auth.kind === 'staff' ? '/admin/logout' : '/account/logout', csrf: request.csrfToken() }
    : null;
  const nav = variant === 'admin' && request.auth?.kind === 'staff' ? ADMIN_NAV.filter((l) => request.adminNavAllows?.(l.href) ?? true) : variant === 'admin' ? [] : hasBasket(request) ? PUBLIC_NAV_WITH_BASKET : PUBLIC_NAV;
  return sendPage(reply, Layout({ title: opts.title, brand, variant, nav, user, flash: opts.flash, children }), opts.status ?? 200);
}

/** Form bodies: every field optional text with a length cap; services validate meaning and re-show the form. */
export function formBody(fields: Record<string, number>): TSchema {
  const props: Record<string, TSchema> = { _csrf: Type.Optional(Type.String({ maxLength: 400 })) };
  for (const [name, max] of Object.entries(fields)) props[name] = Type.Optional(Type.String({ maxLength: max }));
  return Type.Object(props, { additionalProperties: false });
}

/**
 * The body limit of a form with a long text field (a message, a post, an article): the site-wide 64 KiB
 * is kept for short forms, but url-encoding spends up to 9 bytes on one character (Cyrillic 6, CJK 9),
 * so a text well within its field's length in another script would be refused as too large.
 */
export const LONG_FORM_BODY_LIMIT = 2 * 1024 * 1024;

/** A list's `?page=`: any short text, so a hand-edited value is the first page, not an error page. */
export const PAGE_QUERY = Type.Object({ page: Type.Optional(Type.String({ maxLength: 40 })) });

/** The page number in a list's `?page=`: a whole number from 1 (at most 99,999); anything else is page 1. */
export function pageNumber(raw: string | undefined): number {
  const n = /^[0-9]{1,5}$/.test(raw ?? '') ? Number(raw) : 1;
  return n >= 1 ? n : 1;
}

/** A `next` parameter is only followed to a path on this site (no open redirect). */
export function safeNext(next: unknown, fallback: string): string {
  return typeof next === 'string' && /^\/(?![/\\])[\x21-\x7e]*$/.test(next) ? next : fallback;
}

/**
 * A change that redirects back adds `?done=<code>`; the page it returns to shows the module's sentence
 * for that code (`done` in its querystring schema is `DONE_PARAM`). A code the module does not list,
 * `constructor` and `__proto__` included, shows nothing.
 */
export const DONE_PARAM = Type.Optional(Type.String({ maxLength: 20 }));

export function doneFlash(request: FastifyRequest, sentences: Readonly<Record<string, string>>): string | undefined {
  const done = (request.query as { done?: unknown } | undefined)?.done;
  return typeof done === 'string' && Object.hasOwn(sentences, done) ? sentences[done] : undefined;
}
