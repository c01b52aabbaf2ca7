// The call-home decision: a pure function of a pre-loaded Snapshot, the parsed request and the clock.
// It runs no queries and writes nothing; the caller stores what `machine` says and renders the answer.
// Rules: spec/callhome.md, "Precise rules" and "Codes".

import { detailFor, isDecidedBeforeMachine, machinesInvalidate, usersWithinOverage, verdict } from './codes.js';
import type { Code, Condition, Finding, Verdict } from './codes.js';
import { contentOffers, findRelease, updateOffer, type ContentOffer, type UpdateOffer } from './offers.js';
import type { CallhomeRequest } from './parse-request.js';
import { addDays, holdsSeat, withPolicyDefaults } from './snapshot.js';
import type { LicenceSnapshot, MachineStatus, Policy, Snapshot } from './snapshot.js';

export type LicenceStatus = 'active' | 'suspended' | 'revoked' | 'expired';

export interface AddonView {
  readonly code: string;
  readonly until: Date | null;
  /** until in the future (or null) AND the licence valid. */
  readonly active: boolean;
}

/** The `licence` object of the answer (and of a licence file's payload). */
export interface LicenceView {
  readonly product: string;
  readonly status: LicenceStatus;
  readonly maxUsers: number | null;
  readonly maxMachines: number | null;
  readonly expiresAt: Date | null;
  readonly maintenanceUntil: Date | null;
  readonly addons: readonly AddonView[];
}

/**
 * What to store for this computer ID. Every kind but 'none' upserts the (licence, computer ID) row with
 * lastSeen = now and `status`:
 * - refresh_only: code decided before MACHINE_BLOCKED and the machine is known; its status and seat
 *   stay as they were. (An 'active' row whose seat lapsed through inactivity is written as
 *   'over-limit': refreshing lastSeen alone would silently hand it its seat back.)
 * - blocked: MACHINE_BLOCKED; stays blocked, no seat.
 * - activate: takes or keeps a seat (status 'active').
 * - over_limit: recorded with status 'over-limit', no seat.
 */
export type MachineAction = { readonly kind: 'none' } | MachineWrite;

export interface MachineWrite {
  readonly kind: 'refresh_only' | 'blocked' | 'activate' | 'over_limit';
  readonly status: MachineStatus;
  /** Insert a new row, or restart firstSeen of a released machine: either way firstSeen = now. */
  readonly newCaller: boolean;
  /** Whether the machine holds a seat after this call. */
  readonly holdsSeat: boolean;
  /** Store this call's version and usersInUse as the machine's last ones (activate, over_limit). */
  readonly recordsUsage: boolean;
}

export interface NotFoundDecision {
  readonly code: 'NOT_FOUND';
  readonly valid: false;
  readonly flags: readonly ['NOT_FOUND'];
  readonly detail: string;
  readonly machine: { readonly kind: 'none' };
  readonly nextCheckSeconds: number;
}

/** Fields shared by call-home answers and licence-file refusals for a licence that exists. */
export interface FoundDecisionBase {
  readonly code: Exclude<Code, 'NOT_FOUND'>;
  readonly valid: boolean;
  /** Every condition found, in check order; contains `code` unless it is VALID. */
  readonly flags: readonly Condition[];
  readonly detail: string;
  readonly licence: LicenceView;
  readonly machine: MachineAction;
  /** Seats after this call; max null = unlimited. */
  readonly machines: { readonly active: number; readonly max: number | null };
  /** Keyed by add-on code, one entry per add-on the licence holds (prototype-free object). */
  readonly content: Readonly<Record<string, ContentOffer>>;
  readonly nextCheckSeconds: number;
}

export interface FoundDecision extends FoundDecisionBase {
  readonly update: UpdateOffer;
  /** Present only when valid: now + offlineGraceDays, never past the licence's expiresAt. */
  readonly offlineUntil: Date | null;
}

export type Decision = NotFoundDecision | FoundDecision;

export interface LicenceFileFoundDecision extends FoundDecisionBase {
  /** When valid (a tolerated condition included): the file's expiresAt; null means no file. */
  readonly fileExpiresAt: Date | null;
}

export type LicenceFileDecision = NotFoundDecision | LicenceFileFoundDecision;

/** The request fields the decision reads (the licence key and nonce were used by the loader/route). */
export type EvaluateRequest = Pick<CallhomeRequest, 'product' | 'version' | 'channel' | 'usersInUse' | 'content'>;

/** Decides a `/callhome` call. */
export function evaluate(snapshot: Snapshot, request: EvaluateRequest, now: Date): Decision {
  const licence = snapshot.licence;
  if (licence === null) return notFound();
  const policy = withPolicyDefaults(licence.policy);
  const findings = [
    ...stateFindings(snapshot, licence, policy, request.product, now),
    ...usageFindings(snapshot, licence, policy, request),
  ];
  const v = verdict(findings);
  const found = foundDecision(snapshot, licence, policy, v, request.content, now);
  // Every field named, not `{ ...found, update, offlineUntil }`: V8 (Node 20) moves most objects made
  // by a spread-first literal to the old generation at their first scavenge, and with one per call
  // that filled old space and brought major GCs, the tail of call-home latency (README, "Benchmark").
  return {
    code: found.code,
    valid: found.valid,
    flags: found.flags,
    detail: found.detail,
    licence: found.licence,
    machine: found.machine,
    machines: found.machines,
    content: found.content,
    nextCheckSeconds: found.nextCheckSeconds,
    update: updateOffer({
      releases: snapshot.releases,
      running: request.version,
      channel: request.channel,
      maintenanceUntil: licence.maintenanceUntil,
      licenceValid: v.valid,
      now,
    }),
    offlineUntil: v.valid ? notAfter(addDays(now, policy.offlineGraceDays), licence.expiresAt) : null,
  };
}

/**
 * Decides a `/licence-file` request. Only the checks that need no version or user count apply
 * (NOT_FOUND to TOO_MANY_MACHINES); a tolerated condition still gets its file, and issuing one takes
 * a seat exactly as a call does.
 */
export function evaluateLicenceFile(snapshot: Snapshot, now: Date): LicenceFileDecision {
  const licence = snapshot.licence;
  if (licence === null) return notFound();
  const policy = withPolicyDefaults(licence.policy);
  const v = verdict(stateFindings(snapshot, licence, policy, undefined, now));
  return {
    ...foundDecision(snapshot, licence, policy, v, new Map(), now),
    fileExpiresAt: v.valid ? notAfter(addDays(now, policy.offlineFileDays), licence.expiresAt) : null,
  };
}

function notFound(): NotFoundDecision {
  return {
    code: 'NOT_FOUND',
    valid: false,
    flags: ['NOT_FOUND'],
    detail: detailFor('NOT_FOUND', false),
    machine: { kind: 'none' },
    // No licence, no policy: the contract's default interval.
    nextCheckSeconds: withPolicyDefaults(null).checkIntervalSeconds,
  };
}

/** A licence is expired from its expiresAt instant on (like a JWT `exp`), so it is valid while now < expiresAt. */
function isExpired(licence: LicenceSnapshot, now: Date): boolean {
  return licence.expiresAt !== null && now.getTime() >= licence.expiresAt.getTime();
}

/** PRODUCT_MISMATCH to TOO_MANY_MACHINES: the conditions that depend only on stored state. */
function stateFindings(
  snapshot: Snapshot,
  licence: LicenceSnapshot,
  policy: Policy,
  product: string | undefined,
  now: Date,
): Finding[] {
  const findings: Finding[] = [];
  if (product !== undefined && product !== licence.product) findings.push({ code: 'PRODUCT_MISMATCH', invalidates: true });
  if (licence.status === 'revoked') findings.push({ code: 'REVOKED', invalidates: true });
  if (licence.status === 'suspended') findings.push({ code: 'SUSPENDED', invalidates: true });
  if (isExpired(licence, now)) findings.push({ code: 'EXPIRED', invalidates: true });
  if (snapshot.machine?.status === 'blocked') findings.push({ code: 'MACHINE_BLOCKED', invalidates: true });
  // "Not one of the licence's active machines and maxMachines are already active". A blocked machine
  // holds no seat, so it can meet this too; flags list every condition found.
  if (
    !holdsSeat(snapshot.machine, now, policy) &&
    licence.maxMachines !== null &&
    snapshot.otherActiveMachines >= licence.maxMachines
  ) {
    findings.push({ code: 'TOO_MANY_MACHINES', invalidates: machinesInvalidate(policy.enforcement) });
  }
  return findings;
}

/** TOO_MANY_USERS and VERSION_NOT_COVERED: the conditions that depend on what the program reports. */
function usageFindings(snapshot: Snapshot, licence: LicenceSnapshot, policy: Policy, request: EvaluateRequest): Finding[] {
  const findings: Finding[] = [];
  if (licence.maxUsers !== null && request.usersInUse > licence.maxUsers) {
    findings.push({
      code: 'TOO_MANY_USERS',
      invalidates: !usersWithinOverage(request.usersInUse, licence.maxUsers, policy.userOverage),
    });
  }
  // Only a release the server knows can be "released after maintenanceUntil"; an unknown version
  // (a private build, a typo) is never VERSION_NOT_COVERED.
  const running = findRelease(snapshot.releases, request.version, request.channel);
  if (
    running !== undefined &&
    licence.maintenanceUntil !== null &&
    running.releasedAt.getTime() > licence.maintenanceUntil.getTime()
  ) {
    findings.push({ code: 'VERSION_NOT_COVERED', invalidates: true });
  }
  return findings;
}

function foundDecision(
  snapshot: Snapshot,
  licence: LicenceSnapshot,
  policy: Policy,
  v: Verdict,
  installedContent: ReadonlyMap<string, string>,
  now: Date,
): FoundDecisionBase {
  const machine = machineAction(snapshot, licence, policy, v.code, now);
  const addons = licence.addons.map((a) => ({
    code: a.code,
    until: a.until,
    active: v.valid && (a.until === null || a.until.getTime() > now.getTime()),
  }));
  return {
    code: v.code as Exclude<Code, 'NOT_FOUND'>,
    valid: v.valid,
    flags: v.flags,
    detail: detailFor(v.code, v.valid),
    licence: {
      product: licence.product,
      status: licenceStatus(licence, now),
      maxUsers: licence.maxUsers,
      maxMachines: licence.maxMachines,
      expiresAt: licence.expiresAt,
      maintenanceUntil: licence.maintenanceUntil,
      addons,
    },
    machine,
    machines: {
      active: snapshot.otherActiveMachines + (machine.kind !== 'none' && machine.holdsSeat ? 1 : 0),
      max: licence.maxMachines,
    },
    content: contentOffers(addons, snapshot.content, installedContent),
    nextCheckSeconds: policy.checkIntervalSeconds,
  };
}

function licenceStatus(licence: LicenceSnapshot, now: Date): LicenceStatus {
  if (licence.status !== 'active') return licence.status;
  return isExpired(licence, now) ? 'expired' : 'active';
}

function machineAction(snapshot: Snapshot, licence: LicenceSnapshot, policy: Policy, code: Code, now: Date): MachineAction {
  const m = snapshot.machine;
  const seated = holdsSeat(m, now, policy);
  if (isDecidedBeforeMachine(code)) {
    // Never takes a seat; only an already-known machine is touched, and only its last-seen.
    if (m === null) return { kind: 'none' };
    const status: MachineStatus = m.status === 'active' && !seated ? 'over-limit' : m.status;
    return { kind: 'refresh_only', status, newCaller: false, holdsSeat: seated, recordsUsage: false };
  }
  if (m?.status === 'blocked') {
    return { kind: 'blocked', status: 'blocked', newCaller: false, holdsSeat: false, recordsUsage: false };
  }
  // A released machine calling again is a new caller; an unknown one is inserted.
  const newCaller = m === null || m.status === 'released';
  // A seat is kept by its holder, or taken (by a new, released, over-limit or lapsed machine) while
  // fewer than maxMachines others hold one.
  const free = licence.maxMachines === null || snapshot.otherActiveMachines < licence.maxMachines;
  return seated || free
    ? { kind: 'activate', status: 'active', newCaller, holdsSeat: true, recordsUsage: true }
    : { kind: 'over_limit', status: 'over-limit', newCaller, holdsSeat: false, recordsUsage: true };
}

function notAfter(date: Date, cap: Date | null): Date {
  return cap !== null && cap.getTime() < date.getTime() ? cap : date;
}
