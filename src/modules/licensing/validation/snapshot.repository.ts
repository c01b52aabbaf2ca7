// Loads the Snapshot that `evaluate` decides on, in one statement: the licence with its product and
// add-ons, this computer's machine row and the seats held by the licence's machines.
// Releases and content packs come from the per-product catalog cache (callhome/catalog.ts).

import { sql, type Compilable, type CompiledQuery } from 'kysely';
import type SQLite from 'better-sqlite3';
import type { Db } from '../../../kernel/db/database.js';
import type { DialectFlags } from '../../../kernel/db/dialect.js';
import type { LicenceSnapshot, MachineSnapshot, MachineStatus, Policy, Snapshot, VendorStatus } from './snapshot.js';
import { POLICY_DEFAULTS, seatCutoff, withPolicyDefaults } from './snapshot.js';
import type { ProductCatalog } from '../callhome/catalog.js';

export interface LoadedSnapshot {
  /** null when no licence has the key. */
  readonly licenceId: string | null;
  readonly productId: string | null;
  readonly policy: Policy;
  readonly snapshot: Snapshot;
  /** What this computer's row last recorded (not part of the rules; lets a refresh that changes nothing be written lazily). */
  readonly recorded: RecordedUsage | null;
}

export interface RecordedUsage {
  readonly lastSeen: number | null;
  readonly lastVersion: string | null;
  readonly lastUsersInUse: number | null;
  readonly lastIp: string | null;
}

const EMPTY: Snapshot = Object.freeze({ licence: null, machine: null, otherActiveMachines: 0, releases: [], content: [] });

/**
 * Reads everything a decision about (licence key hash, computer ID) needs. `catalog` supplies the
 * product's releases and newest content packs. `computerId` may be null (admin look-ups that concern
 * no machine): then no machine row is read and every seat counts.
 */
export async function loadSnapshot(
  db: Db,
  keyHash: string,
  computerId: string | null,
  now: Date,
  catalog: (productId: string) => Promise<ProductCatalog>,
  /** The raw SQLite connection, for the cached prepared statement (see PreparedQuery); omit in transactions. */
  sqlite?: SQLite.Database,
  /** The policy defaults for licences without their own value (the caller's cached setting; no read here). */
  defaults: Policy = POLICY_DEFAULTS,
): Promise<LoadedSnapshot> {
  // The seat cutoff depends on the licence's policy, unknown before the row is read; count with the
  // default window in the same query and recount only for the rare licence with another window.
  const cid = computerId ?? '';
  const cutoff = seatCutoff(now, defaults).getTime();
  const rows = await SNAPSHOT.run(db, { keyHash, computerId: cid, cutoff }, sqlite);
  const row = rows[0];
  if (!row) return notFound(defaults);
  const policy = withPolicyDefaults(parsePolicy(row.policy), defaults);
  const [others, cat] = await Promise.all([
    policy.machineInactiveDays === defaults.machineInactiveDays
      ? Promise.resolve(otherSeats(row, cutoff))
      : countOtherSeats(db, row.id, cid, seatCutoff(now, policy).getTime()),
    catalog(row.product_id),
  ]);
  return assemble(rows, policy, others, cat);
}

/**
 * The same snapshot without waiting, when it can be had so: on SQLite (the prepared statement runs
 * synchronously), with the product's catalog cached and the licence on the default seat window.
 * Undefined otherwise; loadSnapshot then reads it. Outside transactions only.
 */
export function loadSnapshotNow(
  db: Db,
  sqlite: SQLite.Database,
  keyHash: string,
  computerId: string,
  now: Date,
  catalog: (productId: string) => ProductCatalog | undefined,
  defaults: Policy,
): LoadedSnapshot | undefined {
  const cutoff = seatCutoff(now, defaults).getTime();
  const rows = SNAPSHOT.runNow(db, sqlite, { keyHash, computerId, cutoff });
  if (rows === undefined) return undefined;
  const row = rows[0];
  if (!row) return notFound(defaults);
  const policy = withPolicyDefaults(parsePolicy(row.policy), defaults);
  if (policy.machineInactiveDays !== defaults.machineInactiveDays) return undefined;
  const cat = catalog(row.product_id);
  if (cat === undefined) return undefined;
  return assemble(rows, policy, otherSeats(row, cutoff), cat);
}

/**
 * Seats held in the default window by the licence's machines other than this computer: every seat
 * the statement counted, less this computer's own. Counting them all lets the count read the seats
 * index alone; leaving this computer out in SQL took a table look-up per machine of the licence.
 */
function otherSeats(row: SnapshotRow, cutoff: number): number {
  const own = row.m_status === 'active' && row.m_last_seen !== null && Number(row.m_last_seen) >= cutoff;
  return Number(row.seats) - (own ? 1 : 0);
}

function notFound(defaults: Policy): LoadedSnapshot {
  return { licenceId: null, productId: null, policy: withPolicyDefaults(null, defaults), snapshot: EMPTY, recorded: null };
}

function assemble(rows: SnapshotRow[], policy: Policy, others: number, cat: ProductCatalog): LoadedSnapshot {
  const row = rows[0]!;
  const licence: LicenceSnapshot = {
    product: row.product,
    status: row.status,
    maxUsers: row.max_users,
    maxMachines: row.max_machines,
    expiresAt: toDate(row.expires_at),
    maintenanceUntil: toDate(row.maintenance_until),
    // One row per add-on (the join repeats the licence); a licence without add-ons gives one row of nulls.
    addons: rows.filter((r) => r.addon_code !== null).map((r) => ({ code: r.addon_code!, until: toDate(r.addon_until) }))
      .sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0)),
    policy,
  };
  const machine: MachineSnapshot | null = row.m_status === null ? null : { status: row.m_status, lastSeen: toDate(row.m_last_seen) };
  const recorded: RecordedUsage | null = row.m_status === null ? null : {
    lastSeen: row.m_last_seen === null ? null : Number(row.m_last_seen),
    lastVersion: row.m_last_version,
    lastUsersInUse: row.m_last_users_in_use,
    lastIp: row.m_last_ip,
  };
  return {
    licenceId: row.id,
    productId: row.product_id,
    policy,
    snapshot: { licence, machine, otherActiveMachines: others, releases: cat.releases, content: cat.packs },
    recorded,
  };
}

/**
 * A query built and compiled once per dialect, then run with new parameter values: it runs on every
 * call home, and building and compiling it costs more than running it. `sentinels` are unique values
 * that show where each parameter lands in the compiled SQL.
 *
 * On SQLite the compiled SQL is also prepared once: Kysely's driver prepares every statement anew, and
 * planning this join costs about 200 µs against under 30 µs to run it. The statement returns arrays,
 * made into objects here: better-sqlite3 builds each row object property by property in C++, which
 * took a fifth of the statement's time for this 17-column row. The cached statement runs on the
 * same connection, synchronously, so it cannot interleave with another query; it may see rows of a
 * transaction that is open on that connection (a batch or a seat being written), which a read that
 * leads to a write re-checks inside its own transaction anyway. Only outside transactions.
 */
type Slot<P> = { key: keyof P } | { value: unknown };

/** The statement's parameter values in order (a loop: this runs on every call home). */
function valuesOf<P>(slots: Slot<P>[], params: P): unknown[] {
  const values: unknown[] = new Array(slots.length);
  for (let i = 0; i < slots.length; i++) {
    const slot = slots[i]!;
    values[i] = 'key' in slot ? params[slot.key] : slot.value;
  }
  return values;
}

/**
 * A function that makes rows into objects keyed by column name, as Kysely returns them, for one
 * statement's columns. It is written out as one object literal (`{"id": r[0], …}`), so every row object
 * has the same shape from the start: filling an empty object in a loop over the names made each store
 * a megamorphic keyed store, 1% of the request thread under load. The names are the statement's own
 * columns, quoted with JSON.stringify.
 */
function rowMaker<R>(names: string[]): (rows: unknown[][]) => R[] {
  const literal = names.map((n, i) => `${JSON.stringify(n)}: r[${i}]`).join(', ');
  const one = new Function('r', `return { ${literal} };`) as (r: unknown[]) => R;
  return (rows) => {
    const out: R[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) out[i] = one(rows[i]!);
    return out;
  };
}

interface Prepared<P, R> {
  sqlite: SQLite.Database;
  adapter: object;
  stmt: SQLite.Statement;
  slots: Slot<P>[];
  rows: (rows: unknown[][]) => R[];
}

class PreparedQuery<P extends Record<string, unknown>, R> {
  // Keyed by the dialect's adapter, which a transaction shares with the pool it came from.
  private readonly compiled = new WeakMap<object, { query: CompiledQuery; slots: Slot<P>[] }>();
  private readonly statements = new WeakMap<SQLite.Database, Prepared<P, R>>();

  constructor(
    private readonly build: (db: Db, p: P) => Compilable<unknown>,
    private readonly sentinels: P,
  ) {}

  async run(db: Db, params: P, sqlite?: SQLite.Database): Promise<R[]> {
    if (sqlite && !db.isTransaction) {
      // Undefined when the connection is busy (a streamed query mid-iteration): take the queue like everyone else.
      const rows = this.runNow(db, sqlite, params);
      if (rows !== undefined) return rows;
    }
    const result = await db.executeQuery<R>(this.compiledWith(db, params) as CompiledQuery<R>);
    return result.rows;
  }

  /** The rows now, on the cached statement; undefined when the connection is busy (run() waits its turn). */
  runNow(db: Db, sqlite: SQLite.Database, params: P): R[] | undefined {
    // The last connection's statement, without a map look-up (a process has one or two: turn-reader.ts).
    let last = this.last;
    if (last === null || last.sqlite !== sqlite || last.adapter !== db.getExecutor().adapter) {
      const adapter = db.getExecutor().adapter;
      let prepared = this.statements.get(sqlite);
      if (!prepared || prepared.adapter !== adapter) {
        const c = this.compile(db);
        const stmt = sqlite.prepare(c.query.sql).raw(true);
        prepared = { sqlite, adapter, stmt, slots: c.slots, rows: rowMaker<R>(stmt.columns().map((col) => col.name)) };
        this.statements.set(sqlite, prepared);
      }
      last = this.last = prepared;
    }
    let rows: unknown[][];
    try {
      rows = last.stmt.all(valuesOf(last.slots, params)) as unknown[][];
    } catch {
      return undefined;
    }
    return last.rows(rows);
  }

  private last: Prepared<P, R> | null = null;

  /**
   * The compiled statement with these parameter values (for the pool, and for query plans in tests).
   * Every field named, not `{ ...query, parameters }`: see evaluate.ts on spread-first literals.
   */
  compiledWith(db: Db, params: P): CompiledQuery {
    const { query, slots } = this.compile(db);
    return { query: query.query, queryId: query.queryId, sql: query.sql, parameters: valuesOf(slots, params) };
  }

  private compile(db: Db): { query: CompiledQuery; slots: Slot<P>[] } {
    const adapter = db.getExecutor().adapter;
    let c = this.compiled.get(adapter);
    if (!c) {
      const query = this.build(db, this.sentinels).compile();
      const keys = Object.keys(this.sentinels) as (keyof P)[];
      // A parameter that is no sentinel is a constant of the query itself ('active'), kept as is.
      const slots = query.parameters.map((v): Slot<P> => {
        const key = keys.find((k) => this.sentinels[k] === v);
        return key === undefined ? { value: v } : { key };
      });
      c = { query, slots };
      this.compiled.set(adapter, c);
    }
    return c;
  }
}

interface SnapshotRow {
  id: string;
  product_id: string;
  product: string;
  status: VendorStatus;
  max_users: number | null;
  max_machines: number | null;
  expires_at: number | null;
  maintenance_until: number | null;
  policy: string;
  m_status: MachineStatus | null;
  m_last_seen: number | null;
  m_last_version: string | null;
  m_last_users_in_use: number | null;
  m_last_ip: string | null;
  /** Seats held in the default window, this computer's included. */
  seats: number;
  addon_code: string | null;
  addon_until: number | null;
}

type SnapshotParams = { keyHash: string; computerId: string; cutoff: number };

// Everything about the licence and this computer in one statement: the licence with its product,
// this computer's row, the seats held (default window) and one row per add-on.
const SNAPSHOT = new PreparedQuery<SnapshotParams, SnapshotRow>((db, p) => db
  .selectFrom('licences as l')
  .innerJoin('products as p', 'p.id', 'l.product_id')
  .leftJoin('machines as m', (j) => j.onRef('m.licence_id', '=', 'l.id').on('m.computer_id', '=', p.computerId))
  .leftJoin('licence_addons as la', 'la.licence_id', 'l.id')
  .leftJoin('addons as a', 'a.id', 'la.addon_id')
  .select([
    'l.id', 'l.product_id', 'p.code as product', 'l.status', 'l.max_users', 'l.max_machines', 'l.expires_at',
    'l.maintenance_until', 'l.policy', 'm.status as m_status', 'm.last_seen as m_last_seen',
    'm.last_version as m_last_version', 'm.last_users_in_use as m_last_users_in_use', 'm.last_ip as m_last_ip',
    'a.code as addon_code', 'la.until as addon_until',
    (eb) => eb.selectFrom('machines as o').select(sql<number>`count(*)`.as('n'))
      .whereRef('o.licence_id', '=', 'l.id').where('o.status', '=', 'active')
      .where('o.last_seen', '>=', p.cutoff)
      .as('seats'),
  ])
  .where('l.key_hash', '=', p.keyHash), { keyHash: '\u0000kh', computerId: '\u0000cid', cutoff: -9_876_543_210_123 });

/** The snapshot statement as it runs for these values, for its query plan. */
export function snapshotStatement(db: Db, keyHash: string, computerId: string, cutoff: number): CompiledQuery {
  return SNAPSHOT.compiledWith(db, { keyHash, computerId, cutoff });
}

/** Seats held by the licence's machines other than `computerId` (see Snapshot.otherActiveMachines). */
export async function countOtherSeats(db: Db, licenceId: string, computerId: string, cutoff: number): Promise<number> {
  const r = await db.selectFrom('machines as o').select(sql<number>`count(*)`.as('n'))
    .where('o.licence_id', '=', licenceId).where('o.status', '=', 'active')
    .where('o.last_seen', '>=', cutoff).where('o.computer_id', '<>', computerId)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/**
 * Serialises seat-taking for one licence until the transaction ends: a row lock on PostgreSQL (several
 * nodes), nothing on SQLite, where a write transaction already holds the only connection.
 */
export async function lockLicence(trx: Db, flags: DialectFlags, licenceId: string): Promise<void> {
  if (!flags.supportsSkipLocked) return;
  await trx.selectFrom('licences').select('id').where('id', '=', licenceId).forUpdate().execute();
}

export function parsePolicy(text: string): Partial<Policy> | null {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null ? (v as Partial<Policy>) : null;
  } catch {
    return null;
  }
}

function toDate(ms: number | null): Date | null {
  return ms === null ? null : new Date(Number(ms));
}
