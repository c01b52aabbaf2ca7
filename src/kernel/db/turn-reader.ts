// A read-only SQLite connection whose reads share one read transaction per turn of the event loop, for
// the call-home snapshot (licensing/validation/snapshot.repository.ts). Each statement outside a
// transaction begins and ends one of its own: the WAL read lock taken and given back (two fcntl calls),
// the WAL index checked, the B-tree opened and closed. That was about 4% of the request thread under load,
// for a statement that reads a few pages (README, "Benchmark"). Here the first read of a turn begins the
// transaction and the turn's end (setImmediate) commits it, so the reads of a busy turn pay once.
//
// What a read sees: everything committed before the first read of the turn, and every commit this
// process made through Kysely since (the SQLite driver counts them, and a read after one begins a fresh
// transaction): a program that writes and then reads sees its write, in the same turn or not. Commits of
// other connections (another `serve` process, the write-behind thread, a `bin/keyward` command) are seen
// from the next turn, a millisecond or so later: the same as if they had come a moment after the read.
// A read that leads to a seat or status change is made again inside the write transaction, on the main
// connection, so a stale read can cost a retry but never a wrong write.

import SQLite from 'better-sqlite3';

/** Counts the commits this process makes through its main connection (see sqlite-driver.ts). */
export class CommitCounter {
  count = 0;
}

export class TurnReader {
  private conn: SQLite.Database | null = null;
  private begin: SQLite.Statement | null = null;
  private commit: SQLite.Statement | null = null;
  private open = false;
  private seenCommits = -1;
  private endScheduled = false;
  private closed = false;

  constructor(private readonly file: string, private readonly commits: CommitCounter) {}

  /**
   * The connection, inside a read transaction that sees every commit this process has made (opened on
   * first use: a `bin/keyward` command that answers no call never opens it). Null once closed.
   */
  connection(): SQLite.Database | null {
    if (this.closed) return null;
    if (this.open && this.seenCommits !== this.commits.count) this.end();
    if (!this.open) {
      let conn: SQLite.Database;
      try {
        conn = this.conn ?? this.connect();
        this.begin!.run();
      } catch {
        // A connection that cannot be opened (no file handles left, say) must not fail the call: the
        // caller reads on the main connection, as it did before this reader existed, from now on.
        this.close();
        return null;
      }
      this.open = true;
      this.seenCommits = this.commits.count;
      if (!this.endScheduled) {
        this.endScheduled = true;
        setImmediate(this.endOfTurn);
      }
      return conn;
    }
    return this.conn;
  }

  /** Ends the read transaction now (the next read begins another). */
  end(): void {
    if (!this.open) return;
    this.open = false;
    try {
      this.commit!.run();
    } catch {
      // A read-only transaction has nothing to lose: if COMMIT is refused, roll it back.
      try {
        if (this.conn?.inTransaction) this.conn.prepare('ROLLBACK').run();
      } catch {
        this.close();
      }
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.open = false;
    try {
      this.conn?.close();
    } catch {
      // Closing ends the read transaction too; a connection that will not close is left to the GC.
    }
    this.conn = null;
  }

  private readonly endOfTurn = (): void => {
    this.endScheduled = false;
    this.end();
  };

  private connect(): SQLite.Database {
    const conn = new SQLite(this.file, { readonly: true, fileMustExist: true });
    // As the main connection (database.ts): mapped pages, and no sleeping on the event loop (a read in
    // WAL mode waits for no writer anyway).
    conn.pragma('mmap_size = 1073741824');
    conn.pragma('busy_timeout = 0');
    this.begin = conn.prepare('BEGIN');
    this.commit = conn.prepare('COMMIT');
    this.conn = conn;
    return conn;
  }
}
