// Property tests: for arbitrary snapshots and requests, the answer follows the contract's precedence
// and seat rules. The conditions are recomputed here from their definitions in spec/callhome.md,
// independently of evaluate.ts, so a slip in either shows up as a disagreement.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { CODES, type Condition } from './codes.js';
import { evaluate, evaluateLicenceFile, type EvaluateRequest } from './evaluate.js';
import type { ContentOffer } from './offers.js';
import type { LicenceSnapshot, MachineSnapshot, Policy, ReleaseSnapshot, Snapshot } from './snapshot.js';
import { DAY, NOW, buildPack } from './test-factories.js';

// Instants clustered on the boundaries that matter (now, ±1 ms, the 30-day window) plus anywhere.
const instant = fc
  .oneof(
    fc.constantFrom(0, 1, -1, -30 * DAY, -30 * DAY - 1, -30 * DAY + 1, 30 * DAY, -7 * DAY, -7 * DAY - 1),
    fc.integer({ min: -400 * DAY, max: 400 * DAY }),
  )
  .map((offset) => new Date(NOW.getTime() + offset));

// Overages as exact fractions, so the oracle below needs no floating point.
const OVERAGES = [[1, 1], [11, 10], [115, 100], [3, 2], [2, 1], [1, 2]] as const;

const VERSIONS = ['1.0.0', '1.0.1', '1.1.0-beta.1', '1.1.0', '2.0.0-rc.1', '2.0.0', '2.0.1'];

const release: fc.Arbitrary<ReleaseSnapshot> = fc.record({
  version: fc.constantFrom(...VERSIONS),
  channel: fc.constantFrom('stable' as const, 'beta' as const),
  releasedAt: instant,
  security: fc.boolean(),
  notes: fc.constant(null),
  file: fc.option(fc.constant({ ref: 'r', sha256: '0'.repeat(64), size: 1 })),
});

const machine: fc.Arbitrary<MachineSnapshot | null> = fc.option(
  fc.record({
    status: fc.constantFrom('active' as const, 'released' as const, 'blocked' as const, 'over-limit' as const),
    lastSeen: fc.option(instant),
  }),
);

const scenario = fc.record({
  found: fc.integer({ min: 0, max: 9 }).map((n) => n > 0),
  status: fc.constantFrom('active' as const, 'active' as const, 'suspended' as const, 'revoked' as const),
  maxUsers: fc.option(fc.integer({ min: 0, max: 60 })),
  maxMachines: fc.option(fc.integer({ min: 0, max: 3 })),
  expiresAt: fc.option(instant),
  maintenanceUntil: fc.option(instant),
  addons: fc.array(fc.record({ code: fc.constantFrom('spam', 'av', 'geo'), until: fc.option(instant) }), { maxLength: 3 })
    .map((list) => list.filter((a, i) => list.findIndex((b) => b.code === a.code) === i)),
  enforcement: fc.constantFrom('flag' as const, 'deny' as const),
  overage: fc.constantFrom(...OVERAGES),
  inactiveDays: fc.constantFrom(0, 7, 30),
  graceDays: fc.constantFrom(0, 1, 30, 400),
  machine,
  otherActiveMachines: fc.integer({ min: 0, max: 4 }),
  releases: fc.array(release, { maxLength: 6 }),
  product: fc.option(fc.constantFrom('mailserver', 'other'), { nil: undefined }),
  version: fc.constantFrom(...VERSIONS, '0.9.0', '3.0.0'),
  channel: fc.constantFrom('stable' as const, 'beta' as const),
  usersInUse: fc.integer({ min: 0, max: 130 }),
  installed: fc.dictionary(fc.constantFrom('spam', 'av', 'x'), fc.constantFrom('1', '2', '2.0', '3')),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

function build(s: Scenario): { snapshot: Snapshot; request: EvaluateRequest; policy: Policy } {
  const policy: Policy = {
    enforcement: s.enforcement,
    userOverage: s.overage[0] / s.overage[1],
    machineInactiveDays: s.inactiveDays,
    offlineGraceDays: s.graceDays,
    offlineFileDays: s.graceDays,
    checkIntervalSeconds: 86400,
  };
  const licence: LicenceSnapshot = {
    product: 'mailserver', status: s.status, maxUsers: s.maxUsers, maxMachines: s.maxMachines,
    expiresAt: s.expiresAt, maintenanceUntil: s.maintenanceUntil, addons: s.addons, policy,
  };
  return {
    policy,
    snapshot: {
      licence: s.found ? licence : null,
      machine: s.machine,
      otherActiveMachines: s.otherActiveMachines,
      releases: s.releases,
      content: [buildPack('spam', '2'), buildPack('av', '1'), buildPack('geo', '1.0.1')],
    },
    request: { product: s.product, version: s.version, channel: s.channel, usersInUse: s.usersInUse, content: new Map(Object.entries(s.installed)) },
  };
}

/** The oracle: which conditions hold, and which of them invalidate, straight from the spec's table. */
function expectedFindings(s: Scenario, withUsage: boolean): { code: Condition; invalidates: boolean }[] {
  const t = NOW.getTime();
  const seated = s.machine?.status === 'active' && s.machine.lastSeen !== null && t - s.machine.lastSeen.getTime() <= s.inactiveDays * DAY;
  // The release the program runs: the earliest with its version on a channel it sees, else on any.
  const same = s.releases.filter((r) => r.version === s.version);
  const seen = same.filter((r) => s.channel === 'beta' || r.channel === 'stable');
  const known = (seen.length > 0 ? seen : same).reduce<(typeof same)[number] | undefined>(
    (best, r) => (best === undefined || r.releasedAt < best.releasedAt ? r : best), undefined);
  const all: [Condition, boolean, boolean][] = [
    ['PRODUCT_MISMATCH', s.product !== undefined && s.product !== 'mailserver', true],
    ['REVOKED', s.status === 'revoked', true],
    ['SUSPENDED', s.status === 'suspended', true],
    ['EXPIRED', s.expiresAt !== null && s.expiresAt.getTime() <= t, true],
    ['MACHINE_BLOCKED', s.machine?.status === 'blocked', true],
    ['TOO_MANY_MACHINES', !seated && s.maxMachines !== null && s.otherActiveMachines >= s.maxMachines, s.enforcement === 'deny'],
    ['TOO_MANY_USERS', withUsage && s.maxUsers !== null && s.usersInUse > s.maxUsers,
      s.maxUsers !== null && s.usersInUse * s.overage[1] > s.maxUsers * s.overage[0]],
    ['VERSION_NOT_COVERED', withUsage && known !== undefined && s.maintenanceUntil !== null && known.releasedAt > s.maintenanceUntil, true],
  ];
  return all.filter(([, holds]) => holds).map(([code, , invalidates]) => ({ code, invalidates }));
}

function seatedBefore(s: Scenario): boolean {
  return s.machine?.status === 'active' && s.machine.lastSeen !== null && NOW.getTime() - s.machine.lastSeen.getTime() <= s.inactiveDays * DAY;
}

const order = (c: string) => CODES.indexOf(c as (typeof CODES)[number]);
const RUNS = { numRuns: 3000 };

describe('evaluate: properties', () => {
  it('code, valid and flags follow the precedence of the Codes table', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { snapshot, request } = build(s);
        const d = evaluate(snapshot, request, NOW);
        if (!s.found) {
          assert.deepEqual([d.code, d.valid, d.flags], ['NOT_FOUND', false, ['NOT_FOUND']]);
          return;
        }
        const findings = expectedFindings(s, true);
        const expectedCode: string = findings.find((f) => f.invalidates)?.code ?? findings[0]?.code ?? 'VALID';
        const code: string = d.code;
        const flags: string[] = [...d.flags];
        // Without the oracle: sorted in check order, containing the code unless VALID.
        assert.deepEqual([...flags].sort((a, b) => order(a) - order(b)), flags);
        assert.equal(code === 'VALID', flags.length === 0);
        if (code !== 'VALID') assert.ok(flags.includes(code));
        // With it: exactly the conditions that hold, and the first invalidating (else tolerated) one.
        assert.deepEqual(flags, findings.map((f) => f.code));
        assert.equal(code, expectedCode);
        assert.equal(d.valid, !findings.some((f) => f.invalidates));
      }),
      RUNS,
    );
  });

  it('seats: never taken by early codes or blocked machines, never beyond maxMachines', () => {
    fc.assert(
      fc.property(scenario.filter((s) => s.found), (s) => {
        const { snapshot, request } = build(s);
        const d = evaluate(snapshot, request, NOW);
        if (d.code === 'NOT_FOUND') return assert.fail('found');
        const before = seatedBefore(s);
        const after = d.machine.kind !== 'none' && d.machine.holdsSeat;
        if (order(d.code) < order('MACHINE_BLOCKED')) {
          assert.equal(d.machine.kind, s.machine === null ? 'none' : 'refresh_only');
          assert.equal(after, before);
          if (d.machine.kind === 'refresh_only') assert.equal(d.machine.newCaller, false);
        } else {
          assert.notEqual(d.machine.kind, 'none');
          assert.notEqual(d.machine.kind, 'refresh_only');
        }
        if (s.machine?.status === 'blocked') assert.equal(after, false);
        if (after && !before) assert.ok(s.maxMachines === null || s.otherActiveMachines < s.maxMachines);
        // A machine that could take a seat and reached the seat rule did take it.
        if (d.machine.kind === 'over_limit') assert.ok(s.maxMachines !== null && s.otherActiveMachines >= s.maxMachines && !before);
        assert.equal(d.machines.active, s.otherActiveMachines + (after ? 1 : 0));
        assert.equal(d.machines.max, s.maxMachines);
        // A refresh never leaves a row that would count as a seat it did not hold.
        if (d.machine.kind === 'refresh_only' && d.machine.status === 'active') assert.ok(before);
      }),
      RUNS,
    );
  });

  it('offlineUntil exactly when valid, after now, within the grace and never past expiresAt', () => {
    fc.assert(
      fc.property(scenario.filter((s) => s.found), (s) => {
        const { snapshot, request } = build(s);
        const d = evaluate(snapshot, request, NOW);
        if (d.code === 'NOT_FOUND') return assert.fail('found');
        assert.equal(d.offlineUntil !== null, d.valid);
        if (d.offlineUntil === null) return;
        assert.ok(d.offlineUntil.getTime() <= NOW.getTime() + s.graceDays * DAY);
        if (s.expiresAt !== null) {
          assert.ok(d.offlineUntil.getTime() <= s.expiresAt.getTime());
          assert.ok(s.expiresAt.getTime() > NOW.getTime());
        }
      }),
      RUNS,
    );
  });

  it('nothing is downloadable unless valid; add-ons and content follow the licence', () => {
    fc.assert(
      fc.property(scenario.filter((s) => s.found), (s) => {
        const { snapshot, request } = build(s);
        const d = evaluate(snapshot, request, NOW);
        if (d.code === 'NOT_FOUND') return assert.fail('found');
        if (d.update.available) {
          if (d.update.entitled) assert.ok(d.valid);
          if (d.update.download !== null) assert.ok(d.update.entitled);
          assert.ok(d.update.releasedAt.getTime() <= NOW.getTime());
          if (s.channel === 'stable') assert.equal(d.update.channel, 'stable');
        }
        assert.deepEqual(Object.keys(d.content), s.addons.map((a) => a.code));
        for (const a of d.licence.addons) {
          if (a.active) assert.ok(d.valid && (a.until === null || a.until > NOW));
          const offer: ContentOffer = d.content[a.code];
          if (!a.active) assert.deepEqual({ ...offer }, { available: false, reason: 'NOT_ENTITLED' });
        }
        const status = d.licence.status;
        if (s.status !== 'active') assert.equal(status, s.status);
        else assert.equal(status, s.expiresAt !== null && s.expiresAt <= NOW ? 'expired' : 'active');
      }),
      RUNS,
    );
  });

  it('licence files: only NOT_FOUND..TOO_MANY_MACHINES, a file exactly when valid', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { snapshot } = build({ ...s, product: undefined });
        const d = evaluateLicenceFile(snapshot, NOW);
        if (d.code === 'NOT_FOUND') return assert.equal(s.found, false);
        const findings = expectedFindings({ ...s, product: undefined }, false);
        assert.deepEqual(d.flags, findings.map((f) => f.code));
        assert.equal(d.valid, !findings.some((f) => f.invalidates));
        assert.equal(d.fileExpiresAt !== null, d.valid);
        if (d.fileExpiresAt !== null && s.expiresAt !== null) assert.ok(d.fileExpiresAt <= s.expiresAt);
      }),
      RUNS,
    );
  });
});
