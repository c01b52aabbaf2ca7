import PostalMime, { addressParser, decodeWords } from 'postal-mime';
import { classifyMail, firstAddress, parseMessageIds, readHeaders, splitMessage, type HeaderList, type MailKind } from './headers.js';
import { htmlToText, sanitiseHtml } from './sanitise.js';
import { trimQuoted } from './quote.js';

export interface MailAddress { address: string; name: string }

export interface ParsedMail {
  headers: HeaderList;
  messageId: string | null;
  inReplyTo: string[];
  references: string[];
  from: MailAddress | null;
  replyTo: MailAddress | null;
  cc: MailAddress[];
  subject: string;
  /** The full text (for markers and the record), and the new part with quoted history cut off. */
  fullText: string;
  text: string;
  html: string | null;
  attachments: Array<{ filename: string; contentType: string; content: Buffer }>;
  kind: MailKind;
  /** Why the MIME structure could not be read (headers and text are still recovered), or null. */
  parseError: string | null;
}

const MAX_TEXT = 200_000;

function addresses(list: unknown): MailAddress[] {
  const out: MailAddress[] = [];
  if (!Array.isArray(list)) return out;
  for (const a of list as Array<{ address?: string; name?: string; group?: Array<{ address?: string; name?: string }> }>) {
    for (const m of a.group ?? [a]) {
      const address = (m.address ?? '').trim().toLowerCase();
      if (/^[^\s@<>]{1,64}@[^\s@<>]{1,190}$/.test(address)) out.push({ address, name: (m.name ?? '').replace(/[\u0000-\u001f]/g, '').trim().slice(0, 200) });
    }
  }
  return out;
}

function headerAddresses(value: string | undefined): MailAddress[] {
  if (!value) return [];
  try { return addresses(addressParser(value)); } catch {
    const a = firstAddress(value);
    return a ? [{ address: a, name: '' }] : [];
  }
}

function safeDecode(s: string | undefined): string {
  if (!s) return '';
  try { return decodeWords(s); } catch { return s; }
}

/**
 * Reads an incoming message. Never rejects: when the MIME structure is broken, the headers come from
 * our own reader and the text is the raw body, so the message still reaches a ticket.
 */
export async function parseMail(raw: Buffer, envelopeFrom: string | null, ourAddresses: string[]): Promise<ParsedMail> {
  const headers = readHeaders(raw);
  const base = {
    headers,
    messageId: parseMessageIds(headers.get('message-id'), 1)[0] ?? null,
    inReplyTo: parseMessageIds(headers.get('in-reply-to'), 10),
    references: parseMessageIds(headers.get('references'), 100),
    kind: classifyMail(headers, envelopeFrom, ourAddresses),
  };
  let parsed: Awaited<ReturnType<typeof PostalMime.parse>> | null = null;
  let parseError: string | null = null;
  try {
    parsed = await PostalMime.parse(raw, { maxNestingDepth: 50, maxHeadersSize: 512 * 1024 });
  } catch (err) {
    parseError = String((err as Error)?.message ?? err).slice(0, 300);
  }
  const from = addresses(parsed?.from ? [parsed.from] : [])[0] ?? headerAddresses(headers.get('from'))[0] ?? null;
  const replyTo = addresses(parsed?.replyTo ?? [])[0] ?? headerAddresses(headers.get('reply-to'))[0] ?? null;
  const cc = parsed ? addresses(parsed.cc ?? []) : headerAddresses(headers.get('cc'));
  const subject = (parsed?.subject ?? safeDecode(headers.get('subject'))).slice(0, 1000);
  const rawHtml = typeof parsed?.html === 'string' && parsed.html.trim() ? parsed.html : null;
  let fullText = typeof parsed?.text === 'string' && parsed.text.trim() ? parsed.text : rawHtml ? htmlToText(rawHtml) : '';
  if (!parsed) fullText = splitMessage(raw).body;
  fullText = fullText.replace(/\u0000/g, '').slice(0, MAX_TEXT);
  const attachments = (parsed?.attachments ?? [])
    .filter((a) => a.content !== undefined)
    .map((a, i) => ({
      filename: (a.filename ?? `attachment-${i + 1}`).replace(/[\u0000-\u001f\/\\]/g, '_').slice(0, 200) || `attachment-${i + 1}`,
      contentType: /^[a-z0-9.+-]+\/[a-z0-9.+-]+$/i.test(a.mimeType) ? a.mimeType.toLowerCase() : 'application/octet-stream',
      content: typeof a.content === 'string' ? Buffer.from(a.content, a.encoding === 'base64' ? 'base64' : 'utf8') : Buffer.from(a.content as ArrayBuffer),
    }));
  return {
    ...base, from, replyTo, cc, subject, fullText,
    text: trimQuoted(fullText),
    html: rawHtml ? sanitiseHtml(rawHtml) : null,
    attachments, parseError,
  };
}
