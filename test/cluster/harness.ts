// Real `bin/keyward serve` processes on loopback, for the multi-node and crash tests, and a small
// fetch-based browser (cookie jar + CSRF) that can talk to any of them.

import { spawn, execFile, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { TEST_PG_URL } from '../../src/kernel/testing/db.js';

export const BIN = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../bin/keyward');
export const run = promisify(execFile);

/** Whether PostgreSQL answers; with KEYWARD_REQUIRE_PG=1 (CI) an unreachable server is a failure, not a skip. */
export async function postgresOrSkip(): Promise<string | null> {
  const c = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.end();
    return null;
  } catch (err) {
    const reason = `PostgreSQL unreachable at ${TEST_PG_URL} (${(err as Error).message}); set KEYWARD_TEST_PG_URL`;
    if (process.env.KEYWARD_REQUIRE_PG === '1') throw new Error(`${reason}, and KEYWARD_REQUIRE_PG=1`);
    console.log(`# skipped: ${reason}`);
    return reason;
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export class Node {
  child: ChildProcess | null = null;
  port = 0;
  output = '';
  pid = 0;
  /** Every pid this node has had (a restart is a new process). */
  readonly pids: number[] = [];
  constructor(readonly name: string, readonly env: NodeJS.ProcessEnv, readonly args: string[] = ['serve']) {}

  get url(): string { return `http://127.0.0.1:${this.port}`; }

  /** Starts the process and waits until it says it is running. */
  async start(timeoutMs = 120_000): Promise<this> {
    if (!this.port) this.port = await freePort();
    this.output = '';
    const child = spawn(BIN, this.args, { env: { ...this.env, PORT: String(this.port) }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.pid = child.pid!;
    this.pids.push(this.pid);
    child.stdout!.on('data', (d) => { this.output += d; });
    child.stderr!.on('data', (d) => { this.output += d; });
    const deadline = Date.now() + timeoutMs;
    while (!this.output.includes('Keyward is running at')) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${this.name} exited before it was ready:\n${this.output}`);
      if (Date.now() > deadline) { await this.kill(); throw new Error(`${this.name} was not ready in ${timeoutMs} ms:\n${this.output}`); }
      await sleep(50);
    }
    return this;
  }

  /** SIGKILL: no shutdown hooks, no flush, like a power cut for the process. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill(signal);
    await exited;
  }

  async stop(): Promise<void> { await this.kill('SIGTERM'); }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A shared master key, so every node opens the same sealed secrets and checks the same signed tokens. */
export function nodeEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', NODE_ENV: 'production', KEYWARD_SECRET_KEY: crypto.randomBytes(32).toString('hex'), ...extra };
  delete env.KEYWARD_TEST_DB;
  delete env.NODE_TEST_CONTEXT;
  return env;
}

export function tempDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `keyward-${label}-`));
}

export interface Res { status: number; body: string; location: string | null; headers: Headers }

/** A browser over real HTTP: cookies for 127.0.0.1 (so shared by every node, like behind a load balancer). */
export class HttpBrowser {
  cookies = new Map<string, string>();
  lastHtml = '';
  constructor(public base: string) {}

  private absorb(res: Response) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (value === '' || attrs.some((a) => /^max-age=0$/i.test(a))) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  csrf(): string {
    const m = /name="_csrf" value="([^"]+)"/.exec(this.lastHtml);
    if (!m) throw new Error(`no CSRF token on the last page:\n${this.lastHtml.slice(0, 500)}`);
    return m[1]!;
  }

  async get(p: string): Promise<Res> { return this.send('GET', p); }

  async post(p: string, form: Record<string, string>): Promise<Res> {
    return this.send('POST', p, new URLSearchParams({ _csrf: this.csrf(), ...form }).toString());
  }

  private async send(method: string, p: string, body?: string): Promise<Res> {
    const res = await fetch(this.base + p, {
      method, redirect: 'manual', body,
      headers: {
        accept: 'text/html', cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(body ? { 'content-type': 'application/x-www-form-urlencoded', origin: this.base } : {}),
      },
    });
    this.absorb(res);
    const text = await res.text();
    if (String(res.headers.get('content-type')).startsWith('text/html')) this.lastHtml = text;
    return { status: res.status, body: text, location: res.headers.get('location'), headers: res.headers };
  }
}

/** A well-formed call-home body. */
export function callBody(licence: string, computerId = crypto.randomBytes(32).toString('hex')) {
  return { licence, product: 'mailserver', version: '8.5.0', computerId, usersInUse: 1, nonce: crypto.randomBytes(18).toString('base64url') };
}

export async function callhome(base: string, body: object): Promise<{ status: number; json: any; raw: Buffer; signature: string | null }> {
  const res = await fetch(`${base}/api/v1/callhome`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const raw = Buffer.from(await res.arrayBuffer());
  let json: unknown = null;
  try { json = JSON.parse(raw.toString()); } catch { /* not JSON */ }
  return { status: res.status, json, raw, signature: /signature="([^"]+)"/.exec(res.headers.get('keyward-signature') ?? '')?.[1] ?? null };
}
