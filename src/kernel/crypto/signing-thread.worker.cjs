// The signing thread (signing-thread.ts): Ed25519 signatures for batches of answers, so that on a
// machine with a spare core the largest fixed cost of a call-home answer leaves the request thread.
// Plain CommonJS so that Node loads it directly in any setting.
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const sodium = require(workerData.sodium);

/** kid → secret key in guarded memory; the newest few are kept (a rotation signs with the new one). */
const keys = new Map();
const KEEP = 4;

parentPort.on('message', (m) => {
  if (m.type === 'key') {
    const sk = sodium.sodium_malloc(sodium.crypto_sign_SECRETKEYBYTES);
    Buffer.from(m.secretKey.buffer, m.secretKey.byteOffset, m.secretKey.byteLength).copy(sk);
    sodium.sodium_memzero(Buffer.from(m.secretKey.buffer, m.secretKey.byteOffset, m.secretKey.byteLength));
    keys.delete(m.kid);
    keys.set(m.kid, sk);
    if (keys.size > KEEP) keys.delete(keys.keys().next().value);
    return;
  }
  if (m.type === 'sign') {
    const sk = keys.get(m.kid);
    if (!sk) {
      parentPort.postMessage({ type: 'signed', id: m.id, error: `no key ${m.kid} in the signing thread` });
      return;
    }
    const data = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength);
    const n = m.ends.length;
    const out = Buffer.from(new ArrayBuffer(sodium.crypto_sign_BYTES * n));
    let start = 0;
    for (let i = 0; i < n; i++) {
      const end = m.ends[i];
      sodium.crypto_sign_detached(out.subarray(i * sodium.crypto_sign_BYTES, (i + 1) * sodium.crypto_sign_BYTES), data.subarray(start, end), sk);
      start = end;
    }
    parentPort.postMessage({ type: 'signed', id: m.id, signatures: out }, [out.buffer]);
  }
});
