// `bin/keyward serve --processes N`: one machine, N processes sharing the listening port (node:cluster),
// because one Node process uses one core for JavaScript. The primary prepares the database once
// (migrations, first signing key), then forks; the first process keeps the configured role (so jobs
// and mail intake run once) and the others serve web traffic only. A process that dies is restarted.

import cluster, { type Worker } from 'node:cluster';
import type { Config } from './kernel/config/config.js';
import { createKernel } from './kernel/context.js';

const RESTART_DELAY_MS = 1000;

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
  const indexOf = new Map<Worker, number>();
  const fork = (index: number) => {
    const w = cluster.fork({ ...processEnv(index, count, config.role), KEYWARD_AUTO_MIGRATE: '0' });
    indexOf.set(w, index);
  };
  cluster.on('exit', (w, code, signal) => {
    const index = indexOf.get(w);
    indexOf.delete(w);
    if (stopping || index === undefined) {
      if (indexOf.size === 0) process.exit(0);
      return;
    }
    process.stderr.write(`Keyward process ${index} stopped (${signal ?? `exit code ${code}`}); restarting it.\n`);
    setTimeout(() => fork(index), RESTART_DELAY_MS).unref();
  });
  const stop = () => {
    stopping = true;
    for (const w of indexOf.keys()) w.process.kill('SIGTERM');
    if (indexOf.size === 0) process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  for (let i = 0; i < count; i++) fork(i);
}
