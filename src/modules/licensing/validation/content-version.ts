// Add-on content versions (e.g. definition packs `2026.11.25.1`): one or more dot-separated decimal
// numbers, compared part by part with a missing part counting as 0, so `1.2` equals `1.2.0`.
// Leading zeros are allowed (date-like versions such as `2026.01.05` are common) and ignored.

const CONTENT_VERSION = /^[0-9]+(?:\.[0-9]+)*$/;

export function isContentVersion(input: string): boolean {
  return CONTENT_VERSION.test(input);
}

/** The numeric parts with leading zeros stripped; null when `input` is not a content version. */
export function parseContentVersion(input: string): string[] | null {
  if (!CONTENT_VERSION.test(input)) return null;
  return input.split('.').map(stripLeadingZeros);
}

function stripLeadingZeros(part: string): string {
  const stripped = part.replace(/^0+/, '');
  return stripped === '' ? '0' : stripped;
}

// Parts are compared as digit strings rather than Numbers: a client may send a 30-digit part and a
// Number would round it, making two different versions look equal.
function compareParts(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Compares two parsed content versions: negative, 0 or positive. */
export function compareContentParts(a: readonly string[], b: readonly string[]): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareParts(a[i] ?? '0', b[i] ?? '0');
    if (c !== 0) return c;
  }
  return 0;
}

/**
 * Compares two content version strings. Throws on a string that is not a content version, since
 * callers are expected to have validated input at the edge (parse-request) or skipped bad rows.
 */
export function compareContentVersions(a: string, b: string): number {
  const pa = parseContentVersion(a);
  const pb = parseContentVersion(b);
  if (!pa || !pb) throw new TypeError(`not a content version: ${JSON.stringify(pa ? b : a)}`);
  return compareContentParts(pa, pb);
}
