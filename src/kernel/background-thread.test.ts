// The background threads that hold no lock (commitments, reads) run at the lowest CPU priority, so that
// on a busy machine the thread answering requests gets the core first; the request thread and the
// write-behind thread (it holds SQLite's write lock) keep the process's priority. Linux gives each
// thread its own nice value, read here from /proc.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import SQLite from 'better-sqlite3';
import { CommitmentPool } from './crypto/commitments.js';
import { sqliteWriteBehind } from './db/write-behind.js';
import { sqliteReadThread } from './db/read-thread.js';

const linux = fs.existsSync('/proc/thread-self');
const skip = linux ? false : 'thread priorities are read from Linux /proc';

/** The nice value of every thread of this process, by thread id. */
function niceByThread(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // Fields after the command name in parentheses start at field 3 (state); nice is field 19.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), Number(fields[16]));
    } catch {
      // The thread ended while we looked.
    }
  }
  return out;
}

/** Threads that appeared since `before`, with their nice values. */
function newThreads(before: Map<number, number>): number[] {
  return [...niceByThread()].filter(([tid]) => !before.has(tid)).map(([, nice]) => nice);
}

async function eventually(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), what);
}

const normal = os.getPriority();

test('the commitment thread runs at the lowest priority, the request thread at the normal one', { skip }, async () => {
  const before = niceByThread();
  const pool = new CommitmentPool(16, 16);
  pool.warm();
  try {
    await eventually(() => pool.available > 0, 'the thread made a batch');
    assert.ok(newThreads(before).includes(19), `a new thread at nice 19 (new threads: ${newThreads(before).join(', ')})`);
    assert.equal(niceByThread().get(process.pid), normal, 'the request thread keeps the process priority');
  } finally {
    await pool.close();
  }
});

test('the read thread runs at the lowest priority; the write-behind thread, which holds the write lock, at the normal one', { skip }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-threads-'));
  const file = path.join(dir, 'db.sqlite');
  const db = new SQLite(file);
  db.pragma('journal_mode = WAL');
  db.exec('create table t (v integer)');
  db.close();
  const compiled = (text: string) => ({ sql: text, parameters: [], query: sql``.toOperationNode() }) as never;
  const writer = sqliteWriteBehind(file);
  const reads = sqliteReadThread(file);
  try {
    let before = niceByThread();
    await writer.run([compiled('insert into t (v) values (1)')]);
    const writerThreads = newThreads(before);
    assert.ok(writerThreads.length > 0, 'the write-behind thread started');
    assert.ok(!writerThreads.includes(19), `no new thread at nice 19 (new threads: ${writerThreads.join(', ')})`);
    before = niceByThread();
    assert.deepEqual(await reads.all<{ v: number }>(compiled('select v from t')), [{ v: 1 }]);
    assert.ok(newThreads(before).includes(19), `the read thread at nice 19 (new threads: ${newThreads(before).join(', ')})`);
    assert.equal(niceByThread().get(process.pid), normal);
  } finally {
    await writer.close();
    await reads.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
