// Admin API input helpers: dates, and multipart bodies (releases with an installer, content packs).

import fs from 'node:fs';
import path from 'node:path';
import type { FastifyRequest } from 'fastify';
import type { MultipartFile } from '@fastify/multipart';
import { badRequest } from '../../../kernel/http/errors.js';
import { FileTooLarge } from '../licensing.errors.js';
import { storeFile, type StoredFile } from '../files.js';

const DATE = /^(\d{4})-(\d{2})-(\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/**
 * An RFC 3339 date-time (`2027-03-01T00:00:00Z`) or a plain date (UTC midnight) as epoch ms; null for
 * null; undefined when absent. Impossible dates (Feb 30) are refused rather than rolled over.
 */
export function parseDate(value: unknown, field: string): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) return null;
  const m = typeof value === 'string' ? DATE.exec(value) : null;
  const ms = m ? Date.parse(value as string) : Number.NaN;
  const day = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null;
  if (!m || Number.isNaN(ms) || !day || day.getUTCDate() !== Number(m[3]) || day.getUTCMonth() !== Number(m[2]) - 1) {
    throw badRequest(`${field} must be a date-time such as 2027-03-01T00:00:00Z, a date such as 2027-03-01, or null`, field);
  }
  return ms;
}

export interface MultipartBody {
  fields: Record<string, string>;
  file: StoredFile | null;
}

/**
 * Reads a multipart body: text fields, and at most one file streamed to the data directory while
 * hashing. Fields may come before or after the file.
 */
export async function readMultipart(request: FastifyRequest, dataDir: string): Promise<MultipartBody> {
  try {
    return await readParts(request, dataDir);
  } catch (err) {
    throw asBadUpload(err);
  }
}

async function readParts(request: FastifyRequest, dataDir: string): Promise<MultipartBody> {
  const fields: Record<string, string> = Object.create(null);
  let file: StoredFile | null = null;
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      if (file !== null || part.fieldname !== 'file') {
        part.file.resume();
        throw badRequest('Send one file, in the field named "file".', part.fieldname);
      }
      file = await storeFile(dataDir, part.file, part.filename);
      if ((part as MultipartFile).file.truncated) {
        fs.rmSync(path.join(dataDir, file.path), { force: true });
        throw new FileTooLarge('The file is larger than the server accepts.');
      }
    } else if (typeof part.value === 'string') {
      if (part.value.includes('\u0000')) throw badRequest(`${part.fieldname} must not contain the NUL character`, part.fieldname);
      fields[part.fieldname] = part.value;
    }
  }
  return { fields, file };
}

/**
 * What the multipart parser throws, as the contract's answers. Its limits come as FST_ errors whose
 * status and text are not the contract's; a body it cannot read (no boundary, cut off, a broken part
 * header) comes from busboy as a plain Error, which would otherwise be answered 500. Our own errors
 * and the file system's (a full disk is our fault) pass through.
 */
function asBadUpload(err: unknown): unknown {
  const e = err as Error & { code?: string; statusCode?: number; syscall?: string };
  switch (e.code) {
    case 'FST_REQ_FILE_TOO_LARGE':
      return new FileTooLarge('The file is larger than the server accepts.');
    case 'FST_FILES_LIMIT':
      return badRequest('Send one file, in the field named "file".', 'file');
    case 'FST_FIELDS_LIMIT':
    case 'FST_PARTS_LIMIT':
      return badRequest('The form has more fields than this call takes.', 'body');
  }
  if (e.syscall !== undefined) return err;
  if (e.statusCode !== undefined && !e.code?.startsWith('FST_')) return err;
  return badRequest('The multipart body could not be read: it is malformed or incomplete.', 'body');
}

/** A multipart text field read as a boolean ("true"/"false"/"1"/"0"); undefined when absent. */
export function formBoolean(value: string | undefined, field: string): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw badRequest(`${field} must be true or false`, field);
}
