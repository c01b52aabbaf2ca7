import type { FastifyInstance } from 'fastify';
import { badRequest } from './errors.js';

/**
 * What the multipart parser throws on the pages, as the sender's 400s with words a person reads. Its
 * limits come as FST_ errors whose text ("reach files limit") and status are the library's; a body it
 * cannot read (cut off, no boundary) comes from busboy as a plain Error, which the app's error boundary
 * would count as our fault (500). Everything else passes to the parent handler. (The licensing admin API
 * maps the same errors to its contract's answers in licensing/admin/input.ts.)
 */
export function installMultipartErrors(app: FastifyInstance): void {
  app.setErrorHandler(async (err: Error & { statusCode?: number; code?: string }, request) => {
    if (request.isMultipart()) {
      if (err.code === 'FST_FILES_LIMIT') throw badRequest('The form has more files than it accepts. Send fewer files at once.');
      if (err.code === 'FST_FIELDS_LIMIT' || err.code === 'FST_PARTS_LIMIT') throw badRequest('The form has more fields than it accepts.');
      if (err.statusCode === undefined && /busboy|dicer/i.test(err.stack ?? '')) {
        throw badRequest('The form could not be read (it arrived incomplete). Please send it again.');
      }
    }
    throw err;
  });
}
