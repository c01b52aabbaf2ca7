// What staff may read of a stored email. The outbox keeps each message as sent, and the messages carry
// what only their recipient may use: password-reset and confirmation links, unsubscribe and download
// links, licence keys. Shown in the admin as they are, anyone who may open the outbox could take over an
// account (a reset link for the owner's address) or a licence. Staff need to see what went where and
// whether it was delivered, not the secrets: those are hidden in what the page shows.

/** A path segment or query value long enough to be a token (ours are 24+ base64url characters). */
const TOKENISH = /^[A-Za-z0-9_-]{16,}$/;
const URL_IN_TEXT = /https?:\/\/[^\s<>"')\]]+/g;
const LICENCE_KEY = /\b[0-9A-HJKMNP-TV-Z]{5}(?:-[0-9A-HJKMNP-TV-Z]{5}){4}\b/g;
export const HIDDEN = '[hidden]';

function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return raw;
  }
  const path = url.pathname.split('/').map((seg) => (TOKENISH.test(decodeSafe(seg)) ? HIDDEN : seg)).join('/');
  const query = [...url.searchParams].map(([k, v]) => `${encodeURIComponent(k)}=${v.length >= 16 ? HIDDEN : encodeURIComponent(v)}`).join('&');
  return `${url.origin}${path}${query ? `?${query}` : ''}`;
}

function decodeSafe(seg: string): string {
  try {
    return decodeURIComponent(seg);
  } catch {
    return seg;
  }
}

/** The text with one-time links, tokens in URLs and licence keys replaced by "[hidden]". */
export function redactMailSecrets(text: string): string {
  return text.replace(URL_IN_TEXT, redactUrl).replace(LICENCE_KEY, HIDDEN);
}
