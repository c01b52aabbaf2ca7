// Test helpers for licensing's HTTP tests: an API key, admin calls, call-home calls whose signature is
// checked against GET /api/v1/keys, and factories for products, licences and releases.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { verifyEd25519 } from '../../kernel/crypto/signing.js';

export interface Harness {
  t: TestApp;
  apiKey: string;
  admin(method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown): Promise<LightMyRequestResponse>;
  /** POST /api/v1/callhome; asserts the answer is signed by a listed key. */
  call(body: unknown, opts?: { ip?: string; raw?: string; headers?: Record<string, string> }): Promise<Signed>;
  licenceFile(body: unknown, opts?: { ip?: string }): Promise<Signed>;
  get(url: string, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  keys(): Promise<{ kid: string; publicKey: string; status: string }[]>;
}

export interface Signed {
  res: LightMyRequestResponse;
  status: number;
  json: any;
}

export function computerId(seed: string | number): string {
  return crypto.createHash('sha256').update(`computer-${seed}`).digest('hex');
}

export function nonce(): string {
  return crypto.randomBytes(18).toString('base64url');
}

/** Checks a response's Keyward-Signature against the published keys; returns the key id. */
export async function assertSigned(h: Pick<Harness, 'keys'>, res: LightMyRequestResponse): Promise<string> {
  const header = String(res.headers['keyward-signature'] ?? '');
  const m = /^keyid="([^"]+)", algorithm="ed25519", signature="([^"]+)"$/.exec(header);
  assert.ok(m, `answer ${res.statusCode} ${res.body.slice(0, 120)} is not signed (header: ${header})`);
  const key = (await h.keys()).find((k) => k.kid === m[1]);
  assert.ok(key, `signed with unlisted key ${m[1]}`);
  assert.ok(verifyEd25519(key.publicKey, res.rawPayload, m[2]), 'signature does not verify over the body bytes');
  return m[1];
}

export async function harness(t: TestApp): Promise<Harness> {
  const { key } = await t.modules.accounts.staff.createApiKey('licensing tests', null);
  const inject = (method: string, url: string, payload: unknown, headers: Record<string, string> = {}, ip?: string) =>
    t.app.inject({ method: method as 'GET', url, payload: payload as string, headers, ...(ip ? { remoteAddress: ip } : {}) });
  const h: Harness = {
    t, apiKey: key,
    admin: (method, url, body) => inject(method, url, body === undefined ? undefined : JSON.stringify(body),
      { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }),
    async call(body, opts = {}) {
      const res = await inject('POST', '/api/v1/callhome', opts.raw ?? JSON.stringify(body), { 'content-type': 'application/json', ...opts.headers }, opts.ip);
      await assertSigned(h, res);
      return { res, status: res.statusCode, json: parse(res.body) };
    },
    async licenceFile(body, opts = {}) {
      const res = await inject('POST', '/api/v1/licence-file', JSON.stringify(body), { 'content-type': 'application/json' }, opts.ip);
      await assertSigned(h, res);
      return { res, status: res.statusCode, json: res.headers['content-type']?.toString().startsWith('application/json') ? parse(res.body) : res.body };
    },
    get: (url, headers = {}) => inject('GET', url, undefined, headers),
    // Fetched every time: tests rotate keys.
    async keys() {
      const res = await inject('GET', '/api/v1/keys', undefined);
      return (JSON.parse(res.body) as { keys: { kid: string; publicKey: string; status: string }[] }).keys;
    },
  };
  return h;
}

function parse(body: string): any {
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

export interface Fixture {
  product: string;
  key: string;
  licenceId: string;
}

/** A product with releases 8.5.0, 8.6.0 (stable) and 8.7.0-beta.1, and add-on spamfilter with content. */
/** The whole app on a fresh database with a staff API key and the `mailserver` product: licensing tests' usual start. */
export async function licensingApp(): Promise<Harness> {
  const h = await harness(await testApp());
  await seedProduct(h);
  return h;
}

export async function seedProduct(h: Harness, code = 'mailserver'): Promise<void> {
  assert.equal((await h.admin('POST', '/api/v1/admin/products', { code, name: 'Mail Server' })).statusCode, 201);
  for (const [version, channel, releasedAt] of [
    ['8.5.0', 'stable', '2026-06-01T00:00:00.000Z'],
    ['8.6.0', 'stable', '2026-11-01T00:00:00.000Z'],
    ['8.7.0-beta.1', 'beta', '2026-11-20T00:00:00.000Z'],
  ] as const) {
    const r = await h.admin('POST', `/api/v1/admin/products/${code}/releases`, { version, channel, releasedAt, notes: `Release ${version}` });
    assert.equal(r.statusCode, 201, r.body);
  }
  const addon = await h.admin('POST', '/api/v1/admin/addons', { code: `${code}-spam`, name: 'Spam filter', product: code });
  assert.equal(addon.statusCode, 201, addon.body);
}

/** A licence over the admin API (defaults: 50 users, 1 machine, maintenance to 2027-03-01). */
export async function createLicence(h: Harness, overrides: Record<string, unknown> = {}, product = 'mailserver'): Promise<Fixture> {
  const res = await h.admin('POST', '/api/v1/admin/licences', { product, maxUsers: 50, maintenanceUntil: '2027-03-01T00:00:00.000Z', ...overrides });
  assert.equal(res.statusCode, 201, res.body);
  const body = JSON.parse(res.body);
  return { product, key: body.key, licenceId: body.id };
}

/** A well-formed call-home body for `key`. */
export function callBody(key: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { licence: key, product: 'mailserver', version: '8.5.0', computerId: computerId(1), usersInUse: 10, nonce: nonce(), ...overrides };
}

/** A multipart/form-data body with text fields and at most one file (for the admin upload routes). */
export function multipart(fields: Record<string, string>, file?: { name: string; content: Buffer | string }): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----keyward${crypto.randomBytes(8).toString('hex')}`;
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  if (file) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.name}"\r\nContent-Type: application/octet-stream\r\n\r\n`));
    parts.push(Buffer.isBuffer(file.content) ? file.content : Buffer.from(file.content));
    parts.push(Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

/** POSTs a multipart body to an admin route. */
export async function adminUpload(h: Harness, url: string, fields: Record<string, string>, file?: { name: string; content: Buffer | string }) {
  const { payload, headers } = multipart(fields, file);
  return h.t.app.inject({ method: 'POST', url, payload, headers: { ...headers, authorization: `Bearer ${h.apiKey}` } });
}
