import type { FastifyInstance, FastifyRequest } from 'fastify';
import multipart, { type MultipartFile } from '@fastify/multipart';
import type { Kernel } from '../../kernel/context.js';
import { badRequest } from '../../kernel/http/errors.js';
import type { Upload } from './attachments.js';
import { loadSupportSettings } from './support.settings.js';

/**
 * Forms with file fields (contact, replies) post multipart/form-data; the same routes also take plain
 * url-encoded posts. Files are read into memory only up to the configured per-file limit: a larger one
 * is drained and reported, so the form can be shown again with a clear message instead of failing.
 */
export interface ReceivedFiles { files: Upload[]; tooLarge: string[] }

const received = new WeakMap<FastifyRequest, ReceivedFiles>();
const HARD_CAP = 101 * 1024 * 1024;

export async function registerMultipart(app: FastifyInstance, k: Kernel): Promise<void> {
  installMultipartErrors(app);
  await app.register(multipart, {
    attachFieldsToBody: 'keyValues',
    throwFileSizeLimit: false,
    limits: { fileSize: HARD_CAP, files: 11, fields: 30, fieldSize: 100 * 1024, parts: 50 },
    async onFile(this: FastifyRequest, part: MultipartFile) {
      const max = (await loadSupportSettings(k)).attachmentMaxMb * 1024 * 1024;
      const r = received.get(this) ?? { files: [], tooLarge: [] };
      received.set(this, r);
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const c of part.file) {
        size += (c as Buffer).length;
        if (size <= max) chunks.push(c as Buffer);
      }
      if (!part.filename && size === 0) return; // an empty file input
      const filename = (part.filename || 'attachment').replace(/[\u0000-\u001f\/\\]/g, '_').slice(0, 200);
      if (size > max || part.file.truncated) r.tooLarge.push(filename);
      else r.files.push({ filename, contentType: /^[a-z0-9.+-]+\/[a-z0-9.+-]+$/i.test(part.mimetype) ? part.mimetype.toLowerCase() : 'application/octet-stream', content: Buffer.concat(chunks) });
    },
  });
}

/**
 * A truncated or malformed multipart body makes the parser throw a plain Error, which the app's error
 * boundary would count as our fault (500). It is the sender's: answer 400 and let the parent handler
 * render it like any other bad request.
 */
export function installMultipartErrors(app: FastifyInstance): void {
  app.setErrorHandler(async (err: Error & { statusCode?: number }, request) => {
    if (request.isMultipart() && err.statusCode === undefined && /busboy|dicer/i.test(err.stack ?? '')) {
      throw badRequest('The form could not be read (it arrived incomplete). Please send it again.');
    }
    throw err;
  });
}

export function filesOf(request: FastifyRequest): ReceivedFiles {
  return received.get(request) ?? { files: [], tooLarge: [] };
}
