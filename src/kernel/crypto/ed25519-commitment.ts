// Ed25519 signing in two halves. A signature is (R, s) with R = r·B and s = r + H(R ‖ A ‖ M)·a mod L,
// where a is the key's secret scalar and A its public key. A verifier checks s·B = R + H(R ‖ A ‖ M)·A
// and nothing else, so r may be any secret, uniformly random scalar used once: RFC 8032 derives it from
// the key and the message (deterministic), libsodium's randomised build and every Schnorr scheme draw
// it at random. The costly half, R = r·B, needs no message, so it is made ahead of time on another
// thread (commitments.ts); with (r, R) in hand a signature is one SHA-512 and a multiply-add of scalars,
// about a quarter of a whole signature on the request thread.
//
// Everything secret goes through libsodium's constant-time code except k·a, computed here with a fixed
// sequence of operations whatever the values (16-bit limbs, no branches on data), then reduced mod L by
// libsodium. Each (r, R) is wiped as it is used: the same r in two signatures would reveal a.

import sodium from 'sodium-native';

export const COMMITMENT_BYTES = 64; // r (32 bytes, a reduced scalar) then R (32 bytes, r·B)

/** The secret scalar a of a libsodium secret key (seed ‖ public key): SHA-512(seed)[0..32], clamped. */
export function secretScalar(secretKey64: Buffer): Buffer {
  const h = sodium.sodium_malloc(64) as unknown as Buffer;
  sodium.crypto_hash_sha512(h, secretKey64.subarray(0, 32));
  const a = sodium.sodium_malloc(32) as unknown as Buffer;
  h.copy(a, 0, 0, 32);
  sodium.sodium_memzero(h);
  a[0] = a[0] & 248;
  a[31] = (a[31] & 127) | 64;
  return a;
}

// Scratch space, reused: signing is synchronous and single-threaded per isolate.
let hashInput = Buffer.alloc(64 + 16 * 1024);
const digest = Buffer.alloc(64);
const k = Buffer.alloc(32);
const kLimbs = new Float64Array(16);
const aLimbs = new Float64Array(16);
const columns = new Float64Array(32);
const product = Buffer.alloc(64);
const ka = Buffer.alloc(32);

/**
 * Writes the 64-byte signature of `message` into `signature`, consuming `commitment` (wiped after).
 * `scalar` is secretScalar(sk), `publicKey` the 32-byte A.
 */
export function signWithCommitment(signature: Buffer, message: Buffer | string, publicKey: Buffer, scalar: Buffer, commitment: Buffer): void {
  const r = commitment.subarray(0, 32);
  const R = commitment.subarray(32, 64);
  // k = H(R ‖ A ‖ M) mod L, hashed in one call over a reused buffer (a string is encoded straight into it).
  const length = typeof message === 'string' ? Buffer.byteLength(message) : message.length;
  const need = 64 + length;
  if (hashInput.length < need) hashInput = Buffer.alloc(need);
  const input = hashInput;
  R.copy(input, 0);
  publicKey.copy(input, 32);
  if (typeof message === 'string') input.write(message, 64, 'utf8');
  else message.copy(input, 64);
  sodium.crypto_hash_sha512(digest, input.subarray(0, need));
  sodium.crypto_core_ed25519_scalar_reduce(k, digest);
  multiply(ka, k, scalar);
  R.copy(signature, 0);
  sodium.crypto_core_ed25519_scalar_add(signature.subarray(32, 64), r, ka);
  sodium.sodium_memzero(commitment);
  aLimbs.fill(0);
  columns.fill(0);
  product.fill(0);
  ka.fill(0);
}

/** out = x·y mod L for two 32-byte little-endian numbers: schoolbook product, libsodium's reduction. */
function multiply(out: Buffer, x: Buffer, y: Buffer): void {
  for (let i = 0; i < 16; i++) {
    kLimbs[i] = x[2 * i] | (x[2 * i + 1] << 8);
    aLimbs[i] = y[2 * i] | (y[2 * i + 1] << 8);
  }
  columns.fill(0);
  // Each product is below 2^32 and a column sums at most 16 of them: exact in a double (2^53).
  for (let i = 0; i < 16; i++) {
    const xi = kLimbs[i];
    for (let j = 0; j < 16; j++) columns[i + j] = columns[i + j] + xi * aLimbs[j];
  }
  let carry = 0;
  for (let i = 0; i < 32; i++) {
    const v = columns[i] + carry;
    const low = v % 65536;
    carry = (v - low) / 65536;
    product[2 * i] = low & 0xff;
    product[2 * i + 1] = low >>> 8;
  }
  sodium.crypto_core_ed25519_scalar_reduce(out, product);
}
