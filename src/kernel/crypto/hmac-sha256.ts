// HMAC-SHA256 under one fixed key, for a hash computed on every call home (the licence key's look-up
// hash). node:crypto's createHmac builds an OpenSSL context per call, fetching the digest by name and
// hashing the key's pads again: under load that was 5% of the request thread (README, "Benchmark").
// Here the two padded-key blocks are hashed once, and each message costs copying those states and
// two SHA-256 finals in libsodium. The result is plain HMAC-SHA256 (RFC 2104); a test holds it to
// createHmac.

import sodium from 'sodium-native';

const BLOCK = 64;

export class HmacSha256 {
  private readonly inner = Buffer.alloc(sodium.crypto_hash_sha256_STATEBYTES);
  private readonly outer = Buffer.alloc(sodium.crypto_hash_sha256_STATEBYTES);
  // Scratch, reused: hex() is synchronous and an isolate runs one call at a time.
  private readonly state = Buffer.alloc(sodium.crypto_hash_sha256_STATEBYTES);
  private readonly mid = Buffer.alloc(sodium.crypto_hash_sha256_BYTES);
  private readonly out = Buffer.alloc(sodium.crypto_hash_sha256_BYTES);
  private message = Buffer.alloc(256);

  constructor(key: Buffer | string) {
    let k = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
    if (k.length > BLOCK) {
      const h = Buffer.alloc(sodium.crypto_hash_sha256_BYTES);
      sodium.crypto_hash_sha256(h, k);
      k = h;
    }
    const ipad = Buffer.alloc(BLOCK, 0x36);
    const opad = Buffer.alloc(BLOCK, 0x5c);
    for (let i = 0; i < k.length; i++) {
      ipad[i] = ipad[i]! ^ k[i]!;
      opad[i] = opad[i]! ^ k[i]!;
    }
    sodium.crypto_hash_sha256_init(this.inner);
    sodium.crypto_hash_sha256_update(this.inner, ipad);
    sodium.crypto_hash_sha256_init(this.outer);
    sodium.crypto_hash_sha256_update(this.outer, opad);
    ipad.fill(0);
    opad.fill(0);
  }

  /** HMAC-SHA256 of the UTF-8 bytes of `text`, as lower-case hex. */
  hex(text: string): string {
    const length = Buffer.byteLength(text, 'utf8');
    if (this.message.length < length) this.message = Buffer.alloc(Math.max(length, 2 * this.message.length));
    this.message.write(text, 0, 'utf8');
    this.state.set(this.inner);
    sodium.crypto_hash_sha256_update(this.state, this.message.subarray(0, length));
    sodium.crypto_hash_sha256_final(this.state, this.mid);
    this.state.set(this.outer);
    sodium.crypto_hash_sha256_update(this.state, this.mid);
    sodium.crypto_hash_sha256_final(this.state, this.out);
    return this.out.toString('hex');
  }
}
