import type { FastifyInstance, FastifyRequest } from 'fastify';
import multipart, { type MultipartFile } from '@fastify/multipart';
import type { Kernel } from '../../kernel/context.js';
import { installMultipartErrors } from '../../kernel/http/multipart-errors.js';
import { MAX_FILES_PER_MESSAGE, type Upload } from './attachments.js';
import { loadSupportSettings } from './support.settings.js';

/**
 * Forms with file fields (contact, replies) post multipart/form-data; the same routes also take plain
 * url-encoded posts. Files are read into memory only up to the configured per-file limit: a larger one
 * is drained and reported, so the form can be shown again with a clear message instead of failing.
 */
export interface ReceivedFiles { files: Upload[]; tooLarge: string[] }

const received = new WeakMap<FastifyRequest, ReceivedFiles>();
const HARD_CAP = 101 * 1024 * 1024;
/** The longest text field a multipart form here takes (the schemas' 60,000 for a message). */
const MAX_TEXT_FIELD = 60_000;

export async function registerMultipart(app: FastifyInstance, k: Kernel): Promise<void> {
  installMultipartErrors(app);
  await app.register(multipart, {
    attachFieldsToBody: 'keyValues',
    throwFileSizeLimit: false,
    // More files than a message may carry are read past (not kept), so the form comes back with the
    // message and what was typed; only a hostile number of parts meets the parser's own limit.
    // A text field holds a message of up to MAX_TEXT characters in any script: 4 bytes a character at most.
    limits: { fileSize: HARD_CAP, files: 40, fields: 30, fieldSize: 4 * MAX_TEXT_FIELD, parts: 50 },
    async onFile(this: FastifyRequest, part: MultipartFile) {
      const max = (await loadSupportSettings(k)).attachmentMaxMb * 1024 * 1024;
      const r = received.get(this) ?? { files: [], tooLarge: [] };
      received.set(this, r);
      if (r.files.length + r.tooLarge.length > MAX_FILES_PER_MESSAGE) {
        // Already one too many: the count alone refuses the message (attachments.ts); nothing more is kept.
        part.file.resume();
        return;
      }
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

export function filesOf(request: FastifyRequest): ReceivedFiles {
  return received.get(request) ?? { files: [], tooLarge: [] };
}
