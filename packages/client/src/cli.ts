#!/usr/bin/env node
/** keyward-client: command line of the client SDK. Today one command, `simulate`. */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { PinnedKey } from './signature.js';
import { formatSummary, simulate } from './simulate.js';

const USAGE = `usage: keyward-client simulate --server URL (--licence KEY | --licence-file KEYS.txt)
         [--installations N=10] [--duration SECONDS=10] [--rate CALLS_PER_SECOND=10]
         [--product CODE] [--seed TEXT] [--keys KEYS.json] [--concurrency N=256] [--json]

Runs N simulated installations against a Keyward server, each with its own computer ID (derived
from --seed), version and user count, calling home at --rate calls per second in total for
--duration seconds; prints a progress line each second (stderr) and a summary (stdout).
--licence-file is a text file of licence keys, one per line (# comments allowed).
--keys is the JSON of GET /api/v1/keys to pin; without it the keys are fetched from the server.`;

class UsageError extends Error {}

function positiveNumber(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new UsageError(`--${name} must be a positive number`);
  return number;
}

async function readLicences(licence: string | undefined, licenceFile: string | undefined): Promise<string[]> {
  if (licence !== undefined) return [licence];
  if (licenceFile === undefined) throw new UsageError('--licence or --licence-file is required');
  const lines = (await readFile(licenceFile, 'utf8')).split(/\r?\n/).map((line) => line.trim());
  const keys = lines.filter((line) => line !== '' && !line.startsWith('#'));
  if (keys.length === 0) throw new UsageError(`${licenceFile} holds no licence keys`);
  return keys;
}

/** The keys to pin: the JSON of GET /api/v1/keys, or its `keys` array alone. */
async function readPinnedKeys(file: string): Promise<PinnedKey[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`--keys ${file}: ${(error as Error).message}`);
  }
  const keys = Array.isArray(parsed) ? parsed : (parsed as { keys?: unknown } | null)?.keys;
  const valid = Array.isArray(keys) && keys.length > 0
    && keys.every((k) => typeof (k as PinnedKey)?.kid === 'string' && typeof (k as PinnedKey)?.publicKey === 'string');
  if (!valid) throw new UsageError(`--keys ${file} must hold the JSON of GET /api/v1/keys ({ "keys": [{ "kid", "publicKey" }, …] })`);
  return keys as PinnedKey[];
}

async function runSimulate(args: string[]): Promise<void> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const { values } = parseArgs({
    args,
    options: {
      server: { type: 'string' },
      licence: { type: 'string' },
      'licence-file': { type: 'string' },
      installations: { type: 'string' },
      duration: { type: 'string' },
      rate: { type: 'string' },
      product: { type: 'string' },
      seed: { type: 'string' },
      keys: { type: 'string' },
      concurrency: { type: 'string' },
      json: { type: 'boolean' },
    },
    strict: true,
  });
  if (!values.server) throw new UsageError('--server is required');
  const pinnedKeys = values.keys === undefined ? undefined : await readPinnedKeys(values.keys);
  const options = {
    serverUrl: values.server,
    licences: await readLicences(values.licence, values['licence-file']),
    product: values.product,
    installations: Math.floor(positiveNumber(values.installations, 'installations', 10)),
    durationSeconds: positiveNumber(values.duration, 'duration', 10),
    rate: positiveNumber(values.rate, 'rate', 10),
    seed: values.seed ?? 'keyward-simulate',
    concurrency: Math.floor(positiveNumber(values.concurrency, 'concurrency', 256)),
    pinnedKeys,
    onProgress: (line: string) => process.stderr.write(`${line}\n`),
    signal: interrupted.signal,
  };
  // Ctrl-C ends the run early and still prints the summary of what ran.
  process.once('SIGINT', () => interrupted.abort());
  const summary = await simulate(options);
  process.stdout.write(values.json ? `${JSON.stringify(summary)}\n` : `${formatSummary(summary, options)}\n`);
}

const interrupted = new AbortController();

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'simulate') {
      await runSimulate(rest);
      return interrupted.signal.aborted ? 130 : 0;
    }
    process.stderr.write(`${USAGE}\n`);
    return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
  } catch (error) {
    const usage = error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`keyward-client: ${error instanceof Error ? error.message : String(error)}\n${usage ? `${USAGE}\n` : ''}`);
    return usage ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
