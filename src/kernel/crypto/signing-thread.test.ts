// The signing thread: batches of answers signed on a worker thread, each signature over its own body,
// across a key rotation, and a fallback to the calling thread when the worker is gone.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testKernel, type TestKernel } from '../testing/db.js';
import { migrateToLatest } from '../db/migrate.js';
import { allMigrations } from '../../migrations.js';
import { SigningThread } from './signing-thread.js';
import { ensureSigningKey, listPublicKeys, loadActiveSigner, rotateSigningKey, verifyEd25519 } from './signing.js';

let t: TestKernel;
before(async () => {
  t = await testKernel();
  await migrateToLatest(t.k.db, allMigrations);
  await ensureSigningKey(t.k.db, t.k.secrets);
});
after(async () => { await t.close(); });

async function publicKey(kid: string): Promise<string> {
  const key = (await listPublicKeys(t.k.db)).find((k) => k.kid === kid);
  assert.ok(key, `no published key ${kid}`);
  return key.publicKey;
}

describe('signing thread', () => {
  test('a thousand answers signed at once each get the signature of their own body', async () => {
    const thread = new SigningThread();
    try {
      const signer = await loadActiveSigner(t.k.db, t.k.secrets, thread);
      const bodies = Array.from({ length: 1_000 }, (_, i) => JSON.stringify({ n: i, pad: 'x'.repeat(i % 97) }));
      const signatures = await Promise.all(bodies.map((b) => signer.signAsync(b)));
      const pk = await publicKey(signer.kid);
      assert.ok(thread.alive, 'the thread signed them (it did not fail over to this thread)');
      bodies.forEach((b, i) => assert.ok(verifyEd25519(pk, b, signatures[i]!), `signature ${i} verifies over body ${i}`));
      // A signature of one body must not pass for its neighbour's (a batch answered out of order would).
      assert.equal(verifyEd25519(pk, bodies[1]!, signatures[0]!), false);
      // Ed25519 is deterministic: the thread and this thread agree byte for byte.
      assert.equal(signatures[7], signer.sign(bodies[7]!));
    } finally {
      await thread.close();
    }
  });

  test('answers signed in the same turn by the old and the new key after a rotation each verify with their own key', async () => {
    const thread = new SigningThread();
    try {
      const before = await loadActiveSigner(t.k.db, t.k.secrets, thread);
      await rotateSigningKey(t.k.db, t.k.secrets);
      const afterRotation = await loadActiveSigner(t.k.db, t.k.secrets, thread);
      assert.notEqual(before.kid, afterRotation.kid);
      const [a, b, c] = await Promise.all([before.signAsync('one'), afterRotation.signAsync('two'), before.signAsync('three')]);
      assert.ok(verifyEd25519(await publicKey(before.kid), 'one', a));
      assert.ok(verifyEd25519(await publicKey(afterRotation.kid), 'two', b));
      assert.ok(verifyEd25519(await publicKey(before.kid), 'three', c));
      assert.equal(verifyEd25519(await publicKey(afterRotation.kid), 'one', a), false);
    } finally {
      await thread.close();
    }
  });

  test('when the thread dies mid-batch, the answers are still signed, on the calling thread', async () => {
    const thread = new SigningThread();
    const signer = await loadActiveSigner(t.k.db, t.k.secrets, thread);
    const pk = await publicKey(signer.kid);
    await signer.signAsync('warm'); // the worker is running
    const inFlight = Array.from({ length: 50 }, (_, i) => signer.signAsync(`body ${i}`));
    // Kill the worker behind the thread's back, as a crash would.
    await (thread as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    const signatures = await Promise.all(inFlight);
    signatures.forEach((s, i) => assert.ok(verifyEd25519(pk, `body ${i}`, s), `fallback signature ${i}`));
    assert.equal(thread.alive, false);
    await assert.rejects(thread.sign(signer.kid, Buffer.from('x')), /signing thread/);
    assert.ok(verifyEd25519(pk, 'later', await signer.signAsync('later')), 'later answers are signed here');
    await thread.close();
  });

  test('a key the thread was never given is refused, not signed with another', async () => {
    const thread = new SigningThread();
    try {
      await loadActiveSigner(t.k.db, t.k.secrets, thread);
      await assert.rejects(thread.sign('k-unknown', Buffer.from('body')), /no key k-unknown/);
    } finally {
      await thread.close();
    }
  });
});
