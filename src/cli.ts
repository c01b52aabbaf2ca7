import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig, ConfigError } from './kernel/config/config.js';
import { createKernel } from './kernel/context.js';
import { migrateToLatest, pendingMigrations, pendingMigrationsMessage } from './kernel/db/migrate.js';
import { ensureSigningKey, rotateSigningKey, listPublicKeys } from './kernel/crypto/signing.js';
import { allMigrations } from './migrations.js';
import { backupDatabase, defaultBackupPath, restoreDatabase } from './kernel/db/backup.js';
import { afterRestore } from './restore-hooks.js';
import { StaffService } from './modules/accounts/staff.service.js';

const USAGE = `Usage: keyward <command>

  serve [--migrate] [--role web|worker|all] [--processes N]
                                start the server (PORT, HOST, KEYWARD_DATA_DIR, DATABASE_URL, KEYWARD_PUBLIC_URL);
                                an existing database with pending migrations needs --migrate (backed up first)
  migrate                       back up (SQLite), then apply pending database migrations
  backup [--out FILE]           a consistent copy while serving (SQLite online backup, or pg_dump)
  restore FILE                  bring a backup back (stop the server first)
  apikey create --name NAME     print a new staff API key (last line of output)
  keys rotate                   add a new signing key; the old one stays listed as retired
  keys list                     list signing keys
  demo                          load the demo catalogue (products, tiers, plans, prices; skipped if loaded)
`;

/**
 * Runs a command on the database: a new one is created; an existing one behind the code is refused as
 * `serve` refuses it, since these commands make no backup first (`bin/keyward migrate` does).
 */
async function withKernel<T>(fn: (k: ReturnType<typeof createKernel>) => Promise<T>): Promise<T> {
  const k = createKernel(loadConfig());
  try {
    const pending = await pendingMigrations(k.db, allMigrations, k.dbh.schema);
    if (pending.length && pending.length < Object.keys(allMigrations).length) throw new ConfigError([pendingMigrationsMessage(pending)]);
    await migrateToLatest(k.db, allMigrations, k.dbh.schema);
    await ensureSigningKey(k.db, k.secrets);
    return await fn(k);
  } finally {
    await k.close();
  }
}

export async function cli(argv: string[]): Promise<number> {
  const [cmd, sub, ...rest] = argv;
  try {
    switch (cmd) {
      case 'serve': {
        const { main } = await import('./main.js');
        await main([sub, ...rest].filter((x): x is string => x !== undefined));
        return -1; // keeps running
      }
      case 'migrate': {
        noOptions([sub, ...rest]);
        const config = loadConfig();
        const k = createKernel(config);
        try {
          const pending = await pendingMigrations(k.db, allMigrations, k.dbh.schema);
          if (pending.length && config.database.kind === 'sqlite' && pending.length < Object.keys(allMigrations).length) {
            process.stdout.write(`Backed up to ${await backupDatabase(k.dbh, config.database, defaultBackupPath(config, 'pre-migrate'))}\n`);
          }
          const ran = await migrateToLatest(k.db, allMigrations, k.dbh.schema);
          process.stdout.write(ran.length ? `Applied ${ran.length} migration(s): ${ran.join(', ')}\n` : `Nothing to do (${pending.length} pending).\n`);
        } finally { await k.close(); }
        return 0;
      }
      case 'backup': {
        const { values } = parseArgs({ args: [sub, ...rest].filter((x): x is string => x !== undefined), options: { out: { type: 'string' } } });
        const config = loadConfig();
        // Opening a missing file would make an empty database (and a new master key) and back that up:
        // a cron job run from the wrong directory must fail, not keep empty copies.
        if (config.database.kind === 'sqlite' && !fs.existsSync(config.database.file)) {
          process.stderr.write(`keyward backup: there is no database at ${config.database.file} (set KEYWARD_DATA_DIR to the data directory).\n`);
          return 1;
        }
        const k = createKernel(config);
        try {
          const file = await backupDatabase(k.dbh, config.database, values.out ?? defaultBackupPath(config));
          process.stdout.write(`Backup written to ${file}\n`);
        } finally { await k.close(); }
        return 0;
      }
      case 'restore': {
        if (!sub) { process.stderr.write('restore needs the backup file: keyward restore FILE\n'); return 2; }
        const config = loadConfig();
        const kept = await restoreDatabase(config.database, sub, defaultBackupPath(config, 'pre-restore'));
        if (kept) process.stdout.write(`The database as it was is kept in ${kept}\n`);
        const k = createKernel(config);
        try {
          const reapplied = await afterRestore(k);
          process.stdout.write(`Restored ${sub}${reapplied ? `; re-applied ${reapplied} erasure(s) from the journal` : ''}\n`);
        } finally { await k.close(); }
        return 0;
      }
      case 'apikey': {
        if (sub !== 'create') break;
        const { values } = parseArgs({ args: rest, options: { name: { type: 'string' } } });
        if (!values.name) { process.stderr.write('apikey create needs --name NAME\n'); return 2; }
        const key = await withKernel(async (k) => (await new StaffService(k).createApiKey(values.name!, null)).key);
        process.stdout.write(`Created API key "${values.name}". Store it now: it is shown only once.\n${key}\n`);
        return 0;
      }
      case 'demo': {
        noOptions([sub, ...rest]);
        const loaded = await withKernel(async (k) => (await import('./modules/catalog/index.js')).loadDemoCatalogue(k.db, k.clock.now()));
        process.stdout.write(loaded ? 'Loaded the demo catalogue. Edit it in Admin → Catalogue.\n' : 'The demo catalogue is already loaded; nothing changed.\n');
        return 0;
      }
      case 'keys': {
        if (sub === 'rotate' || sub === 'list') noOptions(rest);
        if (sub === 'rotate') {
          const kid = await withKernel((k) => rotateSigningKey(k.db, k.secrets));
          process.stdout.write(`New active signing key: ${kid}\n`);
          return 0;
        }
        if (sub === 'list') {
          const keys = await withKernel((k) => listPublicKeys(k.db));
          for (const key of keys) process.stdout.write(`${key.kid}\t${key.status}\t${key.createdAt}\t${key.publicKey}\n`);
          return 0;
        }
        break;
      }
      case undefined: case 'help': case '--help': case '-h':
        process.stdout.write(USAGE);
        return cmd ? 0 : 2;
    }
    process.stderr.write(`Unknown command: ${argv.join(' ')}\n\n${USAGE}`);
    return 2;
  } catch (err) {
    if (err instanceof ConfigError) { process.stderr.write(err.message + '\n'); return 2; }
    // A misspelt or unexpected option changes nothing: `keys rotate --dry-run` must not rotate.
    if (String((err as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`keyward ${cmd}: ${(err as Error).message}\n\n${USAGE}`);
      return 2;
    }
    process.stderr.write(`keyward ${cmd}: ${(err as Error).message}\n`);
    return 1;
  }
}

/** For commands that take no options or arguments: throws parseArgs' own error on any. */
function noOptions(args: (string | undefined)[]): void {
  parseArgs({ args: args.filter((x): x is string => x !== undefined), options: {}, strict: true, allowPositionals: false });
}

const code = await cli(process.argv.slice(2));
if (code >= 0) process.exit(code);
