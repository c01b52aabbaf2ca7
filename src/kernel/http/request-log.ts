// What the server log says about a request. Fastify's default writes the URL as sent, and Keyward's
// URLs carry secrets and identifiers: licence keys and computer IDs in admin API paths, one-time tokens
// in password-reset, verification and setup links, signed download links in query strings. The log gets
// the route's pattern instead (`/api/v1/admin/licences/:key`), which says what was asked without whom
// it was about; a URL no route matched loses its query and any long path segment. The fields below are
// the whole of it: the address is the one personal field, declared in the privacy registry
// (kernel/privacy/kernel.privacy.ts); the method, the route pattern and the port name no one.

import type { FastifyRequest } from 'fastify';

/** Path segments this long or longer are masked in unmatched URLs: keys (29), computer IDs (64), tokens. */
const LONG_SEGMENT = 16;

// A type, not an interface: Fastify's serializer type wants an index signature.
export type LoggedRequest = {
  method: string;
  url: string;
  remoteAddress: string;
  remotePort: number | undefined;
};

export function loggedUrl(request: Pick<FastifyRequest, 'url'> & { routeOptions?: { url?: string } }): string {
  const pattern = request.routeOptions?.url;
  if (pattern) return pattern;
  const path = request.url.split('?')[0]!.split('#')[0]!;
  return path.split('/').map((s) => (s.length >= LONG_SEGMENT ? '…' : s)).join('/').slice(0, 200);
}

/** Fastify's `req` log serializer. */
export function logRequest(request: FastifyRequest): LoggedRequest {
  return { method: request.method, url: loggedUrl(request), remoteAddress: request.ip, remotePort: request.socket?.remotePort };
}
