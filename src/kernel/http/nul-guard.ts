// PostgreSQL cannot store U+0000 in text and answers such a value with an error; SQLite stores it.
// No form, query or JSON field of Keyward has a use for it, so every surface refuses it up front with
// the same 400, naming the field, and both databases behave alike.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest } from './errors.js';

const MAX_DEPTH = 32;

/** The path of the first string (or key) holding U+0000, or null. */
export function nulPath(value: unknown, path = '', depth = 0): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path || 'body' : null;
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return null;
  if (Buffer.isBuffer(value)) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = nulPath(value[i], path ? `${path}.${i}` : String(i), depth + 1);
      if (p !== null) return p;
    }
    return null;
  }
  // Only plain parsed data (query and form parsers make objects with a null-prototype prototype);
  // a multipart file or a stream is not walked.
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null && Object.getPrototypeOf(proto) !== null) return null;
  for (const [k, v] of Object.entries(value)) {
    const here = path ? `${path}.${k}` : k;
    if (k.includes('\u0000')) return here.replace(/\u0000/g, '\\0');
    const p = nulPath(v, here, depth + 1);
    if (p !== null) return p;
  }
  return null;
}

function check(request: FastifyRequest): void {
  for (const part of [request.params, request.query, request.body]) {
    const p = nulPath(part);
    if (p !== null) throw badRequest('The request contains a NUL character (U+0000), which no field accepts.', p);
  }
}

/**
 * Registers the check on every route (root hook: before any module's own validation), except where
 * `exempt(url)` says a surface's own contract handles such input.
 */
export function refuseNulCharacters(app: FastifyInstance, exempt: (url: string) => boolean = () => false): void {
  app.addHook('preValidation', (request, _reply, done) => {
    try {
      if (!exempt(request.url)) check(request);
      done();
    } catch (err) {
      done(err as Error);
    }
  });
}
