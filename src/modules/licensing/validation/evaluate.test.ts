// Table-driven tests of the call-home decision: one or more cases per code and per precise rule of
// spec/callhome.md, boundaries included. Offers (update, content) are in evaluate.offers.test.ts.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { Code, Condition } from './codes.js';
import { evaluate, evaluateLicenceFile, type EvaluateRequest, type FoundDecision, type LicenceStatus, type MachineWrite } from './evaluate.js';
import type { LicenceSnapshot, MachineSnapshot, Snapshot } from './snapshot.js';
import { DAY, NOW, at, buildLicence, buildRelease, buildRequest, buildSnapshot, daysFromNow } from './test-factories.js';

const seated: MachineSnapshot = { status: 'active', lastSeen: daysFromNow(-1) };
/** Version 8.8.0 published on stable and on beta, at the given dates. */
const PROMOTED = (stable: Date, beta: Date) => [
  buildRelease({ version: '8.8.0', channel: 'beta', releasedAt: beta }), buildRelease({ version: '8.8.0', releasedAt: stable }),
];

interface Case {
  name: string;
  licence?: Partial<LicenceSnapshot>;
  snapshot?: Partial<Snapshot>;
  request?: Partial<EvaluateRequest>;
  code: Code;
  valid: boolean;
  /** Defaults to [] for VALID, else [code]. */
  flags?: Condition[];
  machine?: Partial<MachineWrite> | { kind: 'none' };
  active?: number;
  status?: LicenceStatus;
}

const cases: Case[] = [
  // ---- VALID and NOT_FOUND ----
  { name: 'a fresh licence and a new machine: VALID, takes the seat', code: 'VALID', valid: true,
    machine: { kind: 'activate', status: 'active', newCaller: true, holdsSeat: true, recordsUsage: true }, active: 1, status: 'active' },
  { name: 'no licence has the key: NOT_FOUND, nothing touched', snapshot: { licence: null, machine: seated },
    code: 'NOT_FOUND', valid: false, machine: { kind: 'none' } },

  // ---- PRODUCT_MISMATCH ----
  { name: 'product sent and equal: VALID', request: { product: 'mailserver' }, code: 'VALID', valid: true },
  { name: 'product sent and different: PRODUCT_MISMATCH, unknown machine not recorded', request: { product: 'webserver' },
    code: 'PRODUCT_MISMATCH', valid: false, machine: { kind: 'none' }, active: 0 },
  { name: 'product compared exactly (case matters)', request: { product: 'MailServer' }, code: 'PRODUCT_MISMATCH', valid: false },
  { name: 'PRODUCT_MISMATCH with a known seated machine: refresh only, seat kept',
    request: { product: '' }, snapshot: { machine: seated },
    code: 'PRODUCT_MISMATCH', valid: false, machine: { kind: 'refresh_only', status: 'active', holdsSeat: true, recordsUsage: false, newCaller: false }, active: 1 },

  // ---- REVOKED / SUSPENDED ----
  { name: 'revoked', licence: { status: 'revoked' }, code: 'REVOKED', valid: false, status: 'revoked', machine: { kind: 'none' } },
  { name: 'suspended', licence: { status: 'suspended' }, code: 'SUSPENDED', valid: false, status: 'suspended' },
  { name: 'revoked and expired: REVOKED first, both flagged, status revoked',
    licence: { status: 'revoked', expiresAt: daysFromNow(-1) }, code: 'REVOKED', valid: false, flags: ['REVOKED', 'EXPIRED'], status: 'revoked' },
  { name: 'suspended with too many users: SUSPENDED, both flagged', licence: { status: 'suspended' }, request: { usersInUse: 51 },
    code: 'SUSPENDED', valid: false, flags: ['SUSPENDED', 'TOO_MANY_USERS'] },

  // ---- EXPIRED (boundary: expiresAt == now is expired) ----
  { name: 'expiresAt == now: EXPIRED', licence: { expiresAt: NOW }, code: 'EXPIRED', valid: false, status: 'expired' },
  { name: 'expiresAt 1 ms after now: VALID', licence: { expiresAt: new Date(NOW.getTime() + 1) }, code: 'VALID', valid: true, status: 'active' },
  { name: 'expired with a blocked machine: EXPIRED, the block is flagged and kept',
    licence: { expiresAt: daysFromNow(-3) }, snapshot: { machine: { status: 'blocked', lastSeen: null } },
    code: 'EXPIRED', valid: false, flags: ['EXPIRED', 'MACHINE_BLOCKED'], machine: { kind: 'refresh_only', status: 'blocked', holdsSeat: false } },
  { name: 'expired, released machine calls: refresh only, stays released, no seat',
    licence: { expiresAt: daysFromNow(-3) }, snapshot: { machine: { status: 'released', lastSeen: daysFromNow(-2) } },
    code: 'EXPIRED', valid: false, machine: { kind: 'refresh_only', status: 'released', holdsSeat: false, newCaller: false }, active: 0 },
  { name: 'expired, active machine whose seat lapsed: refresh must not revive the seat',
    licence: { expiresAt: daysFromNow(-3) }, snapshot: { machine: { status: 'active', lastSeen: daysFromNow(-40) }, otherActiveMachines: 1 },
    code: 'EXPIRED', valid: false, flags: ['EXPIRED', 'TOO_MANY_MACHINES'], machine: { kind: 'refresh_only', status: 'over-limit', holdsSeat: false }, active: 1 },

  // ---- MACHINE_BLOCKED ----
  { name: 'blocked machine: MACHINE_BLOCKED, refresh last-seen, no seat',
    snapshot: { machine: { status: 'blocked', lastSeen: daysFromNow(-1) } },
    code: 'MACHINE_BLOCKED', valid: false, machine: { kind: 'blocked', status: 'blocked', holdsSeat: false, recordsUsage: false }, active: 0 },
  { name: 'blocked before it ever called (lastSeen null)', snapshot: { machine: { status: 'blocked', lastSeen: null } },
    code: 'MACHINE_BLOCKED', valid: false, machine: { kind: 'blocked', newCaller: false } },
  { name: 'blocked while the seats are full: both flagged', snapshot: { machine: { status: 'blocked', lastSeen: null }, otherActiveMachines: 1 },
    code: 'MACHINE_BLOCKED', valid: false, flags: ['MACHINE_BLOCKED', 'TOO_MANY_MACHINES'], active: 1 },

  // ---- TOO_MANY_MACHINES and seats ----
  { name: 'seats full, new machine, enforcement flag: tolerated, recorded over-limit',
    snapshot: { otherActiveMachines: 1 }, code: 'TOO_MANY_MACHINES', valid: true,
    machine: { kind: 'over_limit', status: 'over-limit', newCaller: true, holdsSeat: false, recordsUsage: true }, active: 1 },
  { name: 'seats full, new machine, enforcement deny: invalid, still recorded over-limit',
    licence: { policy: { enforcement: 'deny' } }, snapshot: { otherActiveMachines: 1 },
    code: 'TOO_MANY_MACHINES', valid: false, machine: { kind: 'over_limit' }, active: 1 },
  { name: 'a seat holder keeps its seat even when others fill the rest',
    licence: { maxMachines: 2 }, snapshot: { machine: seated, otherActiveMachines: 1 },
    code: 'VALID', valid: true, machine: { kind: 'activate', newCaller: false }, active: 2 },
  { name: 'a seat holder keeps its seat after maxMachines was lowered below the holders',
    licence: { maxMachines: 1, policy: { enforcement: 'deny' } }, snapshot: { machine: seated, otherActiveMachines: 2 },
    code: 'VALID', valid: true, machine: { kind: 'activate' }, active: 3 },
  { name: 'maxMachines null: no limit', licence: { maxMachines: null }, snapshot: { otherActiveMachines: 500 },
    code: 'VALID', valid: true, machine: { kind: 'activate' }, active: 501 },
  { name: 'maxMachines 0: every machine is over the limit', licence: { maxMachines: 0 },
    code: 'TOO_MANY_MACHINES', valid: true, machine: { kind: 'over_limit' }, active: 0 },
  { name: 'last seen exactly machineInactiveDays ago: still holds its seat',
    snapshot: { machine: { status: 'active', lastSeen: daysFromNow(-30) }, otherActiveMachines: 1 },
    code: 'VALID', valid: true, machine: { kind: 'activate', newCaller: false }, active: 2 },
  { name: 'last seen 1 ms more than machineInactiveDays ago: seat lapsed, seats full, over-limit',
    snapshot: { machine: { status: 'active', lastSeen: new Date(NOW.getTime() - 30 * DAY - 1) }, otherActiveMachines: 1 },
    code: 'TOO_MANY_MACHINES', valid: true, machine: { kind: 'over_limit', newCaller: false }, active: 1 },
  { name: 'inactive machine returning to a free seat takes it',
    snapshot: { machine: { status: 'active', lastSeen: daysFromNow(-90) } },
    code: 'VALID', valid: true, machine: { kind: 'activate', newCaller: false }, active: 1 },
  { name: 'policy machineInactiveDays 7 is honoured',
    licence: { policy: { machineInactiveDays: 7 } }, snapshot: { machine: { status: 'active', lastSeen: daysFromNow(-8) }, otherActiveMachines: 1 },
    code: 'TOO_MANY_MACHINES', valid: true, machine: { kind: 'over_limit' } },
  { name: 'over-limit machine finds a free seat: takes it',
    snapshot: { machine: { status: 'over-limit', lastSeen: daysFromNow(-1) } },
    code: 'VALID', valid: true, machine: { kind: 'activate', newCaller: false, holdsSeat: true }, active: 1 },
  { name: 'released machine calling again is a new caller and takes a free seat',
    snapshot: { machine: { status: 'released', lastSeen: daysFromNow(-1) } },
    code: 'VALID', valid: true, machine: { kind: 'activate', newCaller: true }, active: 1 },
  { name: 'released machine calling again with the seats full: new caller, over-limit',
    snapshot: { machine: { status: 'released', lastSeen: daysFromNow(-1) }, otherActiveMachines: 1 },
    code: 'TOO_MANY_MACHINES', valid: true, machine: { kind: 'over_limit', newCaller: true }, active: 1 },

  // ---- TOO_MANY_USERS ----
  { name: 'usersInUse == maxUsers: VALID', request: { usersInUse: 50 }, code: 'VALID', valid: true },
  { name: 'usersInUse == maxUsers + 1, overage 1.0: invalid', request: { usersInUse: 51 }, code: 'TOO_MANY_USERS', valid: false },
  { name: 'overage 1.1: 55 of 50 tolerated', licence: { policy: { userOverage: 1.1 } }, request: { usersInUse: 55 }, code: 'TOO_MANY_USERS', valid: true },
  { name: 'overage 1.1: 56 of 50 invalid', licence: { policy: { userOverage: 1.1 } }, request: { usersInUse: 56 }, code: 'TOO_MANY_USERS', valid: false },
  { name: 'overage 1.15 of 100: 115 tolerated (100 × 1.15 is 114.99999999999999 in floating point)',
    licence: { maxUsers: 100, policy: { userOverage: 1.15 } }, request: { usersInUse: 115 }, code: 'TOO_MANY_USERS', valid: true },
  { name: 'overage 1.15 of 100: 116 invalid', licence: { maxUsers: 100, policy: { userOverage: 1.15 } }, request: { usersInUse: 116 }, code: 'TOO_MANY_USERS', valid: false },
  { name: 'maxUsers null: unlimited', licence: { maxUsers: null }, request: { usersInUse: 1_000_000 }, code: 'VALID', valid: true },
  { name: 'maxUsers 0 and 0 users: VALID', licence: { maxUsers: 0 }, request: { usersInUse: 0 }, code: 'VALID', valid: true },
  { name: 'invalid for users still takes a free seat (decided after MACHINE_BLOCKED)', request: { usersInUse: 500 },
    code: 'TOO_MANY_USERS', valid: false, machine: { kind: 'activate', holdsSeat: true }, active: 1 },
  { name: 'two tolerated conditions: the first one is the code',
    snapshot: { otherActiveMachines: 1 }, licence: { policy: { userOverage: 2 } }, request: { usersInUse: 60 },
    code: 'TOO_MANY_MACHINES', valid: true, flags: ['TOO_MANY_MACHINES', 'TOO_MANY_USERS'] },
  { name: 'tolerated before invalid: the invalid one is the code',
    snapshot: { otherActiveMachines: 1 }, request: { usersInUse: 51 },
    code: 'TOO_MANY_USERS', valid: false, flags: ['TOO_MANY_MACHINES', 'TOO_MANY_USERS'] },

  // ---- VERSION_NOT_COVERED ----
  { name: 'running a release after maintenanceUntil: VERSION_NOT_COVERED',
    licence: { maintenanceUntil: at('2026-10-01T00:00:00.000Z') }, request: { version: '8.6.0' }, code: 'VERSION_NOT_COVERED', valid: false },
  { name: 'running a release released exactly at maintenanceUntil: covered',
    licence: { maintenanceUntil: at('2026-11-01T00:00:00.000Z') }, request: { version: '8.6.0' }, code: 'VALID', valid: true },
  { name: 'running a release 1 ms after maintenanceUntil: not covered',
    licence: { maintenanceUntil: at('2026-10-31T23:59:59.999Z') }, request: { version: '8.6.0' }, code: 'VERSION_NOT_COVERED', valid: false },
  { name: 'running an unknown version newer than maintenance: never VERSION_NOT_COVERED',
    licence: { maintenanceUntil: at('2026-01-01T00:00:00.000Z') }, request: { version: '8.6.1' }, code: 'VALID', valid: true },
  { name: 'running a beta release after maintenanceUntil: not covered either',
    licence: { maintenanceUntil: at('2026-11-01T00:00:00.000Z') }, request: { version: '8.7.0-beta.1', channel: 'beta' }, code: 'VERSION_NOT_COVERED', valid: false },
  { name: 'maintenanceUntil null: every version covered', licence: { maintenanceUntil: null }, request: { version: '8.6.0' }, code: 'VALID', valid: true },
  // One build on both channels, published on different dates: the date on the program's own channel counts.
  { name: 'a stable program runs a version that beta had later: the stable date counts (covered)',
    licence: { maintenanceUntil: at('2026-11-15T00:00:00.000Z') }, snapshot: { releases: PROMOTED(at('2026-11-01T00:00:00.000Z'), at('2026-12-01T00:00:00.000Z')) },
    request: { version: '8.8.0' }, code: 'VALID', valid: true },
  { name: 'a stable program runs a version that beta had earlier: the stable date counts (not covered)',
    licence: { maintenanceUntil: at('2026-11-15T00:00:00.000Z') }, snapshot: { releases: PROMOTED(at('2026-12-01T00:00:00.000Z'), at('2026-11-01T00:00:00.000Z')) },
    request: { version: '8.8.0' }, code: 'VERSION_NOT_COVERED', valid: false },
  { name: 'a beta program sees both channels: the earlier date counts (covered)',
    licence: { maintenanceUntil: at('2026-11-15T00:00:00.000Z') }, snapshot: { releases: PROMOTED(at('2026-12-01T00:00:00.000Z'), at('2026-11-01T00:00:00.000Z')) },
    request: { version: '8.8.0', channel: 'beta' }, code: 'VALID', valid: true },
  { name: 'a stable program runs a version only beta had: that release counts (not covered)',
    licence: { maintenanceUntil: at('2026-11-15T00:00:00.000Z') }, request: { version: '8.7.0-beta.1' }, code: 'VERSION_NOT_COVERED', valid: false },
  { name: 'tolerated machines, then uncovered version: VERSION_NOT_COVERED',
    licence: { maintenanceUntil: at('2026-10-01T00:00:00.000Z') }, snapshot: { otherActiveMachines: 1 }, request: { version: '8.6.0' },
    code: 'VERSION_NOT_COVERED', valid: false, flags: ['TOO_MANY_MACHINES', 'VERSION_NOT_COVERED'], machine: { kind: 'over_limit' } },
];

describe('evaluate: codes and precise rules', () => {
  for (const c of cases) {
    it(c.name, () => {
      const base = buildSnapshot(c.snapshot);
      const snapshot: Snapshot =
        c.licence && base.licence ? { ...base, licence: buildLicence(c.licence) } : base;
      const d = evaluate(snapshot, buildRequest(c.request), NOW);
      assert.equal(d.code, c.code);
      assert.equal(d.valid, c.valid);
      assert.deepEqual(d.flags, c.flags ?? (c.code === 'VALID' ? [] : [c.code]));
      if (c.machine) assert.deepEqual(pick(d.machine, Object.keys(c.machine)), c.machine);
      if (d.code === 'NOT_FOUND') return;
      if (c.active !== undefined) assert.equal(d.machines.active, c.active);
      if (c.status !== undefined) assert.equal(d.licence.status, c.status);
      assert.equal(d.machines.max, snapshot.licence!.maxMachines);
      // offlineUntil is present exactly when the licence is valid.
      assert.equal(d.offlineUntil !== null, d.valid);
    });
  }
});

function pick(o: object, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, (o as Record<string, unknown>)[k]]));
}

function found(d: ReturnType<typeof evaluate>): FoundDecision {
  assert.notEqual(d.code, 'NOT_FOUND');
  return d as FoundDecision;
}

describe('evaluate: answer fields', () => {
  it('NOT_FOUND carries only code, valid, flags, detail, machine and nextCheckSeconds', () => {
    const d = evaluate(buildSnapshot({ licence: null }), buildRequest(), NOW);
    assert.deepEqual(Object.keys(d).sort(), ['code', 'detail', 'flags', 'machine', 'nextCheckSeconds', 'valid']);
    assert.equal(d.nextCheckSeconds, 86400);
  });

  it('offlineUntil is now + offlineGraceDays (default 30)', () => {
    assert.deepEqual(found(evaluate(buildSnapshot(), buildRequest(), NOW)).offlineUntil, daysFromNow(30));
    const s = buildSnapshot({ licence: buildLicence({ policy: { offlineGraceDays: 7 } }) });
    assert.deepEqual(found(evaluate(s, buildRequest(), NOW)).offlineUntil, daysFromNow(7));
  });

  it('offlineUntil never passes expiresAt', () => {
    const expiresAt = daysFromNow(10);
    const d = found(evaluate(buildSnapshot({ licence: buildLicence({ expiresAt }) }), buildRequest(), NOW));
    assert.deepEqual(d.offlineUntil, expiresAt);
  });

  it('nextCheckSeconds comes from the policy', () => {
    const s = buildSnapshot({ licence: buildLicence({ policy: { checkIntervalSeconds: 3600 } }) });
    assert.equal(evaluate(s, buildRequest(), NOW).nextCheckSeconds, 3600);
  });

  it('licence view echoes the stored limits and dates', () => {
    const d = found(evaluate(buildSnapshot(), buildRequest(), NOW));
    assert.deepEqual(d.licence, {
      product: 'mailserver', status: 'active', maxUsers: 50, maxMachines: 1, expiresAt: null,
      maintenanceUntil: at('2027-03-01T00:00:00.000Z'),
      addons: [{ code: 'spamfilter', until: at('2027-03-01T00:00:00.000Z'), active: true }],
    });
    assert.equal(d.detail, 'The licence is valid.');
  });

  it('a tolerated condition gets a detail that says the licence still works', () => {
    const d = evaluate(buildSnapshot({ otherActiveMachines: 1 }), buildRequest(), NOW);
    assert.match(d.detail, /valid/);
    assert.notEqual(d.detail, evaluate(buildSnapshot({ otherActiveMachines: 1, licence: buildLicence({ policy: { enforcement: 'deny' } }) }), buildRequest(), NOW).detail);
  });
});

describe('evaluateLicenceFile', () => {
  it('valid: a file until now + offlineFileDays, and a seat', () => {
    const d = evaluateLicenceFile(buildSnapshot({ licence: buildLicence({ policy: { offlineFileDays: 14 } }) }), NOW);
    if (d.code === 'NOT_FOUND') return assert.fail('found');
    assert.equal(d.code, 'VALID');
    assert.deepEqual(d.fileExpiresAt, daysFromNow(14));
    assert.equal(d.machine.kind, 'activate');
    assert.equal(d.machines.active, 1);
    assert.equal('update' in d, false);
    assert.equal('offlineUntil' in d, false);
  });

  it('the file never outlives the licence', () => {
    const expiresAt = daysFromNow(3);
    const d = evaluateLicenceFile(buildSnapshot({ licence: buildLicence({ expiresAt }) }), NOW);
    assert.ok(d.code !== 'NOT_FOUND');
    assert.deepEqual(d.fileExpiresAt, expiresAt);
  });

  it('a tolerated TOO_MANY_MACHINES still gets its file; the machine is recorded over-limit', () => {
    const d = evaluateLicenceFile(buildSnapshot({ otherActiveMachines: 1 }), NOW);
    assert.ok(d.code === 'TOO_MANY_MACHINES' && d.valid);
    assert.ok(d.fileExpiresAt !== null);
    assert.equal(d.machine.kind, 'over_limit');
  });

  it('TOO_MANY_MACHINES under deny: no file', () => {
    const d = evaluateLicenceFile(buildSnapshot({ otherActiveMachines: 1, licence: buildLicence({ policy: { enforcement: 'deny' } }) }), NOW);
    assert.ok(d.code === 'TOO_MANY_MACHINES' && !d.valid);
    assert.equal(d.fileExpiresAt, null);
  });

  it('version and users are not checked', () => {
    const s = buildSnapshot({ licence: buildLicence({ maxUsers: 0, maintenanceUntil: at('2000-01-01T00:00:00.000Z') }) });
    assert.equal(evaluateLicenceFile(s, NOW).code, 'VALID');
  });

  it('expired: no file, no seat; NOT_FOUND: nothing', () => {
    const d = evaluateLicenceFile(buildSnapshot({ licence: buildLicence({ expiresAt: NOW }), machine: seated }), NOW);
    assert.ok(d.code === 'EXPIRED');
    assert.equal(d.fileExpiresAt, null);
    assert.equal(d.machine.kind, 'refresh_only');
    assert.equal(evaluateLicenceFile(buildSnapshot({ licence: null }), NOW).code, 'NOT_FOUND');
  });

  it('content entries: held add-ons only, NOT_ENTITLED when the licence is invalid', () => {
    const ok = evaluateLicenceFile(buildSnapshot(), NOW);
    assert.ok(ok.code !== 'NOT_FOUND');
    assert.deepEqual(Object.keys(ok.content), ['spamfilter']);
    assert.equal(ok.content.spamfilter.available, true);
    const bad = evaluateLicenceFile(buildSnapshot({ licence: buildLicence({ status: 'suspended' }) }), NOW);
    assert.ok(bad.code !== 'NOT_FOUND');
    assert.deepEqual({ ...bad.content.spamfilter }, { available: false, reason: 'NOT_ENTITLED' });
  });
});
