import createError from '@fastify/error';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Kernel-level HTTP errors; each module has its own list in `<module>.errors.ts`. */
export const BadRequest = createError<'BAD_REQUEST', 400, [string, string?]>('BAD_REQUEST', '%s', 400);
export const NotFound = createError('NOT_FOUND', 'Not found', 404);
export const Forbidden = createError('FORBIDDEN', '%s', 403);
export const Unauthorized = createError('UNAUTHORIZED', '%s', 401);
export const CsrfFailed = createError('CSRF_FAILED', 'This form has expired or did not come from this site. Reload the page and try again.', 403);

export interface ErrorBody { error: { code: string; message: string; field?: string } }

/** A field-level bad request: `{ error: { code: 'BAD_REQUEST', message, field } }`. */
export function badRequest(message: string, field?: string): FastifyError & { field?: string } {
  const e = new BadRequest(message) as FastifyError & { field?: string };
  if (field) e.field = field;
  return e;
}

/** Turns Fastify/Ajv validation details into a field path like `content.spamfilter` or `usersInUse`. */
function validationField(err: FastifyError): string | undefined {
  const v = err.validation?.[0];
  if (!v) return undefined;
  const base = v.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const missing = (v.params as { missingProperty?: string })?.missingProperty;
  const extra = (v.params as { additionalProperty?: string })?.additionalProperty;
  const leaf = missing ?? extra;
  // A rule about the whole body (not an object, an array…) names the body, as the error object promises a field.
  return [base, leaf].filter(Boolean).join('.') || err.validationContext || 'body';
}

function validationMessage(err: FastifyError, field?: string): string {
  const v = err.validation?.[0];
  if (!v) return 'The request is not valid.';
  if (v.keyword === 'required') return `${field} is required.`;
  return `${field ?? 'body'} ${v.message ?? 'is not valid'}.`;
}

/** Maps any error to a status and a stable code. Unknown errors become a generic 500 and are logged. */
export function classify(err: FastifyError & { field?: string }): { status: number; body: ErrorBody; log: boolean } {
  if (err.validation) {
    const field = validationField(err);
    return { status: 400, body: { error: { code: 'BAD_REQUEST', message: validationMessage(err, field), ...(field ? { field } : {}) } }, log: false };
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, body: { error: { code: 'BODY_TOO_LARGE', message: 'The request body is too large.' } }, log: false };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, body: { error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Send JSON (Content-Type: application/json) or a form.' } }, log: false };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, body: { error: { code: 'BAD_REQUEST', message: 'The body is not valid JSON.', field: 'body' } }, log: false };
    case 'FST_ERR_RATE_LIMIT':
    case 'RATE_LIMITED':
      return { status: 429, body: { error: { code: 'RATE_LIMITED', message: 'Too many requests; try again later.' } }, log: false };
  }
  if (err instanceof SyntaxError && (err as { statusCode?: number }).statusCode === 400) {
    return { status: 400, body: { error: { code: 'BAD_REQUEST', message: 'The body is not valid JSON.', field: 'body' } }, log: false };
  }
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500 && err.code && !err.code.startsWith('FST_')) {
    return { status, body: { error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } }, log: false };
  }
  if (status >= 400 && status < 500) {
    return { status, body: { error: { code: status === 404 ? 'NOT_FOUND' : 'BAD_REQUEST', message: err.message } }, log: false };
  }
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'Something went wrong on our side. It has been logged.' } }, log: true };
}

export function wantsHtml(request: FastifyRequest): boolean {
  if (request.url.startsWith('/api/')) return false;
  return (request.headers.accept ?? '').includes('text/html') || request.method === 'POST' && (request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
}

export type HtmlErrorRenderer = (request: FastifyRequest, reply: FastifyReply, status: number, message: string) => Promise<unknown> | unknown;

/** One error boundary for the whole app: JSON with a stable code for the API, a friendly page for people. */
export function installErrorHandlers(app: FastifyInstance, renderHtml: HtmlErrorRenderer): void {
  app.setErrorHandler(async (err: FastifyError & { field?: string }, request, reply) => {
    const { status, body, log } = classify(err);
    if (log) request.log.error({ err }, 'unhandled error');
    if (status === 429 && !reply.getHeader('retry-after')) reply.header('retry-after', '60');
    if (wantsHtml(request)) return renderHtml(request, reply, status, body.error.message);
    return reply.code(status).type('application/json; charset=utf-8').send(body);
  });
  // A form's answer is shown at the address it was posted to (/admin/orders/…/paid). Reloading that
  // address later, or a bookmark of it, is a GET, which no route answers: it leads to the page the form
  // belongs to, one step up, instead of "no page here". Only for pages, and only where a POST route is.
  const postOnly: RegExp[] = [];
  app.addHook('onRoute', (route) => {
    const methods = [route.method].flat();
    if (!methods.includes('POST') || methods.includes('GET') || !route.url.startsWith('/') || route.url.startsWith('/api/')) return;
    postOnly.push(new RegExp(`^${route.url.split('/').map((seg) => (seg.startsWith(':') ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/')}$`));
  });
  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?')[0]!;
    if (request.method === 'GET' && wantsHtml(request) && postOnly.some((re) => re.test(path))) {
      const up = path.replace(/\/[^/]+\/?$/, '') || '/';
      return reply.redirect(up, 303);
    }
    if (wantsHtml(request)) return renderHtml(request, reply, 404, 'There is no page at this address.');
    return reply.code(404).send({ error: { code: 'NOT_FOUND', message: `No route ${request.method} ${request.url.split('?')[0]}` } });
  });
}
