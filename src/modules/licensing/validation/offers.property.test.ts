// The release index behind newestRelease and findRelease (offers.ts) against the plain definitions:
// a scan of every release on every call, as the contract words them ("Newest", "Coverage"). One list
// is asked at several instants and channels, as the catalog's shared array is by many calls.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { findRelease, newestRelease } from './offers.js';
import type { Channel } from './parse-request.js';
import { compareSemver, parseSemver } from './semver.js';
import type { ReleaseSnapshot } from './snapshot.js';
import { DAY, NOW } from './test-factories.js';

// Duplicates across channels and dates, pre-releases, and rows that do not parse (skipped by the rules).
const VERSIONS = ['1.0.0', '1.0.1', '1.1.0-beta.1', '1.1.0-beta.2', '1.1.0', '1.10.0', '2.0.0-rc.1', '2.0.0', '01.0.0', 'v2', ''];

const instant = fc
  .oneof(fc.constantFrom(0, 1, -1), fc.integer({ min: -3, max: 3 }).map((d) => d * DAY), fc.integer({ min: -40 * DAY, max: 40 * DAY }))
  .map((offset) => new Date(NOW.getTime() + offset));

const release: fc.Arbitrary<ReleaseSnapshot> = fc.record({
  version: fc.constantFrom(...VERSIONS),
  channel: fc.constantFrom('stable' as const, 'beta' as const),
  releasedAt: instant,
  security: fc.boolean(),
  // Tells apart releases that tie on everything the rules look at: the first in the list must win.
  notes: fc.string({ maxLength: 4 }),
  file: fc.constant(null),
});

/** The contract's "newest": released by now, visible on the channel, highest SemVer, then stable, then later. */
function referenceNewest(releases: readonly ReleaseSnapshot[], channel: Channel, now: Date): ReleaseSnapshot | null {
  let best: ReleaseSnapshot | null = null;
  for (const r of releases) {
    const v = parseSemver(r.version);
    if (!v || r.releasedAt > now || (r.channel === 'beta' && channel !== 'beta')) continue;
    if (best === null) { best = r; continue; }
    const c = compareSemver(v, parseSemver(best.version)!);
    const better = c !== 0 ? c > 0
      : r.channel !== best.channel ? r.channel === 'stable'
      : r.releasedAt.getTime() > best.releasedAt.getTime();
    if (better) best = r;
  }
  return best;
}

describe('release index', () => {
  it('newestRelease picks what a scan of every release picks, for any channel and instant', () => {
    fc.assert(
      fc.property(fc.array(release, { maxLength: 12 }), fc.array(fc.tuple(fc.constantFrom<Channel>('stable', 'beta'), instant), { minLength: 1, maxLength: 6 }), (releases, asks) => {
        for (const [channel, now] of asks) {
          const got = newestRelease(releases, channel, now);
          const want = referenceNewest(releases, channel, now);
          // The very object, so ties are broken as the scan breaks them.
          assert.equal(got?.release ?? null, want);
          if (got) assert.equal(got.semver.raw, got.release.version);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('findRelease finds the earliest release with that exact version text on a channel the program sees, else on any', () => {
    // The plain definition: filter, then the earliest (the first in the list on a tie).
    const referenceRunning = (releases: ReleaseSnapshot[], version: string, channel: 'stable' | 'beta') => {
      const same = releases.filter((r) => r.version === version);
      const seen = same.filter((r) => channel === 'beta' || r.channel === 'stable');
      const pool = seen.length > 0 ? seen : same;
      return pool.reduce<ReleaseSnapshot | undefined>((best, r) => (best === undefined || r.releasedAt < best.releasedAt ? r : best), undefined);
    };
    fc.assert(
      fc.property(fc.array(release, { maxLength: 12 }), fc.constantFrom(...VERSIONS, '1.0', '1.0.0 '), fc.constantFrom('stable' as const, 'beta' as const), (releases, version, channel) => {
        assert.equal(findRelease(releases, version, channel), referenceRunning(releases, version, channel));
      }),
      { numRuns: 3000 },
    );
  });

  it('a new list (the catalog reloaded after a publish) is ranked afresh', () => {
    const old: ReleaseSnapshot[] = [{ version: '1.0.0', channel: 'stable', releasedAt: new Date(NOW.getTime() - DAY), security: false, notes: null, file: null }];
    assert.equal(newestRelease(old, 'stable', NOW)?.release.version, '1.0.0');
    const published = [...old, { ...old[0]!, version: '1.1.0' }];
    assert.equal(newestRelease(published, 'stable', NOW)?.release.version, '1.1.0');
    assert.equal(findRelease(published, '1.1.0', 'stable')?.version, '1.1.0');
    assert.equal(findRelease(old, '1.1.0', 'stable'), undefined);
  });
});
