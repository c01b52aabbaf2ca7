import crypto from 'node:crypto';
import sodium from 'sodium-native';
import type { Db } from '../db/database.js';
import type { Secrets } from './secrets.js';
import type { CommitmentPool } from './commitments.js';
import { secretScalar, signWithCommitment } from './ed25519-commitment.js';

/**
 * Ed25519 signing keys for answers that installed programs verify offline. Signing uses libsodium
 * (sodium-native): it is about twice as fast as node:crypto here, and signing is the largest fixed cost
 * of a call-home answer (README, "Benchmark"). With a commitment pool, the costly half of each signature
 * is made ahead on another thread (ed25519-commitment.ts). Private keys are stored sealed with the
 * master secret.
 */
export interface PublicKeyInfo {
  kid: string;
  algorithm: 'ed25519';
  publicKey: string;
  status: 'active' | 'retired';
  createdAt: string;
}

export interface Signer {
  readonly kid: string;
  /** Base64 signature over exactly these bytes (a string is signed as its UTF-8 bytes). */
  sign(body: Buffer | string): string;
}

const SEAL_PURPOSE = 'signing-key';

class SodiumSigner implements Signer {
  private readonly sk: Buffer;
  private readonly scalar: Buffer;
  private readonly publicKey: Buffer;
  private readonly signature = Buffer.alloc(sodium.crypto_sign_BYTES);

  constructor(readonly kid: string, secretKey64: Buffer, private readonly pool: CommitmentPool | null) {
    this.sk = sodium.sodium_malloc(sodium.crypto_sign_SECRETKEYBYTES) as unknown as Buffer;
    secretKey64.copy(this.sk);
    this.scalar = secretScalar(this.sk);
    this.publicKey = Buffer.from(this.sk.subarray(32, 64));
  }

  sign(body: Buffer | string): string {
    const commitment = this.pool?.take() ?? null;
    if (commitment) {
      signWithCommitment(this.signature, body, this.publicKey, this.scalar, commitment);
    } else {
      sodium.crypto_sign_detached(this.signature, typeof body === 'string' ? Buffer.from(body) : body, this.sk);
    }
    return this.signature.toString('base64');
  }
}

function newKeyPair(): { publicKey: Buffer; secretKey: Buffer } {
  const publicKey = Buffer.alloc(sodium.crypto_sign_PUBLICKEYBYTES);
  const secretKey = Buffer.alloc(sodium.crypto_sign_SECRETKEYBYTES);
  sodium.crypto_sign_keypair(publicKey, secretKey);
  return { publicKey, secretKey };
}

function kidFor(publicKey: Buffer): string {
  // A short, stable name derived from the key itself, so two nodes never disagree on it.
  return 'k' + crypto.createHash('sha256').update(publicKey).digest('base64url').slice(0, 16);
}

export async function listPublicKeys(db: Db): Promise<PublicKeyInfo[]> {
  const rows = await db.selectFrom('signing_keys').select(['kid', 'algorithm', 'public_key', 'status', 'created_at'])
    .orderBy('created_at', 'asc').execute();
  return rows.map((r) => ({ kid: r.kid, algorithm: r.algorithm, publicKey: r.public_key, status: r.status, createdAt: new Date(r.created_at).toISOString() }));
}

/** Makes the first key when there is none (first start). Safe to call from several nodes at once. */
export async function ensureSigningKey(db: Db, secrets: Secrets, now = Date.now()): Promise<void> {
  const existing = await db.selectFrom('signing_keys').select('kid').where('status', '=', 'active').executeTakeFirst();
  if (existing) return;
  await insertKey(db, secrets, now);
}

async function insertKey(db: Db, secrets: Secrets, now: number): Promise<string> {
  const { publicKey, secretKey } = newKeyPair();
  const kid = kidFor(publicKey);
  await db.insertInto('signing_keys').values({
    kid, algorithm: 'ed25519', public_key: publicKey.toString('base64'),
    private_key_sealed: secrets.seal(SEAL_PURPOSE, secretKey), status: 'active', created_at: now, retired_at: null,
  }).execute();
  return kid;
}

/** Adds a new active key and keeps the old ones listed as retired, so clients that pinned them still verify old files. */
export async function rotateSigningKey(db: Db, secrets: Secrets, now = Date.now()): Promise<string> {
  return db.transaction().execute(async (trx) => {
    // The active key must open with this master key: rotating under another one would seal the new key
    // with it, and no server holding the right key could then load its active key.
    const active = await trx.selectFrom('signing_keys').select('private_key_sealed').where('status', '=', 'active').execute();
    for (const row of active) secrets.open(SEAL_PURPOSE, row.private_key_sealed);
    await trx.updateTable('signing_keys').set({ status: 'retired', retired_at: now }).where('status', '=', 'active').execute();
    return insertKey(trx as unknown as Db, secrets, now);
  });
}

export async function loadActiveSigner(db: Db, secrets: Secrets, pool: CommitmentPool | null = null): Promise<Signer> {
  const row = await db.selectFrom('signing_keys').selectAll().where('status', '=', 'active')
    .orderBy('created_at', 'desc').executeTakeFirst();
  if (!row) throw new Error('no active signing key; run ensureSigningKey first');
  return new SodiumSigner(row.kid, secrets.open(SEAL_PURPOSE, row.private_key_sealed), pool);
}

/** Verification with node:crypto (used by tests and the admin; clients use the SDK). */
export function verifyEd25519(publicKeyB64: string, body: Buffer | string, signatureB64: string): boolean {
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(publicKeyB64, 'base64')]);
  const key = crypto.createPublicKey({ key: spki, format: 'der', type: 'spki' });
  return crypto.verify(null, typeof body === 'string' ? Buffer.from(body) : body, key, Buffer.from(signatureB64, 'base64'));
}
