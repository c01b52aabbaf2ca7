import type { SelectQueryBuilder } from 'kysely';

/**
 * Every difference between SQLite and PostgreSQL that application code may care about lives here, as
 * flags and small helpers, so queries elsewhere never branch on the dialect.
 */
export type DialectKind = 'sqlite' | 'postgres';

export interface DialectFlags {
  kind: DialectKind;
  /** `FOR UPDATE SKIP LOCKED` exists (PostgreSQL). SQLite has one writer at a time, so it needs none. */
  supportsSkipLocked: boolean;
  /** Several processes may write at once (PostgreSQL); on SQLite one process owns the file. */
  multiNode: boolean;
}

export function flagsFor(kind: DialectKind): DialectFlags {
  return kind === 'postgres'
    ? { kind, supportsSkipLocked: true, multiNode: true }
    : { kind, supportsSkipLocked: false, multiNode: false };
}

/** Adds `FOR UPDATE SKIP LOCKED` where the dialect has it; a no-op on SQLite. */
export function lockSkipLocked<DB, TB extends keyof DB, O>(
  qb: SelectQueryBuilder<DB, TB, O>,
  flags: DialectFlags,
): SelectQueryBuilder<DB, TB, O> {
  return flags.supportsSkipLocked ? qb.forUpdate().skipLocked() : qb;
}

/** Adds `FOR UPDATE` where the dialect has row locks; SQLite's write transactions already serialise. */
export function lockForUpdate<DB, TB extends keyof DB, O>(
  qb: SelectQueryBuilder<DB, TB, O>,
  flags: DialectFlags,
): SelectQueryBuilder<DB, TB, O> {
  return flags.supportsSkipLocked ? qb.forUpdate() : qb;
}

export type ValuesType = 'text' | 'bigint' | 'integer';

/**
 * The rows of a `VALUES` list as SQL text: `rows` rows of one placeholder per entry of `types`, numbered
 * from `$1` on PostgreSQL. PostgreSQL needs the cast to give the VALUES column a type. SQLite must not
 * get it: behind a cast, its planner no longer matches the column against an index and scans the
 * joined table instead (an UPDATE … FROM (VALUES …) of 500 rows over 200,000 machines took 75 ms with
 * the casts and 4 ms without).
 *
 * Text rather than Kysely's sql tag: a batch of last-seen refreshes has thousands of rows, and the tag
 * cost about 10 µs a row on the request thread, a pause of tens of milliseconds per batch.
 */
export function valuesRows(flags: DialectFlags, types: readonly ValuesType[], rows: number): string {
  if (rows === 0) return '';
  if (flags.kind !== 'postgres') return new Array<string>(rows).fill(`(${types.map(() => '?').join(', ')})`).join(', ');
  const out = new Array<string>(rows);
  let n = 0;
  for (let r = 0; r < rows; r++) out[r] = `(${types.map((t) => `cast($${++n} as ${t})`).join(', ')})`;
  return out.join(', ');
}

/**
 * Whether `err` is the database refusing a row that breaks a unique index or primary key: PostgreSQL's
 * SQLSTATE 23505, SQLite's extended codes. On PostgreSQL the transaction it happened in is aborted, so
 * rethrow (the transaction then rolls back) rather than run more statements in it.
 */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
