import type { Kernel } from '../../kernel/context.js';
import type { OutgoingMail } from '../../kernel/mail/mailer.js';
import { renderEmail } from '../../kernel/mail/template.js';
import type { Brand } from '../../kernel/views/brand.js';
import type { ListDef } from './lists.js';
import { unsubscribeToken, verpAddress } from './tokens.js';

/**
 * Builds one list message for one recipient. Every list message carries a visible unsubscribe link, the
 * RFC 8058 headers (signed by DKIM when a key is set), a link to the preference page, and a per-recipient
 * return path (VERP) so a bounce names the subscriber. No tracking: no pixels, links go where they say.
 */
export interface ListMailInput {
  subscriberId: string;
  email: string;
  list: ListDef;
  subject: string;
  body: { html: string; text: string };
  brand: Brand;
  identity: { from: string; domain: string };
}

export function listLinks(k: Kernel, subscriberId: string, list: ListDef, domain: string) {
  const token = unsubscribeToken(k.secrets, subscriberId, list.id);
  return {
    token,
    unsubscribeUrl: `${k.config.publicUrl}/u/${token}`,
    preferencesUrl: `${k.config.publicUrl}/email/preferences/${token}`,
    mailto: `unsub+${token}@${domain}`,
  };
}

export function composeListMail(k: Kernel, m: ListMailInput): OutgoingMail {
  const links = listLinks(k, m.subscriberId, m.list, m.identity.domain);
  const prefsText = `Choose which emails you get from us: ${links.preferencesUrl}`;
  const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
  const { text, html } = renderEmail({
    brandName: m.brand.name, heading: m.subject, paragraphs: [],
    body: {
      html: `${m.body.html}\n<p style="font-size:13px;color:#52606d"><a href="${esc(links.preferencesUrl)}">Choose which emails you get from us</a></p>`,
      text: `${m.body.text}\n\n${prefsText}`,
    },
    reason: m.list.reason, senderAddress: m.brand.address,
    stop: { label: `Unsubscribe from the ${m.list.name.toLowerCase()}`, url: links.unsubscribeUrl },
  });
  return {
    to: m.email, subject: m.subject, text, html, category: `newsletter.${m.list.id}`, from: m.identity.from,
    envelopeFrom: verpAddress(k.secrets, m.subscriberId, m.identity.domain),
    headers: {
      'List-Unsubscribe': `<${links.unsubscribeUrl}>, <mailto:${links.mailto}?subject=unsubscribe>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      'List-Id': `${m.list.name} <${m.list.id}.${m.identity.domain}>`,
    },
  };
}
