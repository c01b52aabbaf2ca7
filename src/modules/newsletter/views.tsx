import type { FastifyRequest } from 'fastify';
import { sha256Hex } from '../../kernel/crypto/tokens.js';
import { Csrf, Field } from '../../kernel/views/layout.js';
import type { ConsentContext } from './consent.js';

/** Small view pieces shared by the newsletter's public and admin pages. */

export const fmtDate = (t: number | null) => (t ? new Date(t).toISOString().slice(0, 10) : '—');
export const fmtTime = (t: number | null) => (t ? new Date(t).toISOString().replace('T', ' ').slice(0, 16) + ' UTC' : '—');

/** HTML made by our escaping Markdown renderer (never anything else). */
export function SafeHtml({ html, class: cls }: { html: string; class?: string }) {
  return <div class={cls} dangerouslySetInnerHTML={{ __html: html }} />;
}

export function TextArea(props: { label: string; name: string; value?: string; rows?: number; hint?: string; required?: boolean; maxLength?: number; mono?: boolean }) {
  const id = `f-${props.name}`;
  return (
    <div class="field">
      <label for={id}>{props.label}{props.required ? '' : <span class="optional"> (optional)</span>}</label>
      {props.hint ? <p class="hint" id={`${id}-hint`}>{props.hint}</p> : null}
      <textarea id={id} name={props.name} rows={props.rows ?? 10} required={props.required} maxLength={props.maxLength}
        class={props.mono ? 'mono' : undefined} aria-describedby={props.hint ? `${id}-hint` : undefined}>{props.value ?? ''}</textarea>
    </div>
  );
}

export function Select(props: { label: string; name: string; value?: string; options: Array<[string, string]> }) {
  const id = `f-${props.name}`;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <select id={id} name={props.name}>
        {props.options.map(([v, l]) => <option value={v} selected={v === props.value}>{l}</option>)}
      </select>
    </div>
  );
}

export function Checkbox(props: { name: string; value?: string; checked?: boolean; label: string; disabled?: boolean }) {
  return (
    <label class="checkbox">
      <input type="checkbox" name={props.name} value={props.value ?? '1'} checked={props.checked} disabled={props.disabled} />
      <span>{props.label}</span>
    </label>
  );
}

/** The newsletter sign-up form; `w` carries the hash of the wording shown, so the record holds exactly it. */
export function SignupForm(props: { csrf: string; wording: string; from: string; email?: string; name?: string; error?: string }) {
  return (
    <form method="post" action="/newsletter" novalidate>
      <Csrf token={props.csrf} />
      <input type="hidden" name="w" value={sha256Hex(props.wording)} />
      <input type="hidden" name="from" value={props.from} />
      <Field label="Email address" name="email" type="email" value={props.email} required autocomplete="email" error={props.error} maxLength={254} />
      <Field label="Your name" name="name" value={props.name} autocomplete="name" maxLength={200} />
      <p class="muted consent-wording">{props.wording}</p>
      <p><button type="submit">Subscribe</button> <a class="small" href="/privacy">Privacy notice</a></p>
    </form>
  );
}

export function consentContext(request: FastifyRequest, source: ConsentContext['source'], method: string, sourceUrl: string | null, extra: Partial<ConsentContext> = {}): ConsentContext {
  const ua = request.headers['user-agent'];
  return { ip: request.ip, userAgent: typeof ua === 'string' ? ua : null, source, method, sourceUrl, ...extra };
}

/** Service errors of this module become a message on the page; anything else goes to the error boundary. */
export function newsMessage(err: unknown): string {
  const e = err as { code?: string; message?: string };
  if (typeof e?.code === 'string' && e.code.startsWith('NEWS_')) return e.message ?? 'Something is not right.';
  throw err;
}
