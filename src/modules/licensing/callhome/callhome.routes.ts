// The call-home surface: its own bare Fastify context under /api/v1 (no cookies, no session, a 16 KiB
// body limit) whose every answer is signed, errors, 404s and 429s included (spec: "Signature").
// The admin API shares the /api/v1 prefix but lives in another context; its answers are not signed.

import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifyError } from 'fastify';
import type { Kernel } from '../../../kernel/context.js';
import { badRequest, classify } from '../../../kernel/http/errors.js';
import { listPublicKeys } from '../../../kernel/crypto/signing.js';
import { sha256Hex } from '../../../kernel/crypto/tokens.js';
import { parseLicenceFileRequest } from '../validation/parse-request.js';
import { newestRelease } from '../validation/offers.js';
import { renderLicenceFileRefusal } from './answer.js';
import type { CallhomeService } from './callhome.service.js';
import type { CatalogCache } from './catalog.js';
import type { DownloadUrls } from './download-urls.js';
import type { CallhomeRateLimiter } from './rate-limit.js';
import type { SignerHolder } from './signer.js';
import type { CallhomeSettings } from '../licensing.settings.js';
import { AnswerSchema, ErrorSchema, KeysSchema } from './schemas.js';
import { ExternalIp } from './client-ip.js';
import { CallhomeExchange, rateLimited, readJson, refusedFor, type Exchanged } from './callhome.exchange.js';
import type { FastLane } from '../../../kernel/http/fast-lane.js';
import { readBodiesWhateverTheirType } from '../../../kernel/http/any-content-type.js';

export const CALLHOME_BODY_LIMIT = 16 * 1024;

export interface CallhomeDeps {
  k: Kernel;
  service: CallhomeService;
  signer: SignerHolder;
  limiter: CallhomeRateLimiter;
  settings: () => Promise<CallhomeSettings>;
  /** The same from the settings cache, or undefined when that would take a read. */
  settingsNow: () => CallhomeSettings | undefined;
  catalog: CatalogCache;
  productId: (code: string) => Promise<string | null>;
  urls: DownloadUrls;
}

const JSON_TYPE = 'application/json; charset=utf-8';

export async function registerCallhomeApi(app: FastifyInstance, deps: CallhomeDeps, lane: FastLane | null): Promise<void> {
  const external = new ExternalIp(deps.k.config.trustedProxies);
  const exchange = new CallhomeExchange(deps, deps.k.log);
  if (lane) {
    // The plain calls of installed programs, in front of Fastify (kernel/http/fast-lane.ts): the same
    // exchange, signed and sent here.
    const send = (res: ServerResponse, answer: Exchanged) => {
      let signature: string;
      try {
        signature = deps.signer.header(answer.body);
      } catch (err) {
        // Only signing can fail here (the exchange answers every failure itself): no unsigned answer.
        deps.k.log.error({ err }, 'call-home answer not sent');
        res.destroy();
        return;
      }
      const headers: Record<string, string | number> = {
        'content-type': JSON_TYPE,
        'content-length': Buffer.byteLength(answer.body),
        'keyward-signature': signature,
        'x-content-type-options': 'nosniff',
      };
      if (answer.retryAfter !== undefined) headers['retry-after'] = String(answer.retryAfter);
      lane.send(res, answer.status, headers, answer.body);
    };
    lane.post('/api/v1/callhome', CALLHOME_BODY_LIMIT, (req, res, body) => {
      const answer = exchange.answer(body, external.of(req));
      if (answer instanceof Promise) void answer.then((a) => send(res, a));
      else send(res, answer);
    });
    app.addHook('preClose', async () => lane.close());
  }
  await app.register(async (api) => {
    // Bodies are read as JSON whatever their content type (readJson), with the contract's 16 KiB limit
    // enforced while reading, before anything is parsed.
    readBodiesWhateverTheirType(api);
    api.removeAllContentTypeParsers();
    api.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: CALLHOME_BODY_LIMIT }, (_req, body, done) => {
      try {
        done(null, readJson(body as Buffer));
      } catch (err) {
        done(err as Error, undefined);
      }
    });

    api.addHook('onSend', (request, reply, payload, done) => {
      signAnswer(deps.signer, request, reply, payload);
      done(null, payload);
    });

    // Errors and unknown routes are answered here, as JSON, so the signing hook above sees them.
    api.setErrorHandler((err: FastifyError & { field?: string }, request, reply) => {
      const { status, body, log } = classify(err);
      if (log) request.log.error({ err }, 'unhandled call-home error');
      if (status === 429 && !reply.getHeader('retry-after')) reply.header('retry-after', '60');
      return reply.code(status).type(JSON_TYPE).send(body);
    });
    api.setNotFoundHandler((request, reply) => {
      const path = request.url.split('?')[0].slice(0, 200);
      return reply.code(404).type(JSON_TYPE).send({ error: { code: 'NOT_FOUND', message: `No route ${request.method} ${path}` } });
    });

    const errors = { 400: ErrorSchema, 413: ErrorSchema, 429: ErrorSchema };

    // Helmet's browser headers (CSP, framing…) mean nothing to an installed program and cost about as
    // much as signing; the hot POST routes skip them and keep only nosniff (set in the onSend hook).
    // /callhome reads its body as bytes: the exchange parses it, as it does for the fast lane.
    await api.register(async (callhome) => {
      callhome.removeAllContentTypeParsers();
      callhome.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: CALLHOME_BODY_LIMIT }, (_req, body, done) => done(null, body));
      callhome.post('/callhome', { bodyLimit: CALLHOME_BODY_LIMIT, helmet: false, schema: { response: { 200: AnswerSchema, ...errors } } }, async (request, reply) => {
        const answer = await exchange.answer(request.body as Buffer | undefined, external.of(request));
        reply.code(answer.status).type(JSON_TYPE);
        if (answer.retryAfter !== undefined) reply.header('retry-after', String(answer.retryAfter));
        return reply.send(answer.body);
      });
    });

    api.post('/licence-file', { bodyLimit: CALLHOME_BODY_LIMIT, helmet: false, schema: { response: errors } }, async (request, reply) => {
      const parsed = parseLicenceFileRequest(request.body);
      const ip = external.of(request);
      if (!(await admit(deps, ip, reply, parsed.ok ? parsed.request.licence : null))) return reply;
      if (!parsed.ok) throw badRequest(parsed.message, parsed.field);
      const { decision, licenceId, now, file } = await deps.service.licenceFile(parsed.request, ip);
      if (file) return reply.type('text/plain; charset=utf-8').send(file.text);
      const body = renderLicenceFileRefusal(decision, { nonce: parsed.request.nonce, now, licenceId, urls: deps.urls });
      return reply.type(JSON_TYPE).send(JSON.stringify(body));
    });

    api.get('/keys', { schema: { response: { 200: KeysSchema } } }, async () => ({ keys: await listPublicKeys(deps.k.db) }));

    api.get<{ Params: { product: string; channel: string } }>('/products/:product/channels/:channel/latest', async (request, reply) => {
      const { product, channel } = request.params;
      // U+0000 is in no product code, and PostgreSQL refuses it in a query: not found, without asking.
      const productId = product.includes('\u0000') ? null : await deps.productId(product);
      const newest = productId === null || (channel !== 'stable' && channel !== 'beta')
        ? null
        : newestRelease((await deps.catalog.get(productId)).releases, channel, new Date(deps.k.clock.now()));
      if (newest === null) {
        const message = productId === null ? `No product has the code ${product}.` : `No release on the ${channel} channel yet.`;
        return reply.code(404).type(JSON_TYPE).send({ error: { code: 'NOT_FOUND', message } });
      }
      const r = newest.release;
      // `channel` is the release's own channel, as in a call-home `update` (beta also sees stable).
      const body = JSON.stringify({ product, channel: r.channel, version: r.version, releasedAt: r.releasedAt.toISOString(), security: r.security, notes: r.notes });
      // The key id is part of the tag: after a rotation, caches fetch the body signed by the new key.
      const etag = `"${sha256Hex(`${deps.signer.kid}\n${body}`).slice(0, 32)}"`;
      reply.header('etag', etag).header('cache-control', 'public, max-age=300');
      if (etagMatches(request.headers['if-none-match'], etag)) return reply.code(304).send();
      return reply.type(JSON_TYPE).send(body);
    });
  }, { prefix: '/api/v1' });
}

/**
 * Applies the rate limits (spec: they count only /callhome and /licence-file). Answers the signed
 * 429 itself and returns false when the call is refused.
 */
async function admit(deps: CallhomeDeps, ip: string, reply: FastifyReply, licence: string | null): Promise<boolean> {
  const wait = refusedFor(deps, await deps.settings(), ip, licence);
  if (wait === null) return true;
  reply.code(429).header('retry-after', String(wait)).type(JSON_TYPE).send(rateLimited(wait));
  return false;
}

/**
 * Answers what Fastify's router refuses before any context sees the request (a path that is not valid
 * percent-encoding, a path parameter over maxParamLength): a 400 with the contract's error object,
 * signed like every other answer under /api/v1 outside the admin API. Passed to Fastify's
 * `frameworkErrors` option (app.tsx); the router calls it with a reply of the root context.
 */
export function answerFrameworkError(signer: SignerHolder, err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const body = JSON.stringify({ error: { code: 'BAD_REQUEST', message: err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'A part of the path is too long.' : 'The path is not valid percent-encoding.', field: 'path' } });
  const path = request.url.split('?')[0];
  const callhome = path.startsWith('/api/v1/') && !(path === '/api/v1/admin' || path.startsWith('/api/v1/admin/'));
  // The contract answers a malformed request 400; elsewhere Fastify's own status stays (414 for a long part).
  reply.code(callhome ? 400 : err.statusCode ?? 400).type(JSON_TYPE);
  if (callhome) {
    try {
      reply.header('keyward-signature', signer.header(body)).header('x-content-type-options', 'nosniff');
    } catch { /* the key is not loaded yet (before onReady): answer unsigned rather than not at all */ }
  }
  reply.send(body);
}

/** Where a request Node's HTTP parser refused went wrong, for the error object's `field`. */
const CLIENT_ERROR_FIELDS: Record<string, string> = {
  HPE_HEADER_OVERFLOW: 'headers', HPE_INVALID_HEADER_TOKEN: 'headers', HPE_INVALID_CONTENT_LENGTH: 'headers',
  HPE_UNEXPECTED_CONTENT_LENGTH: 'headers', HPE_INVALID_TRANSFER_ENCODING: 'headers',
  HPE_INVALID_CHUNK_SIZE: 'body', HPE_INVALID_EOF_STATE: 'body',
};

/**
 * Answers what Node's HTTP parser refuses before any route sees it (headers over 16 KB, a Content-Length
 * that is not a number or comes with Transfer-Encoding, a bad chunk size): Fastify's `clientErrorHandler`.
 * The path is unknown then, so every such answer is the contract's signed error object: 400 (the
 * contract's status for a malformed request), or 408 when the request never finished arriving.
 */
export function answerClientError(signer: SignerHolder, err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const timeout = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  const body = JSON.stringify(timeout
    ? { error: { code: 'REQUEST_TIMEOUT', message: 'The request did not arrive in time.' } }
    : { error: { code: 'BAD_REQUEST', message: err.code === 'HPE_HEADER_OVERFLOW' ? 'The request headers are too large.' : 'The request is not valid HTTP.', field: CLIENT_ERROR_FIELDS[err.code ?? ''] ?? 'request' } });
  let signature = '';
  try {
    signature = `Keyward-Signature: ${signer.header(body)}\r\n`;
  } catch { /* the key is not loaded yet (before onReady): answer unsigned rather than not at all */ }
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${timeout ? '408 Request Timeout' : '400 Bad Request'}\r\nContent-Type: ${JSON_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${signature}X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(err);
}

/** Signs every answer under /api/v1 except the admin API's; a 304 has no body and no signature. */
function signAnswer(signer: SignerHolder, request: FastifyRequest, reply: FastifyReply, payload: unknown): void {
  if (reply.statusCode === 304) return;
  const path = request.url.split('?')[0];
  if (path === '/api/v1/admin' || path.startsWith('/api/v1/admin/')) return;
  let bytes: Buffer | string;
  if (payload === null || payload === undefined) bytes = '';
  else if (typeof payload === 'string' || Buffer.isBuffer(payload)) bytes = payload;
  else return; // a stream: nothing under /api/v1 streams
  reply.header('keyward-signature', signer.header(bytes));
  reply.header('x-content-type-options', 'nosniff');
}

/** RFC 9110 If-None-Match: `*`, or a list of tags compared weakly (a W/ prefix is ignored). */
function etagMatches(header: string | string[] | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const value = Array.isArray(header) ? header.join(',') : header;
  if (value.trim() === '*') return true;
  return value.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}
