// `bin/keyward serve --processes N`: one machine, N processes sharing the listening port (node:cluster),
// because one Node process uses one core for JavaScript. The primary prepares the database once
// (migrations, first signing key), then forks; the first process keeps the configured role (so jobs
// and mail intake run once) and the others serve web traffic only. A process that dies is restarted.

import cluster, { type Worker } from 'node:cluster';
import type { Config } from './kernel/config/config.js';
import { createKernel } from './kernel/context.js';

const RESTART_DELAY_MS = 1000;
/** A process that keeps dying soon after it started is restarted ever more slowly, up to this. */
const MAX_RESTART_DELAY_MS = 30_000;
/** A process that ran this long before it stopped is restarted after the first delay again. */
const HEALTHY_RUN_MS = 10_000;
/** The exit code of a process that found the configuration wrong (main.ts): restarting cannot help. */
const CONFIG_ERROR_EXIT = 2;

/** The environment of process `index` of the N: its role and whether it prints the start-up lines. */
export function processEnv(index: number, count: number, role: Config['role']): Record<string, string> {
  return {
    KEYWARD_PROCESS_INDEX: String(index),
    // Each process knows how many share the machine.
    KEYWARD_PROCESSES: String(count),
    KEYWARD_ROLE: index === 0 || role !== 'all' ? role : 'web',
  };
}

/** Runs in the primary: prepares the database, forks `count` processes, keeps them running. */
export async function runProcesses(config: Config, count: number, prepare: (k: ReturnType<typeof createKernel>) => Promise<void>): Promise<void> {
  const k = createKernel(config);
  try {
    await prepare(k);
  } finally {
    await k.close();
  }
  let stopping = false;
  let exitCode = 0;
  const indexOf = new Map<Worker, number>();
  const startedAt = new Map<number, number>();
  const delay = new Map<number, number>();
  const fork = (index: number) => {
    if (stopping) return;
    const w = cluster.fork({ ...processEnv(index, count, config.role), KEYWARD_AUTO_MIGRATE: '0' });
    indexOf.set(w, index);
    startedAt.set(index, Date.now());
  };
  cluster.on('exit', (w, code, signal) => {
    const index = indexOf.get(w);
    indexOf.delete(w);
    if (stopping || index === undefined) {
      if (indexOf.size === 0) process.exit(exitCode);
      return;
    }
    if (code === CONFIG_ERROR_EXIT) {
      // Every process would find the same problem: stop them all and say so with the same code, so a
      // service manager shows the failure instead of a primary that quietly keeps nothing running.
      process.stderr.write(`Keyward process ${index} stopped: its configuration is wrong (see above). Stopping.\n`);
      exitCode = CONFIG_ERROR_EXIT;
      stop();
      return;
    }
    // The timer keeps the primary alive while no process runs; a process that keeps dying at once is
    // restarted ever more slowly (1, 2, 4 … 30 s) instead of in a tight loop.
    const ranMs = Date.now() - (startedAt.get(index) ?? 0);
    const wait = ranMs >= HEALTHY_RUN_MS ? RESTART_DELAY_MS : Math.min((delay.get(index) ?? RESTART_DELAY_MS / 2) * 2, MAX_RESTART_DELAY_MS);
    delay.set(index, wait);
    process.stderr.write(`Keyward process ${index} stopped (${signal ?? `exit code ${code}`}); restarting it in ${Math.round(wait / 1000)} s.\n`);
    setTimeout(() => fork(index), wait);
  });
  const stop = () => {
    stopping = true;
    for (const w of indexOf.keys()) w.process.kill('SIGTERM');
    if (indexOf.size === 0) process.exit(exitCode);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  for (let i = 0; i < count; i++) fork(i);
}
