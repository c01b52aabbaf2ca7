import crypto from 'node:crypto';

/** A random, URL-safe token with `bytes` bytes of entropy (256 bits by default). */
export function randomToken(bytes = 32): string {
  return crypto.randomBytes(bytes).toString('base64url');
}

export function newId(): string {
  return crypto.randomUUID();
}

export function sha256Hex(s: string | Buffer): string {
  return crypto.createHash('sha256').update(s).digest('hex');
}

/** Constant-time comparison of two strings (false, not an exception, when lengths differ). */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && crypto.timingSafeEqual(ab, bb);
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function base62(bytes: Buffer, length: number): string {
  let out = '';
  for (const b of bytes) {
    if (out.length === length) break;
    // 248 = 62 * 4: rejecting larger bytes keeps every character equally likely.
    if (b < 248) out += BASE62[b % 62];
  }
  return out;
}

function crc32Base62(s: string): string {
  let n = crc32(Buffer.from(s));
  let out = '';
  for (let i = 0; i < 6; i++) { out = BASE62[n % 62] + out; n = Math.floor(n / 62); }
  return out;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * Staff API keys follow GitHub's token format: a readable prefix (so scanners and people recognise it),
 * 30 random base62 characters (178 bits), and a CRC32 checksum so a mistyped key is refused without a
 * database look-up.
 */
export const API_KEY_PREFIX = 'kwk_';

export function generateApiKey(): string {
  let body = '';
  while (body.length < 30) body += base62(crypto.randomBytes(40), 30 - body.length);
  return API_KEY_PREFIX + body + crc32Base62(body);
}

export function apiKeyLooksValid(key: string): boolean {
  if (!key.startsWith(API_KEY_PREFIX) || key.length !== API_KEY_PREFIX.length + 36) return false;
  const body = key.slice(API_KEY_PREFIX.length, -6);
  return /^[0-9A-Za-z]{30}$/.test(body) && crc32Base62(body) === key.slice(-6);
}
