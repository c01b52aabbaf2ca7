import { randomBytes } from 'node:crypto';
import { asCallhomeAnswer, asErrorAnswer, parseJson, type CallhomeAnswer } from './answer.js';
import { KeywardClientError, fetchFailure } from './errors.js';
import { verifyLicenceFile, type LicenceFilePayload } from './licence-file.js';
import { clearOfflineCache, loadOfflineCache, saveOfflineCache, type SignedAnswer } from './offline-cache.js';
import { nextCheckTime, retryAfterTime, type RandomSource } from './schedule.js';
import { SIGNATURE_HEADER, ed25519PublicKey, verifySignature, type PinnedKey } from './signature.js';

export interface KeywardClientOptions {
  /** Base address of the Keyward server, e.g. `https://licences.example.com`. */
  serverUrl: string;
  /** The licence key exactly as the user entered it (the server normalises it). */
  licence: string;
  /** Product code; when set, the server refuses a key of another product, and so does the cache. */
  product?: string;
  /** From `computerIdFrom()` / `machineComputerId()`: 64 lowercase hex characters. */
  computerId: string;
  /** The server's public keys, built into the program; answers signed by any other key are refused. */
  pinnedKeys: readonly PinnedKey[];
  /** Where to keep the last signed answer for offline use; without it the cache lives in memory only. */
  cacheFile?: string;
  /** How far the answer's `ts` may be from this machine's clock. Default 300 seconds. */
  clockSkewSeconds?: number;
  /** Per request, connection and body included. Default 15 seconds. */
  timeoutMs?: number;
  /** Cap on a Retry-After (a replayed 429 must not silence the program for long). Default one day. */
  maxRetryAfterSeconds?: number;
  /** Told about problems that do not fail a check, such as a cache file that cannot be written. */
  onWarning?: (message: string, cause?: unknown) => void;
  /** Test seams. */
  now?: () => Date;
  random?: RandomSource;
  fetch?: typeof fetch;
  nonce?: () => string;
}

export interface CheckInput {
  usersInUse: number;
  version: string;
  channel?: 'stable' | 'beta';
  /** `{ "<add-on code>": "<installed content version>" }`. */
  content?: Record<string, string>;
}

export type CheckResult =
  | { offline: false; answer: CallhomeAnswer }
  /** The server could not give a usable answer; this is the cached one, valid until `offlineUntil`. */
  | { offline: true; answer: CallhomeAnswer; error: KeywardClientError };

export type LicenceFileResult =
  | { kind: 'file'; text: string; payload: LicenceFilePayload }
  /** The licence would not validate; the signed answer says why (`code`, `detail`). */
  | { kind: 'refused'; answer: CallhomeAnswer };

interface SignedResponse {
  body: Uint8Array;
  signature: string;
}

/** How many accepted nonces to remember: far more than the calls a program makes between restarts. */
const ACCEPTED_NONCES_KEPT = 1024;
const MAX_TIMER_MS = 2 ** 31 - 1;
/** A 429 without a readable Retry-After still pauses calls for this long. */
const DEFAULT_RETRY_AFTER_SECONDS = 60;

/** A fresh nonce: 24 random bytes as 32 base64url characters (the spec allows 16–128 of A-Z a-z 0-9 _ -). */
export function newNonce(): string {
  return randomBytes(24).toString('base64url');
}

export class KeywardClient {
  private readonly options: KeywardClientOptions;
  private readonly baseUrl: string;
  private readonly now: () => Date;
  private readonly random: RandomSource;
  private readonly fetch: typeof fetch;
  private readonly newNonce: () => string;
  /** Nonces of answers already accepted: the same signed answer is never accepted twice. */
  private readonly acceptedNonces = new Set<string>();
  private cached: SignedAnswer | undefined;
  private cacheLoaded: Promise<void> | undefined;
  private retryAtTime: Date | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** Bumped by start(), so a check still in flight from a stopped loop schedules nothing. */
  private loopGeneration = 0;

  constructor(options: KeywardClientOptions) {
    if (!/^[0-9a-f]{64}$/.test(options.computerId)) {
      throw new TypeError('computerId must be 64 lowercase hex characters (use computerIdFrom)');
    }
    if (options.pinnedKeys.length === 0) throw new TypeError('at least one pinned key is needed');
    options.pinnedKeys.forEach((key) => ed25519PublicKey(key.publicKey)); // fail at start, not at the first call
    this.options = options;
    this.baseUrl = options.serverUrl.replace(/\/+$/, '');
    this.now = options.now ?? (() => new Date());
    this.random = options.random ?? Math.random;
    this.fetch = options.fetch ?? globalThis.fetch;
    this.newNonce = options.nonce ?? newNonce;
  }

  /** The client will not call the server before this time (set by a 429's Retry-After). */
  get retryAt(): Date | undefined {
    return this.retryAtTime && this.retryAtTime > this.now() ? this.retryAtTime : undefined;
  }

  /**
   * Calls home and returns a verified answer, or, when that fails for any reason, the last
   * verified answer while its `offlineUntil` lasts. Throws a KeywardClientError otherwise.
   * The answer may say `valid: false`; the program decides what that means for its user.
   */
  async check(input: CheckInput): Promise<CheckResult> {
    try {
      const answer = await this.callHome(input);
      return { offline: false, answer };
    } catch (error) {
      if (!(error instanceof KeywardClientError)) throw error;
      const cached = await this.offlineAnswer();
      if (cached) return { offline: true, answer: cached, error };
      throw error;
    }
  }

  /** The cached answer if it still allows running offline, else undefined. Loads the cache file once. */
  async offlineAnswer(): Promise<CallhomeAnswer | undefined> {
    await this.loadCache();
    const answer = this.cached?.answer;
    if (!answer?.valid || !answer.offlineUntil) return undefined;
    const now = this.now().getTime();
    if (Date.parse(answer.offlineUntil) <= now) return undefined;
    // A clock wound back to before the answer was given would stretch offline use; refuse it.
    if (Date.parse(answer.ts) > now + this.skewMs()) return undefined;
    if (this.options.product && answer.licence?.product !== this.options.product) return undefined;
    return answer;
  }

  /**
   * When to call next: `nextCheckSeconds` of a fresh answer with ±10% jitter, never before a Retry-After.
   * Given a check() result that is offline (the cached answer), or nothing, it is an hour away instead:
   * the cached answer's interval (often a day) could outlast the offline period.
   */
  nextCheckAt(last?: CheckResult | Pick<CallhomeAnswer, 'nextCheckSeconds'>, now: Date = this.now()): Date {
    const fresh = last === undefined ? undefined : 'offline' in last ? (last.offline ? undefined : last.answer) : last;
    return nextCheckTime(now, fresh?.nextCheckSeconds, this.retryAt, this.random);
  }

  /** Asks for an offline licence file for this machine and verifies it before returning it. */
  async requestLicenceFile(): Promise<LicenceFileResult> {
    const nonce = this.newNonce();
    const { licence, computerId } = this.options;
    const response = await this.post('/api/v1/licence-file', { licence, computerId, nonce });
    const text = Buffer.from(response.body).toString('utf8');
    if (text.trimStart().startsWith('-----BEGIN KEYWARD LICENCE FILE-----')) {
      const payload = this.verifyLicenceFile(text);
      if (payload.nonce !== nonce) throw new KeywardClientError('NONCE_MISMATCH', 'the licence file echoes another nonce');
      return { kind: 'file', text, payload };
    }
    return { kind: 'refused', answer: this.acceptAnswer(response.body, nonce) };
  }

  /** Verifies a stored licence file for this machine (see verifyLicenceFile). */
  verifyLicenceFile(text: string): LicenceFilePayload {
    return verifyLicenceFile(text, this.options.pinnedKeys, { computerId: this.options.computerId, now: this.now() });
  }

  /**
   * Checks now, then again at `nextCheckAt` for as long as the program runs. Timers are unref'd:
   * they never keep a program alive that has finished its work. Failures (and anything thrown
   * by onResult) go to onError; the loop carries on either way.
   */
  start(loop: {
    input: () => CheckInput | Promise<CheckInput>;
    onResult?: (result: CheckResult) => void;
    onError?: (error: unknown) => void;
  }): void {
    if (this.running) return;
    this.running = true;
    const generation = ++this.loopGeneration;
    // A callback that throws must not end the loop or the program (an unhandled rejection).
    const report = (error: unknown) => {
      try {
        loop.onError?.(error);
      } catch { /* the program's own handler failed; the loop carries on */ }
    };
    const tick = async (): Promise<void> => {
      let fresh: CallhomeAnswer | undefined;
      try {
        const result = await this.check(await loop.input());
        if (!result.offline) fresh = result.answer;
        loop.onResult?.(result);
      } catch (error) {
        report(error);
      }
      if (this.running && generation === this.loopGeneration) this.wakeAt(this.nextCheckAt(fresh), tick);
    };
    void tick();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private wakeAt(at: Date, wake: () => void): void {
    const delay = at.getTime() - this.now().getTime();
    // setTimeout cannot wait longer than about 24.8 days in one go.
    this.timer = setTimeout(() => (delay > MAX_TIMER_MS ? this.wakeAt(at, wake) : wake()), Math.min(Math.max(delay, 0), MAX_TIMER_MS));
    this.timer.unref();
  }

  private async callHome(input: CheckInput): Promise<CallhomeAnswer> {
    const nonce = this.newNonce();
    const { licence, product, computerId } = this.options;
    // Only what the privacy notice promises: licence, version, channel, users, computer ID, content.
    const request = { licence, product, version: input.version, channel: input.channel, computerId, usersInUse: input.usersInUse, content: input.content, nonce };
    const response = await this.post('/api/v1/callhome', request);
    const answer = this.acceptAnswer(response.body, nonce);
    await this.remember({ answer, body: response.body, signature: response.signature });
    return answer;
  }

  /** Sends a POST and returns the answer only if it is a signed 200; every other outcome throws. */
  private async post(path: string, body: unknown): Promise<SignedResponse> {
    const retryAt = this.retryAt;
    if (retryAt) throw new KeywardClientError('RATE_LIMITED', `Retry-After: not before ${retryAt.toISOString()}`, { retryAt });
    let status: number;
    let headers: Headers;
    let bytes: Uint8Array;
    try {
      const response = await this.fetch(`${this.baseUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 15_000),
      });
      status = response.status;
      headers = response.headers;
      bytes = new Uint8Array(await response.arrayBuffer());
    } catch (cause) {
      throw new KeywardClientError('NETWORK_ERROR', `no answer from ${this.baseUrl}: ${fetchFailure(cause)}`, { cause });
    }

    if (status === 429) {
      // Honoured even unsigned (a proxy's 429): waiting is harmless, and the cap bounds it.
      const maxSeconds = this.options.maxRetryAfterSeconds ?? 86_400;
      const until = retryAfterTime(headers.get('retry-after'), this.now(), DEFAULT_RETRY_AFTER_SECONDS, maxSeconds);
      this.retryAtTime = until;
      throw new KeywardClientError('RATE_LIMITED', `rate limited until ${until.toISOString()}`, { retryAt: until, status });
    }
    const signature = headers.get(SIGNATURE_HEADER) ?? '';
    // An unsigned error (a reverse proxy's 502 while the server restarts) is an outage, not tampering.
    if (status !== 200 && signature === '') {
      throw new KeywardClientError('SERVER_ERROR', `HTTP ${status} without a Keyward signature (a proxy or the network, not the licence server)`, { status });
    }
    const check = verifySignature(bytes, signature, this.options.pinnedKeys);
    if (!check.ok) throw new KeywardClientError('SIGNATURE_INVALID', check.reason, { status });
    if (status !== 200) {
      const error = asErrorAnswer(parseJson(bytes))?.error;
      throw new KeywardClientError('SERVER_ERROR', error?.message ?? `HTTP ${status}`, {
        status,
        serverCode: error?.code,
        field: error?.field,
      });
    }
    return { body: bytes, signature };
  }

  /** Checks a signed JSON answer belongs to this call (nonce, once only) and to this time (skew). */
  private acceptAnswer(body: Uint8Array, nonce: string): CallhomeAnswer {
    const answer = asCallhomeAnswer(parseJson(body));
    if (!answer) throw new KeywardClientError('INVALID_ANSWER', 'the signed body is not a call-home answer', { status: 200 });
    if (answer.nonce !== nonce || this.acceptedNonces.has(answer.nonce)) {
      throw new KeywardClientError('NONCE_MISMATCH', 'the answer does not echo this call\'s nonce: a replayed answer');
    }
    const ts = Date.parse(answer.ts);
    if (Number.isNaN(ts) || Math.abs(ts - this.now().getTime()) > this.skewMs()) {
      throw new KeywardClientError('CLOCK_SKEW', `answer time ${answer.ts} is too far from this machine's clock`);
    }
    this.acceptedNonces.add(answer.nonce);
    if (this.acceptedNonces.size > ACCEPTED_NONCES_KEPT) {
      this.acceptedNonces.delete(this.acceptedNonces.values().next().value as string);
    }
    return answer;
  }

  /**
   * Keeps the newest verified answer. An answer without `offlineUntil` (the licence no longer
   * validates) replaces the old one too, so a revoked licence cannot fall back to an older VALID.
   */
  private async remember(signed: SignedAnswer): Promise<void> {
    await this.loadCache(); // so a late load cannot overwrite this newer answer
    this.cached = signed;
    const path = this.options.cacheFile;
    if (!path) return;
    try {
      await (signed.answer.offlineUntil ? saveOfflineCache(path, signed, this.options.licence) : clearOfflineCache(path));
    } catch (cause) {
      this.options.onWarning?.(`cannot update the offline cache ${path}`, cause);
    }
  }

  private loadCache(): Promise<void> {
    const path = this.options.cacheFile;
    this.cacheLoaded ??= path
      ? loadOfflineCache(path, this.options.pinnedKeys, this.options.licence).then((loaded) => {
          this.cached ??= loaded;
        })
      : Promise.resolve();
    return this.cacheLoaded;
  }

  private skewMs(): number {
    return (this.options.clockSkewSeconds ?? 300) * 1000;
  }
}
