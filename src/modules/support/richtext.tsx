import type { VNode } from 'preact';

/**
 * Article and forum text as a few plain-text conventions (no HTML from authors, so nothing to
 * sanitise): blank lines separate paragraphs, "## " and "### " start headings, "- " lines make a list,
 * and lines between ``` fences are code. Everything is rendered through Preact, so it is escaped.
 */
export function RichText({ text }: { text: string }) {
  const blocks: VNode[] = [];
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  let para: string[] = [];
  let list: string[] = [];
  const flushPara = () => { if (para.length) blocks.push(<p class="pre-wrap">{para.join('\n')}</p>); para = []; };
  const flushList = () => { if (list.length) blocks.push(<ul>{list.map((l) => <li>{l}</li>)}</ul>); list = []; };
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
    if (h) { flushPara(); flushList(); blocks.push(h[1] === '##' ? <h2>{h[2]}</h2> : <h3>{h[2]}</h3>); continue; }
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
  const plain = text.replace(/```[\s\S]*?```/g, ' ').replace(/^#{2,3}\s+/gm, '').replace(/\s+/g, ' ').trim();
  return plain.length > max ? `${plain.slice(0, max).replace(/\s+\S*$/, '')}…` : plain;
}
