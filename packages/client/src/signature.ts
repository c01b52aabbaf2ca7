import { createPublicKey, verify, type KeyObject } from 'node:crypto';

/** A public key the program trusts, as listed by `GET /api/v1/keys`. */
export interface PinnedKey {
  kid: string;
  /** Base64 of the 32 raw Ed25519 public-key bytes. */
  publicKey: string;
}

export type SignatureCheck = { ok: true; kid: string } | { ok: false; reason: string };

export const SIGNATURE_HEADER = 'keyward-signature';

/** DER prefix of an Ed25519 SubjectPublicKeyInfo; the 32 raw key bytes follow it (RFC 8410). */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

// KeyObjects are cached by their base64 text: verifying thousands of answers (the simulator)
// should not re-parse the same DER each time.
const keyObjects = new Map<string, KeyObject>();

/** Turns a pinned key into a KeyObject; throws on anything but 32 bytes of base64. */
export function ed25519PublicKey(publicKeyBase64: string): KeyObject {
  const cached = keyObjects.get(publicKeyBase64);
  if (cached) return cached;
  const raw = Buffer.from(publicKeyBase64, 'base64');
  if (raw.length !== 32) {
    throw new TypeError(`a pinned Ed25519 public key must be 32 bytes of base64, got ${raw.length} bytes`);
  }
  const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
  keyObjects.set(publicKeyBase64, key);
  return key;
}

/** Parses `keyid="…", algorithm="…", signature="…"`; returns undefined when malformed. */
export function parseSignatureHeader(header: string): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  const pattern = /\s*([A-Za-z]+)="([^"]*)"\s*(?:,|$)/y;
  let match: RegExpExecArray | null;
  while (pattern.lastIndex < header.length && (match = pattern.exec(header)) !== null) {
    params[match[1].toLowerCase()] = match[2];
  }
  return pattern.lastIndex === header.length || header.length === 0 ? params : undefined;
}

/**
 * Checks a `Keyward-Signature` header against the exact bytes that were signed.
 * Only pinned keys count: a key the answer names but the program does not know is refused,
 * so a man in the middle cannot bring his own key.
 */
export function verifySignature(
  bodyBytes: Uint8Array,
  header: string | null | undefined,
  pinnedKeys: readonly PinnedKey[],
): SignatureCheck {
  if (!header) return { ok: false, reason: 'no Keyward-Signature header' };
  const params = parseSignatureHeader(header);
  if (!params || !params.keyid || !params.signature) {
    return { ok: false, reason: 'malformed Keyward-Signature header' };
  }
  if (params.algorithm !== 'ed25519') {
    return { ok: false, reason: `unsupported algorithm ${JSON.stringify(params.algorithm)}` };
  }
  const pinned = pinnedKeys.find((key) => key.kid === params.keyid);
  if (!pinned) return { ok: false, reason: `unknown key id ${JSON.stringify(params.keyid)}` };
  const signature = Buffer.from(params.signature, 'base64');
  if (signature.length !== 64) return { ok: false, reason: 'signature is not 64 bytes' };
  const good = verify(null, bodyBytes, ed25519PublicKey(pinned.publicKey), signature);
  return good ? { ok: true, kid: pinned.kid } : { ok: false, reason: 'signature does not match the body' };
}
