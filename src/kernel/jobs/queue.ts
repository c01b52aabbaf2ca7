import os from 'node:os';
import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import type { DialectFlags } from '../db/dialect.js';
import { lockSkipLocked } from '../db/dialect.js';
import { newId } from '../crypto/tokens.js';
import type { Clock } from '../clock.js';
import { withoutAddresses } from '../privacy/log-text.js';

export type JobHandler = (payload: any, ctx: { jobId: string; attempt: number }) => Promise<void>;

export interface EnqueueOptions {
  runAt?: number;
  maxAttempts?: number;
  /** A job with the same key is made at most once, ever: retried requests and racing nodes add nothing. */
  idempotencyKey?: string;
  /** Enqueue inside the caller's transaction, so the job exists if and only if the work committed. */
  trx?: Db;
}

export interface Logger {
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}

const LEASE_MS = 5 * 60_000;

/**
 * A job queue in the database. On PostgreSQL, several nodes claim work with `FOR UPDATE SKIP LOCKED`, so
 * a job runs on one node; on SQLite one process owns the file. A crashed worker's lease expires and its
 * job runs again, so handlers must be idempotent (they are: each uses keys or state checks).
 */
export class JobQueue {
  private readonly handlers = new Map<string, JobHandler>();
  private readonly schedules = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private idle: Promise<void> = Promise.resolve();
  readonly workerId = `${os.hostname()}:${process.pid}:${newId().slice(0, 8)}`;

  constructor(
    private readonly db: Db,
    private readonly flags: DialectFlags,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  register(name: string, handler: JobHandler): void {
    this.handlers.set(name, handler);
  }

  /** A periodic job: every node may declare it; the schedule row makes it run once per interval in all. */
  every(name: string, intervalMs: number, handler: JobHandler): void {
    this.register(name, handler);
    this.schedules.set(name, intervalMs);
  }

  async enqueue(name: string, payload: unknown, opts: EnqueueOptions = {}): Promise<string | null> {
    const id = newId();
    const now = this.clock.now();
    const db = opts.trx ?? this.db;
    const q = db.insertInto('jobs').values({
      id, name, payload: JSON.stringify(payload ?? null), status: 'queued', attempts: 0,
      max_attempts: opts.maxAttempts ?? 8, run_at: opts.runAt ?? now, locked_by: null, locked_until: null,
      last_error: null, idempotency_key: opts.idempotencyKey ?? null, created_at: now, finished_at: null,
    });
    if (opts.idempotencyKey) {
      const r = await q.onConflict((oc) => oc.column('idempotency_key').doNothing()).executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) > 0 ? id : null;
    }
    await q.execute();
    return id;
  }

  /** Creates missing schedule rows and enqueues every schedule that is due (compare-and-set, so once). */
  async tickSchedules(): Promise<number> {
    if (this.schedules.size === 0) return 0;
    const now = this.clock.now();
    // One read per tick; writes only when a row is missing or a schedule is due, so an idle worker
    // never takes SQLite's write lock (which the write-behind thread may be holding).
    let rows = await this.db.selectFrom('job_schedules').selectAll().where('name', 'in', [...this.schedules.keys()]).execute();
    const missing = [...this.schedules].filter(([name]) => !rows.some((r) => r.name === name));
    if (missing.length > 0) {
      await this.db.insertInto('job_schedules').values(missing.map(([name, interval]) => ({ name, interval_ms: interval, next_run_at: now, last_run_at: null })))
        .onConflict((oc) => oc.column('name').doNothing()).execute();
      rows = await this.db.selectFrom('job_schedules').selectAll().where('name', 'in', [...this.schedules.keys()]).execute();
    }
    let enqueued = 0;
    for (const row of rows) {
      const interval = this.schedules.get(row.name)!;
      if (row.next_run_at > now) continue;
      const next = Math.max(row.next_run_at + interval, now + 1);
      const won = await this.db.updateTable('job_schedules').set({ next_run_at: next, last_run_at: now })
        .where('name', '=', row.name).where('next_run_at', '=', row.next_run_at).executeTakeFirst();
      if (Number(won.numUpdatedRows) !== 1) continue; // another node took this tick
      const id = await this.enqueue(row.name, { scheduledFor: row.next_run_at }, { idempotencyKey: `schedule:${row.name}:${row.next_run_at}` });
      if (id) enqueued++;
    }
    return enqueued;
  }

  /** Claims up to `limit` due jobs for this worker. Expired leases (crashed workers) are claimable again. */
  async claim(limit: number): Promise<Array<{ id: string; name: string; payload: string; attempts: number; max_attempts: number }>> {
    const now = this.clock.now();
    const names = [...this.handlers.keys()];
    if (names.length === 0) return [];
    const due = (db: Db) => db.selectFrom('jobs').select('id')
      .where('name', 'in', names)
      .where((eb) => eb.or([
        eb.and([eb('status', '=', 'queued'), eb('run_at', '<=', now)]),
        eb.and([eb('status', '=', 'running'), eb('locked_until', '<', now)]),
      ]));
    // A plain read first: an idle poll must not take the write lock (on SQLite a writer blocks the
    // thread that waits for it, and the call-home bookkeeping thread holds it often).
    if (!(await due(this.db).limit(1).executeTakeFirst())) return [];
    return this.db.transaction().execute(async (trx) => {
      const ids = await lockSkipLocked(due(trx).orderBy('run_at').limit(limit), this.flags).execute();
      if (ids.length === 0) return [];
      return trx.updateTable('jobs')
        .set((eb) => ({ status: 'running', locked_by: this.workerId, locked_until: now + LEASE_MS, attempts: eb('attempts', '+', 1) }))
        .where('id', 'in', ids.map((d) => d.id))
        .returning(['id', 'name', 'payload', 'attempts', 'max_attempts'])
        .execute();
    });
  }


  /** Runs what is due now, to completion; returns how many jobs ran. Used by the worker loop and tests. */
  async runDue(limit = 20): Promise<number> {
    await this.tickSchedules();
    const jobs = await this.claim(limit);
    for (const job of jobs) await this.runOne(job);
    return jobs.length;
  }

  /** Runs until nothing is due (bounded), for tests and CLI commands. */
  async drain(maxRounds = 100): Promise<number> {
    let total = 0;
    for (let i = 0; i < maxRounds; i++) {
      const n = await this.runDue();
      total += n;
      if (n === 0) break;
    }
    return total;
  }

  private async runOne(job: { id: string; name: string; payload: string; attempts: number; max_attempts: number }) {
    const handler = this.handlers.get(job.name)!;
    try {
      await handler(JSON.parse(job.payload), { jobId: job.id, attempt: job.attempts });
      await this.db.updateTable('jobs').set({ status: 'done', finished_at: this.clock.now(), locked_until: null, last_error: null })
        .where('id', '=', job.id).where('locked_by', '=', this.workerId).execute();
    } catch (err) {
      const message = withoutAddresses(err instanceof Error ? err.message : String(err));
      const dead = job.attempts >= job.max_attempts;
      // Exponential backoff with a cap: 2 s, 4 s, 8 s … 1 h.
      const delay = Math.min(3_600_000, 1000 * 2 ** job.attempts);
      this.log.warn({ job: job.name, jobId: job.id, attempt: job.attempts, dead, err: message }, 'job failed');
      await this.db.updateTable('jobs').set({
        status: dead ? 'dead' : 'queued', run_at: this.clock.now() + delay, locked_until: null,
        last_error: message.slice(0, 2000), finished_at: dead ? this.clock.now() : null,
      }).where('id', '=', job.id).execute();
    }
  }

  start(pollMs = 500): void {
    if (this.timer) return;
    const loop = async () => {
      if (this.running) return;
      this.running = true;
      let done!: () => void;
      this.idle = new Promise((r) => { done = r; });
      try {
        while (this.timer && (await this.runDue()) > 0) { /* keep going while there is work */ }
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'job loop error');
      } finally {
        this.running = false;
        done();
      }
    };
    this.timer = setInterval(loop, pollMs);
    this.timer.unref();
    void loop();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.idle;
  }

  async counts(): Promise<Record<string, number>> {
    const rows = await this.db.selectFrom('jobs').select(['status', sql<number>`count(*)`.as('n')]).groupBy('status').execute();
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }
}
