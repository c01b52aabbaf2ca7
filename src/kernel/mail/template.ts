/**
 * Every email Keyward sends has a plain-text and an HTML part, the vendor's branding, and a footer that
 * says who sent it and why (and how to stop it, where that applies).
 */
export interface EmailContent {
  brandName: string;
  heading: string;
  paragraphs: string[];
  /**
   * Content a module has already rendered to safe HTML (e.g. from Markdown, every value escaped), with its
   * plain-text twin; placed after the paragraphs. Only pass HTML built by an escaping renderer.
   */
  body?: { html: string; text: string };
  action?: { label: string; url: string };
  /** Why the recipient gets this ("You asked to reset your password."), shown in the footer. */
  reason: string;
  /** How to stop this kind of mail, where the law asks for it. */
  stop?: { label: string; url: string };
  senderAddress?: string;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function renderEmail(c: EmailContent): { text: string; html: string } {
  const text = [
    c.heading, '',
    ...c.paragraphs.flatMap((p) => [p, '']),
    ...(c.body ? [c.body.text.trimEnd(), ''] : []),
    ...(c.action ? [`${c.action.label}: ${c.action.url}`, ''] : []),
    '-- ',
    `${c.brandName}${c.senderAddress ? `, ${c.senderAddress}` : ''}`,
    c.reason,
    ...(c.stop ? [`${c.stop.label}: ${c.stop.url}`] : []),
  ].join('\n');
  const html = `<!doctype html><html><body style="font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1f2933;max-width:600px;margin:0 auto;padding:24px">
<p style="font-weight:700;font-size:18px;margin:0 0 16px">${esc(c.brandName)}</p>
<h1 style="font-size:20px;margin:0 0 16px">${esc(c.heading)}</h1>
${c.paragraphs.map((p) => `<p style="line-height:1.5">${esc(p).replace(/\n/g, '<br>')}</p>`).join('\n')}
${c.body ? `<div style="line-height:1.5">${c.body.html}</div>` : ''}
${c.action ? `<p style="margin:24px 0"><a href="${esc(c.action.url)}" style="background:#1d4ed8;color:#fff;padding:10px 16px;border-radius:6px;text-decoration:none">${esc(c.action.label)}</a></p><p style="font-size:13px;color:#52606d">Or copy this address: ${esc(c.action.url)}</p>` : ''}
<hr style="border:0;border-top:1px solid #e4e7eb;margin:24px 0">
<p style="font-size:12px;color:#52606d">${esc(c.brandName)}${c.senderAddress ? `, ${esc(c.senderAddress)}` : ''}<br>${esc(c.reason)}${c.stop ? `<br><a href="${esc(c.stop.url)}">${esc(c.stop.label)}</a>` : ''}</p>
</body></html>`;
  return { text, html };
}
