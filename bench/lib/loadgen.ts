import net from 'node:net';

/**
 * A small HTTP/1.1 load generator on raw keep-alive sockets. Requests are prebuilt byte buffers, and
 * answers are parsed only as far as Content-Length, so one core drives tens of thousands of requests a
 * second and the server, not the generator, is what gets measured.
 *
 * - closed loop: C connections, each sends its next request when the previous answer arrives (maximum
 *   throughput).
 * - open loop: requests are *scheduled* at a fixed rate whatever the server does; latency is measured
 *   from the scheduled time, so queueing shows up instead of being hidden (no coordinated omission).
 *   Each connection carries one unmeasured request before the schedule starts.
 */
export interface LoadResult {
  requests: number;
  errors: number;
  statuses: Record<string, number>;
  seconds: number;
  rps: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
}

class Conn {
  private buf: Buffer = Buffer.alloc(0);
  private expect: { headerEnd: number; length: number } | null = null;
  busy = false;
  onDone: ((status: number) => void) | null = null;
  readonly socket: net.Socket;

  constructor(port: number, host: string, onError: () => void) {
    this.socket = net.connect({ port, host, noDelay: true });
    this.socket.on('data', (d) => this.onData(d));
    this.socket.on('error', onError);
  }

  send(req: Buffer, done: (status: number) => void): void {
    this.busy = true;
    this.onDone = done;
    this.socket.write(req);
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    for (;;) {
      if (!this.expect) {
        const end = this.buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = this.buf.subarray(0, end).toString('latin1');
        const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        this.expect = { headerEnd: end + 4, length: m ? Number(m[1]) : 0 };
      }
      const total = this.expect.headerEnd + this.expect.length;
      if (this.buf.length < total) return;
      const status = Number(this.buf.subarray(9, 12).toString('latin1'));
      this.buf = this.buf.subarray(total);
      this.expect = null;
      this.busy = false;
      const done = this.onDone;
      this.onDone = null;
      done?.(status);
    }
  }

  close(): void { this.socket.destroy(); }
}

function summarise(lat: number[], statuses: Record<string, number>, errors: number, seconds: number): LoadResult {
  lat.sort((a, b) => a - b);
  const q = (p: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]! : 0);
  const requests = lat.length;
  return {
    requests, errors, statuses, seconds, rps: requests / seconds,
    latencyMs: { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: lat.length ? lat[lat.length - 1]! : 0 },
  };
}

export async function closedLoop(opts: { port: number; host?: string; connections: number; seconds: number; requests: Buffer[] }): Promise<LoadResult> {
  const lat: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let i = 0;
  const start = performance.now();
  const endAt = start + opts.seconds * 1000;
  const conns = Array.from({ length: opts.connections }, () => new Conn(opts.port, opts.host ?? '127.0.0.1', () => { errors++; }));
  await new Promise<void>((resolve) => {
    let live = conns.length;
    const next = (c: Conn) => {
      if (performance.now() >= endAt) { if (--live === 0) resolve(); return; }
      const t0 = performance.now();
      c.send(opts.requests[i++ % opts.requests.length]!, (status) => {
        lat.push(performance.now() - t0);
        statuses[status] = (statuses[status] ?? 0) + 1;
        next(c);
      });
    };
    conns.forEach((c) => c.socket.once('connect', () => next(c)));
  });
  const seconds = (performance.now() - start) / 1000;
  conns.forEach((c) => c.close());
  return summarise(lat, statuses, errors, seconds);
}

export async function openLoop(opts: { port: number; host?: string; connections: number; seconds: number; rate: number; requests: Buffer[] }): Promise<LoadResult> {
  const lat: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let i = 0;
  const conns = Array.from({ length: opts.connections }, () => new Conn(opts.port, opts.host ?? '127.0.0.1', () => { errors++; }));
  await Promise.all(conns.map((c) => new Promise((r) => c.socket.once('connect', r))));
  // One unmeasured request per connection first: the schedule then measures the server, not the
  // set-up of hundreds of sockets at once (installations keep their connections warm the same way).
  await Promise.all(conns.map((c) => new Promise((r) => c.send(opts.requests[i++ % opts.requests.length]!, r))));
  const queue: number[] = []; // scheduled times waiting for a free connection
  const start = performance.now();
  const total = Math.floor(opts.rate * opts.seconds);
  let scheduled = 0;
  let completed = 0;
  await new Promise<void>((resolve) => {
    const dispatch = () => {
      for (const c of conns) {
        if (!queue.length) return;
        if (c.busy) continue;
        const t0 = queue.shift()!;
        c.send(opts.requests[i++ % opts.requests.length]!, (status) => {
          lat.push(performance.now() - t0);
          statuses[status] = (statuses[status] ?? 0) + 1;
          if (++completed === total) resolve();
          else dispatch();
        });
      }
    };
    const tick = () => {
      const now = performance.now();
      // Schedule every request whose time has come, each stamped with its own scheduled time.
      while (scheduled < total && start + (scheduled * 1000) / opts.rate <= now) {
        queue.push(start + (scheduled * 1000) / opts.rate);
        scheduled++;
      }
      dispatch();
      if (scheduled < total) setTimeout(tick, 1);
    };
    tick();
  });
  const seconds = (performance.now() - start) / 1000;
  conns.forEach((c) => c.close());
  return summarise(lat, statuses, errors, seconds);
}

export function postRequest(path: string, host: string, body: string): Buffer {
  const b = Buffer.from(body);
  return Buffer.concat([
    Buffer.from(`POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: ${b.length}\r\nConnection: keep-alive\r\n\r\n`),
    b,
  ]);
}
