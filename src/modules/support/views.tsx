import type { ComponentChildren } from 'preact';
import type { SupportAttachmentsTable, TicketStatus } from './support.tables.js';
import type { Message } from './tickets.repository.js';
import { STATUS_BADGE, STATUS_LABEL } from './status.js';

/** Small view pieces shared by the customer and staff ticket pages. */
export const fmtTime = (t: number | null) => (t ? new Date(t).toISOString().replace('T', ' ').slice(0, 16) + ' UTC' : '—');

export const fmtSize = (n: number) => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1024))} KB`);

export function StatusBadge({ status }: { status: TicketStatus }) {
  return <span class={`badge ${STATUS_BADGE[status]}`}>{STATUS_LABEL[status]}</span>;
}

export function TextArea(props: { label: string; name: string; value?: string; error?: string; required?: boolean; hint?: string; rows?: number; maxLength?: number }) {
  const id = `f-${props.name}`;
  const describedBy = [props.hint ? `${id}-hint` : '', props.error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class={props.error ? 'field has-error' : 'field'}>
      <label for={id}>{props.label}{props.required ? '' : <span class="optional"> (optional)</span>}</label>
      {props.hint ? <p class="hint" id={`${id}-hint`}>{props.hint}</p> : null}
      <textarea id={id} name={props.name} rows={props.rows ?? 8} required={props.required} maxLength={props.maxLength}
        aria-invalid={props.error ? 'true' : undefined} aria-describedby={describedBy}>{props.value ?? ''}</textarea>
      {props.error ? <p class="error" id={`${id}-error`}>{props.error}</p> : null}
    </div>
  );
}

export function FileField({ maxMb, error }: { maxMb: number; error?: string }) {
  return (
    <div class={error ? 'field has-error' : 'field'}>
      <label for="f-files">Attach files<span class="optional"> (optional)</span></label>
      <p class="hint" id="f-files-hint">Up to 10 files, each at most {maxMb} MB.</p>
      <input id="f-files" name="files" type="file" multiple aria-describedby="f-files-hint" />
      {error ? <p class="error" id="f-files-error">{error}</p> : null}
    </div>
  );
}

const WHO: Record<Message['kind'], string> = { customer: 'ticket-msg customer', staff: 'ticket-msg staff', note: 'ticket-msg note', system: 'ticket-msg system' };

/** The conversation; `fileHref` decides where attachments link (staff and customers use different routes). */
export function Conversation({ messages, files, fileHref, staffView, staffNames }: {
  messages: Message[]; files: SupportAttachmentsTable[]; fileHref: (id: string) => string; staffView: boolean; staffNames?: Map<string, string>;
}) {
  return (
    <ol class="ticket-thread">
      {messages.map((m) => {
        const own = files.filter((f) => f.message_id === m.id);
        const who = m.kind === 'customer' ? (m.author_name ? `${m.author_name}${staffView ? ` <${m.author_email}>` : ''}` : m.author_email ?? 'Customer')
          : m.kind === 'staff' ? `${m.author_name ?? 'Support'} (support)`
            : m.kind === 'note' ? `Internal note${m.author_staff_id && staffNames?.get(m.author_staff_id) ? ` by ${staffNames.get(m.author_staff_id)}` : ''}` : 'System';
        return (
          <li class={WHO[m.kind]} id={`m-${m.id}`}>
            <p class="muted ticket-meta"><strong>{who}</strong> · {fmtTime(m.created_at)}{m.via === 'email' ? ' · by email' : ''}</p>
            <div class="pre-wrap">{m.body_text}</div>
            {staffView && m.body_html ? (
              // Sanitised by mail/sanitise.ts (allow-list) before it was stored; the page's CSP blocks scripts besides.
              <details class="email-html"><summary>Formatted email</summary><div dangerouslySetInnerHTML={{ __html: m.body_html }} /></details>
            ) : null}
            {own.length ? (
              <ul class="ticket-files">{own.map((f) => <li><a href={fileHref(f.id)}>{f.filename}</a> <span class="muted">({fmtSize(f.size)})</span></li>)}</ul>
            ) : null}
          </li>
        );
      })}
    </ol>
  );
}

export function Tabs({ items, current }: { items: Array<{ href: string; label: string }>; current: string }): ComponentChildren {
  return (
    <nav aria-label="Support sections" class="subnav">
      <ul>{items.map((i) => <li><a href={i.href} aria-current={i.href === current ? 'page' : undefined}>{i.label}</a></li>)}</ul>
    </nav>
  );
}
