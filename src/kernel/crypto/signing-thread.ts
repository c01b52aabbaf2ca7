// Ed25519 signing on a worker thread, in batches. Signing is the largest fixed cost of a call-home
// answer (~20 µs of CPU, twice that under load). When the machine has a core that the serving
// processes leave free, the signatures are made there: every answer that is ready within one turn of
// the event loop goes over in one message and comes back as one buffer of signatures, so the request
// thread pays a copy instead of a signature. If the thread fails, signing falls back to the request
// thread (signing.ts): an answer is never left unsigned or unanswered because of it.

import os from 'node:os';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

const SIGNATURE_BYTES = 64;

interface Waiting {
  resolve(signature: Buffer): void;
  reject(err: Error): void;
}

type Reply = { type: 'signed'; id: number; signatures?: Uint8Array; error?: string };

export class SigningThread {
  private worker: Worker | null = null;
  private failed: Error | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Waiting[]>();
  /** The batch being gathered this turn of the event loop (one key per batch). */
  private batch: { kid: string; bodies: Buffer[]; waiting: Waiting[] } | null = null;
  private flushScheduled = false;

  /**
   * True when a signing thread has a core to run on: more cores than the processes that serve. With
   * one process per core, the thread would only take turns with a request thread and add a copy.
   */
  static worthwhile(processes: number): boolean {
    return os.availableParallelism() > processes;
  }

  get alive(): boolean {
    return this.failed === null;
  }

  /** Hands a key to the thread (a copy; the thread keeps it in guarded memory). */
  addKey(kid: string, secretKey: Buffer): void {
    if (this.failed) return;
    const copy = new Uint8Array(new ArrayBuffer(secretKey.length));
    copy.set(secretKey);
    this.start().postMessage({ type: 'key', kid, secretKey: copy }, [copy.buffer]);
  }

  /** The raw 64-byte signature of `body` by key `kid`; rejects if the thread has failed. */
  sign(kid: string, body: Buffer): Promise<Buffer> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.batch && this.batch.kid !== kid) this.flush();
    this.batch ??= { kid, bodies: [], waiting: [] };
    const batch = this.batch;
    const signed = new Promise<Buffer>((resolve, reject) => batch.waiting.push({ resolve, reject }));
    batch.bodies.push(body);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
    return signed;
  }

  /** Stops the thread; anything still waiting is rejected (and signed by the caller instead). */
  async close(): Promise<void> {
    this.flush();
    const w = this.worker;
    this.fail(new Error('the signing thread was closed'));
    if (w) await w.terminate();
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.batch;
    this.batch = null;
    if (!batch || batch.bodies.length === 0) return;
    if (this.failed) {
      for (const w of batch.waiting) w.reject(this.failed);
      return;
    }
    // One transferable buffer with the bodies end to end, and where each ends.
    let total = 0;
    const ends: number[] = [];
    for (const b of batch.bodies) ends.push((total += b.length));
    const data = Buffer.from(new ArrayBuffer(total));
    let at = 0;
    for (const b of batch.bodies) at += b.copy(data, at);
    const id = this.nextId++;
    this.pending.set(id, batch.waiting);
    this.start().postMessage({ type: 'sign', id, kid: batch.kid, data, ends }, [data.buffer as ArrayBuffer]);
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(fileURLToPath(new URL('./signing-thread.worker.cjs', import.meta.url)), {
      workerData: { sodium: createRequire(import.meta.url).resolve('sodium-native') },
      // Keep the parent's loaders (tsx) out: the worker is plain CommonJS.
      execArgv: [],
    });
    // Requests in flight keep the process alive; an idle signer must not.
    w.unref();
    w.on('message', (m: Reply) => this.onReply(m));
    w.on('error', (err) => this.fail(err));
    w.on('exit', (code) => this.fail(new Error(`the signing thread stopped (exit code ${code})`)));
    this.worker = w;
    return w;
  }

  private onReply(m: Reply): void {
    const waiting = this.pending.get(m.id);
    this.pending.delete(m.id);
    if (!waiting) return;
    if (m.error !== undefined || !m.signatures) {
      const err = new Error(m.error ?? 'the signing thread answered without signatures');
      for (const w of waiting) w.reject(err);
      return;
    }
    const all = Buffer.from(m.signatures.buffer, m.signatures.byteOffset, m.signatures.byteLength);
    waiting.forEach((w, i) => w.resolve(all.subarray(i * SIGNATURE_BYTES, (i + 1) * SIGNATURE_BYTES)));
  }

  private fail(err: Error): void {
    if (!this.failed) this.failed = err;
    this.worker = null;
    for (const waiting of this.pending.values()) for (const w of waiting) w.reject(err);
    this.pending.clear();
  }
}
