// What `evaluate` needs to decide a call, loaded beforehand (the rules themselves run no queries).
//
// The loader (snapshot.repository.ts) fills a Snapshot from, ideally, one query for the licence with
// its product, policy, add-ons and this computer's machine row, and one for the seat count; releases
// and content packs change rarely and may come from a per-product cache.

export type Enforcement = 'flag' | 'deny';

export interface Policy {
  readonly enforcement: Enforcement;
  readonly userOverage: number;
  readonly machineInactiveDays: number;
  readonly offlineGraceDays: number;
  readonly offlineFileDays: number;
  readonly checkIntervalSeconds: number;
}

export const POLICY_DEFAULTS: Policy = Object.freeze({
  enforcement: 'flag',
  userOverage: 1.0,
  machineInactiveDays: 30,
  offlineGraceDays: 30,
  offlineFileDays: 30,
  checkIntervalSeconds: 86400,
});

/**
 * A licence's stored policy with the defaults for every missing field: the contract's, or the vendor's
 * own (the `licensing.policy_defaults` setting, itself read through this function over the contract's).
 * Values of the wrong type or out of range (which the admin API refuses, but a hand-edited row might
 * hold) also fall back to the default rather than break every call of that licence. Unknown keys are dropped.
 */
export function withPolicyDefaults(stored: unknown, defaults: Policy = POLICY_DEFAULTS): Policy {
  const p = (typeof stored === 'object' && stored !== null ? stored : {}) as Record<string, unknown>;
  return {
    enforcement: p.enforcement === 'deny' ? 'deny' : p.enforcement === 'flag' ? 'flag' : defaults.enforcement,
    userOverage: atLeast(p.userOverage, 0, defaults.userOverage),
    machineInactiveDays: atLeast(p.machineInactiveDays, 0, defaults.machineInactiveDays),
    offlineGraceDays: atLeast(p.offlineGraceDays, 0, defaults.offlineGraceDays),
    offlineFileDays: atLeast(p.offlineFileDays, 0, defaults.offlineFileDays),
    checkIntervalSeconds: atLeast(p.checkIntervalSeconds, 1, defaults.checkIntervalSeconds),
  };
}

// A module-level function, not a closure per call: this runs several times on every call home.
function atLeast(v: unknown, min: number, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= min ? v : fallback;
}

/** Status set by the vendor. `expired` is never stored: it is derived from `expiresAt` and the clock. */
export type VendorStatus = 'active' | 'suspended' | 'revoked';

export interface AddonGrant {
  readonly code: string;
  /** null: no end. */
  readonly until: Date | null;
}

export interface LicenceSnapshot {
  /** The product's code (what a client sends as `product`). */
  readonly product: string;
  readonly status: VendorStatus;
  /** null: unlimited. */
  readonly maxUsers: number | null;
  /** null: unlimited. */
  readonly maxMachines: number | null;
  /** null: perpetual. */
  readonly expiresAt: Date | null;
  /** null: updates without end. */
  readonly maintenanceUntil: Date | null;
  readonly addons: readonly AddonGrant[];
  /** The stored policy, raw or already passed through withPolicyDefaults (evaluate applies it again). */
  readonly policy: Partial<Policy> | null;
}

export type MachineStatus = 'active' | 'released' | 'blocked' | 'over-limit';

/** This computer ID's row on this licence. */
export interface MachineSnapshot {
  readonly status: MachineStatus;
  /** null for a computer ID staff blocked before it ever called. */
  readonly lastSeen: Date | null;
}

/** A stored file the routes turn into a signed `/downloads/` URL; `ref` is opaque to the rules. */
export interface FileRef {
  readonly ref: string;
  /** Lowercase hex. */
  readonly sha256: string;
  readonly size: number;
}

export interface ReleaseSnapshot {
  /** SemVer; a row that does not parse is ignored. */
  readonly version: string;
  readonly channel: 'stable' | 'beta';
  readonly releasedAt: Date;
  readonly security: boolean;
  readonly notes: string | null;
  /** The installer, when one was uploaded. */
  readonly file: FileRef | null;
}

export interface ContentPackSnapshot {
  readonly addon: string;
  /** A content version; a row that does not parse is ignored. */
  readonly version: string;
  readonly file: FileRef;
}

export interface Snapshot {
  /** null when no licence has the key's hash: the answer is NOT_FOUND and nothing else is read. */
  readonly licence: LicenceSnapshot | null;
  /** This computer ID's machine on this licence, null when it never called nor was blocked. */
  readonly machine: MachineSnapshot | null;
  /**
   * Seats held by the licence's OTHER machines: rows of this licence whose computer ID is not the
   * caller's, with status 'active' and lastSeen ≥ seatCutoff(now, policy) (see holdsSeat). Released,
   * blocked and over-limit rows, and active rows last seen before the cutoff, hold no seat.
   */
  readonly otherActiveMachines: number;
  /** Every release of the licence's product, any channel, any date (the rules filter by date). */
  readonly releases: readonly ReleaseSnapshot[];
  /**
   * Content packs of the add-ons the licence holds. The newest per add-on is enough; passing more is
   * harmless (the rules pick the newest by content-version order, which SQL cannot sort).
   */
  readonly content: readonly ContentPackSnapshot[];
}

const DAY_MS = 86_400_000;

/** Last-seen times at or after this instant keep a seat ("last seen within machineInactiveDays"). */
export function seatCutoff(now: Date, policy: Policy): Date {
  return new Date(now.getTime() - policy.machineInactiveDays * DAY_MS);
}

/** Whether a machine holds a seat before this call: status active and last seen within the window. */
export function holdsSeat(machine: MachineSnapshot | null, now: Date, policy: Policy): boolean {
  return (
    machine !== null &&
    machine.status === 'active' &&
    machine.lastSeen !== null &&
    machine.lastSeen.getTime() >= seatCutoff(now, policy).getTime()
  );
}

export function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * DAY_MS);
}
