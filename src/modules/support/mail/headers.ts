import { withoutBidiControls } from '../../../kernel/text/bidi.js';
/**
 * A small, total RFC 5322 header reader for the fields threading and loop protection depend on. It never
 * throws: a malformed message is still a message someone sent, and must reach a ticket (the full MIME
 * parse may fail; these fields must not). Limits keep a hostile header block from costing much.
 */
export interface HeaderField { key: string; value: string }

const MAX_HEAD_BYTES = 256 * 1024;
const MAX_FIELDS = 500;

export class HeaderList {
  constructor(readonly fields: HeaderField[]) {}
  get(name: string): string | undefined {
    const n = name.toLowerCase();
    return this.fields.find((f) => f.key === n)?.value;
  }
  all(name: string): string[] {
    const n = name.toLowerCase();
    return this.fields.filter((f) => f.key === n).map((f) => f.value);
  }
  has(name: string): boolean {
    return this.get(name) !== undefined;
  }
  /** True when any field's name starts with the prefix (e.g. `list-`). */
  hasPrefix(prefix: string): boolean {
    return this.fields.some((f) => f.key.startsWith(prefix));
  }
}

/** Splits a raw message at the first empty line; a message without one is all header. */
export function splitMessage(raw: Buffer | string): { head: string; body: string } {
  const s = typeof raw === 'string' ? raw : raw.toString('latin1');
  const m = /\r?\n\r?\n/.exec(s);
  if (!m) return { head: s.slice(0, MAX_HEAD_BYTES), body: '' };
  return { head: s.slice(0, Math.min(m.index, MAX_HEAD_BYTES)), body: s.slice(m.index + m[0].length) };
}

/** Unfolds continuation lines and returns the fields in order, names lower-cased. */
export function parseHeaderBlock(head: string): HeaderList {
  const fields: HeaderField[] = [];
  for (const line of head.split(/\r?\n/)) {
    if (fields.length > MAX_FIELDS) break;
    if (/^[ \t]/.test(line)) {
      const last = fields[fields.length - 1];
      if (last && last.value.length < 65536) last.value = `${last.value} ${line.trim()}`.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    if (!/^[\x21-\x39\x3b-\x7e]+$/.test(key)) continue;
    fields.push({ key, value: line.slice(colon + 1).trim() });
  }
  return new HeaderList(fields);
}

export function readHeaders(raw: Buffer | string): HeaderList {
  return parseHeaderBlock(splitMessage(raw).head);
}

const ID_RE = /<([^<>\s"]{1,250})>/g;

/**
 * The Message-IDs in a header value (`<a@b> <c@d>`), without angle brackets, in order, de-duplicated.
 * A bare `a@b` (no brackets, as some broken clients send) is accepted when it is the whole value.
 */
export function parseMessageIds(value: string | undefined, max = 100): string[] {
  if (!value) return [];
  const out: string[] = [];
  for (const m of value.slice(0, 65536).matchAll(ID_RE)) {
    const id = m[1]!;
    if (id.includes('@') && !out.includes(id)) out.push(id);
    if (out.length >= max) break;
  }
  if (out.length === 0) {
    const bare = value.trim();
    if (/^[^<>\s"@]{1,200}@[^<>\s"@]{1,200}$/.test(bare)) out.push(bare);
  }
  return out;
}

/** The first address in a header value, lower-cased (`"Ann" <Ann@Example.com>` → `ann@example.com`). */
export function firstAddress(value: string | undefined): string | null {
  if (!value) return null;
  const angled = /<([^<>\s]+@[^<>\s]+)>/.exec(value);
  const bare = angled ? angled[1] : /([^\s<>,;:"()]+@[^\s<>,;:"()]+)/.exec(value)?.[1];
  return bare ? bare.toLowerCase().slice(0, 254) : null;
}

export type MailKind = 'normal' | 'bounce' | 'auto';

/**
 * Bounce: a delivery-status report, MAILER-DAEMON/postmaster, an empty return path, X-Failed-Recipients.
 * Automatic: Auto-Submitted other than "no", Precedence bulk/junk/list/auto_reply, X-Autoreply and
 * friends, any List-* header, or our own X-Loop. Neither kind is ever answered automatically.
 */
export function classifyMail(h: HeaderList, envelopeFrom: string | null, ourAddresses: string[] = []): MailKind {
  const ctype = (h.get('content-type') ?? '').toLowerCase();
  const from = firstAddress(h.get('from')) ?? '';
  const localPart = from.split('@')[0] ?? '';
  const returnPath = h.get('return-path');
  if (
    (ctype.includes('multipart/report') && ctype.includes('delivery-status'))
    || /^(mailer-daemon|postmaster)$/.test(localPart)
    || envelopeFrom === '' || envelopeFrom === '<>'
    || (returnPath !== undefined && /^<\s*>$/.test(returnPath.trim()))
    || h.has('x-failed-recipients')
  ) return 'bounce';
  const autoSubmitted = (h.get('auto-submitted') ?? 'no').split(';')[0]!.trim().toLowerCase();
  const precedence = (h.get('precedence') ?? '').trim().toLowerCase();
  const loops = h.all('x-loop').map((v) => v.trim().toLowerCase());
  if (
    autoSubmitted !== 'no'
    || ['bulk', 'junk', 'list', 'auto_reply'].includes(precedence)
    || h.has('x-autoreply') || h.has('x-autorespond') || h.has('x-auto-response-suppress')
    || h.hasPrefix('list-')
    || loops.some((l) => ourAddresses.includes(l))
  ) return 'auto';
  return 'normal';
}

/** `[#1234]` in a subject: the ticket number, or null. */
export function subjectToken(subject: string): number | null {
  const m = /\[#(\d{1,9})\]/.exec(subject);
  return m ? Number(m[1]) : null;
}

export function stripSubjectToken(subject: string): string {
  return subject.replace(/\s*\[#\d{1,9}\]\s*/g, ' ').trim();
}

/** The subject a ticket keeps: reply/forward prefixes and tokens removed, bounded, never empty. */
export function cleanSubject(subject: string | undefined): string {
  let s = stripSubjectToken(withoutBidiControls((subject ?? '').replace(/[\u0000-\u001f\u007f]+/g, ' ')));
  for (let i = 0; i < 5; i++) s = s.replace(/^\s*(re|fw|fwd|aw|sv|antw)\s*:\s*/i, '');
  s = s.replace(/\s+/g, ' ').trim().slice(0, 200);
  return s || '(no subject)';
}

/**
 * References trimmed for outgoing mail (domain notes: keep the first and the last few), so a long
 * conversation's header does not grow without bound.
 */
export function trimReferences(ids: string[], keepLast = 4): string[] {
  const unique = ids.filter((id, i) => ids.indexOf(id) === i);
  if (unique.length <= keepLast + 1) return unique;
  return [unique[0]!, ...unique.slice(-keepLast)];
}

export const formatIds = (ids: string[]) => ids.map((id) => `<${id}>`).join(' ');
