/**
 * Simulated installations calling home, for trials and load: each has its own computer ID,
 * version, channel and user count, and goes through the real client (signature, nonce, skew).
 */
import { KeywardClient, type CheckInput } from './client.js';
import { computerIdFrom } from './computer-id.js';
import { KeywardClientError, fetchFailure } from './errors.js';
import { verifySignature, type PinnedKey } from './signature.js';

export interface SimulateOptions {
  serverUrl: string;
  /** Licence keys; installation i uses key i modulo their count. */
  licences: string[];
  product?: string;
  installations: number;
  durationSeconds: number;
  /** Calls per second across all installations. */
  rate: number;
  /** Derives the computer IDs and profiles, so a rerun plays the same installations. */
  seed: string;
  /** Keys to trust; when absent they are fetched from `GET /api/v1/keys` (acceptable in a trial only). */
  pinnedKeys?: PinnedKey[];
  /** Most calls in flight at once. */
  concurrency?: number;
  onProgress?: (line: string) => void;
  /** Ends the run early (Ctrl-C); the calls in flight finish and the summary covers what ran. */
  signal?: AbortSignal;
}

export interface SimulationSummary {
  installations: number;
  seconds: number;
  /** Checks made (each one HTTP request). */
  calls: number;
  /** Verified answers by code, split by their `valid`. */
  valid: Record<string, number>;
  invalid: Record<string, number>;
  /** Failed checks by client error code (RATE_LIMITED, NETWORK_ERROR, SIGNATURE_INVALID…). */
  errors: Record<string, number>;
  /** Of the failures, how many were covered by a cached answer (the program kept running offline). */
  offlineFallbacks: number;
  /** Turns an installation skipped because its Retry-After had not passed. */
  skippedForRetryAfter: number;
  latencyMs: { p50: number; p99: number; max: number };
}

/** Small seeded generator (mulberry32), so profiles follow from the seed alone. */
function seededRandom(seed: string): () => number {
  let state = [...seed].reduce((hash, char) => Math.imul(hash ^ char.charCodeAt(0), 16777619), 2166136261) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// A spread like a real installed base: most on recent stable releases, a tail of old ones, a few betas.
const STABLE_VERSIONS = ['7.9.4', '8.4.2', '8.5.0', '8.5.1', '8.5.1', '8.6.0', '8.6.0', '8.6.0'];
const BETA_VERSIONS = ['8.7.0-beta.1', '8.7.0-beta.2'];

interface Installation {
  client: KeywardClient;
  version: string;
  channel: 'stable' | 'beta';
  baseUsers: number;
  busy: boolean;
}

function makeInstallations(options: SimulateOptions, pinnedKeys: PinnedKey[]): Installation[] {
  const random = seededRandom(options.seed);
  const productKey = `keyward-simulate:${options.product ?? ''}`;
  return Array.from({ length: options.installations }, (_, index) => {
    const beta = random() < 0.1;
    const versions = beta ? BETA_VERSIONS : STABLE_VERSIONS;
    return {
      client: new KeywardClient({
        serverUrl: options.serverUrl,
        licence: options.licences[index % options.licences.length],
        product: options.product,
        computerId: computerIdFrom(`${options.seed}:${index}`, productKey),
        pinnedKeys,
      }),
      version: versions[Math.floor(random() * versions.length)],
      channel: beta ? 'beta' : 'stable',
      // Mostly small offices, a few large sites.
      baseUsers: 1 + Math.floor(random() ** 3 * 200),
      busy: false,
    };
  });
}

/** Fetches the published keys, checking that the key list is signed by one of its own keys. */
export async function fetchPinnedKeys(serverUrl: string): Promise<PinnedKey[]> {
  const url = `${serverUrl.replace(/\/+$/, '')}/api/v1/keys`;
  const response = await fetch(url).catch((error: unknown) => {
    throw new Error(`cannot fetch the signing keys from ${url}: ${fetchFailure(error)}`);
  });
  const body = new Uint8Array(await response.arrayBuffer());
  if (!response.ok) throw new Error(`GET /api/v1/keys answered ${response.status}`);
  const keys = (JSON.parse(Buffer.from(body).toString('utf8')) as { keys: PinnedKey[] }).keys;
  const pinned = keys.map(({ kid, publicKey }) => ({ kid, publicKey }));
  if (!verifySignature(body, response.headers.get('keyward-signature'), pinned).ok) {
    throw new Error('the key list is not signed by any key it lists');
  }
  return pinned;
}

function percentile(sorted: number[], fraction: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)];
}

function increment(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

export async function simulate(options: SimulateOptions): Promise<SimulationSummary> {
  if (options.licences.length === 0) throw new Error('at least one licence key is needed');
  const pinnedKeys = options.pinnedKeys ?? (await fetchPinnedKeys(options.serverUrl));
  const installations = makeInstallations(options, pinnedKeys);
  const concurrency = options.concurrency ?? 256;
  const summary: SimulationSummary = {
    installations: installations.length, seconds: 0, calls: 0, valid: {}, invalid: {}, errors: {},
    offlineFallbacks: 0, skippedForRetryAfter: 0, latencyMs: { p50: 0, p99: 0, max: 0 },
  };
  const latencies: number[] = [];
  const pending = new Set<Promise<void>>();
  const drift = seededRandom(`${options.seed}:drift`);

  const callOnce = async (installation: Installation): Promise<void> => {
    const input: CheckInput = {
      version: installation.version,
      channel: installation.channel,
      usersInUse: Math.max(0, installation.baseUsers + Math.round((drift() - 0.5) * 4)),
    };
    const started = performance.now();
    try {
      const result = await installation.client.check(input);
      if (result.offline) {
        summary.offlineFallbacks++;
        increment(summary.errors, result.error.code);
      } else {
        increment(result.answer.valid ? summary.valid : summary.invalid, result.answer.code);
      }
    } catch (error) {
      increment(summary.errors, error instanceof KeywardClientError ? error.code : 'UNEXPECTED');
    } finally {
      latencies.push(performance.now() - started);
      installation.busy = false;
    }
  };

  const start = performance.now();
  const end = start + options.durationSeconds * 1000;
  let started = 0;
  let cursor = 0;
  let lastProgress = start;
  // A 10 ms tick fires however many calls are due by now, so high rates need no 1 ms timers.
  while (performance.now() < end && !options.signal?.aborted) {
    const due = Math.floor(((performance.now() - start) / 1000) * options.rate) + 1;
    for (let scanned = 0; started < due && pending.size < concurrency && scanned < installations.length; scanned++) {
      const installation = installations[cursor];
      cursor = (cursor + 1) % installations.length;
      if (installation.busy) continue;
      if (installation.client.retryAt) {
        summary.skippedForRetryAfter++;
        started++; // its turn passes, as a real program would wait
        continue;
      }
      installation.busy = true;
      started++;
      summary.calls++;
      const call = callOnce(installation).finally(() => pending.delete(call));
      pending.add(call);
    }
    if (options.onProgress && performance.now() - lastProgress >= 1000) {
      lastProgress = performance.now();
      options.onProgress(progressLine(summary, (lastProgress - start) / 1000));
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await Promise.all(pending);
  summary.seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  summary.latencyMs = { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), max: latencies.at(-1) ?? 0 };
  return summary;
}

const total = (counts: Record<string, number>): number => Object.values(counts).reduce((sum, n) => sum + n, 0);

function progressLine(summary: SimulationSummary, seconds: number): string {
  return `${seconds.toFixed(0)}s calls ${summary.calls} valid ${total(summary.valid)} invalid ${total(summary.invalid)} errors ${total(summary.errors)} skipped for Retry-After ${summary.skippedForRetryAfter}`;
}

export function formatSummary(summary: SimulationSummary, options: Pick<SimulateOptions, 'serverUrl' | 'rate'>): string {
  const rows = [
    ...Object.entries(summary.valid).map(([code, n]) => [code, n, 'valid'] as const),
    ...Object.entries(summary.invalid).map(([code, n]) => [code, n, 'invalid'] as const),
    ...Object.entries(summary.errors).map(([code, n]) => [code, n, 'error'] as const),
  ];
  const ms = (value: number): string => `${value.toFixed(1)} ms`;
  return [
    `summary: ${summary.installations} installations against ${options.serverUrl}, ${summary.seconds.toFixed(1)} s, target ${options.rate} calls/s`,
    `calls ${summary.calls} (${(summary.calls / Math.max(summary.seconds, 0.001)).toFixed(1)}/s), valid ${total(summary.valid)}, ` +
      `invalid ${total(summary.invalid)}, errors ${total(summary.errors)} (offline fallback ${summary.offlineFallbacks}), ` +
      `skipped for Retry-After ${summary.skippedForRetryAfter}`,
    ...rows.map(([code, n, kind]) => `  ${code.padEnd(22)} ${String(n).padStart(8)}  ${kind}`),
    `latency p50 ${ms(summary.latencyMs.p50)}, p99 ${ms(summary.latencyMs.p99)}, max ${ms(summary.latencyMs.max)}`,
    ...hints(summary),
  ].join('\n');
}

/** What a run that mostly failed most likely means, so a trial does not end in a table of error codes. */
function hints(summary: SimulationSummary): string[] {
  const calls = summary.calls;
  const share = (code: string) => (calls === 0 ? 0 : (summary.errors[code] ?? 0) / calls);
  const out: string[] = [];
  if (share('NETWORK_ERROR') >= 0.5) out.push('hint: the server did not answer most calls: is --server right, and is it running?');
  if (share('SIGNATURE_INVALID') >= 0.5) out.push('hint: most answers failed verification: are the pinned keys (--keys) this server\'s GET /api/v1/keys?');
  if (summary.skippedForRetryAfter > 0 || share('RATE_LIMITED') > 0) {
    out.push('hint: the server\'s rate limits refused calls (by default 30 a minute per licence and 600 per address): use more licences, a lower --rate, or raise the limits for a trial');
  }
  return out;
}
