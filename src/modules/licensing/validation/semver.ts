// Strict SemVer 2.0 for the running version a program reports and for the releases staff publish.
// The call-home contract allows MAJOR.MINOR.PATCH with an optional -prerelease and forbids build
// metadata (which has no precedence, so two builds could not be told apart as "newer").

export interface SemVer {
  /** The version exactly as given; since leading zeros and build metadata are refused it is canonical. */
  readonly raw: string;
  // Numbers stay decimal strings: SemVer sets no upper bound and a Number would lose precision.
  readonly major: string;
  readonly minor: string;
  readonly patch: string;
  /** Dot-separated pre-release identifiers; empty for a normal release. */
  readonly prerelease: readonly string[];
}

const NUMERIC = '0|[1-9][0-9]*';
const IDENTIFIER = `(?:${NUMERIC}|[0-9]*[A-Za-z-][0-9A-Za-z-]*)`;
// No /m flag: `$` then matches only at the very end, so a trailing newline is refused.
const SEMVER = new RegExp(
  `^(${NUMERIC})\\.(${NUMERIC})\\.(${NUMERIC})(?:-(${IDENTIFIER}(?:\\.${IDENTIFIER})*))?$`,
);
const DIGITS_ONLY = /^[0-9]+$/;

/** Parses a strict SemVer 2.0 version without build metadata; null when it is not one. */
export function parseSemver(input: string): SemVer | null {
  const m = SEMVER.exec(input);
  if (!m) return null;
  return {
    raw: input,
    major: m[1],
    minor: m[2],
    patch: m[3],
    prerelease: m[4] === undefined ? [] : m[4].split('.'),
  };
}

export function isSemver(input: string): boolean {
  return SEMVER.test(input);
}

/** Compares decimal strings without leading zeros (guaranteed by the grammar): longer is larger. */
function compareNumeric(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareIdentifiers(a: string, b: string): number {
  const aNum = DIGITS_ONLY.test(a);
  const bNum = DIGITS_ONLY.test(b);
  if (aNum && bNum) return compareNumeric(a, b);
  // SemVer 11.4.3: numeric identifiers always have lower precedence than alphanumeric ones.
  if (aNum) return -1;
  if (bNum) return 1;
  // 11.4.2: ASCII order, which is what JS string comparison gives for these characters.
  return a < b ? -1 : a > b ? 1 : 0;
}

/** SemVer 2.0 precedence: negative when a < b, 0 when equal, positive when a > b. */
export function compareSemver(a: SemVer, b: SemVer): number {
  const core =
    compareNumeric(a.major, b.major) || compareNumeric(a.minor, b.minor) || compareNumeric(a.patch, b.patch);
  if (core !== 0) return core;
  const ap = a.prerelease;
  const bp = b.prerelease;
  // A pre-release comes before its normal version: 1.0.0-rc.1 < 1.0.0.
  if (ap.length === 0 && bp.length === 0) return 0;
  if (ap.length === 0) return 1;
  if (bp.length === 0) return -1;
  const n = Math.min(ap.length, bp.length);
  for (let i = 0; i < n; i++) {
    const c = compareIdentifiers(ap[i], bp[i]);
    if (c !== 0) return c;
  }
  // All shared identifiers equal: the longer set wins (1.0.0-alpha < 1.0.0-alpha.1).
  return ap.length === bp.length ? 0 : ap.length < bp.length ? -1 : 1;
}
