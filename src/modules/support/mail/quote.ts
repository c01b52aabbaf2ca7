/**
 * Cuts the quoted history off a reply, so a ticket shows what was newly written. When cutting would
 * leave nothing (a reply written inline, or a forward), the whole text is kept: losing words is worse
 * than showing a quote twice. The raw message is always kept besides.
 */
export const REPLY_ABOVE = '##- Please type your reply above this line -##';

const SEPARATORS: RegExp[] = [
  /^\s*##- Please type your reply above this line -##/,
  /^\s*-{2,}\s*Original Message\s*-{2,}/i,
  /^\s*-{2,}\s*Forwarded message\s*-{2,}/i,
  /^\s*_{20,}\s*$/,
  /^\s*On\b.{0,300}\bwrote:\s*$/,
  /^\s*Le\b.{0,300}\ba écrit\s?:\s*$/,
  /^\s*Am\b.{0,300}\bschrieb\b.{0,300}:\s*$/,
  /^\s*El\b.{0,300}\bescribió:\s*$/,
];

function isOutlookHeader(lines: string[], i: number): boolean {
  if (!/^\s*\*?From:\*?\s.+/.test(lines[i]!)) return false;
  return lines.slice(i + 1, i + 5).some((l) => /^\s*\*?(Sent|Date|To|Subject):\*?\s/.test(l));
}

export function trimQuoted(input: string): string {
  const text = input.replace(/\r\n?/g, '\n');
  const lines = text.split('\n');
  let cut = lines.length;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    // "On Mon, 1 Dec 2026 at 10:00, Ann <ann@example.com>\nwrote:" is often wrapped over two lines.
    const joined = i + 1 < lines.length && /^\s*On\b/.test(line) && /^\s*\S*.*wrote:\s*$/.test(lines[i + 1]!) ? `${line} ${lines[i + 1]}` : line;
    if (SEPARATORS.some((re) => re.test(joined) || re.test(line)) || isOutlookHeader(lines, i)) { cut = i; break; }
  }
  const kept = lines.slice(0, cut);
  // Trailing quoted lines ("> …") and blank lines at the end go too.
  while (kept.length && (/^\s*>/.test(kept[kept.length - 1]!) || kept[kept.length - 1]!.trim() === '')) kept.pop();
  const result = kept.join('\n').trim();
  return result || text.trim();
}
