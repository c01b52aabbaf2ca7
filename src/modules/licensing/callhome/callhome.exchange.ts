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
import type { Decided } from './callhome.service.js';
import type { Decision } from '../validation/evaluate.js';
import type { CallhomeSettings } from '../licensing.settings.js';

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
    const text = bytes.toString('utf8');
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch {
    throw badRequest('The body is not valid JSON.', 'body');
  }
}

/**
 * Counts a /callhome or /licence-file call against the rate limits (malformed ones too; `licence` as
 * sent, null when the body had none): the seconds to wait when it is refused, else null.
 */
export function refusedFor(deps: Pick<CallhomeDeps, 'limiter'>, limits: CallhomeSettings, ip: string, licence: string | null): number | null {
  const r = deps.limiter.take(limits, ip, licence === null ? null : normaliseLicenceKey(licence));
  return r.ok ? null : r.retryAfterSeconds;
}

/** The body of a 429 from /callhome or /licence-file. */
export function rateLimited(retryAfterSeconds: number) {
  return { error: { code: 'RATE_LIMITED', message: `Too many calls; try again in ${retryAfterSeconds} seconds.` } };
}

export class CallhomeExchange {
  constructor(private readonly deps: CallhomeDeps, private readonly log: Logger) {}

  /**
   * The answer, without waiting when nothing needs a read or a durable write (the common refresh on
   * SQLite with the settings and catalog cached); a promise otherwise. Never throws or rejects.
   */
  answer(bytes: Buffer | undefined, ip: string): Exchanged | Promise<Exchanged> {
    try {
      const parsed = parseCallhomeRequest(readJson(bytes));
      const limits = this.deps.settingsNow();
      if (limits === undefined) return this.later(parsed, ip, this.deps.settings());
      const refused = this.admit(limits, parsed, ip);
      if (refused) return refused;
      if (!parsed.ok) throw badRequest(parsed.message, parsed.field);
      const decided = this.deps.service.callhomeNow(parsed.request, ip);
      if (decided === undefined) return this.later(parsed, ip, null);
      return answered(decided, parsed.request.nonce, this.deps);
    } catch (err) {
      return this.failed(err);
    }
  }

  /** The rest of the exchange when it has to wait: for the settings (then admits), or for the decision. */
  private async later(parsed: ParsedCallhome, ip: string, limits: Promise<CallhomeSettings> | null): Promise<Exchanged> {
    try {
      if (limits !== null) {
        const refused = this.admit(await limits, parsed, ip);
        if (refused) return refused;
      }
      if (!parsed.ok) throw badRequest(parsed.message, parsed.field);
      return answered(await this.deps.service.callhome(parsed.request, ip), parsed.request.nonce, this.deps);
    } catch (err) {
      return this.failed(err);
    }
  }

  /** The rate limits (spec: they count /callhome calls, malformed ones too): a 429, or null to go on. */
  private admit(limits: CallhomeSettings, parsed: ParsedCallhome, ip: string): Exchanged | null {
    const wait = refusedFor(this.deps, limits, ip, parsed.ok ? parsed.request.licence : null);
    return wait === null ? null : { status: 429, body: JSON.stringify(rateLimited(wait)), retryAfter: wait };
  }

  private failed(err: unknown): Exchanged {
    const { status, body, log } = classify(err as FastifyError);
    if (log) this.log.error({ err }, 'unhandled call-home error');
    return { status, body: JSON.stringify(body) };
  }
}

type ParsedCallhome = ReturnType<typeof parseCallhomeRequest>;

function answered(d: Decided<Decision>, nonce: string, deps: CallhomeDeps): Exchanged {
  return { status: 200, body: JSON.stringify(renderCallhome(d.decision, { nonce, now: d.now, licenceId: d.licenceId, urls: deps.urls })) };
}
