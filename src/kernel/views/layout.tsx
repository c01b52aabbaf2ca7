import type { ComponentChildren } from 'preact';
import type { Brand } from './brand.js';

export interface NavLink { href: string; label: string }

export interface LayoutProps {
  title: string;
  brand: Brand;
  /** 'public' pages carry the vendor's identity; 'admin' pages are Keyward's back office. */
  variant?: 'public' | 'admin';
  nav?: NavLink[];
  user?: { name: string; logoutAction: string; csrf: string } | null;
  flash?: string | null;
  children: ComponentChildren;
}

export function Layout({ title, brand, variant = 'public', nav = [], user, flash, children }: LayoutProps) {
  const site = variant === 'admin' ? `Keyward · ${brand.name}` : brand.name;
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title} · ${site}`}</title>
        <link rel="stylesheet" href="/assets/site.css" />
        <link rel="stylesheet" href="/assets/brand.css" />
      </head>
      <body class={variant === 'admin' ? 'admin' : 'public'}>
        <a class="skip" href="#main">Skip to content</a>
        <header class="site-header">
          <div class="wrap header-row">
            <a class="site-name" href={variant === 'admin' ? '/admin' : '/'}>{site}</a>
            <nav aria-label="Main">
              <ul>
                {nav.map((l) => <li><a href={l.href}>{l.label}</a></li>)}
                {user ? (
                  <li>
                    <form method="post" action={user.logoutAction} class="inline">
                      <input type="hidden" name="_csrf" value={user.csrf} />
                      <button type="submit" class="link">Sign out {user.name}</button>
                    </form>
                  </li>
                ) : null}
              </ul>
            </nav>
          </div>
          {variant === 'admin' && user ? (
            <div class="wrap admin-search">
              <form method="get" action="/admin/search" role="search" class="search-row">
                <label for="site-q" class="visually-hidden">Search customers, orders, invoices, licences, machines and tickets</label>
                <input id="site-q" name="q" type="search" maxLength={200} placeholder="Search customers, orders, invoices, licences, computer IDs, tickets" />
                <button type="submit" class="secondary">Search</button>
              </form>
            </div>
          ) : null}
        </header>
        <main id="main" class="wrap">
          {flash ? <p class="flash" role="status">{flash}</p> : null}
          {children}
        </main>
        <footer class="site-footer">
          <div class="wrap">
            <p>
              {brand.footerText || `© ${brand.name}`} · <a href="/privacy">Privacy</a> · <a href="/cookies">Cookies</a>
              {brand.showPoweredBy || variant === 'admin' ? <span class="powered"> · powered by Keyward</span> : null}
            </p>
          </div>
        </footer>
      </body>
    </html>
  );
}

export function Field(props: {
  label: string; name: string; type?: string; value?: string; error?: string; required?: boolean;
  autocomplete?: string; hint?: string; inputmode?: string; maxLength?: number;
}) {
  const id = `f-${props.name}`;
  const describedBy = [props.hint ? `${id}-hint` : '', props.error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class={props.error ? 'field has-error' : 'field'}>
      <label for={id}>{props.label}{props.required ? '' : <span class="optional"> (optional)</span>}</label>
      {props.hint ? <p class="hint" id={`${id}-hint`}>{props.hint}</p> : null}
      <input id={id} name={props.name} type={props.type ?? 'text'} value={props.value ?? ''} required={props.required}
        autoComplete={props.autocomplete} inputMode={props.inputmode as any} maxLength={props.maxLength}
        aria-invalid={props.error ? 'true' : undefined} aria-describedby={describedBy} />
      {props.error ? <p class="error" id={`${id}-error`}>{props.error}</p> : null}
    </div>
  );
}

/**
 * Newer/older links under a list shown a page at a time, latest first (`?page=` on `base`); nothing when
 * the list fits on its first page. `what` names the items ("posts", "topics").
 */
export function Pager({ base, page, hasMore, what }: { base: string; page: number; hasMore: boolean; what: string }) {
  if (page <= 1 && !hasMore) return null;
  return (
    <nav class="blog-pager" aria-label={`More ${what}`}>
      {page > 1 ? <a href={`${base}?page=${page - 1}`}>Newer {what}</a> : null} {hasMore ? <a href={`${base}?page=${page + 1}`}>Older {what}</a> : null}
    </nav>
  );
}

export function Csrf({ token }: { token: string }) {
  return <input type="hidden" name="_csrf" value={token} />;
}

export function ErrorSummary({ errors }: { errors: Record<string, string> }) {
  const entries = Object.entries(errors);
  if (entries.length === 0) return null;
  return (
    <div class="error-summary" role="alert">
      <p>Please correct the following:</p>
      <ul>{entries.map(([k, v]) => <li><a href={k === '_form' ? '#main' : `#f-${k}`}>{v}</a></li>)}</ul>
    </div>
  );
}
