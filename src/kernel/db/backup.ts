import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { Config } from '../config/config.js';
import type { DbHandle } from './database.js';
import { SQLITE_BUSY_WAIT_MS } from './sqlite-driver.js';

const run = promisify(execFile);

/**
 * Consistent copies while serving: SQLite's online backup API (pages copied under the database's own
 * locking, so concurrent writes are either in or out, never half), or pg_dump's snapshot on PostgreSQL.
 */
export async function backupDatabase(dbh: DbHandle, database: Config['database'], out: string, opts: { waitMs?: number } = {}): Promise<string> {
  fs.mkdirSync(path.dirname(out), { recursive: true });
  if (database.kind === 'sqlite') {
    await sqliteBackup(dbh, out, opts.waitMs);
    return out;
  }
  const args = ['--format=custom', `--file=${out}`, ...(database.schema ? [`--schema=${database.schema}`] : []), database.url.replace(/\?.*$/, '')];
  await run('pg_dump', args);
  return out;
}

/**
 * better-sqlite3 reports a backup whose first step SQLite refused with SQLITE_BUSY (the file at `out`
 * is locked by another connection, or the database is in WAL recovery) as done, with no page copied and
 * the file as it was. Every Keyward database has pages, so none copied means it has not started: wait
 * and start again, as a statement would (sqlite-driver.ts), then fail rather than report a backup
 * that is not one.
 */
async function sqliteBackup(dbh: DbHandle, out: string, waitMs = SQLITE_BUSY_WAIT_MS): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const progress = await dbh.sqlite!.backup(out);
    if (progress.totalPages > 0) return;
    if (Date.now() >= deadline) throw new Error(`the backup could not start: ${out} or the database stayed locked`);
    await sleep(50);
  }
}

/** Restores a backup over the current database. The server must be stopped (SQLite) or idle. */
export async function restoreDatabase(database: Config['database'], file: string): Promise<void> {
  if (!fs.existsSync(file)) throw new Error(`no backup file at ${file}`);
  if (database.kind === 'sqlite') {
    for (const ext of ['-wal', '-shm']) fs.rmSync(database.file + ext, { force: true });
    const tmp = `${database.file}.restoring`;
    fs.copyFileSync(file, tmp);
    fs.renameSync(tmp, database.file);
    return;
  }
  await run('pg_restore', ['--clean', '--if-exists', '--no-owner', `--dbname=${database.url.replace(/\?.*$/, '')}`, file]);
}

export function defaultBackupPath(config: Config, label = 'backup'): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return path.join(config.dataDir, 'backups', `${label}-${stamp}.${config.database.kind === 'sqlite' ? 'sqlite' : 'pgdump'}`);
}
