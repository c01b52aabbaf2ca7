import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { asCallhomeAnswer, parseJson, type CallhomeAnswer } from './answer.js';
import { verifySignature, type PinnedKey } from './signature.js';

/** A verified answer together with the exact bytes and header it was verified from. */
export interface SignedAnswer {
  answer: CallhomeAnswer;
  body: Uint8Array;
  signature: string;
}

/**
 * On disk the cache keeps the raw body (base64) and the signature header, never a parsed copy:
 * at load the signature is checked again, so editing the file (say, pushing `offlineUntil` out)
 * makes it worthless instead of trusted.
 */
interface CacheFile {
  format: 1;
  body: string;
  signature: string;
  /** Which licence key the answer is for (licenceTag); absent in files written by SDK 0.1.0. */
  licence?: string;
}

/**
 * The licence key as the server compares it (spec: "Licence keys"), hashed: the signed answer names
 * neither key nor computer, so the file says which key it belongs to. A program configured with another
 * key (a typo, or a cache copied from elsewhere) does not run offline on this one.
 */
export function licenceTag(key: string): string {
  const normalised = key.toUpperCase().replace(/[\s-]+/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  return createHash('sha256').update(`keyward-offline-cache\n${normalised}`).digest('hex');
}

/** Reads and re-verifies the cache; anything missing, unreadable or tampered is simply no cache. */
export async function loadOfflineCache(path: string, pinnedKeys: readonly PinnedKey[], licence?: string): Promise<SignedAnswer | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const file = parseJson(Buffer.from(text, 'utf8')) as Partial<CacheFile> | undefined;
  if (!file || file.format !== 1 || typeof file.body !== 'string' || typeof file.signature !== 'string') {
    return undefined;
  }
  if (licence !== undefined && file.licence !== undefined && file.licence !== licenceTag(licence)) return undefined;
  const body = Buffer.from(file.body, 'base64');
  if (!verifySignature(body, file.signature, pinnedKeys).ok) return undefined;
  const answer = asCallhomeAnswer(parseJson(body));
  return answer ? { answer, body, signature: file.signature } : undefined;
}

/** Writes through a temporary file and a rename, so a crash never leaves half a cache. */
export async function saveOfflineCache(path: string, signed: SignedAnswer, licence?: string): Promise<void> {
  const file: CacheFile = { format: 1, body: Buffer.from(signed.body).toString('base64'), signature: signed.signature };
  if (licence !== undefined) file.licence = licenceTag(licence);
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  // The program's data folder may not exist yet on a first start: offline use must not depend on it.
  await mkdir(dirname(path), { recursive: true });
  await writeFile(temporary, JSON.stringify(file), { mode: 0o600 });
  await rename(temporary, path);
}

export async function clearOfflineCache(path: string): Promise<void> {
  await rm(path, { force: true });
}
