// One `/callhome` exchange, from the body's bytes and the caller's address to the status and JSON text
// of the answer. Both doors to the endpoint call it: the fast lane in front of Fastify (every plain
// call in production) and the Fastify route (everything else, and app.inject() in tests), so they
// cannot answer differently. It never throws: a failure becomes the error answer the contract gives.

import type { FastifyError } from 'fastify';
import { badRequest, classify } from '../../../kernel/http/errors.js';
import type { Logger } from '../../../kernel/jobs/queue.js';
import { normaliseLicenceKey } from '../validation/keys.js';
import { parseCallhomeRequest } from '../validation/parse-request.js';
import { renderCallhome } from './answer.js';
import type { CallhomeDeps } from './callhome.routes.js';

export interface Exchanged {
  status: number;
  /** The JSON text of the answer (signed by whoever sends it). */
  body: string;
  /** Seconds, for a 429. */
  retryAfter?: number;
}

/**
 * A call-home body as JSON (undefined when empty). Any content type is read as JSON: an installed
 * program that forgets the header still gets a decision. A leading byte-order mark (some Windows
 * programs write one) is not part of the JSON text (RFC 8259 §8.1).
 */
export function readJson(bytes: Buffer | undefined): unknown {
  if (bytes === undefined || bytes.length === 0) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8').replace(/^\uFEFF/, ''));
  } catch {
    throw badRequest('The body is not valid JSON.', 'body');
  }
}

/** The body of a 429 from /callhome or /licence-file. */
export function rateLimited(retryAfterSeconds: number) {
  return { error: { code: 'RATE_LIMITED', message: `Too many calls; try again in ${retryAfterSeconds} seconds.` } };
}

export class CallhomeExchange {
  constructor(private readonly deps: CallhomeDeps, private readonly log: Logger) {}

  async answer(bytes: Buffer | undefined, ip: string): Promise<Exchanged> {
    try {
      return await this.decide(bytes, ip);
    } catch (err) {
      const { status, body, log } = classify(err as FastifyError);
      if (log) this.log.error({ err }, 'unhandled call-home error');
      return { status, body: JSON.stringify(body) };
    }
  }

  private async decide(bytes: Buffer | undefined, ip: string): Promise<Exchanged> {
    const json = readJson(bytes);
    const parsed = parseCallhomeRequest(json);
    // The rate limits count malformed calls too (spec: they count /callhome calls).
    const limits = await this.deps.settings();
    const r = this.deps.limiter.take(limits, ip, parsed.ok ? normaliseLicenceKey(parsed.request.licence) : null);
    if (!r.ok) {
      return { status: 429, body: JSON.stringify(rateLimited(r.retryAfterSeconds)), retryAfter: r.retryAfterSeconds };
    }
    if (!parsed.ok) throw badRequest(parsed.message, parsed.field);
    const { decision, licenceId, now } = await this.deps.service.callhome(parsed.request, ip);
    return { status: 200, body: JSON.stringify(renderCallhome(decision, { nonce: parsed.request.nonce, now, licenceId, urls: this.deps.urls })) };
  }
}
