// Factories for the validation tests: a realistic licence, snapshot and request, overridden per case.

import type { EvaluateRequest } from './evaluate.js';
import type { ContentPackSnapshot, LicenceSnapshot, ReleaseSnapshot, Snapshot } from './snapshot.js';

export const NOW = new Date('2026-11-25T10:00:00.000Z');
export const DAY = 86_400_000;

export function at(iso: string): Date {
  return new Date(iso);
}

export function daysFromNow(days: number, now: Date = NOW): Date {
  return new Date(now.getTime() + days * DAY);
}

export function buildLicence(overrides: Partial<LicenceSnapshot> = {}): LicenceSnapshot {
  return {
    product: 'mailserver',
    status: 'active',
    maxUsers: 50,
    maxMachines: 1,
    expiresAt: null,
    maintenanceUntil: at('2027-03-01T00:00:00.000Z'),
    addons: [{ code: 'spamfilter', until: at('2027-03-01T00:00:00.000Z') }],
    policy: null,
    ...overrides,
  };
}

export function buildRelease(overrides: Partial<ReleaseSnapshot> & Pick<ReleaseSnapshot, 'version'>): ReleaseSnapshot {
  return {
    channel: 'stable',
    releasedAt: at('2026-01-01T00:00:00.000Z'),
    security: false,
    notes: null,
    file: { ref: `release-${overrides.version}`, sha256: 'a'.repeat(64), size: 123 },
    ...overrides,
  };
}

export function buildPack(addon: string, version: string): ContentPackSnapshot {
  return { addon, version, file: { ref: `${addon}-${version}`, sha256: 'b'.repeat(64), size: 456 } };
}

export const RELEASES: readonly ReleaseSnapshot[] = [
  buildRelease({ version: '8.5.0', releasedAt: at('2026-06-01T00:00:00.000Z') }),
  buildRelease({ version: '8.6.0', releasedAt: at('2026-11-01T00:00:00.000Z'), notes: 'Faster IMAP' }),
  buildRelease({ version: '8.7.0-beta.1', channel: 'beta', releasedAt: at('2026-11-20T00:00:00.000Z') }),
  // Scheduled: not offered before its date.
  buildRelease({ version: '9.0.0', releasedAt: at('2026-12-10T00:00:00.000Z') }),
];

export const PACKS: readonly ContentPackSnapshot[] = [
  buildPack('spamfilter', '2026.11.24.1'),
  buildPack('spamfilter', '2026.11.25.1'),
  buildPack('antivirus', '2026.11.25.3'),
];

export function buildSnapshot(overrides: Partial<Snapshot> = {}): Snapshot {
  return {
    licence: buildLicence(),
    machine: null,
    otherActiveMachines: 0,
    releases: RELEASES,
    content: PACKS,
    ...overrides,
  };
}

export function buildRequest(overrides: Partial<EvaluateRequest> = {}): EvaluateRequest {
  return {
    version: '8.5.0',
    channel: 'stable',
    usersInUse: 10,
    content: new Map([['spamfilter', '2026.11.1']]),
    ...overrides,
  };
}
