// Writes to machine rows. Call-home writes that change a seat or a status go through `writeMachine`
// inside the caller's transaction, before the answer is sent; plain last-seen refreshes are batched
// (callhome/bookkeeping.ts). Staff actions (release, block) live here too.

import type { Db } from '../../kernel/db/database.js';
import type { MachineWrite } from './validation/evaluate.js';
import type { MachineSnapshot, MachineStatus, Policy } from './validation/snapshot.js';
import { holdsSeat } from './validation/snapshot.js';

export interface CallUsage {
  /** Absent for licence-file requests, which report neither. */
  version?: string;
  usersInUse?: number;
  /**
   * null when staff issued a file for a computer ID typed in the admin. The stored IP is then cleared
   * rather than kept: its age is read from last-seen, which the file refreshes (retention.ts).
   */
  ip: string | null;
}

/**
 * Whether a write must be durable before the answer: a new row or a restarted one, any status
 * change, or a seat (re)taken by a machine that did not hold one. Everything else is a last-seen
 * refresh that may lag.
 */
export function needsDurableWrite(before: MachineSnapshot | null, write: MachineWrite, now: Date, policy: Policy): boolean {
  if (before === null || write.newCaller) return true;
  if (before.status !== write.status) return true;
  return write.holdsSeat && !holdsSeat(before, now, policy);
}

/** Applies a decision's machine write: inserts, restarts (released → new caller) or updates the row. */
export async function writeMachine(
  trx: Db,
  licenceId: string,
  computerId: string,
  write: MachineWrite,
  usage: CallUsage,
  now: number,
): Promise<void> {
  const usageCols = write.recordsUsage && usage.version !== undefined
    ? { last_version: usage.version, last_users_in_use: usage.usersInUse ?? null }
    : {};
  if (write.newCaller) {
    await trx.insertInto('machines')
      .values({
        licence_id: licenceId, computer_id: computerId, status: write.status, first_seen: now, last_seen: now,
        last_version: usage.version ?? null, last_users_in_use: usage.usersInUse ?? null, last_ip: usage.ip,
      })
      .onConflict((oc) => oc.columns(['licence_id', 'computer_id']).doUpdateSet({
        // A released machine calling again is a new caller: its history restarts.
        status: write.status, first_seen: now, last_seen: now, last_ip: usage.ip,
        last_version: usage.version ?? null, last_users_in_use: usage.usersInUse ?? null,
      }))
      .execute();
    return;
  }
  await trx.updateTable('machines')
    .set((eb) => ({
      status: write.status,
      last_seen: now,
      // A licence file staff or the customer asked for comes from no installation: the last call's IP stays.
      ...(usage.ip !== null ? { last_ip: usage.ip } : {}),
      first_seen: eb.fn.coalesce('first_seen', eb.val(now)),
      ...usageCols,
    }))
    .where('licence_id', '=', licenceId)
    .where('computer_id', '=', computerId)
    .execute();
}

/** Staff release: frees the seat and clears a block. False when the licence has no such machine. */
export async function releaseMachine(trx: Db, licenceId: string, computerId: string): Promise<boolean> {
  const r = await trx.updateTable('machines').set({ status: 'released' satisfies MachineStatus })
    .where('licence_id', '=', licenceId).where('computer_id', '=', computerId).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Staff block: frees the seat; a computer ID that never called gets a row with no times. */
export async function blockMachine(trx: Db, licenceId: string, computerId: string): Promise<void> {
  await trx.insertInto('machines')
    .values({
      licence_id: licenceId, computer_id: computerId, status: 'blocked', first_seen: null, last_seen: null,
      last_version: null, last_users_in_use: null, last_ip: null,
    })
    .onConflict((oc) => oc.columns(['licence_id', 'computer_id']).doUpdateSet({ status: 'blocked' }))
    .execute();
}

/** The licence's machines, oldest first; rows staff blocked before they ever called come last. */
export async function listMachines(db: Db, licenceId: string) {
  const rows = await db.selectFrom('machines')
    .select(['computer_id', 'status', 'first_seen', 'last_seen', 'last_version', 'last_users_in_use'])
    .where('licence_id', '=', licenceId)
    .execute();
  // Sorted here: SQLite and PostgreSQL put NULLs at opposite ends of an ORDER BY.
  const key = (t: number | null) => (t === null ? Number.POSITIVE_INFINITY : Number(t));
  return rows.sort((a, b) => key(a.first_seen) - key(b.first_seen) || (a.computer_id < b.computer_id ? -1 : 1));
}
