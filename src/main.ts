import cluster from 'node:cluster';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { loadConfig, ConfigError, type Config } from './kernel/config/config.js';
import { createKernel, type Kernel } from './kernel/context.js';
import { migrateToLatest, pendingMigrations, pendingMigrationsMessage } from './kernel/db/migrate.js';
import { ensureSigningKey } from './kernel/crypto/signing.js';
import { backupDatabase, defaultBackupPath } from './kernel/db/backup.js';
import { allMigrations } from './migrations.js';
import { buildApp } from './app.js';
import { runProcesses } from './processes.js';

/** A listen that found its port taken becomes a message naming the setting to change (exit code 2). */
function inUse(variable: string, port: number) {
  return (err: NodeJS.ErrnoException): never => {
    if (err.code === 'EADDRINUSE') throw new ConfigError([`Port ${port} (${variable}) is already in use. Set ${variable} to a free port${variable === 'PORT' ? ', e.g. PORT=3001' : ''}.`]);
    throw err;
  };
}

/** config → database (migrated) → app → listen. `announce: false` for the extra processes of --processes. */
export async function serve(config: Config, opts: { announce?: boolean } = {}): Promise<() => Promise<void>> {
  const k = createKernel(config);
  await prepareDatabase(k, config);
  const { app, accounts } = await buildApp(k);
  if (config.role !== 'web') k.jobs.start();
  // A worker runs jobs and the mail intake only: it leaves the web port to the web nodes on its machine.
  // Its timers do not hold the process open (they must not delay a web node's exit), so this one does.
  if (config.role !== 'worker') {
    await app.listen({ host: config.host, port: config.port }).catch(inUse('PORT', config.port));
    // PORT=0 lets the system choose a free port. A public URL derived from it would say :0, and every
    // link, the first-run link and the same-origin check of every form would be wrong: name the real one.
    const url = new URL(config.publicUrl);
    if (url.port === '0') {
      url.port = String((app.server.address() as AddressInfo).port);
      config.publicUrl = url.toString().replace(/\/+$/, '');
    }
  }
  const keepAlive = config.role === 'worker' ? setInterval(() => {}, 2 ** 30) : null;
  if (config.smtpListen && config.role !== 'web') {
    const port = await k.inbound.listen(config.smtpListen.port, config.smtpListen.host).catch(inUse('KEYWARD_SMTP_LISTEN', config.smtpListen.port));
    k.log.info({ port }, 'SMTP intake listening');
  }
  if (config.lmtpListen && config.role !== 'web') {
    const port = await k.inbound.listen(config.lmtpListen.port, config.lmtpListen.host, { lmtp: true }).catch(inUse('KEYWARD_LMTP_LISTEN', config.lmtpListen.port));
    k.log.info({ port }, 'LMTP intake listening');
  }
  if (opts.announce !== false) {
    const link = await accounts.staff.firstRunLink();
    const where = config.database.kind === 'sqlite' ? `SQLite ${config.database.file}` : 'PostgreSQL';
    process.stdout.write(config.role === 'worker'
      ? `\nKeyward is running as a worker: jobs${config.smtpListen || config.lmtpListen ? ' and the mail intake' : ''}, no web server (${where}).\n`
      : `\nKeyward is running at ${config.publicUrl} (${where}).\n`);
    if (link) process.stdout.write(`\nNo staff account exists yet. Open this one-time link to create the owner account:\n\n  ${link}\n\n`);
  }
  return async () => {
    if (keepAlive) clearInterval(keepAlive);
    await app.close();
    await k.close();
  };
}

/**
 * Refuses an existing database with pending migrations unless told to migrate (after a backup on
 * SQLite); creates a new one; makes the first signing key. Runs once, before any process serves.
 */
export async function prepareDatabase(k: Kernel, config: Config): Promise<void> {
  const pending = await pendingMigrations(k.db, allMigrations, k.dbh.schema);
  const fresh = pending.length === Object.keys(allMigrations).length;
  if (pending.length) {
    // A new, empty database is simply created; an existing one is only migrated when asked, after a backup.
    if (!fresh && !config.autoMigrate) {
      await k.close();
      throw new ConfigError([pendingMigrationsMessage(pending)]);
    }
    if (!fresh && config.database.kind === 'sqlite') {
      const file = await backupDatabase(k.dbh, config.database, defaultBackupPath(config, 'pre-migrate'));
      k.log.info({ file }, 'database backed up before migrating');
    }
    const ran = await migrateToLatest(k.db, allMigrations, k.dbh.schema);
    k.log.info({ migrations: ran }, 'database migrated');
  }
  await ensureSigningKey(k.db, k.secrets);
}

export async function main(argv: string[] = []): Promise<void> {
  let config: Config;
  try {
    const { values } = parseArgs({ args: argv, options: { migrate: { type: 'boolean' }, role: { type: 'string' }, processes: { type: 'string' } }, strict: true });
    const env = { ...process.env };
    // In a process forked by --processes, the primary set the role (and already migrated).
    if (values.role && !cluster.isWorker) env.KEYWARD_ROLE = values.role;
    if (values.processes !== undefined && !cluster.isWorker) env.KEYWARD_PROCESSES = values.processes;
    config = loadConfig(env, values.migrate && !cluster.isWorker ? { autoMigrate: true } : {});
  } catch (err) {
    if (err instanceof ConfigError) { process.stderr.write(err.message + '\n'); process.exit(2); }
    throw err;
  }
  try {
    if (config.processes > 1 && cluster.isPrimary) {
      await runProcesses(config, config.processes, (k) => prepareDatabase(k, config));
      return;
    }
    const stop = await serve(config, { announce: (process.env.KEYWARD_PROCESS_INDEX ?? '0') === '0' });
    const shutdown = () => { void stop().then(() => process.exit(0)); };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  } catch (err) {
    if (err instanceof ConfigError) { process.stderr.write(err.message + '\n'); process.exit(2); }
    const e = err as NodeJS.ErrnoException;

    process.stderr.write(`Keyward could not start: ${e.message}\n`);
    process.exit(1);
  }
}
