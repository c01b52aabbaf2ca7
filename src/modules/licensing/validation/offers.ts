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

/**
 * The release a program on `channel` runs when it reports `version` (any date), if the server knows
 * it: a vendor may publish one build on both channels (a beta promoted to stable keeps its version),
 * on different dates. The earliest on a channel the program sees (`beta` sees both) is when its
 * version was released for it; a program reporting a version only published on the other channel
 * runs the earliest of those. Ties keep list order.
 */
export function findRelease(releases: readonly ReleaseSnapshot[], version: string, channel: Channel): ReleaseSnapshot | undefined {
  // The strict grammar (no leading zeros, no build metadata) makes equal precedence equal text.
  const found = indexOf(releases).byVersion.get(version);
  if (found === undefined) return undefined;
  return channel === 'beta' ? found.any : found.stable ?? found.any;
}

export interface RankedRelease {
  readonly release: ReleaseSnapshot;
  readonly semver: SemVer;
}

/**
 * The newest release a program on `channel` may be offered: released by `now`, ordered by SemVer
 * precedence; `beta` sees `stable` too. Ties (the same version in both channels) go to stable, then
 * to the later release date, so the choice never depends on row order.
 */
export function newestRelease(releases: readonly ReleaseSnapshot[], channel: Channel, now: Date): RankedRelease | null {
  const t = now.getTime();
  // Best first: the first one already released is the newest (a release scheduled for later is skipped).
  for (const ranked of indexOf(releases)[channel === 'beta' ? 'beta' : 'stable']) {
    if (ranked.release.releasedAt.getTime() <= t) return ranked;
  }
  return null;
}

/**
 * A product's releases ranked for each channel and keyed by version. Every call reads them, and a
 * vendor's list only grows (years of releases), so they are ranked once per list rather than parsed
 * and compared on every call (oncePerList).
 */
interface ReleaseIndex {
  /** Parsable releases a program on that channel may be offered, best first (isBetter's order). */
  readonly stable: readonly RankedRelease[];
  readonly beta: readonly RankedRelease[];
  /** Per version, its earliest release on stable and on any channel (the first in the list on a tie). */
  readonly byVersion: ReadonlyMap<string, { readonly stable: ReleaseSnapshot | undefined; readonly any: ReleaseSnapshot }>;
}

const earlier = (a: ReleaseSnapshot | undefined, b: ReleaseSnapshot): ReleaseSnapshot =>
  a !== undefined && a.releasedAt.getTime() <= b.releasedAt.getTime() ? a : b;

const indexOf = oncePerList((releases: readonly ReleaseSnapshot[]): ReleaseIndex => {
  const ranked: RankedRelease[] = [];
  const byVersion = new Map<string, { stable: ReleaseSnapshot | undefined; any: ReleaseSnapshot }>();
  for (const release of releases) {
    const seen = byVersion.get(release.version);
    const stable = release.channel === 'stable' ? earlier(seen?.stable, release) : seen?.stable;
    byVersion.set(release.version, { stable, any: earlier(seen?.any, release) });
    const semver = parseSemver(release.version);
    if (semver) ranked.push({ release, semver });
  }
  // A stable sort: releases that tie completely keep their list order, as the first found wins a scan.
  ranked.sort((a, b) => (isBetter(a, b) ? -1 : isBetter(b, a) ? 1 : 0));
  return { stable: ranked.filter((r) => r.release.channel !== 'beta'), beta: ranked, byVersion };
});

/**
 * `build` run once per list and kept while the list lives (a WeakMap entry): the catalog cache hands
 * every call of a product the same arrays until it reloads. Lists are treated as frozen.
 */
function oncePerList<L extends object, R>(build: (list: L) => R): (list: L) => R {
  const built = new WeakMap<L, R>();
  return (list) => {
    let r = built.get(list);
    if (r === undefined) {
      r = build(list);
      built.set(list, r);
    }
    return r;
  };
}

function isBetter(a: RankedRelease, b: RankedRelease): boolean {
  const c = compareSemver(a.semver, b.semver);
  if (c !== 0) return c > 0;
  if (a.release.channel !== b.release.channel) return a.release.channel === 'stable';
  return a.release.releasedAt.getTime() > b.release.releasedAt.getTime();
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
  const newest = newestOf(packs);
  // No prototype: add-on codes are vendor data and `__proto__` must stay an ordinary key.
  const offers: Record<string, ContentOffer> = Object.create(null);
  for (const addon of addons) {
    offers[addon.code] = contentOffer(addon.active, newest.get(addon.code), installed.get(addon.code));
  }
  return offers;
}

// The newest pack per add-on, once per packs array, as for releases.
const newestOf = oncePerList(newestPacks);

function contentOffer(active: boolean, pack: ContentPackSnapshot | undefined, installed: string | undefined): ContentOffer {
  if (!active) return { available: false, reason: 'NOT_ENTITLED' };
  if (pack === undefined) return { available: false };
  const installedParts = installed === undefined ? null : parseContentVersion(installed);
  const newer = installedParts === null || compareContentParts(parseContentVersion(pack.version)!, installedParts) > 0;
  return newer ? { available: true, version: pack.version, download: pack.file } : { available: false };
}
