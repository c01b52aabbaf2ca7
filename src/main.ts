import { parseArgs } from 'node:util';
import { loadConfig, ConfigError, type Config } from './kernel/config/config.js';
import { createKernel } from './kernel/context.js';
import { migrateToLatest, pendingMigrations } from './kernel/db/migrate.js';
import { ensureSigningKey } from './kernel/crypto/signing.js';
import { backupDatabase, defaultBackupPath } from './kernel/db/backup.js';
import { allMigrations } from './migrations.js';
import { buildApp } from './app.js';

/** config → database (migrated) → app → listen. */
export async function serve(config: Config): Promise<() => Promise<void>> {
  const k = createKernel(config);
  const pending = await pendingMigrations(k.db, allMigrations, k.dbh.schema);
  const fresh = pending.length === Object.keys(allMigrations).length;
  if (pending.length) {
    // A new, empty database is simply created; an existing one is only migrated when asked, after a backup.
    if (!fresh && !config.autoMigrate) {
      await k.close();
      throw new ConfigError([`${pending.length} database migration(s) are pending (${pending.join(', ')}). Back up, then run "bin/keyward migrate", or start with "bin/keyward serve --migrate" (npm start does).`]);
    }
    if (!fresh && config.database.kind === 'sqlite') {
      const file = await backupDatabase(k.dbh, config.database, defaultBackupPath(config, 'pre-migrate'));
      k.log.info({ file }, 'database backed up before migrating');
    }
    const ran = await migrateToLatest(k.db, allMigrations, k.dbh.schema);
    k.log.info({ migrations: ran }, 'database migrated');
  }
  await ensureSigningKey(k.db, k.secrets);
  const { app, accounts } = await buildApp(k);
  if (config.role !== 'web') k.jobs.start();
  await app.listen({ host: config.host, port: config.port });
  if (config.smtpListen && config.role !== 'web') {
    const port = await k.inbound.listen(config.smtpListen.port, config.smtpListen.host);
    k.log.info({ port }, 'SMTP intake listening');
  }
  if (config.lmtpListen && config.role !== 'web') {
    const port = await k.inbound.listen(config.lmtpListen.port, config.lmtpListen.host, { lmtp: true });
    k.log.info({ port }, 'LMTP intake listening');
  }
  const link = await accounts.staff.firstRunLink();
  const where = config.database.kind === 'sqlite' ? `SQLite ${config.database.file}` : 'PostgreSQL';
  process.stdout.write(`\nKeyward is running at ${config.publicUrl} (${where}).\n`);
  if (link) process.stdout.write(`\nNo staff account exists yet. Open this one-time link to create the owner account:\n\n  ${link}\n\n`);
  return async () => {
    await app.close();
    await k.close();
  };
}

export async function main(argv: string[] = []): Promise<void> {
  let config: Config;
  try {
    const { values } = parseArgs({ args: argv, options: { migrate: { type: 'boolean' }, role: { type: 'string' } }, strict: true });
    const env = { ...process.env };
    if (values.role) env.KEYWARD_ROLE = values.role;
    config = loadConfig(env, values.migrate ? { autoMigrate: true } : {});
  } catch (err) {
    if (err instanceof ConfigError) { process.stderr.write(err.message + '\n'); process.exit(2); }
    throw err;
  }
  try {
    const stop = await serve(config);
    const shutdown = () => { void stop().then(() => process.exit(0)); };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  } catch (err) {
    if (err instanceof ConfigError) { process.stderr.write(err.message + '\n'); process.exit(2); }
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') { process.stderr.write(`Port ${config.port} is already in use. Set PORT to a free port, e.g. PORT=3001.\n`); process.exit(2); }
    process.stderr.write(`Keyward could not start: ${e.message}\n`);
    process.exit(1);
  }
}
