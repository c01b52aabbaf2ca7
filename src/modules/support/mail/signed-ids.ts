import crypto from 'node:crypto';
import type { Secrets } from '../../../kernel/crypto/secrets.js';
import { safeEqual } from '../../../kernel/crypto/tokens.js';

/**
 * Our outgoing Message-IDs carry the ticket number and the recipient (a participant `p…` or a staff
 * member `s…`) plus an HMAC, so a reply's In-Reply-To/References can be trusted without a database
 * look-up, and nobody can forge one to slip a message into someone else's ticket.
 *   <1001.p<uuid>.<nonce>.<mac>@support.example.com>
 */
export type RecipientKind = 'p' | 's';
export interface SignedRef { number: number; recipientKind: RecipientKind; recipientId: string }

const PURPOSE = 'support-message-id';
const MARKER_PURPOSE = 'support-body-marker';
const ID_RE = /^(\d{1,9})\.([ps])([0-9a-f-]{36})\.([A-Za-z0-9_-]{8})\.([A-Za-z0-9_-]{22})@[^@\s]+$/;

export function signedMessageId(secrets: Secrets, ref: SignedRef, domain: string): string {
  const nonce = crypto.randomBytes(6).toString('base64url');
  const base = `${ref.number}.${ref.recipientKind}${ref.recipientId}.${nonce}`;
  return `${base}.${secrets.hmacB64(PURPOSE, base).slice(0, 22)}@${domain}`;
}

/** The ticket and recipient of one of our Message-IDs (without angle brackets), or null if not ours. */
export function verifyMessageId(secrets: Secrets, id: string): SignedRef | null {
  const m = ID_RE.exec(id);
  if (!m) return null;
  const base = `${m[1]}.${m[2]}${m[3]}.${m[4]}`;
  if (!safeEqual(m[5]!, secrets.hmacB64(PURPOSE, base).slice(0, 22))) return null;
  return { number: Number(m[1]), recipientKind: m[2] as RecipientKind, recipientId: m[3]! };
}

/**
 * The marker in our emails' text ("Ticket reference: 1001-AbC…"): mail clients that drop the threading
 * headers still quote it, so a reply that quotes it finds its ticket.
 */
const markerMac = (secrets: Secrets, number: number) => secrets.hmacB64(MARKER_PURPOSE, String(number)).slice(0, 12);

export function bodyMarker(secrets: Secrets, number: number): string {
  return `${number}-${markerMac(secrets, number)}`;
}

export function findBodyMarker(secrets: Secrets, text: string): number | null {
  for (const m of text.slice(0, 200_000).matchAll(/Ticket reference: (\d{1,9})-([A-Za-z0-9_-]{12})/g)) {
    if (safeEqual(m[2]!, markerMac(secrets, Number(m[1])))) return Number(m[1]);
  }
  return null;
}
