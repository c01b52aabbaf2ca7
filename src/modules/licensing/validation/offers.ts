// What an answer offers besides the verdict: the newest release of the program's channel and the
// newest content pack of each add-on the licence holds (spec/callhome.md, "Coverage", "Newest",
// "Content").

import { compareContentParts, parseContentVersion } from './content-version.js';
import type { Channel } from './parse-request.js';
import { compareSemver, parseSemver, type SemVer } from './semver.js';
import type { ContentPackSnapshot, FileRef, ReleaseSnapshot } from './snapshot.js';

export type UpdateOffer =
  | { readonly available: false }
  | {
      readonly available: true;
      readonly version: string;
      /** The offered release's channel (a beta program may be offered a stable release). */
      readonly channel: 'stable' | 'beta';
      readonly releasedAt: Date;
      readonly security: boolean;
      readonly notes: string | null;
      /** The licence is valid and the release is covered by maintenance. */
      readonly entitled: boolean;
      /** The installer to offer: only when entitled and a file was uploaded. */
      readonly download: FileRef | null;
    };

export type ContentOffer =
  | { readonly available: true; readonly version: string; readonly download: FileRef }
  | { readonly available: false; readonly reason: 'NOT_ENTITLED' }
  | { readonly available: false };

/** Covered: maintenance without end, or released on or before maintenanceUntil. */
export function isCovered(releasedAt: Date, maintenanceUntil: Date | null): boolean {
  return maintenanceUntil === null || releasedAt.getTime() <= maintenanceUntil.getTime();
}

/** The product's release with exactly this version (any channel, any date), if the server knows it. */
export function findRelease(releases: readonly ReleaseSnapshot[], version: string): ReleaseSnapshot | undefined {
  // The strict grammar (no leading zeros, no build metadata) makes equal precedence equal text.
  return releases.find((r) => r.version === version);
}

/**
 * The newest release a program on `channel` may be offered: released by `now`, ordered by SemVer
 * precedence; `beta` sees `stable` too. Ties (the same version in both channels) go to stable, then
 * to the later release date, so the choice never depends on row order.
 */
export function newestRelease(
  releases: readonly ReleaseSnapshot[],
  channel: Channel,
  now: Date,
): { release: ReleaseSnapshot; semver: SemVer } | null {
  let best: { release: ReleaseSnapshot; semver: SemVer } | null = null;
  for (const release of releases) {
    if (release.releasedAt.getTime() > now.getTime()) continue;
    if (release.channel === 'beta' && channel !== 'beta') continue;
    const semver = parseSemver(release.version);
    if (!semver) continue;
    if (best === null || isBetter(release, semver, best.release, best.semver)) best = { release, semver };
  }
  return best;
}

function isBetter(r: ReleaseSnapshot, v: SemVer, bestR: ReleaseSnapshot, bestV: SemVer): boolean {
  const c = compareSemver(v, bestV);
  if (c !== 0) return c > 0;
  if (r.channel !== bestR.channel) return r.channel === 'stable';
  return r.releasedAt.getTime() > bestR.releasedAt.getTime();
}

export function updateOffer(args: {
  releases: readonly ReleaseSnapshot[];
  running: string;
  channel: Channel;
  maintenanceUntil: Date | null;
  licenceValid: boolean;
  now: Date;
}): UpdateOffer {
  const newest = newestRelease(args.releases, args.channel, args.now);
  if (newest === null) return { available: false };
  const running = parseSemver(args.running);
  // Running the newest of its channel, or something newer (a pre-release, a build staff have not
  // published yet): nothing to offer.
  if (running !== null && compareSemver(running, newest.semver) >= 0) return { available: false };
  const r = newest.release;
  const entitled = args.licenceValid && isCovered(r.releasedAt, args.maintenanceUntil);
  return {
    available: true,
    version: r.version,
    channel: r.channel,
    releasedAt: r.releasedAt,
    security: r.security,
    notes: r.notes,
    entitled,
    download: entitled ? r.file : null,
  };
}

/** Newest pack per add-on by content-version order; rows whose version does not parse are skipped. */
export function newestPacks(packs: readonly ContentPackSnapshot[]): Map<string, ContentPackSnapshot> {
  const best = new Map<string, { pack: ContentPackSnapshot; parts: string[] }>();
  for (const pack of packs) {
    const parts = parseContentVersion(pack.version);
    if (!parts) continue;
    const current = best.get(pack.addon);
    if (!current || compareContentParts(parts, current.parts) > 0) best.set(pack.addon, { pack, parts });
  }
  return new Map([...best].map(([code, { pack }]) => [code, pack]));
}

/**
 * One entry per add-on the licence holds. Entitlement is decided before freshness, so a lapsed add-on
 * reads NOT_ENTITLED even when the installed content is the newest. An add-on the program did not
 * report is treated as having no content yet, so a fresh installation is offered the newest pack.
 */
export function contentOffers(
  addons: readonly { code: string; active: boolean }[],
  packs: readonly ContentPackSnapshot[],
  installed: ReadonlyMap<string, string>,
): Record<string, ContentOffer> {
  const newest = newestPacks(packs);
  // No prototype: add-on codes are vendor data and `__proto__` must stay an ordinary key.
  const offers: Record<string, ContentOffer> = Object.create(null);
  for (const addon of addons) {
    offers[addon.code] = contentOffer(addon.active, newest.get(addon.code), installed.get(addon.code));
  }
  return offers;
}

function contentOffer(active: boolean, pack: ContentPackSnapshot | undefined, installed: string | undefined): ContentOffer {
  if (!active) return { available: false, reason: 'NOT_ENTITLED' };
  if (pack === undefined) return { available: false };
  const installedParts = installed === undefined ? null : parseContentVersion(installed);
  const newer = installedParts === null || compareContentParts(parseContentVersion(pack.version)!, installedParts) > 0;
  return newer ? { available: true, version: pack.version, download: pack.file } : { available: false };
}
