import crypto from 'node:crypto';
import assert from 'node:assert/strict';
import type { Kernel } from '../../kernel/context.js';
import { newId } from '../../kernel/crypto/tokens.js';
import type { TestApp } from '../../kernel/testing/app.js';
import { TestBrowser } from '../../kernel/testing/http.js';
import { hashPassword } from '../accounts/passwords.js';
import type { ListId } from './newsletter.tables.js';

/** Test helpers for the newsletter's tests (not used by the app). */

/** Confirmed subscribers made straight in the database (1,000 double opt-ins through HTTP would only test the same path 1,000 times). */
export async function seedSubscribers(k: Kernel, n: number, opts: { list?: ListId; domain?: string; prefix?: string } = {}): Promise<string[]> {
  const now = k.clock.now();
  const emails: string[] = [];
  const rows = Array.from({ length: n }, (_, i) => {
    const email = `${opts.prefix ?? 'reader'}${i}@${opts.domain ?? 'readers.example'}`;
    emails.push(email);
    return { id: newId(), email, name: null, customer_id: null, created_at: now, updated_at: now, soft_bounces: 0, last_bounce_at: null };
  });
  for (let i = 0; i < rows.length; i += 400) {
    const chunk = rows.slice(i, i + 400);
    await k.db.insertInto('newsletter_subscribers').values(chunk).execute();
    await k.db.insertInto('newsletter_subscriptions').values(chunk.map((r) => ({
      subscriber_id: r.id, list_id: opts.list ?? 'newsletter', status: 'subscribed' as const, confirm_token_hash: null, confirm_expires_at: null,
      created_at: now, updated_at: now, confirmed_at: now, unsubscribed_at: null,
    }))).execute();
  }
  return emails;
}

export async function staffBrowser(t: TestApp, role: 'owner' | 'admin' | 'support' | 'sales' = 'owner', email = `${role}-${newId().slice(0, 6)}@vendor.example`): Promise<TestBrowser> {
  await t.modules.accounts.staff.createStaff({ email, name: `Staff ${role}`, role, password: 'staff password 123' }, null);
  const b = new TestBrowser(t.app);
  await b.get('/admin/login');
  const res = await b.post('/admin/login', { email, password: 'staff password 123' });
  assert.equal(res.statusCode, 303, 'staff signed in');
  return b;
}

export async function customerBrowser(t: TestApp, email: string): Promise<{ b: TestBrowser; id: string }> {
  const now = t.clock.now();
  const id = newId();
  await t.k.db.insertInto('customers').values({
    id, email, name: 'Cora Customer', company: null, phone: null, address_line1: null, address_line2: null, city: null, region: null, postcode: null,
    country: null, vat_number: null, password_hash: await hashPassword('customer password 1'), email_verified_at: now, created_at: now, updated_at: now,
    last_login_at: null, closed_at: null,
  }).execute();
  const b = new TestBrowser(t.app);
  await b.get('/account/login');
  const res = await b.post('/account/login', { email, password: 'customer password 1' });
  assert.equal(res.statusCode, 303, 'customer signed in');
  return { b, id };
}

/** Runs jobs until the outbox has nothing left to deliver, moving the clock so rate-limited batches come due. */
export async function drainAll(k: Kernel, clock: { advance(ms: number): void }, stepMs = 60_000, maxRounds = 200): Promise<void> {
  for (let i = 0; i < maxRounds; i++) {
    await k.jobs.drain(1000);
    const due = await k.db.selectFrom('jobs').select('id').where('status', 'in', ['queued', 'running']).where('name', '!=', 'newsletter.retention').executeTakeFirst();
    if (!due) return;
    clock.advance(stepMs);
  }
  throw new Error('jobs did not finish');
}

// ---- DKIM (RFC 6376, relaxed/relaxed), enough to check what we sign ----

export function verifyDkim(raw: string, publicKey: crypto.KeyObject): { ok: boolean; signed: string[]; problem?: string } {
  const sep = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, sep);
  const body = raw.slice(sep + 4);
  const fields: string[] = [];
  for (const line of head.split('\r\n')) {
    if (/^[ \t]/.test(line) && fields.length) fields[fields.length - 1] += `\r\n${line}`;
    else fields.push(line);
  }
  const name = (f: string) => f.slice(0, f.indexOf(':')).trim().toLowerCase();
  const relaxed = (f: string) => `${name(f)}:${f.slice(f.indexOf(':') + 1).replace(/\r\n/g, '').replace(/[ \t]+/g, ' ').trim()}`;
  const sig = fields.find((f) => name(f) === 'dkim-signature');
  if (!sig) return { ok: false, signed: [], problem: 'no DKIM-Signature' };
  const tags = Object.fromEntries(sig.slice(sig.indexOf(':') + 1).replace(/\s+/g, '').split(';').filter(Boolean).map((t) => [t.slice(0, t.indexOf('=')), t.slice(t.indexOf('=') + 1)]));
  const lines = body.split('\r\n').map((l) => l.replace(/[ \t]+/g, ' ').replace(/ +$/, ''));
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  const bh = crypto.createHash('sha256').update(lines.length ? `${lines.join('\r\n')}\r\n` : '').digest('base64');
  if (bh !== tags.bh) return { ok: false, signed: [], problem: 'body hash differs' };
  const signed = String(tags.h).split(':').map((h) => h.trim().toLowerCase());
  const used = new Set<number>();
  let data = '';
  for (const h of signed) {
    for (let i = fields.length - 1; i >= 0; i--) {
      if (!used.has(i) && name(fields[i]!) === h) { used.add(i); data += `${relaxed(fields[i]!)}\r\n`; break; }
    }
  }
  data += relaxed(sig).replace(/([;:]\s?b=)[^;]*/, '$1');
  const ok = crypto.verify('sha256', Buffer.from(data, 'latin1'), publicKey, Buffer.from(String(tags.b), 'base64'));
  return { ok, signed, ...(ok ? {} : { problem: 'signature does not verify' }) };
}
