import type { VNode } from 'preact';

/**
 * Article and forum text as a few plain-text conventions (no HTML from authors, so nothing to
 * sanitise): blank lines separate paragraphs, "## " and "### " start headings, "- " lines make a list,
 * lines between ``` fences are code, and the inline marks below work within lines. Everything is
 * rendered through Preact, so it is escaped.
 */
// Inline marks: **bold**, *italic*, `code` and [a link](https://…) (web addresses only: no javascript:,
// no relative tricks). Anything else, an unclosed mark included, stays as typed.
const INLINE = /\*\*([^*\n]+)\*\*|\*([^*\s][^*\n]*)\*|`([^`\n]+)`|\[([^\]\n]+)\]\((https?:\/\/[^\s()<>]+)\)/g;

/** Text with its inline marks made into elements; Preact escapes every piece. */
export function inline(text: string): (string | VNode)[] {
  const out: (string | VNode)[] = [];
  let at = 0;
  for (const m of text.matchAll(INLINE)) {
    if (m.index > at) out.push(text.slice(at, m.index));
    if (m[1] !== undefined) out.push(<strong>{m[1]}</strong>);
    else if (m[2] !== undefined) out.push(<em>{m[2]}</em>);
    else if (m[3] !== undefined) out.push(<code>{m[3]}</code>);
    else out.push(<a href={m[5]} rel="nofollow ugc noopener">{m[4]}</a>);
    at = m.index + m[0].length;
  }
  if (at < text.length) out.push(text.slice(at));
  return out;
}

export function RichText({ text }: { text: string }) {
  const blocks: VNode[] = [];
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  let para: string[] = [];
  let list: string[] = [];
  const flushPara = () => { if (para.length) blocks.push(<p class="pre-wrap">{inline(para.join('\n'))}</p>); para = []; };
  const flushList = () => { if (list.length) blocks.push(<ul>{list.map((l) => <li>{inline(l)}</li>)}</ul>); list = []; };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('```')) {
      flushPara(); flushList();
      const code: string[] = [];
      for (i++; i < lines.length && !lines[i]!.startsWith('```'); i++) code.push(lines[i]!);
      blocks.push(<pre class="mono code-block">{code.join('\n')}</pre>);
      continue;
    }
    const h = /^(#{2,3})\s+(.+)$/.exec(line);
    if (h) { flushPara(); flushList(); blocks.push(h[1] === '##' ? <h2>{inline(h[2]!)}</h2> : <h3>{inline(h[2]!)}</h3>); continue; }
    const li = /^\s*[-*]\s+(.+)$/.exec(line);
    if (li) { flushPara(); list.push(li[1]!); continue; }
    if (!line.trim()) { flushPara(); flushList(); continue; }
    flushList();
    para.push(line);
  }
  flushPara(); flushList();
  return <div class="rich-text">{blocks}</div>;
}

/** Plain text for search-result snippets. */
export function excerpt(text: string, max = 200): string {
  const plain = text.replace(/```[\s\S]*?```/g, ' ').replace(/^#{2,3}\s+/gm, '').replace(INLINE, (_m, b, i, c, label) => b ?? i ?? c ?? label).replace(/\s+/g, ' ').trim();
  return plain.length > max ? `${plain.slice(0, max).replace(/\s+\S*$/, '')}…` : plain;
}
