import cluster from 'node:cluster';

/**
 * Starts N processes sharing one port (node:cluster), each running either Keyward (`keyward`) or the bare
 * baseline server (`bare`). Prints "ready <port>" once every worker listens.
 * Usage: node --import tsx bench/lib/cluster-entry.ts keyward|bare <processes> <port>
 */
const [mode, procs, portArg] = process.argv.slice(2);
const n = Number(procs ?? 1);
const port = Number(portArg);

if (cluster.isPrimary) {
  let ready = 0;
  // As `serve --processes N` runs them: the first process also runs the job worker, the rest only serve.
  const { processEnv } = await import('../../src/processes.js');
  for (let i = 0; i < n; i++) cluster.fork(mode === 'keyward' ? processEnv(i, n, 'all') : {});
  cluster.on('message', (_w, msg: unknown) => {
    if (msg === 'listening' && ++ready === n) process.stdout.write(`ready ${port}\n`);
  });
  cluster.on('exit', (_w, code) => { if (code) process.stderr.write(`worker exited ${code}\n`); });
  process.on('SIGTERM', () => { for (const w of Object.values(cluster.workers ?? {})) w?.kill(); process.exit(0); });
} else if (mode === 'bare') {
  process.env.PORT = String(port);
  await import('./bare-server.js');
  setTimeout(() => process.send!('listening'), 200);
} else {
  const { loadConfig } = await import('../../src/kernel/config/config.js');
  const { serve } = await import('../../src/main.js');
  await serve(loadConfig({ ...process.env, PORT: String(port) }));
  process.send!('listening');
}
