/**
 * A stand-in for the Keyward server, small enough to read: it speaks the call-home contract
 * (spec/callhome.md) and signs every answer with Ed25519 over the exact body bytes, and each test
 * can make it misbehave (tamper, sign with another key, replay, rate limit, hang up).
 * It is not the real server; the lead's end-to-end test covers that.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { PinnedKey } from '../src/index.js';

export interface StandInBehaviour {
  /** Changes the default VALID answer (or replaces fields of it). */
  answer?: (request: Record<string, unknown>) => Record<string, unknown>;
  /** Alters the body after it was signed. */
  tamper?: (body: Buffer) => Buffer;
  /** Signs with this key instead of the published one (still naming `kid`). */
  signingKey?: KeyObject;
  kid?: string;
  /** Sends the previous call-home answer again, bytes and signature unchanged. */
  replayPrevious?: boolean;
  /** Answers 429 with this Retry-After header (signed like any error). */
  rateLimit?: { retryAfter?: string };
  /** Closes the connection without answering. */
  hangUp?: boolean;
  /** Answers like a reverse proxy whose upstream is down: this status, an HTML page, no signature. */
  proxyError?: number;
  /** Moves the answer's `ts` by this much. */
  tsOffsetMs?: number;
  /** Fields of the licence-file payload to override (expiresAt, computerId, nonce…). */
  licenceFilePayload?: Record<string, unknown>;
}

export const rawPublicKey = (key: KeyObject): string =>
  key.export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64');

export function newKeyPair(kid: string): { kid: string; privateKey: KeyObject; pinned: PinnedKey } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { kid, privateKey, pinned: { kid, publicKey: rawPublicKey(publicKey) } };
}

export function signatureHeader(body: Uint8Array, privateKey: KeyObject, kid: string): string {
  return `keyid="${kid}", algorithm="ed25519", signature="${sign(null, body, privateKey).toString('base64')}"`;
}

/** Builds a licence file exactly as the spec's POST /api/v1/licence-file describes it. */
export function makeLicenceFile(payload: Record<string, unknown>, privateKey: KeyObject, kid: string): string {
  const payloadBytes = Buffer.from(JSON.stringify(payload), 'utf8');
  const envelope = {
    alg: 'ed25519',
    kid,
    payload: payloadBytes.toString('base64'),
    signature: sign(null, payloadBytes, privateKey).toString('base64'),
  };
  const base64 = Buffer.from(JSON.stringify(envelope), 'utf8').toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN KEYWARD LICENCE FILE-----\n${base64}-----END KEYWARD LICENCE FILE-----\n`;
}

export const LICENCE = {
  product: 'mailserver',
  status: 'active',
  maxUsers: 50,
  maxMachines: 1,
  expiresAt: null,
  maintenanceUntil: '2027-03-01T00:00:00.000Z',
  addons: [],
};

const DAY = 86_400_000;

export class StandInServer {
  readonly key = newKeyPair('stand-in-key-1');
  readonly requests: Array<{ path: string; body: Record<string, unknown> }> = [];
  behaviour: StandInBehaviour = {};
  private server: Server | undefined;
  private previous: { body: Buffer; signature: string } | undefined;
  url = '';

  get pinnedKeys(): PinnedKey[] {
    return [this.key.pinned];
  }

  async start(): Promise<this> {
    this.server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const path = request.url ?? '';
    const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
    this.requests.push({ path, body });
    const behaviour = this.behaviour;

    if (behaviour.hangUp) return void request.socket.destroy();
    if (behaviour.proxyError) {
      response.writeHead(behaviour.proxyError, { 'content-type': 'text/html' });
      return void response.end('<html><body>Bad Gateway</body></html>');
    }
    if (path === '/api/v1/keys') {
      return this.send(response, 200, { keys: [{ ...this.key.pinned, algorithm: 'ed25519', status: 'active', createdAt: new Date().toISOString() }] });
    }
    if (behaviour.rateLimit) {
      const { retryAfter } = behaviour.rateLimit;
      const headers: Record<string, string> = retryAfter === undefined ? {} : { 'retry-after': retryAfter };
      return this.send(response, 429, { error: { code: 'RATE_LIMITED', message: 'too many calls' } }, headers);
    }
    if (path === '/api/v1/callhome') {
      if (behaviour.replayPrevious && this.previous) {
        response.writeHead(200, { 'content-type': 'application/json', 'keyward-signature': this.previous.signature });
        return void response.end(this.previous.body);
      }
      const answer = { ...this.validAnswer(body), ...behaviour.answer?.(body) };
      return this.send(response, 200, answer);
    }
    if (path === '/api/v1/licence-file') {
      const payload = {
        licence: LICENCE,
        computerId: body.computerId,
        nonce: body.nonce,
        issuedAt: new Date().toISOString(),
        expiresAt: new Date(Date.now() + 30 * DAY).toISOString(),
        ...behaviour.licenceFilePayload,
      };
      return this.sendBytes(response, 200, Buffer.from(makeLicenceFile(payload, this.key.privateKey, this.key.kid)), 'text/plain');
    }
    return this.send(response, 404, { error: { code: 'NOT_FOUND', message: 'no such endpoint' } });
  }

  private validAnswer(request: Record<string, unknown>): Record<string, unknown> {
    const now = Date.now() + (this.behaviour.tsOffsetMs ?? 0);
    return {
      ts: new Date(now).toISOString(),
      nonce: request.nonce,
      valid: true,
      code: 'VALID',
      detail: 'The licence is valid.',
      flags: [],
      licence: LICENCE,
      machines: { active: 1, max: 1 },
      update: { available: false },
      content: {},
      nextCheckSeconds: 86_400,
      offlineUntil: new Date(now + 30 * DAY).toISOString(),
    };
  }

  private send(response: ServerResponse, status: number, json: unknown, headers: Record<string, string> = {}): void {
    this.sendBytes(response, status, Buffer.from(JSON.stringify(json), 'utf8'), 'application/json', headers);
  }

  private sendBytes(response: ServerResponse, status: number, body: Buffer, type: string, headers: Record<string, string> = {}): void {
    const { signingKey = this.key.privateKey, kid = this.key.kid, tamper } = this.behaviour;
    const signature = signatureHeader(body, signingKey, kid);
    if (response.req.url === '/api/v1/callhome' && status === 200) this.previous = { body, signature };
    const sent = tamper ? tamper(body) : body;
    response.writeHead(status, { 'content-type': type, 'keyward-signature': signature, ...headers });
    response.end(sent);
  }
}
