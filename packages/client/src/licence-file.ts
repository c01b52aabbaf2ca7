import { verify } from 'node:crypto';
import type { LicenceDetails } from './answer.js';
import { KeywardClientError } from './errors.js';
import { ed25519PublicKey, type PinnedKey } from './signature.js';

/** What a verified offline licence file grants (spec/callhome.md, "POST /api/v1/licence-file"). */
export interface LicenceFilePayload {
  licence: LicenceDetails;
  computerId: string;
  nonce: string;
  issuedAt: string;
  expiresAt: string;
}

export interface LicenceFileExpectations {
  /** This machine's computer ID: a file issued for another machine is refused. */
  computerId: string;
  now?: Date;
}

const BLOCK = /-----BEGIN KEYWARD LICENCE FILE-----([\s\S]*?)-----END KEYWARD LICENCE FILE-----/;

function invalid(message: string): KeywardClientError {
  return new KeywardClientError('LICENCE_FILE_INVALID', message);
}

function decodeJson(base64: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(base64, 'base64').toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Verifies an offline licence file and returns its payload. The signature covers the decoded
 * payload bytes, so the check runs on those bytes, then on the payload's `expiresAt` and
 * `computerId` (a file copied to another PC, or kept past its date, is refused).
 */
export function verifyLicenceFile(
  text: string,
  pinnedKeys: readonly PinnedKey[],
  expected: LicenceFileExpectations,
): LicenceFilePayload {
  const block = BLOCK.exec(text);
  if (!block) throw invalid('no KEYWARD LICENCE FILE block');
  const envelope = decodeJson(block[1].replace(/\s+/g, ''));
  if (!envelope || typeof envelope.payload !== 'string' || typeof envelope.signature !== 'string') {
    throw invalid('the licence file block does not decode');
  }
  if (envelope.alg !== 'ed25519') throw invalid(`unsupported algorithm ${JSON.stringify(envelope.alg)}`);
  const pinned = pinnedKeys.find((key) => key.kid === envelope.kid);
  if (!pinned) throw invalid(`unknown key id ${JSON.stringify(envelope.kid)}`);

  const payloadBytes = Buffer.from(envelope.payload, 'base64');
  const signature = Buffer.from(envelope.signature, 'base64');
  if (signature.length !== 64 || !verify(null, payloadBytes, ed25519PublicKey(pinned.publicKey), signature)) {
    throw invalid('the licence file signature does not verify');
  }

  const payload = decodeJson(envelope.payload) as Partial<LicenceFilePayload> | undefined;
  if (!payload || typeof payload.expiresAt !== 'string' || typeof payload.computerId !== 'string' || !payload.licence) {
    throw invalid('the licence file payload lacks expiresAt, computerId or licence');
  }
  const expiresAt = Date.parse(payload.expiresAt);
  const now = expected.now ?? new Date();
  if (Number.isNaN(expiresAt) || expiresAt <= now.getTime()) {
    throw new KeywardClientError('LICENCE_FILE_EXPIRED', `the licence file expired at ${payload.expiresAt}`);
  }
  if (payload.computerId !== expected.computerId) {
    throw new KeywardClientError('LICENCE_FILE_WRONG_COMPUTER', 'the licence file was issued for another computer');
  }
  return payload as LicenceFilePayload;
}
