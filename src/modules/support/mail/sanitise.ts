/**
 * An allow-list HTML sanitiser for incoming mail. Only harmless formatting survives: no scripts, styles,
 * event handlers, forms, frames or remote images (which would also be tracking pixels); links keep only
 * http(s) and mailto targets. Everything unknown is dropped, text is escaped, and the output is always
 * well nested. Pages also send a strict Content-Security-Policy, so this is the second line, not the only.
 */
const ALLOWED = new Set(['a', 'b', 'strong', 'i', 'em', 'u', 's', 'p', 'br', 'div', 'span', 'ul', 'ol', 'li', 'blockquote', 'pre', 'code',
  'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'table', 'thead', 'tbody', 'tfoot', 'tr', 'td', 'th', 'caption', 'sub', 'sup', 'small']);
const VOID = new Set(['br', 'hr', 'img', 'meta', 'link', 'input', 'col', 'area', 'base', 'wbr', 'source', 'track', 'param', 'embed']);
/** Elements whose content is dropped with them (code, styles, other documents). */
const DROP_CONTENT = new Set(['script', 'style', 'head', 'title', 'iframe', 'object', 'noscript', 'template', 'svg', 'math', 'textarea', 'select', 'xml', 'frameset', 'noembed', 'applet']);
const MAX_INPUT = 512 * 1024;
const MAX_DEPTH = 64;

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', copy: '©', reg: '®', hellip: '…', mdash: '—', ndash: '–', rsquo: '’', lsquo: '‘', rdquo: '”', ldquo: '“', euro: '€', pound: '£', bull: '•' };

export function decodeEntities(s: string): string {
  return s.replace(/&(#\d{1,7}|#x[0-9a-f]{1,6}|[a-z]{2,8});?/gi, (all, e: string) => {
    if (e[0] === '#') {
      const cp = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? String.fromCodePoint(cp) : '\ufffd';
    }
    return NAMED[e.toLowerCase()] ?? all;
  });
}

type Token =
  | { t: 'text'; v: string }
  | { t: 'open'; name: string; attrs: Array<[string, string]>; selfClosing: boolean }
  | { t: 'close'; name: string };

/** Splits HTML into text and tags; comments, doctypes and processing instructions vanish. */
export function* tokenize(html: string): Generator<Token> {
  let i = 0;
  const n = html.length;
  while (i < n) {
    const lt = html.indexOf('<', i);
    if (lt === -1) { yield { t: 'text', v: html.slice(i) }; return; }
    if (lt > i) yield { t: 'text', v: html.slice(i, lt) };
    i = lt;
    if (html.startsWith('<!--', i)) { const end = html.indexOf('-->', i + 4); i = end === -1 ? n : end + 3; continue; }
    if (html[i + 1] === '!' || html[i + 1] === '?') { const end = html.indexOf('>', i); i = end === -1 ? n : end + 1; continue; }
    const m = /^<(\/?)([a-zA-Z][a-zA-Z0-9:-]{0,30})/.exec(html.slice(i, i + 40));
    if (!m) { yield { t: 'text', v: '<' }; i++; continue; }
    // Read to the closing '>' outside quotes.
    let j = i + m[0].length;
    let quote: string | null = null;
    while (j < n) {
      const c = html[j]!;
      if (quote) { if (c === quote) quote = null; } else if (c === '"' || c === "'") quote = c; else if (c === '>') break;
      j++;
    }
    const inner = html.slice(i + m[0].length, j);
    i = j + 1;
    const name = m[2]!.toLowerCase();
    if (m[1]) { yield { t: 'close', name }; continue; }
    const attrs: Array<[string, string]> = [];
    for (const a of inner.matchAll(/([^\s"'>\/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g)) {
      if (attrs.length < 20) attrs.push([a[1]!.toLowerCase(), decodeEntities(a[2] ?? a[3] ?? a[4] ?? '')]);
    }
    yield { t: 'open', name, attrs, selfClosing: /\/\s*$/.test(inner) };
  }
}

function safeHref(v: string): string | null {
  const s = v.replace(/[\u0000-\u0020\u007f-\u009f]/g, '');
  return /^(https?:\/\/|mailto:)/i.test(s) && s.length < 2000 ? s : null;
}

const escapeText = (s: string) => esc(decodeEntities(s.replace(/\u0000/g, '')));

export function sanitiseHtml(input: string): string {
  const html = input.slice(0, MAX_INPUT);
  const out: string[] = [];
  const stack: string[] = [];
  let dropping: string | null = null;
  for (const tok of tokenize(html)) {
    if (dropping) {
      if (tok.t === 'close' && tok.name === dropping) dropping = null;
      continue;
    }
    if (tok.t === 'text') { out.push(escapeText(tok.v)); continue; }
    if (tok.t === 'open') {
      if (DROP_CONTENT.has(tok.name)) { if (!tok.selfClosing && !VOID.has(tok.name)) dropping = tok.name; continue; }
      if (!ALLOWED.has(tok.name)) continue;
      let attrs = '';
      if (tok.name === 'a') {
        const href = safeHref(tok.attrs.find(([k]) => k === 'href')?.[1] ?? '');
        attrs = href ? ` href="${esc(href)}" rel="nofollow noopener noreferrer"` : '';
      } else if (tok.name === 'td' || tok.name === 'th') {
        for (const [k, v] of tok.attrs) if ((k === 'colspan' || k === 'rowspan') && /^\d{1,2}$/.test(v)) attrs += ` ${k}="${v}"`;
      }
      if (VOID.has(tok.name)) { out.push(`<${tok.name}>`); continue; }
      if (stack.length >= MAX_DEPTH) continue;
      out.push(`<${tok.name}${attrs}>`);
      stack.push(tok.name);
      continue;
    }
    // A closing tag closes the nearest open one of that name (and what was left open inside it).
    const at = stack.lastIndexOf(tok.name);
    if (at === -1) continue;
    while (stack.length > at) out.push(`</${stack.pop()}>`);
  }
  while (stack.length) out.push(`</${stack.pop()}>`);
  return out.join('');
}

const BLOCK = new Set(['p', 'div', 'br', 'li', 'tr', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'pre', 'table', 'ul', 'ol', 'blockquote']);

/** Plain text from HTML (for HTML-only mail): block ends become line breaks, blockquotes become "> " lines. */
export function htmlToText(input: string): string {
  const lines: string[] = [];
  let line = '';
  let quoteDepth = 0;
  let dropping: string | null = null;
  const flush = () => { lines.push('> '.repeat(quoteDepth) + line.replace(/[ \t\u00a0]+/g, ' ').trim()); line = ''; };
  for (const tok of tokenize(input.slice(0, MAX_INPUT))) {
    if (dropping) { if (tok.t === 'close' && tok.name === dropping) dropping = null; continue; }
    if (tok.t === 'text') { line += decodeEntities(tok.v.replace(/\s+/g, ' ')); continue; }
    if (tok.t === 'open' && DROP_CONTENT.has(tok.name)) { if (!tok.selfClosing && !VOID.has(tok.name)) dropping = tok.name; continue; }
    if (tok.name === 'a' && tok.t === 'close') continue;
    if (BLOCK.has(tok.name)) {
      if (line.trim() || tok.name === 'br') flush();
      if (tok.name === 'blockquote') quoteDepth = Math.max(0, quoteDepth + (tok.t === 'open' ? 1 : -1));
    }
  }
  if (line.trim()) flush();
  return lines.join('\n').replace(/\n{3,}/g, '\n\n').trim();
}
