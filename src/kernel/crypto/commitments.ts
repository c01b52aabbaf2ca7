// A stock of Ed25519 commitments (r, R) made on a worker thread, so that signing an answer on the
// request thread costs a hash and a multiply-add instead of a scalar multiplication
// (ed25519-commitment.ts). The thread works only to top the stock up: under a steady load it runs on
// the core the request thread leaves, and a burst draws on the stock. When the stock is empty (the
// first answers after start, a burst larger than it, or a thread that died) signing falls back to
// libsodium's whole signature on the request thread: an answer is never late or unsigned because of it.
// A thread that died is started again on the first top-up after `restartAfterMs`, not at once, so a
// thread that cannot start does not cost every answer an attempt.

import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import sodium from 'sodium-native';
import { COMMITMENT_BYTES } from './ed25519-commitment.js';

export class CommitmentPool {
  private worker: Worker | null = null;
  private failed = false;
  private failedAt = 0;
  private closed = false;
  private requested = false;
  /** Batches received, oldest first; `used` counts what the first one has given. */
  private readonly batches: Buffer[] = [];
  private used = 0;
  private stock = 0;

  constructor(
    /** Commitments asked of the thread at a time. */
    private readonly batchSize = 1024,
    /** Ask for another batch once the stock falls below this. */
    private readonly lowWater = 2048,
    /** How long after its thread died the pool tries another. */
    private readonly restartAfterMs = 30_000,
  ) {}

  /** Commitments ready to use now. */
  get available(): number {
    return this.stock;
  }

  get alive(): boolean {
    return !this.failed;
  }

  /** Starts the thread and the first batches (taking from an empty pool does too). */
  warm(): void {
    this.topUp();
  }

  /**
   * The next unused 64-byte commitment, or null when none is ready (the caller signs without one).
   * The caller wipes it once used; it is never handed out twice.
   */
  take(): Buffer | null {
    if (this.stock <= this.lowWater) this.topUp();
    const first = this.batches[0];
    if (!first) return null;
    const c = first.subarray(this.used * COMMITMENT_BYTES, (this.used + 1) * COMMITMENT_BYTES);
    this.stock--;
    if (++this.used * COMMITMENT_BYTES === first.length) {
      this.batches.shift();
      this.used = 0;
    }
    return c;
  }

  /** Stops the thread and wipes the unused stock. */
  async close(): Promise<void> {
    const w = this.worker;
    this.closed = true;
    this.failed = true;
    this.worker = null;
    this.discard();
    if (w) await w.terminate();
  }

  private topUp(): void {
    if (this.requested || this.closed) return;
    if (this.failed) {
      if (performance.now() - this.failedAt < this.restartAfterMs) return;
      this.failed = false;
    }
    this.requested = true;
    try {
      this.start().postMessage({ type: 'make', count: this.batchSize });
    } catch {
      // A thread that cannot start (resources, a missing file) must not fail the answer asking for it.
      this.markFailed();
    }
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(fileURLToPath(new URL('./commitments.worker.cjs', import.meta.url)), {
      workerData: { sodium: createRequire(import.meta.url).resolve('sodium-native') },
      // Keep the parent's loaders (tsx) out: the worker is plain CommonJS.
      execArgv: [],
    });
    // An idle pool must not keep the process alive.
    w.unref();
    w.on('message', (m: { type: 'made'; commitments: Uint8Array }) => this.receive(m.commitments));
    w.on('error', () => this.fail(w));
    w.on('exit', () => this.fail(w));
    this.worker = w;
    return w;
  }

  private receive(made: Uint8Array): void {
    this.requested = false;
    if (this.closed) {
      sodium.sodium_memzero(Buffer.from(made.buffer, made.byteOffset, made.byteLength));
      return;
    }
    this.batches.push(Buffer.from(made.buffer, made.byteOffset, made.byteLength));
    this.stock += made.byteLength / COMMITMENT_BYTES;
    if (this.stock <= this.lowWater) this.topUp();
  }

  private fail(w: Worker): void {
    // 'error' and 'exit' both come, and a thread started since must not be forgotten.
    if (this.worker === w) this.markFailed();
  }

  /** No thread until restartAfterMs has passed; take() meanwhile serves the stock, then null. */
  private markFailed(): void {
    this.failed = true;
    this.failedAt = performance.now();
    this.worker = null;
    this.requested = false;
  }

  private discard(): void {
    for (const b of this.batches) sodium.sodium_memzero(b);
    this.batches.length = 0;
    this.used = 0;
    this.stock = 0;
  }
}
