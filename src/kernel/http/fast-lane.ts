// A lane beside Fastify for the one endpoint that every installed copy calls: POST requests to a few
// exact paths go to a plain handler on Node's own request, skipping the framework's per-request work
// (routing, hooks, reply objects), which costs as much as the whole answer there (README, "Benchmark").
// Only the plain case takes the lane: a Content-Length within the route's limit, no transfer or content
// coding, the exact path. Anything else (a query string, chunked bodies, a body over the limit, a
// server that is closing) goes to Fastify, whose route for the same path answers it the same way, and
// app.inject() in tests always reaches that route. A lane handler must answer exactly as that route does
// (callhome.exchange.ts is what both call).

import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { FastifyServerOptions } from 'fastify';

export type LaneHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

export class FastLane {
  private readonly routes = new Map<string, { limit: number; handle: LaneHandler }>();
  private closing = false;
  /** Requests answered on the lane so far (diagnostics and tests). */
  handled = 0;
  private outgoing: { res: ServerResponse; status: number; headers: Record<string, string | number>; body: string }[] = [];

  /** Serves POST `path` (exactly) with bodies of at most `limit` bytes. */
  post(path: string, limit: number, handle: LaneHandler): void {
    this.routes.set(path, { limit, handle });
  }

  /**
   * Sends an answer at the end of this turn of the event loop, together with every other answer made
   * in it. The writes are the same, but a peer on this machine (a reverse proxy, a load generator)
   * then wakes once for several answers instead of once each: on a loaded 2-core machine that took
   * about a tenth off the cost of a call. No answer waits for anything but the current turn.
   */
  send(res: ServerResponse, status: number, headers: Record<string, string | number>, body: string): void {
    if (this.outgoing.push({ res, status, headers, body }) === 1) setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    const batch = this.outgoing;
    this.outgoing = [];
    for (const a of batch) a.res.writeHead(a.status, a.headers).end(a.body);
  };

  /** From now on every request goes to Fastify (which answers 503 while it closes). */
  close(): void {
    this.closing = true;
  }

  /** Fastify's `serverFactory`: the HTTP/1.1 server Fastify would make, with the lane in front. */
  serverFactory = (handler: (req: IncomingMessage, res: ServerResponse) => void, opts: FastifyServerOptions): http.Server => {
    const server = http.createServer((req, res) => {
      if (!this.take(req, res)) handler(req, res);
    });
    // What Fastify sets on the server it makes itself (lib/server.js).
    if (opts.keepAliveTimeout !== undefined) server.keepAliveTimeout = opts.keepAliveTimeout;
    if (opts.requestTimeout !== undefined) server.requestTimeout = opts.requestTimeout;
    if (opts.connectionTimeout !== undefined) server.setTimeout(opts.connectionTimeout);
    if (opts.maxRequestsPerSocket) server.maxRequestsPerSocket = opts.maxRequestsPerSocket;
    return server;
  };

  private take(req: IncomingMessage, res: ServerResponse): boolean {
    if (this.closing || req.method !== 'POST') return false;
    const route = this.routes.get(req.url ?? '');
    if (!route) return false;
    const length = plainLength(req.rawHeaders);
    if (!(Number.isInteger(length) && length >= 0 && length <= route.limit)) return false;
    this.handled++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => route.handle(req, res, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', () => res.destroy());
    return true;
  }
}

const DIGITS = /^[0-9]{1,15}$/;

/**
 * The Content-Length of a request with exactly one and no transfer or content coding; NaN otherwise.
 * Read from the raw header list: `req.headers` builds an object of every header on first use, 1% of
 * the request thread under load for three names (README, "Benchmark").
 */
export function plainLength(raw: string[]): number {
  let length = Number.NaN;
  let seen = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    // Names are compared only when their length matches (most headers are none of these).
    const n = name.length;
    if (n === 14 && name.toLowerCase() === 'content-length') {
      if (seen) return Number.NaN;
      seen = true;
      const value = raw[i + 1]!;
      // Digits only, as Node's parser accepts them: never Number('')'s 0 or Number('1e3')'s 1000.
      length = DIGITS.test(value) ? Number(value) : Number.NaN;
    } else if ((n === 17 && name.toLowerCase() === 'transfer-encoding') || (n === 16 && name.toLowerCase() === 'content-encoding')) {
      return Number.NaN;
    }
  }
  return length;
}
