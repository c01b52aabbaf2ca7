/**
 * A coarse, human description of the browser and system a user agent names ("Firefox on Linux"), for
 * the list of signed-in devices. Only this is stored, never the user agent itself (it can be close to
 * unique); null when neither part is recognised.
 */
export function describeDevice(userAgent: unknown): string | null {
  if (typeof userAgent !== 'string' || userAgent.length === 0) return null;
  const ua = userAgent.slice(0, 512);
  const browser =
    /Edg(e|A|iOS)?\//.test(ua) ? 'Edge'
      : /OPR\/|Opera/.test(ua) ? 'Opera'
        : /Firefox\/|FxiOS\//.test(ua) ? 'Firefox'
          : /SamsungBrowser\//.test(ua) ? 'Samsung Internet'
            : /Chrome\/|Chromium\/|CriOS\//.test(ua) ? 'Chrome'
              : /Safari\//.test(ua) && /Version\//.test(ua) ? 'Safari'
                : null;
  const system =
    /iPhone|iPad|iPod/.test(ua) ? 'iOS'
      : /Android/.test(ua) ? 'Android'
        : /CrOS/.test(ua) ? 'ChromeOS'
          : /Windows/.test(ua) ? 'Windows'
            : /Mac OS X|Macintosh/.test(ua) ? 'macOS'
              : /Linux|X11/.test(ua) ? 'Linux'
                : null;
  if (!browser && !system) return null;
  return `${browser ?? 'A browser'} on ${system ?? 'an unknown system'}`;
}
