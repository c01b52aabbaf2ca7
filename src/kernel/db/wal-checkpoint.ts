// Empties SQLite's write-ahead log into the database file, for code that has just overwritten personal
// data (the IP retention job): secure_delete zeroes the old bytes in the file, but until a checkpoint the
// log still holds the pages as they were.
//
// A checkpoint cannot pass a reader's snapshot. This process's call-home reader keeps one read
// transaction open until the end of the event-loop turn (turn-reader.ts), and a job that runs on
// promises alone may never reach that end before its checkpoint: CI once found a cut address still in
// the log. So the reader's transaction is ended first. Readers in other processes (`serve --processes`)
// end theirs within a turn, hence a few short tries before giving up.

import { sql } from 'kysely';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DbHandle } from './database.js';

const TRIES = 20;
const PAUSE_MS = 25;

/** True when the log is empty (or there is none: PostgreSQL, an in-memory database). */
export async function emptyWal(dbh: DbHandle): Promise<boolean> {
  if (!dbh.sqlite || dbh.sqlite.memory) return true;
  for (let i = 1; ; i++) {
    dbh.turnReader?.end();
    const { rows } = await sql<{ busy: number }>`pragma wal_checkpoint(TRUNCATE)`.execute(dbh.db);
    if (rows[0]?.busy === 0) return true;
    if (i === TRIES) return false;
    await sleep(PAUSE_MS);
  }
}
