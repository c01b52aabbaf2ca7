// The commitment thread (commitments.ts): makes Ed25519 commitments (r, R = r·B) in batches, the
// costly half of a signature, ahead of the answers they will sign (ed25519-commitment.ts).
// Plain CommonJS so that Node loads it directly in any setting.
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const sodium = require(workerData.sodium);
require('../background-thread.cjs').yieldToRequests();

const BYTES = 64; // r then R

parentPort.on('message', (m) => {
  if (m.type !== 'make') return;
  const out = Buffer.from(new ArrayBuffer(BYTES * m.count));
  for (let i = 0; i < m.count; i++) {
    const r = out.subarray(i * BYTES, i * BYTES + 32);
    const R = out.subarray(i * BYTES + 32, (i + 1) * BYTES);
    for (;;) {
      sodium.crypto_core_ed25519_scalar_random(r);
      try {
        sodium.crypto_scalarmult_ed25519_base_noclamp(R, r);
        break;
      } catch {
        // r = 0 (probability 2^-252) has no valid R: draw again.
      }
    }
  }
  parentPort.postMessage({ type: 'made', commitments: out }, [out.buffer]);
});
