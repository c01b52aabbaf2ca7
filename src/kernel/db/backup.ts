import { execFile } from 'node:child_process';
import SQLite from 'better-sqlite3';
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
  fs.mkdirSync(path.dirname(out), { recursive: true, mode: 0o700 });
  if (database.kind === 'sqlite') {
    await sqliteBackup(dbh, out, opts.waitMs);
    fs.chmodSync(out, 0o600);
    return out;
  }
  await runPg('pg_dump', ['--format=custom', `--file=${out}`, ...(database.schema ? [`--schema=${database.schema}`] : [])], database.url);
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

/**
 * Restores a backup over the current database. On SQLite the file is checked first (a database, intact,
 * made by Keyward), a running server is refused (it would go on writing to the replaced file, and those
 * writes would be lost), and the current database is copied to `keepCopyAt` before it is replaced.
 * Returns that copy's path, or null when there was no database to keep. PostgreSQL: the server should be idle.
 */
export async function restoreDatabase(database: Config['database'], file: string, keepCopyAt?: string): Promise<string | null> {
  if (!fs.existsSync(file)) throw new Error(`no backup file at ${file}`);
  if (database.kind === 'sqlite') {
    checkSqliteBackup(file);
    fs.mkdirSync(path.dirname(database.file), { recursive: true });
    let kept: string | null = null;
    if (fs.existsSync(database.file)) {
      if (sqliteInUse(database.file)) throw new Error(`${database.file} is open in another program (a running Keyward?): stop it first, then restore.`);
      if (keepCopyAt) {
        fs.mkdirSync(path.dirname(keepCopyAt), { recursive: true });
        const live = new SQLite(database.file, { fileMustExist: true });
        try { await live.backup(keepCopyAt); } finally { live.close(); }
        fs.chmodSync(keepCopyAt, 0o600);
        kept = keepCopyAt;
      }
    }
    for (const ext of ['-wal', '-shm']) fs.rmSync(database.file + ext, { force: true });
    const tmp = `${database.file}.restoring`;
    fs.copyFileSync(file, tmp);
    fs.chmodSync(tmp, 0o600);
    fs.renameSync(tmp, database.file);
    return kept;
  }
  await runPg('pg_restore', ['--clean', '--if-exists', '--no-owner'], database.url, file);
  return null;
}

/** A SQLite file Keyward made, and intact: anything else is refused before the live database is touched. */
function checkSqliteBackup(file: string): void {
  let db: SQLite.Database;
  try {
    db = new SQLite(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new Error(`${file} cannot be opened as a SQLite database (${(err as Error).message})`);
  }
  try {
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new Error(`${file} is damaged (SQLite's quick_check: ${String(check)})`);
    if (!db.prepare("select 1 from sqlite_master where type = 'table' and name = 'kysely_migration'").get()) {
      throw new Error(`${file} is a SQLite database, but not a Keyward one (it has no migration table)`);
    }
  } catch (err) {
    if ((err as { code?: string }).code === 'SQLITE_NOTADB') throw new Error(`${file} is not a SQLite database`);
    throw err;
  } finally {
    db.close();
  }
}

/**
 * Whether another connection has the database open. Each connection to a WAL database holds a shared
 * lock on its -shm file for as long as it is open, idle or not, and that lock shuts out an exclusive one.
 */
function sqliteInUse(file: string): boolean {
  const db = new SQLite(file, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 0');
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('begin exclusive');
    db.exec('commit');
    return false;
  } catch (err) {
    if (String((err as { code?: string }).code).startsWith('SQLITE_BUSY') || (err as { code?: string }).code === 'SQLITE_LOCKED') return true;
    throw err;
  } finally {
    db.close();
  }
}

/**
 * Runs pg_dump or pg_restore with the connection's password in PGPASSWORD, not in the command line
 * (which any local user can read in `ps`) or in an error message.
 */
async function runPg(command: 'pg_dump' | 'pg_restore', args: string[], url: string, restoreFile?: string): Promise<void> {
  const u = new URL(url.replace(/\?.*$/, ''));
  const password = decodeURIComponent(u.password);
  u.password = '';
  // pg_dump takes the database as its last argument; pg_restore takes --dbname and then the file.
  const tail = command === 'pg_dump' ? [u.toString()] : [`--dbname=${u.toString()}`, restoreFile!];
  try {
    await run(command, [...args, ...tail], { env: { ...process.env, ...(password ? { PGPASSWORD: password } : {}) } });
  } catch (err) {
    const e = err as { stderr?: string; code?: unknown };
    const said = (e.stderr ?? '').split(password || '\u0000').join('***').trim();
    throw new Error(`${command} failed (exit ${String(e.code)})${said ? `: ${said}` : ''}`);
  }
}

export function defaultBackupPath(config: Config, label = 'backup'): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return path.join(config.dataDir, 'backups', `${label}-${stamp}.${config.database.kind === 'sqlite' ? 'sqlite' : 'pgdump'}`);
}
