import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { Kernel } from '../../kernel/context.js';
import type { Db } from '../../kernel/db/database.js';
import { newId, safeEqual } from '../../kernel/crypto/tokens.js';
import { withoutBidiControls } from '../../kernel/text/bidi.js';
import { AttachmentTooLarge, TooManyAttachments } from './support.errors.js';

/**
 * Files people send with tickets, and the raw messages of the mail intake, live under
 * `${dataDir}/files/support/`. Stored names are random ids, never the sender's file name, so no name
 * can climb out of the folder; the name people gave is kept in the table and sent back only as a
 * download name.
 */
export const MAX_FILES_PER_MESSAGE = 10;

export interface Upload { filename: string; contentType: string; content: Buffer }

export const supportDir = (k: Kernel) => path.join(k.config.dataDir, 'files', 'support');

function writePrivate(file: string, data: Buffer): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, data, { mode: 0o600 });
}

/** Checks uploads from the web against the limits before anything is stored. */
export function checkUploads(uploads: Upload[], maxMb: number): void {
  if (uploads.length > MAX_FILES_PER_MESSAGE) throw new TooManyAttachments(MAX_FILES_PER_MESSAGE);
  for (const u of uploads) if (u.content.length > maxMb * 1024 * 1024) throw new AttachmentTooLarge(u.filename, maxMb);
}

/**
 * Stores what fits and reports what did not (mail cannot be re-shown like a form: the sender learns it
 * from the note on the ticket and from the acknowledgement).
 */
export async function storeAttachments(k: Kernel, trx: Db, ticketId: string, messageId: string, uploads: Upload[], maxMb: number): Promise<string[]> {
  const refused: string[] = [];
  let kept = 0;
  for (const u of uploads) {
    if (u.content.length > maxMb * 1024 * 1024 || kept >= MAX_FILES_PER_MESSAGE) { refused.push(u.filename); continue; }
    const id = newId();
    const rel = path.join(ticketId, id);
    writePrivate(path.join(supportDir(k), rel), u.content);
    await trx.insertInto('support_attachments').values({
      id, ticket_id: ticketId, message_id: messageId, filename: withoutBidiControls(u.filename).slice(0, 200) || 'attachment', content_type: u.contentType.slice(0, 100),
      size: u.content.length, sha256: crypto.createHash('sha256').update(u.content).digest('hex'), stored_path: rel, created_at: k.clock.now(),
    }).execute();
    kept++;
  }
  return refused;
}

export function readAttachment(k: Kernel, storedPath: string): Buffer | null {
  const file = path.join(supportDir(k), storedPath);
  if (!file.startsWith(supportDir(k) + path.sep)) return null;
  try { return fs.readFileSync(file); } catch { return null; }
}

export function deleteTicketFiles(k: Kernel, ticketId: string): void {
  if (!/^[0-9a-f-]{36}$/.test(ticketId)) return;
  fs.rmSync(path.join(supportDir(k), ticketId), { recursive: true, force: true });
}

export function deleteStoredFile(k: Kernel, storedPath: string): void {
  const file = path.join(supportDir(k), storedPath);
  if (file.startsWith(supportDir(k) + path.sep)) fs.rmSync(file, { force: true });
}

/** Keeps the raw message before anything else is done with it; returns its relative path. */
export function storeRaw(k: Kernel, inboundId: string, raw: Buffer): string {
  const month = new Date(k.clock.now()).toISOString().slice(0, 7);
  const rel = path.join('raw', month, `${inboundId}.eml`);
  writePrivate(path.join(supportDir(k), rel), raw);
  return rel;
}

/** Content types shown in the browser; everything else downloads as bytes (no HTML or SVG from strangers). */
const INLINE_SAFE = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf', 'text/plain']);
export const servedType = (t: string) => (INLINE_SAFE.has(t) ? t : 'application/octet-stream');

export function contentDisposition(filename: string): string {
  const clean = withoutBidiControls(filename);
  const ascii = clean.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(clean)}`;
}

/**
 * A download link for a participant without an account (mailed with a staff reply): signed for that
 * attachment and participant, valid 60 days, and dead once the participant is removed from the ticket.
 */
const LINK_TTL_MS = 60 * 86_400_000;

export function signedFileLink(k: Kernel, attachmentId: string, participantId: string): string {
  const exp = (k.clock.now() + LINK_TTL_MS).toString(36);
  const sig = k.secrets.hmacB64('support-file', `${attachmentId}.${participantId}.${exp}`);
  return `${k.config.publicUrl}/support/files/${attachmentId}?p=${participantId}&e=${exp}&s=${sig}`;
}

export function verifyFileLink(k: Kernel, attachmentId: string, q: { p?: string; e?: string; s?: string }): boolean {
  if (!q.p || !q.e || !q.s || !/^[0-9a-z]{1,12}$/.test(q.e)) return false;
  if (parseInt(q.e, 36) < k.clock.now()) return false;
  return safeEqual(q.s, k.secrets.hmacB64('support-file', `${attachmentId}.${q.p}.${q.e}`));
}
