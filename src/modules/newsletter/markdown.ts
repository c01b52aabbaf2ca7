/**
 * A small, safe Markdown renderer for blog posts and newsletters: headings, paragraphs, emphasis, links,
 * lists, block quotes, rules and code. Everything else is text: every character of the source is escaped,
 * raw HTML never passes through, and links are kept only for http(s), mailto, site paths and anchors.
 * One parse feeds two renderers, HTML (pages, feeds, email) and plain text (the email's text part).
 */
export type Block =
  | { t: 'h'; level: number; text: string }
  | { t: 'p'; text: string }
  | { t: 'code'; lang: string; code: string }
  | { t: 'list'; ordered: boolean; start: number; items: Block[][] }
  | { t: 'quote'; children: Block[] }
  | { t: 'hr' };

export interface RenderOptions {
  /** Added to heading levels (a post's `#` becomes `<h2>` inside a newsletter), capped at 6. */
  headingOffset?: number;
  /** Makes site paths (`/blog/x`) absolute, for email and feeds where a relative link goes nowhere. */
  baseUrl?: string;
}

const MAX_DEPTH = 8;
const FENCE = /^ {0,3}(`{3,}|~{3,})[ \t]*([A-Za-z0-9_+-]*)[ \t]*$/;
const HEADING = /^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/;
const RULE = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const QUOTE = /^ {0,3}> ?(.*)$/;
const ITEM = /^( {0,3})([-*+]|\d{1,9}[.)])( {1,4})(.*)$/;
const EMPTY_ITEM = /^( {0,3})([-*+]|\d{1,9}[.)])$/;

const isBlank = (l: string) => /^[ \t]*$/.test(l);
const startsBlock = (l: string) => FENCE.test(l) || HEADING.test(l) || RULE.test(l) || QUOTE.test(l) || ITEM.test(l);

export function parseMarkdown(source: string, depth = 0): Block[] {
  // NUL is our placeholder mark in inline rendering; tabs become spaces so indentation is one unit.
  const lines = source.replace(/\r\n?/g, '\n').replace(/\u0000/g, '').replace(/\t/g, '    ').split('\n');
  const blocks: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (isBlank(line)) { i++; continue; }
    let m: RegExpExecArray | null;
    if ((m = FENCE.exec(line))) {
      const fence = m[1]!;
      const code: string[] = [];
      i++;
      while (i < lines.length && !new RegExp(`^ {0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}[ \\t]*$`).test(lines[i]!)) code.push(lines[i++]!);
      i++;
      blocks.push({ t: 'code', lang: m[2]!.toLowerCase(), code: code.join('\n') });
    } else if ((m = HEADING.exec(line))) {
      blocks.push({ t: 'h', level: m[1]!.length, text: m[2]! });
      i++;
    } else if (RULE.test(line)) {
      blocks.push({ t: 'hr' });
      i++;
    } else if (QUOTE.test(line) && depth < MAX_DEPTH) {
      const inner: string[] = [];
      while (i < lines.length && (m = QUOTE.exec(lines[i]!))) { inner.push(m[1]!); i++; }
      blocks.push({ t: 'quote', children: parseMarkdown(inner.join('\n'), depth + 1) });
    } else if ((m = ITEM.exec(line)) && depth < MAX_DEPTH) {
      i = parseList(lines, i, depth, blocks);
    } else {
      const para: string[] = [line.trim()];
      i++;
      while (i < lines.length && !isBlank(lines[i]!) && !startsBlock(lines[i]!)) para.push(lines[i++]!.trim());
      blocks.push({ t: 'p', text: para.join('\n') });
    }
  }
  return blocks;
}

function parseList(lines: string[], start: number, depth: number, out: Block[]): number {
  const first = ITEM.exec(lines[start]!)!;
  const ordered = /\d/.test(first[2]!);
  const items: string[][] = [];
  let i = start;
  let indent = 0;
  let sawBlank = false;
  while (i < lines.length) {
    const line = lines[i]!;
    const m = ITEM.exec(line) ?? EMPTY_ITEM.exec(line);
    if (m && /\d/.test(m[2]!) === ordered && (items.length === 0 || m[1]!.length < indent)) {
      indent = m[1]!.length + m[2]!.length + (m[3]?.length ?? 1);
      items.push([m[4] ?? '']);
      sawBlank = false;
      i++;
      continue;
    }
    if (isBlank(line)) { sawBlank = true; items[items.length - 1]!.push(''); i++; continue; }
    const lead = line.length - line.trimStart().length;
    if (lead >= indent) { items[items.length - 1]!.push(line.slice(indent)); sawBlank = false; i++; continue; }
    // A lazy continuation line belongs to the item's last paragraph; after a blank line the list is over.
    if (!sawBlank && !startsBlock(line)) { items[items.length - 1]!.push(line.trim()); i++; continue; }
    break;
  }
  const startNo = ordered ? Math.min(Number.parseInt(first[2]!, 10), 999_999_999) : 1;
  out.push({ t: 'list', ordered, start: startNo, items: items.map((it) => parseMarkdown(it.join('\n'), depth + 1)) });
  return i;
}

// ---- inline ----

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Only links that cannot run script or leave for an unexpected scheme survive. */
export function safeUrl(raw: string, baseUrl?: string): string | null {
  const u = raw.trim();
  if (/[\u0000-\u001f\u007f\s]/.test(u)) return null;
  if (/^(https?:\/\/[^/?#\s]+|mailto:[^\s]+@)/i.test(u)) return u;
  if (/^\/(?![/\\])/.test(u)) return baseUrl ? baseUrl.replace(/\/+$/, '') + u : u;
  if (/^#[\w-]*$/.test(u)) return u;
  return null;
}

const CODE_SPAN = /(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/g;
const ESCAPED = /\\([\\`*_{}[\]()#+\-.!>~|<])/g;
const AUTOLINK = /<((?:https?:\/\/|mailto:)[^\s<>]+)>/g;
const LINK = /\[([^\]\n]+)\]\(\s*([^\s()]+)(?:\s+"([^"\n]*)")?\s*\)/g;
// NUL marks held pieces (code spans, escapes); a URL never runs into one.
const BARE_URL = /\bhttps?:\/\/[^\s<>"'()[\]\u0000]*[^\s<>"'()[\].,;:!?\u0000]/g;

function emphasis(escaped: string): string {
  return escaped
    .replace(/\*\*(?!\s)([^*]+?)(?<!\s)\*\*/g, '<strong>$1</strong>')
    .replace(/(^|[^\w])__(?!\s)([^_]+?)(?<!\s)__(?!\w)/g, '$1<strong>$2</strong>')
    .replace(/\*(?!\s)([^*]+?)(?<!\s)\*/g, '<em>$1</em>')
    .replace(/(^|[^\w])_(?!\s)([^_]+?)(?<!\s)_(?!\w)/g, '$1<em>$2</em>')
    .replace(/~~(?!\s)([^~]+?)(?<!\s)~~/g, '<del>$1</del>');
}

export function inlineHtml(text: string, opts: RenderOptions = {}): string {
  const slots: string[] = [];
  const hold = (html: string) => `\u0000${slots.push(html) - 1}\u0000`;
  const plain = (s: string) => emphasis(esc(s));
  let s = text.replace(/\u0000/g, '');
  s = s.replace(CODE_SPAN, (_a, _t, code: string) => hold(`<code>${esc(code.replace(/\n/g, ' ').trim())}</code>`));
  s = s.replace(ESCAPED, (_a, c: string) => hold(esc(c)));
  s = s.replace(AUTOLINK, (_a, url: string) => {
    const href = safeUrl(url, opts.baseUrl);
    return hold(href ? `<a href="${esc(href)}">${esc(url)}</a>` : esc(url));
  });
  s = s.replace(LINK, (_a, label: string, url: string, title?: string) => {
    const href = safeUrl(url, opts.baseUrl);
    if (!href) return hold(plain(label));
    const t = title && !title.includes('\u0000') ? ` title="${esc(title)}"` : '';
    return hold(`<a href="${esc(href)}"${t}>${plain(label)}</a>`);
  });
  s = s.replace(BARE_URL, (url) => hold(`<a href="${esc(url)}">${esc(url)}</a>`));
  s = plain(s).replace(/\n/g, ' ');
  // Held pieces may themselves hold pieces (a code span inside a link label): restore until none remain.
  for (let n = 0; n < 5 && s.includes('\u0000'); n++) s = s.replace(/\u0000(\d+)\u0000/g, (_a, k: string) => slots[Number(k)] ?? '');
  return s.replace(/\u0000/g, '');
}

export function inlineText(text: string, opts: RenderOptions = {}): string {
  const slots: string[] = [];
  const hold = (t: string) => `\u0000${slots.push(t) - 1}\u0000`;
  let s = text.replace(/\u0000/g, '');
  s = s.replace(CODE_SPAN, (_a, _t, code: string) => hold(code.trim()));
  s = s.replace(ESCAPED, (_a, c: string) => hold(c));
  s = s.replace(AUTOLINK, (_a, url: string) => hold(url));
  s = s.replace(LINK, (_a, label: string, url: string) => {
    const href = safeUrl(url, opts.baseUrl);
    const l = stripEmphasis(label);
    return hold(href && href !== l && !href.startsWith('#') ? `${l} (${href})` : l);
  });
  s = stripEmphasis(s).replace(/\n/g, ' ');
  for (let n = 0; n < 5 && s.includes('\u0000'); n++) s = s.replace(/\u0000(\d+)\u0000/g, (_a, k: string) => slots[Number(k)] ?? '');
  return s;
}

function stripEmphasis(s: string): string {
  return s.replace(/\*\*(?!\s)([^*]+?)(?<!\s)\*\*/g, '$1').replace(/(^|[^\w])__(?!\s)([^_]+?)(?<!\s)__(?!\w)/g, '$1$2')
    .replace(/\*(?!\s)([^*]+?)(?<!\s)\*/g, '$1').replace(/(^|[^\w])_(?!\s)([^_]+?)(?<!\s)_(?!\w)/g, '$1$2').replace(/~~([^~]+?)~~/g, '$1');
}

// ---- block renderers ----

function blocksHtml(blocks: Block[], opts: RenderOptions, tight = false): string {
  return blocks.map((b) => {
    switch (b.t) {
      case 'h': { const l = Math.min(6, b.level + (opts.headingOffset ?? 0)); return `<h${l}>${inlineHtml(b.text, opts)}</h${l}>`; }
      case 'p': return tight ? inlineHtml(b.text, opts) : `<p>${inlineHtml(b.text, opts)}</p>`;
      case 'code': return `<pre><code${b.lang ? ` class="language-${esc(b.lang)}"` : ''}>${esc(b.code)}</code></pre>`;
      case 'hr': return '<hr>';
      case 'quote': return `<blockquote>${blocksHtml(b.children, opts)}</blockquote>`;
      case 'list': {
        const tag = b.ordered ? 'ol' : 'ul';
        const start = b.ordered && b.start !== 1 ? ` start="${b.start}"` : '';
        const items = b.items.map((it) => `<li>${blocksHtml(it, opts, it.length === 1 && it[0]!.t === 'p')}</li>`).join('');
        return `<${tag}${start}>${items}</${tag}>`;
      }
    }
  }).join('\n');
}

function blocksText(blocks: Block[], opts: RenderOptions): string {
  return blocks.map((b) => {
    switch (b.t) {
      case 'h': {
        const t = inlineText(b.text, opts);
        const level = b.level + (opts.headingOffset ?? 0);
        return level <= 2 ? `${t}\n${(level === 1 ? '=' : '-').repeat(Math.min(t.length, 72))}` : t;
      }
      case 'p': return inlineText(b.text, opts);
      case 'code': return b.code.split('\n').map((l) => `    ${l}`).join('\n');
      case 'hr': return '----';
      case 'quote': return blocksText(b.children, opts).split('\n').map((l) => `> ${l}`).join('\n');
      case 'list': return b.items.map((it, n) => {
        const marker = b.ordered ? `${b.start + n}. ` : '- ';
        const body = blocksText(it, opts).split('\n');
        return body.map((l, k) => (k === 0 ? marker + l : ' '.repeat(marker.length) + l)).join('\n');
      }).join('\n');
    }
  }).join('\n\n');
}

export function markdownToHtml(source: string, opts: RenderOptions = {}): string {
  return blocksHtml(parseMarkdown(source), opts);
}

export function markdownToText(source: string, opts: RenderOptions = {}): string {
  return blocksText(parseMarkdown(source), opts);
}

/** The first paragraph as plain text, shortened: a post's summary when staff leave it empty. */
export function excerpt(source: string, max = 280): string {
  const p = parseMarkdown(source).find((b) => b.t === 'p') as { text: string } | undefined;
  // A summary names links by their label only: a bare address in a list of posts reads as noise.
  const t = p ? inlineText(p.text.replace(LINK, (_a, label: string) => label)) : '';
  return t.length > max ? t.slice(0, max - 1).replace(/\s+\S*$/, '') + '…' : t;
}
