// Bookkeeping writes off the request path: last-seen refreshes of machines whose seat and status do
// not change, call counters per day, and the networks a licence is used from. They are buffered in
// memory and written in batches (one transaction of many rows costs far less than a commit per call;
// README, "Benchmark"), through the database's write-behind, which on SQLite runs them on its own thread
// and connection. Only these may lag or be lost in a crash; anything that changes a seat or a status
// is written before the answer goes out (callhome.service.ts).

import { CompiledQuery } from 'kysely';
import { valuesRows, type DialectFlags } from '../../../kernel/db/dialect.js';
import type { WriteBehind } from '../../../kernel/db/write-behind.js';
import type { Logger } from '../../../kernel/jobs/queue.js';
import { ipNetwork } from './networks.js';

const DAY_MS = 86_400_000;

interface MachineTouch {
  licenceId: string;
  computerId: string;
  at: number;
  ip: string | null;
  /** Set only when the call records usage (see MachineWrite.recordsUsage). */
  version?: string;
  usersInUse?: number;
}

interface DailyCount {
  /** When this row's first call since its last write was counted (it is written a minute later). */
  since: number;
  day: number;
  licenceId: string;
  version: string;
  calls: number;
  maxUsers: number | null;
}

interface NetworkSeen {
  since: number;
  licenceId: string;
  network: string;
  first: number;
  last: number;
}

export class Bookkeeper {
  /** Refreshes written at the next tick. */
  private machines = new Map<string, MachineTouch>();
  /** Refreshes that change nothing but the time, written from `dueAt` on or when readers ask. */
  private lazy = new Map<string, { touch: MachineTouch; dueAt: number }>();
  private daily = new Map<string, DailyCount>();
  private networks = new Map<string, NetworkSeen>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  /** (licence, network) pairs already recorded today: the abuse signals need the day, not the call. */
  private networksToday = new Set<string>();
  private networksDay = -1;

  constructor(
    private readonly flags: DialectFlags,
    private readonly writer: WriteBehind,
    private readonly log: Logger,
    /**
     * How often buffered last-seen refreshes are written. Every commit of the write-behind thread's
     * connection makes SQLite drop the request thread's page cache and unmap its memory map of the
     * file (another connection changed the WAL), so the look-ups after it fault every page back in.
     * With a commit every 100 ms the call-home statement took about three times as long as with no
     * commits at all; with one a second, about 1.6 times (README, "Benchmark"). A crash loses at most
     * this much of last-seen changes, and up to LAST_SEEN_RESOLUTION_MS of refreshes that changed
     * nothing but the time (held lazily).
     */
    private readonly intervalMs = 1000,
    /**
     * Counters and networks are only aggregates for the dashboards and abuse signals: a row is written
     * this long after the first call it counts, so each write sums up to a minute of calls (a crash
     * loses at most that much counting). Rows fall due one by one, in the order their first call came,
     * so the writes spread over the minute: writing every buffered row at once built and handed over
     * one upsert per active licence in one go, a pause of tens of milliseconds on the request thread
     * with 20,000 licences. Last-seen refreshes go every `intervalMs`.
     */
    private readonly countersIntervalMs = 60_000,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * Refreshes last-seen (and last usage when given) of an existing machine row, at the next tick, or
   * lazily when `dueAt` is later (a refresh that changes nothing but the time; CallhomeService): then at
   * the first tick from `dueAt`, or when readers ask (writeRefreshes). Touches of one machine merge.
   */
  touchMachine(t: MachineTouch, dueAt = 0): void {
    const key = `${t.licenceId}\u0000${t.computerId}`;
    const due = this.machines.get(key);
    if (due) {
      this.machines.set(key, mergeTouches(due, t));
      return;
    }
    const lazy = this.lazy.get(key);
    const touch = lazy ? mergeTouches(lazy.touch, t) : t;
    if (dueAt <= this.clock()) {
      if (lazy) this.lazy.delete(key);
      this.machines.set(key, touch);
    } else {
      this.lazy.set(key, { touch, dueAt: lazy ? Math.min(lazy.dueAt, dueAt) : dueAt });
    }
  }

  /** One call-home call for the dashboard counters; licenceId '' for an unknown key. */
  countCall(licenceId: string, version: string, usersInUse: number | null, at: number): void {
    const day = Math.floor(at / DAY_MS) * DAY_MS;
    const key = `${day}\u0000${licenceId}\u0000${version}`;
    const c = this.daily.get(key);
    if (c) {
      c.calls++;
      if (usersInUse !== null && (c.maxUsers === null || usersInUse > c.maxUsers)) c.maxUsers = usersInUse;
    } else {
      this.daily.set(key, { since: this.clock(), day, licenceId, version, calls: 1, maxUsers: usersInUse });
    }
  }

  /** The network (never the address) a licence was used from, for the abuse signals. */
  seeNetwork(licenceId: string, ip: string, at: number): void {
    const network = ipNetwork(ip);
    if (network === null) return;
    const key = `${licenceId}\u0000${network}`;
    const day = Math.floor(at / DAY_MS);
    if (day !== this.networksDay) {
      this.networksDay = day;
      this.networksToday = new Set();
    }
    if (this.networksToday.has(key)) return;
    this.networksToday.add(key);
    const n = this.networks.get(key);
    if (n) n.last = Math.max(n.last, at);
    else this.networks.set(key, { since: this.clock(), licenceId, network, first: at, last: at });
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.enqueue(false), this.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and writes what is buffered. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }

  /** Writes everything buffered so far (flushes run one at a time). */
  flush(): Promise<void> {
    return this.enqueue(true);
  }

  /**
   * Writes the buffered last-seen refreshes now, with only the counter rows that are due, as a tick
   * does: for readers of machine rows (the admin API), without turning each read into a write of
   * every licence's counters.
   */
  writeRefreshes(): Promise<void> {
    return this.enqueue(false, true);
  }

  private enqueue(all: boolean, readers = all): Promise<void> {
    // Never a rejected chain: one failure would fail every later flush for good.
    this.flushing = this.flushing.then(() => this.writeBatch(all, readers)).catch((err: unknown) => {
      this.log.warn({ err: (err as Error).message }, 'call-home bookkeeping batch not written');
    });
    return this.flushing;
  }

  /** Moves the lazy refreshes due by `dueBy` to the next batch. */
  private takeLazy(dueBy: number): void {
    if (this.lazy.size === 0) return;
    for (const [key, { touch, dueAt }] of this.lazy) {
      if (dueAt > dueBy) continue;
      this.lazy.delete(key);
      const due = this.machines.get(key);
      this.machines.set(key, due ? mergeTouches(touch, due) : touch);
    }
  }

  /** `readers`: every buffered refresh, the lazy ones too (someone is about to read machine rows). */
  private async writeBatch(all: boolean, readers: boolean): Promise<void> {
    const now = this.clock();
    this.takeLazy(readers ? Infinity : now);
    const dueBy = all ? Infinity : now - this.countersIntervalMs;
    // One statement's worth of due rows per tick keeps each tick's pause small when a burst of new
    // licences all fall due together; a backlog older than a further interval goes at once, so the
    // buffer cannot grow without bound under a sustained stream of new licences.
    const limit = all ? Infinity : CHUNK;
    const overdueBy = now - 2 * this.countersIntervalMs;
    const daily = takeDue(this.daily, dueBy, limit, overdueBy);
    const networks = takeDue(this.networks, dueBy, limit, overdueBy);
    if (this.machines.size === 0 && daily.length === 0 && networks.length === 0) return;
    const machines = [...this.machines.values()];
    this.machines = new Map();
    // Multi-row statements: a batch of a few hundred calls is three statements, not hundreds.
    const statements: Statement[] = [
      ...chunks(machines, CHUNK).map((part) => ({ query: touchesQuery(this.flags, part), rows: part.length })),
      ...chunks(daily, CHUNK).map((part) => ({ query: dailyQuery(this.flags, part), rows: part.length })),
      ...chunks(networks, CHUNK).map((part) => ({ query: networksQuery(this.flags, part), rows: part.length })),
    ];
    for (const group of transactions(statements)) {
      try {
        await this.writer.run(group.map((st) => st.query));
      } catch (err) {
        // Losing a batch only delays last-seen and the dashboard counters; seats were written already.
        this.log.warn({ err: (err as Error).message, rows: group.reduce((n, st) => n + st.rows, 0) }, 'call-home bookkeeping batch lost');
      }
    }
  }
}

interface Statement {
  query: CompiledQuery;
  rows: number;
}

/**
 * The statements grouped into transactions of at most CHUNK rows (a larger statement alone). SQLite's
 * write lock is held for one transaction, and a seat-taking write on the request thread waits for it
 * (with Kysely's other queries queued behind it): a second's refreshes in one transaction held it for
 * about 200 ms at 4,000 calls a second on a slow VM, one group about 25 ms. Below CHUNK rows a second,
 * as with most installed bases, that is still one commit a second.
 */
function transactions(statements: Statement[]): Statement[][] {
  const groups: Statement[][] = [];
  let rows = Infinity;
  for (const st of statements) {
    if (rows + st.rows > CHUNK) {
      groups.push([]);
      rows = 0;
    }
    groups[groups.length - 1]!.push(st);
    rows += st.rows;
  }
  return groups;
}

/**
 * Removes and returns the rows first counted at or before `overdueBy`, then further rows counted at or
 * before `dueBy` while fewer than `limit` are taken. A Map iterates in insertion order and a written row is deleted
 * (its next call inserts it anew, at the end), so the due rows are a prefix: the walk stops at the
 * first row it leaves, whatever the size of the buffer.
 */
function takeDue<T extends { since: number }>(rows: Map<string, T>, dueBy: number, limit: number, overdueBy: number): T[] {
  const due: T[] = [];
  for (const [key, row] of rows) {
    if (row.since > dueBy || (due.length >= limit && row.since > overdueBy)) break;
    due.push(row);
    rows.delete(key);
  }
  return due;
}

/** Rows per statement: 6 parameters a row stays far below SQLite's and PostgreSQL's limits. */
const CHUNK = 500;

function chunks<T>(rows: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

/**
 * UPDATE … FROM (VALUES …): both dialects name VALUES columns column1…columnN, and each row is found
 * by the machines primary key (valuesRows: casts on PostgreSQL only, or SQLite scans the table).
 * Only existing rows are touched (a touch never creates a machine), last-seen never moves backwards
 * past a write made on the request path since, and usage and IP are kept when the touch carries none
 * (a licence file asked for by staff or from My account comes from no installation's address).
 */
function touchesQuery(flags: DialectFlags, rows: MachineTouch[]): CompiledQuery {
  const parameters: unknown[] = [];
  for (const m of rows) parameters.push(m.licenceId, m.computerId, m.at, m.ip, m.version ?? null, m.usersInUse ?? null);
  return CompiledQuery.raw(`update machines set
      last_seen = v.column3,
      last_ip = coalesce(v.column4, machines.last_ip),
      first_seen = coalesce(machines.first_seen, v.column3),
      last_version = coalesce(v.column5, machines.last_version),
      last_users_in_use = coalesce(v.column6, machines.last_users_in_use)
    from (values ${valuesRows(flags, TOUCH_COLUMNS, rows.length)}) as v
    where machines.licence_id = v.column1 and machines.computer_id = v.column2
      and (machines.last_seen is null or machines.last_seen <= v.column3)`, parameters);
}

/** The VALUES columns of a touch: licence, computer, at, IP, version, users in use. */
const TOUCH_COLUMNS = ['text', 'text', 'bigint', 'text', 'text', 'integer'] as const;

/** Adds a batch of daily counts to the dashboard counters (one row per day, licence and version). */
function dailyQuery(flags: DialectFlags, rows: DailyCount[]): CompiledQuery {
  const parameters: unknown[] = [];
  for (const d of rows) parameters.push(d.day, d.licenceId, d.version, d.calls, d.maxUsers);
  return CompiledQuery.raw(`insert into callhome_daily (day, licence_id, version, calls, max_users_in_use)
    values ${valuesRows(flags, DAILY_COLUMNS, rows.length)}
    on conflict (day, licence_id, version) do update set
      calls = callhome_daily.calls + excluded.calls,
      max_users_in_use = case when callhome_daily.max_users_in_use is null or excluded.max_users_in_use > callhome_daily.max_users_in_use
        then excluded.max_users_in_use else callhome_daily.max_users_in_use end`, parameters);
}

const DAILY_COLUMNS = ['bigint', 'text', 'text', 'integer', 'integer'] as const;

/** Records the networks seen per licence; last seen only moves forwards. */
function networksQuery(flags: DialectFlags, rows: NetworkSeen[]): CompiledQuery {
  const parameters: unknown[] = [];
  for (const n of rows) parameters.push(n.licenceId, n.network, n.first, n.last);
  return CompiledQuery.raw(`insert into licence_networks (licence_id, network, first_seen, last_seen)
    values ${valuesRows(flags, NETWORK_COLUMNS, rows.length)}
    on conflict (licence_id, network) do update set
      last_seen = case when excluded.last_seen > licence_networks.last_seen then excluded.last_seen else licence_networks.last_seen end`, parameters);
}

const NETWORK_COLUMNS = ['text', 'text', 'bigint', 'bigint'] as const;

/**
 * Two refreshes of one machine as one: the later wins (the one given second on a tie), and keeps the
 * earlier's usage when it records none itself (a call refused before the machine is looked at), and
 * the earlier's IP when it has none (a licence file staff asked for), since the row must still get them.
 */
function mergeTouches(a: MachineTouch, b: MachineTouch): MachineTouch {
  const [earlier, later] = a.at > b.at ? [b, a] : [a, b];
  const keepUsage = later.version === undefined && earlier.version !== undefined;
  const keepIp = later.ip === null && earlier.ip !== null;
  if (!keepUsage && !keepIp) return later;
  return {
    licenceId: later.licenceId, computerId: later.computerId, at: later.at, ip: keepIp ? earlier.ip : later.ip,
    version: keepUsage ? earlier.version : later.version, usersInUse: keepUsage ? earlier.usersInUse : later.usersInUse,
  };
}
