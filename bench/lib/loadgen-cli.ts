import fs from 'node:fs';
import { closedLoop, openLoop, postRequest } from './loadgen.js';

/** Runs one load phase in its own process (its own core) and prints the result as JSON. */
const opts = JSON.parse(process.argv[2]!) as { mode: 'closed' | 'open'; port: number; connections: number; seconds: number; rate?: number; bodiesFile: string; path: string };
const bodies = JSON.parse(fs.readFileSync(opts.bodiesFile, 'utf8')) as string[];
const requests = bodies.map((b) => postRequest(opts.path, `127.0.0.1:${opts.port}`, b));
const r = opts.mode === 'closed'
  ? await closedLoop({ port: opts.port, connections: opts.connections, seconds: opts.seconds, requests })
  : await openLoop({ port: opts.port, connections: opts.connections, seconds: opts.seconds, rate: opts.rate!, requests });
process.stdout.write(JSON.stringify(r) + '\n');
process.exit(0);
