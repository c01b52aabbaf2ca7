import nodemailer, { type SendMailOptions } from 'nodemailer';
import type { LightMyRequestResponse } from 'fastify';
import type { TestApp } from '../../kernel/testing/app.js';
import { TestBrowser } from '../../kernel/testing/http.js';
import { newId } from '../../kernel/crypto/tokens.js';
import { hashPassword } from '../accounts/passwords.js';

/** Factories and helpers for the helpdesk's tests (not loaded by the app). */
export const PASSWORD = 'correct horse battery';

export async function buildCustomer(t: TestApp, email: string, name = 'Ada Lovelace'): Promise<string> {
  const id = newId();
  const now = t.clock.now();
  await t.k.db.insertInto('customers').values({
    id, email, name, company: null, phone: null, address_line1: null, address_line2: null, city: null, region: null, postcode: null,
    country: null, vat_number: null, password_hash: await hashPassword(PASSWORD), email_verified_at: now, created_at: now, updated_at: now,
    last_login_at: null, closed_at: null,
  }).execute();
  return id;
}

export async function buildStaff(t: TestApp, email: string, name = 'Sam Support', role: 'owner' | 'admin' | 'support' | 'sales' = 'support'): Promise<string> {
  return t.modules.accounts.staff.createStaff({ email, name, role, password: PASSWORD }, null);
}

export async function signIn(t: TestApp, kind: 'customer' | 'staff', email: string): Promise<TestBrowser> {
  const b = new TestBrowser(t.app);
  const base = kind === 'customer' ? '/account' : '/admin';
  await b.get(`${base}/login`);
  const r = await b.post(`${base}/login`, { email, password: PASSWORD });
  if (r.statusCode !== 303) throw new Error(`sign-in failed for ${email}: ${r.statusCode}`);
  return b;
}

/** Sends mail over real SMTP to the app's listener. */
export async function smtpSend(port: number, mail: SendMailOptions): Promise<{ messageId: string; response: string }> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, tls: { rejectUnauthorized: false } });
  try { return await transport.sendMail(mail); } finally { transport.close(); }
}

/** A multipart/form-data post (what a browser sends for a form with a file field), with the page's CSRF token. */
export async function postMultipart(b: TestBrowser, url: string, fields: Record<string, string>, files: Array<{ name: string; filename: string; type: string; content: Buffer }> = []): Promise<LightMyRequestResponse> {
  const boundary = `----kw${newId().replace(/-/g, '')}`;
  const parts: Buffer[] = [];
  // Like a browser, send the form's hidden time stamp along (the contact form's minimum fill time).
  const stamp = /name="stamp" value="([^"]+)"/.exec(b.lastHtml)?.[1];
  const all = { _csrf: b.csrf(), ...(stamp ? { stamp } : {}), ...fields };
  for (const [k, v] of Object.entries(all)) parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  for (const f of files) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${f.name}"; filename="${f.filename}"\r\nContent-Type: ${f.type}\r\n\r\n`), f.content, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  const res = await b.app.inject({
    method: 'POST', url, payload: Buffer.concat(parts),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, accept: 'text/html', cookie: b.cookieHeader() },
  });
  if (String(res.headers['content-type'] ?? '').startsWith('text/html')) b.lastHtml = res.body;
  return res;
}

export async function ticketRows(t: TestApp) {
  return t.k.db.selectFrom('support_tickets').selectAll().orderBy('number').execute();
}

export async function messagesOf(t: TestApp, number: number) {
  const tk = await t.k.db.selectFrom('support_tickets').select('id').where('number', '=', number).executeTakeFirstOrThrow();
  return t.k.db.selectFrom('support_messages').selectAll().where('ticket_id', '=', tk.id).orderBy('created_at').orderBy('id').execute();
}
