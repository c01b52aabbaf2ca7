// Parsing of call-home and licence-file request bodies (spec/callhome.md, request table).
// The result carries only the fields the contract names: the privacy notice promises that nothing
// else a client sends is stored, so unknown fields are dropped here, at the edge.

import { isContentVersion } from './content-version.js';
import { isKeyTooLong, MAX_KEY_CODE_POINTS } from './keys.js';
import { isSemver } from './semver.js';

export type Channel = 'stable' | 'beta';

export interface CallhomeRequest {
  /** The key exactly as the user entered it (≤ 128 code points); normalise before looking it up. */
  readonly licence: string;
  /** Product code, when the program sent one. */
  readonly product?: string;
  /** Strict SemVer 2.0 without build metadata. */
  readonly version: string;
  readonly channel: Channel;
  /** 64 lowercase hex characters. */
  readonly computerId: string;
  /** Integer 0–1,000,000. */
  readonly usersInUse: number;
  /** Add-on code → installed content version. A Map, so a code such as `__proto__` is just a key. */
  readonly content: ReadonlyMap<string, string>;
  readonly nonce: string;
}

export interface LicenceFileRequest {
  readonly licence: string;
  readonly computerId: string;
  readonly nonce: string;
}

export type ParseResult<T> =
  | { readonly ok: true; readonly request: T }
  | { readonly ok: false; readonly field: string; readonly message: string };

export const MAX_USERS_IN_USE = 1_000_000;
const COMPUTER_ID = /^[0-9a-f]{64}$/;

/**
 * A computer ID as staff type or paste it (in capitals, with spaces around): its canonical lowercase
 * form, or null when it is not 64 hexadecimal characters. Installed programs must send the canonical
 * form itself (parseCallhomeRequest refuses anything else).
 */
export function typedComputerId(typed: string): string | null {
  const id = typed.trim().toLowerCase();
  return COMPUTER_ID.test(id) ? id : null;
}
const NONCE = /^[A-Za-z0-9_-]{16,128}$/;

class BadField extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

type Body = Record<string, unknown>;

/** Parses a `/callhome` body (already JSON-decoded). Fields are checked in the contract's table order. */
export function parseCallhomeRequest(body: unknown): ParseResult<CallhomeRequest> {
  return attempt(body, (b) => {
    const licence = licenceField(b);
    const product = optionalString(b, 'product');
    const version = stringField(b, 'version');
    if (!isSemver(version)) {
      fail('version', 'version must be a SemVer 2.0 version MAJOR.MINOR.PATCH with an optional -prerelease, no build metadata and no leading zeros');
    }
    const channel = optionalString(b, 'channel') ?? 'stable';
    if (channel !== 'stable' && channel !== 'beta') fail('channel', 'channel must be "stable" or "beta"');
    const computerId = computerIdField(b);
    const usersInUse = usersInUseField(b);
    const content = contentField(b);
    const nonce = nonceField(b);
    // Two literals rather than `{ ...request, product }`: V8 (Node 20) moves most objects made by a
    // spread-first literal to the old generation at their first scavenge, however short-lived
    // (README, "Benchmark"), and this runs on every call.
    return product === undefined
      ? { licence, version, channel, computerId, usersInUse, content, nonce }
      : { licence, version, channel, computerId, usersInUse, content, nonce, product };
  });
}

/** Parses a `/licence-file` body: `{ licence, computerId, nonce }`. */
export function parseLicenceFileRequest(body: unknown): ParseResult<LicenceFileRequest> {
  return attempt(body, (b) => ({ licence: licenceField(b), computerId: computerIdField(b), nonce: nonceField(b) }));
}

function attempt<T>(body: unknown, parse: (b: Body) => T): ParseResult<T> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, field: 'body', message: 'the request body must be a JSON object' };
  }
  try {
    return { ok: true, request: parse(body as Body) };
  } catch (err) {
    if (err instanceof BadField) return { ok: false, field: err.field, message: err.message };
    throw err;
  }
}

function fail(field: string, message: string): never {
  throw new BadField(field, message);
}

/** Reads only own properties, so nothing inherited through the prototype chain is mistaken for input. */
function own(b: Body, field: string): unknown {
  return Object.prototype.hasOwnProperty.call(b, field) ? b[field] : undefined;
}

function stringField(b: Body, field: string): string {
  const v = own(b, field);
  if (v === undefined) fail(field, `${field} is required`);
  if (typeof v !== 'string') fail(field, `${field} must be a string`);
  return v;
}

// `null` is refused like any other non-string: the contract types optional fields, it does not make
// them nullable, and accepting it would let a client believe it had sent something.
function optionalString(b: Body, field: string): string | undefined {
  const v = own(b, field);
  if (v === undefined) return undefined;
  if (typeof v !== 'string') fail(field, `${field} must be a string when present`);
  return v;
}

function licenceField(b: Body): string {
  const licence = stringField(b, 'licence');
  // Any shorter string, the empty one included, is a well-formed request that is simply NOT_FOUND.
  if (isKeyTooLong(licence)) fail('licence', `licence must be at most ${MAX_KEY_CODE_POINTS} characters`);
  return licence;
}

function computerIdField(b: Body): string {
  const computerId = stringField(b, 'computerId');
  if (!COMPUTER_ID.test(computerId)) fail('computerId', 'computerId must be 64 lowercase hexadecimal characters');
  return computerId;
}

function usersInUseField(b: Body): number {
  const v = own(b, 'usersInUse');
  if (v === undefined) fail('usersInUse', 'usersInUse is required');
  // typeof rules out strings and booleans; isInteger rules out 1.5, NaN and ±Infinity (1e400 parses
  // to Infinity). 1e3 and 1.0 are the same JSON number as 1000 and 1, so they are accepted.
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_USERS_IN_USE) {
    fail('usersInUse', `usersInUse must be an integer from 0 to ${MAX_USERS_IN_USE}`);
  }
  return v === 0 ? 0 : v; // turns -0 into 0
}

function contentField(b: Body): ReadonlyMap<string, string> {
  const v = own(b, 'content');
  const content = new Map<string, string>();
  if (v === undefined) return content;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    fail('content', 'content must be an object of add-on code to installed content version');
  }
  for (const [code, version] of Object.entries(v)) {
    if (typeof version !== 'string' || !isContentVersion(version)) {
      fail(`content.${code}`, 'a content version must be one or more dot-separated decimal numbers');
    }
    content.set(code, version);
  }
  return content;
}

function nonceField(b: Body): string {
  const nonce = stringField(b, 'nonce');
  if (!NONCE.test(nonce)) fail('nonce', 'nonce must be 16 to 128 characters of A-Z, a-z, 0-9, _ and -');
  return nonce;
}
