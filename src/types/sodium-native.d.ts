// The few libsodium calls Keyward uses; sodium-native ships no type declarations.
declare module 'sodium-native' {
  const sodium: {
    crypto_sign_BYTES: number;
    crypto_sign_PUBLICKEYBYTES: number;
    crypto_sign_SECRETKEYBYTES: number;
    crypto_sign_keypair(pk: Buffer, sk: Buffer): void;
    crypto_sign_detached(sig: Buffer, msg: Buffer, sk: Buffer): void;
    crypto_sign_verify_detached(sig: Buffer, msg: Buffer, pk: Buffer): boolean;
    sodium_malloc(size: number): Buffer;
    sodium_memzero(buf: Uint8Array): void;
    crypto_hash_sha512(out: Buffer, input: Buffer): void;
    /** out (32 bytes) = input (64 bytes, little-endian) mod L. */
    crypto_core_ed25519_scalar_reduce(out: Buffer, input: Buffer): void;
    crypto_core_ed25519_scalar_add(out: Buffer, x: Buffer, y: Buffer): void;
    crypto_hash_sha256_BYTES: number;
    crypto_hash_sha256_STATEBYTES: number;
    crypto_hash_sha256(out: Buffer, input: Buffer): void;
    crypto_hash_sha256_init(state: Buffer): void;
    crypto_hash_sha256_update(state: Buffer, input: Buffer): void;
    crypto_hash_sha256_final(state: Buffer, out: Buffer): void;
  };
  export default sodium;
}
