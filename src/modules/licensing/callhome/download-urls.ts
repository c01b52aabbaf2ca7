// Signed, expiring download URLs bound to a licence. An answer's `sha256` covers the file; the URL only
// has to stop someone without a valid licence from fetching it, and to stop working within the hour.
//   <publicUrl>/downloads/<kind>/<id>/<name>?l=<licence id>&e=<expiry, epoch seconds>&s=<HMAC>

import type { Secrets } from '../../../kernel/crypto/secrets.js';
import { safeEqual } from '../../../kernel/crypto/tokens.js';
import type { FileRef } from '../validation/snapshot.js';

export const DOWNLOAD_TTL_MS = 3_600_000;
const PURPOSE = 'download-url';

export interface SignedDownload {
  url: string;
  sha256: string;
  size: number;
  expiresAt: string;
}

export interface DownloadTarget {
  kind: 'r' | 'c';
  id: string;
  licenceId: string;
}

export class DownloadUrls {
  constructor(
    private readonly secrets: Secrets,
    /** The configuration, read at each signing: `serve` sets the public URL's port when PORT=0 lets the system choose. */
    private readonly site: { readonly publicUrl: string },
  ) {}

  /** A URL valid for one hour from `now` (whole seconds, so `expiresAt` is exactly what is enforced). */
  sign(file: FileRef, licenceId: string, now: number): SignedDownload {
    const exp = Math.floor((now + DOWNLOAD_TTL_MS) / 1000);
    const path = `/downloads/${file.ref}`;
    const s = this.mac(path, licenceId, exp);
    return {
      url: `${this.site.publicUrl}${path}?l=${encodeURIComponent(licenceId)}&e=${exp}&s=${s}`,
      sha256: file.sha256,
      size: file.size,
      expiresAt: new Date(exp * 1000).toISOString(),
    };
  }

  /**
   * Checks a request's raw path and query. Returns what it grants, or null for anything altered,
   * expired or malformed (all answered 403 alike, so nothing is learnt by probing).
   */
  verify(rawPath: string, query: Record<string, unknown>, now: number): DownloadTarget | null {
    const { l, e, s } = query;
    if (typeof l !== 'string' || typeof e !== 'string' || typeof s !== 'string' || !/^\d{1,12}$/.test(e)) return null;
    const exp = Number(e);
    if (!safeEqual(s, this.mac(rawPath, l, exp))) return null;
    if (now >= exp * 1000) return null;
    const m = /^\/downloads\/([rc])\/([^/]+)\/[^/]+$/.exec(rawPath);
    if (!m) return null;
    return { kind: m[1] as 'r' | 'c', id: decodeURIComponent(m[2]), licenceId: l };
  }

  private mac(path: string, licenceId: string, exp: number): string {
    return this.secrets.hmacB64(PURPOSE, `${path}\n${licenceId}\n${exp}`);
  }
}
