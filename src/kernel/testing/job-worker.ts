// A separate worker process for tests that must kill a worker mid-job (SIGKILL, like a crashed node):
// opens the test database named by KEYWARD_TEST_CONFIG, runs what is due at KEYWARD_TEST_NOW once, exits.
// Started with `node --import tsx src/kernel/testing/job-worker.ts`.
import type { Config } from '../config/config.js';
import { createKernel } from '../context.js';
import { silentLog } from './db.js';

const config = JSON.parse(process.env.KEYWARD_TEST_CONFIG!) as Config;
const now = Number(process.env.KEYWARD_TEST_NOW);
const k = createKernel(config, { log: silentLog, clock: { now: () => now } });
const ran = await k.jobs.runDue();
process.stdout.write(`ran ${ran}\n`);
await k.close();
