// Signatures made with commitments from the pool (ed25519-commitment.ts) are ordinary Ed25519: libsodium
// and node:crypto verify them (the SDK does in e2e-client.test.ts). Each commitment serves once and is
// wiped; an empty or dead pool falls back to libsodium's whole signature.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fc from 'fast-check';
import sodium from 'sodium-native';
import { CommitmentPool } from './commitments.js';
import { COMMITMENT_BYTES, secretScalar, signWithCommitment } from './ed25519-commitment.js';
import { ensureSigningKey, listPublicKeys, loadActiveSigner, rotateSigningKey, verifyEd25519 } from './signing.js';
import { testKernel } from '../testing/db.js';
import { migrateToLatest } from '../db/migrate.js';
import { allMigrations } from '../../migrations.js';

function keyPair() {
  const pk = Buffer.alloc(32);
  const sk = Buffer.alloc(64);
  sodium.crypto_sign_keypair(pk, sk);
  return { pk, sk, scalar: secretScalar(sk) };
}

function nodeVerify(pk: Buffer, message: Buffer, signature: Buffer): boolean {
  const key = crypto.createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pk]), format: 'der', type: 'spki' });
  return crypto.verify(null, message, key, signature);
}

async function stocked(pool: CommitmentPool, atLeast: number): Promise<void> {
  pool.warm();
  for (let i = 0; i < 500 && pool.available < atLeast; i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(pool.available >= atLeast, `the pool holds ${pool.available} commitments, expected ${atLeast}`);
}

const pools: CommitmentPool[] = [];
after(async () => { await Promise.all(pools.map((p) => p.close())); });
function newPool(batch = 256, low = 512, restartAfterMs?: number): CommitmentPool {
  const p = new CommitmentPool(batch, low, restartAfterMs);
  pools.push(p);
  return p;
}

describe('Ed25519 with commitments made ahead', () => {
  test('any message, as bytes or as a string, verifies with libsodium and node:crypto; a changed byte does not', async () => {
    const pool = newPool();
    await stocked(pool, 300);
    const { pk, scalar } = keyPair();
    fc.assert(fc.property(fc.uint8Array({ maxLength: 20_000 }), fc.boolean(), (bytes, asString) => {
      const message = Buffer.from(bytes);
      const text = message.toString('latin1');
      const signed = asString ? Buffer.from(text, 'utf8') : message;
      const commitment = pool.take();
      assert.ok(commitment, 'a commitment is in stock');
      const sig = Buffer.alloc(64);
      signWithCommitment(sig, asString ? text : message, pk, scalar, commitment);
      assert.ok(sodium.crypto_sign_verify_detached(sig, signed, pk), 'libsodium verifies');
      assert.ok(nodeVerify(pk, signed, sig), 'node:crypto verifies');
      if (signed.length > 0) {
        const tampered = Buffer.from(signed);
        tampered[tampered.length - 1] ^= 1;
        assert.equal(sodium.crypto_sign_verify_detached(sig, tampered, pk), false);
      }
    }), { numRuns: 200 });
  });

  test('a signature by one key does not verify under another', async () => {
    const pool = newPool();
    await stocked(pool, 1);
    const a = keyPair();
    const b = keyPair();
    const sig = Buffer.alloc(64);
    signWithCommitment(sig, 'body', a.pk, a.scalar, pool.take()!);
    assert.ok(sodium.crypto_sign_verify_detached(sig, Buffer.from('body'), a.pk));
    assert.equal(sodium.crypto_sign_verify_detached(sig, Buffer.from('body'), b.pk), false);
  });

  test('each commitment is handed out once and wiped after use: no two signatures share R', async () => {
    const pool = newPool(128, 256);
    const { pk, scalar } = keyPair();
    const seen = new Set<string>();
    let signed = 0;
    while (signed < 2_000) {
      await stocked(pool, 1);
      let c: Buffer | null;
      while ((c = pool.take()) !== null && signed < 2_000) {
        assert.equal(c.length, COMMITMENT_BYTES);
        assert.ok(c.some((x) => x !== 0), 'a fresh commitment is not blank');
        const sig = Buffer.alloc(64);
        signWithCommitment(sig, `answer ${signed}`, pk, scalar, c);
        assert.ok(c.every((x) => x === 0), 'the commitment (and so r) is wiped once used');
        const R = sig.subarray(0, 32).toString('hex');
        assert.equal(seen.has(R), false, `R of signature ${signed} was used before`);
        seen.add(R);
        signed++;
      }
    }
    assert.equal(seen.size, 2_000);
  });

  test('an empty pool gives nothing, and a closed one wipes its stock and gives nothing again', async () => {
    const pool = newPool(64, 64);
    await stocked(pool, 64);
    const held = pool.take()!;
    const stock: Buffer[] = [];
    let c: Buffer | null;
    while ((c = pool.take()) !== null) stock.push(c);
    assert.equal(pool.available, 0);
    assert.ok(stock.length >= 63);
    await stocked(pool, 1); // it tops itself up
    const unused = pool.take()!;
    await pool.close();
    assert.equal(pool.take(), null);
    assert.ok(unused.every((x) => x === 0), 'unused stock is wiped on close');
    assert.ok(held.some((x) => x !== 0), 'a commitment already handed out is the holder’s to wipe');
  });

  test('a pool whose thread died keeps serving its stock, then gives null (the signer then signs whole)', async () => {
    const pool = newPool(64, 64);
    await stocked(pool, 64);
    await (pool as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(pool.alive, false);
    let served = 0;
    while (pool.take() !== null) served++;
    assert.ok(served >= 64, `served ${served} from stock after the thread died`);
    assert.equal(pool.take(), null);
  });

  test('a thread that cannot start leaves take() answering null, not throwing, and is tried again later', async () => {
    const pool = newPool(64, 64, 100);
    const real = (pool as unknown as { start(): unknown }).start;
    (pool as unknown as { start(): unknown }).start = () => { throw new Error('no threads left'); };
    assert.equal(pool.take(), null);
    assert.equal(pool.alive, false);
    (pool as unknown as { start(): unknown }).start = real;
    assert.equal(pool.take(), null, 'not tried again within the delay');
    assert.equal(pool.available, 0);
    await new Promise((r) => setTimeout(r, 120));
    await stocked(pool, 64);
    assert.equal(pool.alive, true);
  });

  test('a thread that died is started again once its restart delay has passed, not before', async () => {
    const pool = newPool(64, 64, 300);
    await stocked(pool, 64);
    const first = (pool as unknown as { worker: { threadId: number; terminate(): Promise<number> } }).worker;
    await first.terminate();
    await new Promise((r) => setTimeout(r, 20));
    while (pool.take() !== null); // the stock it had
    assert.equal(pool.alive, false);
    assert.equal(pool.take(), null, 'within the delay no new thread is started');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(pool.available, 0, 'nor does one start by itself');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(pool.take(), null, 'the take that starts the new thread still signs whole');
    await stocked(pool, 64);
    assert.equal(pool.alive, true);
    const second = (pool as unknown as { worker: { threadId: number } }).worker;
    assert.notEqual(second.threadId, first.threadId);
    const seen = new Set<string>();
    let c: Buffer | null;
    while ((c = pool.take()) !== null) seen.add(c.toString('hex'));
    assert.ok(seen.size >= 64, 'the new thread’s commitments are all different');
  });
});

describe('the signer', () => {
  test('signs with the pool while it has stock and whole without it, across a rotation; every signature verifies with its key', async () => {
    const t = await testKernel();
    try {
      await migrateToLatest(t.k.db, allMigrations);
      await ensureSigningKey(t.k.db, t.k.secrets);
      const pool = newPool(64, 64);
      await stocked(pool, 64);
      const first = await loadActiveSigner(t.k.db, t.k.secrets, pool);
      await rotateSigningKey(t.k.db, t.k.secrets);
      const second = await loadActiveSigner(t.k.db, t.k.secrets, pool);
      const keys = new Map((await listPublicKeys(t.k.db)).map((k) => [k.kid, k.publicKey]));
      const before = pool.available;
      const bodies = Array.from({ length: before + 20 }, (_, i) => JSON.stringify({ n: i, pad: 'é'.repeat(i % 50) }));
      // More answers than the stock, in one turn: the last ones are signed whole (deterministic).
      const signed = bodies.map((b, i) => (i % 2 ? first : second).sign(b));
      bodies.forEach((b, i) => {
        const kid = (i % 2 ? first : second).kid;
        assert.ok(verifyEd25519(keys.get(kid)!, b, signed[i]!), `answer ${i} verifies with ${kid}`);
        assert.equal(verifyEd25519(keys.get(i % 2 ? second.kid : first.kid)!, b, signed[i]!), false, 'not with the other key');
      });
      const last = bodies.length - 1;
      assert.equal(signed[last], (last % 2 ? first : second).sign(bodies[last]!), 'without stock the signature is libsodium\'s deterministic one');
      assert.notEqual(signed[0], second.sign(bodies[0]!), 'with stock each signature takes a fresh r');
    } finally {
      await t.close();
    }
  });
});
