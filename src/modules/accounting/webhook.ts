import crypto from 'node:crypto';
import type { Kernel } from '../../kernel/context.js';
import { randomToken } from '../../kernel/crypto/tokens.js';
import { documentById, type DueDaysLookup } from './ledger.js';
import { dueDate, ymd, decimal, percent } from './formats.js';
import { assertPayloadKeys, assertShareable, allSources, type SharedDocument } from './shared.js';
import { InvalidAccountingInput } from './accounting.errors.js';

export const WEBHOOK_SETTING = 'accounting.webhook';
export const PUSH_JOB = 'accounting.push';
const SEAL_PURPOSE = 'accounting.webhook';
export const SIGNATURE_HEADER = 'keyward-signature';

interface StoredWebhook { enabled: boolean; url: string; secretSealed: string }
export interface WebhookConfig { enabled: boolean; url: string; hasSecret: boolean }

export async function loadWebhook(k: Kernel): Promise<WebhookConfig> {
  const w = await k.settings.get<Partial<StoredWebhook>>(WEBHOOK_SETTING, {});
  return { enabled: Boolean(w.enabled), url: w.url ?? '', hasSecret: Boolean(w.secretSealed) };
}

/**
 * Saves the endpoint; `newSecret` makes (and returns, once) a fresh signing secret. Enabling needs an
 * http(s) address and a secret.
 */
export async function saveWebhook(k: Kernel, input: { enabled: boolean; url: string; newSecret: boolean }, by: string | null): Promise<{ secret: string | null }> {
  const prev = await k.settings.get<Partial<StoredWebhook>>(WEBHOOK_SETTING, {});
  const url = input.url.trim();
  if (url) {
    let u: URL;
    try { u = new URL(url); } catch { throw new InvalidAccountingInput('The endpoint must be an address like https://books.example.com/keyward.'); }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new InvalidAccountingInput('The endpoint must be an http or https address.');
    if (u.username || u.password) throw new InvalidAccountingInput('Put no user name or password in the endpoint address; requests are signed instead.');
  }
  const secret = input.newSecret || !prev.secretSealed ? randomToken(32) : null;
  const secretSealed = secret ? k.secrets.seal(SEAL_PURPOSE, secret) : prev.secretSealed!;
  if (input.enabled && !url) throw new InvalidAccountingInput('Enter the endpoint address before turning the webhook on.');
  await k.settings.set(WEBHOOK_SETTING, { enabled: input.enabled, url, secretSealed } satisfies StoredWebhook, by);
  return { secret };
}

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, as Stripe signs its webhooks. */
export function signBody(secret: string, body: string, tSeconds: number): string {
  return `t=${tSeconds},v1=${crypto.createHmac('sha256', secret).update(`${tSeconds}.${body}`).digest('hex')}`;
}

/** For receivers (and tests): checks the signature in constant time and the time within `toleranceS`. */
export function verifySignature(secret: string, body: string, header: string | undefined, nowS: number, toleranceS = 300): boolean {
  const m = /^t=(\d{1,12}),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!m || Math.abs(nowS - Number(m[1])) > toleranceS) return false;
  const want = Buffer.from(signBody(secret, body, Number(m[1])).split('v1=')[1]!, 'hex');
  return crypto.timingSafeEqual(want, Buffer.from(m[2]!, 'hex'));
}

/** The JSON pushed for one issued document: only the declared, shared fields (shared.ts PAYLOAD_KEYS). */
export function documentPayload(d: SharedDocument, sentAt: number) {
  const sign = d.kind === 'credit_note' ? -1 : 1;
  return {
    event: d.kind === 'credit_note' ? 'credit_note.issued' : 'invoice.issued', sent_at: new Date(sentAt).toISOString(),
    document: {
      type: d.kind, id: d.id, number: d.number, date: ymd(d.issueDate), tax_point: ymd(d.taxPoint), due_date: ymd(dueDate(d)), currency: d.currency,
      reference: d.orderReference, tax_treatment: d.taxTreatment,
      credits: d.creditedNumber !== null ? { number: d.creditedNumber, date: ymd(d.creditedDate ?? d.issueDate) } : null,
      contact: { reference: d.customerRef, name: d.contactName, company: d.contactCompany, email: d.contactEmail, address: d.contactAddress, country: d.contactCountry, vat_number: d.contactVatNumber },
      lines: d.lines.map((l) => ({ sku: l.sku, description: l.description, quantity: l.quantity, unit_net: decimal(sign * l.unitNet), discount: decimal(sign * l.discount), net: decimal(sign * l.net), tax_rate_percent: percent(l.taxRateBp), tax: decimal(sign * l.tax) })),
      totals: { net: decimal(sign * d.totalNet), tax: decimal(sign * d.totalTax), gross: decimal(sign * d.totalGross) },
      gbp_rate: (d.gbpRateMicros / 1_000_000).toFixed(6),
    },
  };
}

/**
 * The push job: one per issued document (enqueued by billing in the issuing transaction, idempotency key
 * per document). A non-2xx answer or a network error throws, so the job queue retries with backoff; the
 * receiver deduplicates on `Keyward-Document-Id`. Nothing is sent while the webhook is off.
 */
export function registerPushJob(k: Kernel, dueDays?: DueDaysLookup, fetchImpl: typeof fetch = fetch): void {
  k.jobs.register(PUSH_JOB, async (payload: { documentId?: string }) => {
    const w = await k.settings.get<Partial<StoredWebhook>>(WEBHOOK_SETTING, {});
    if (!w.enabled || !w.url || !w.secretSealed || typeof payload?.documentId !== 'string') return;
    // Fails closed (the job retries, then dies) if a declaration stops sharing a column with accounting.
    assertShareable(allSources());
    const d = await documentById(k.db, payload.documentId, dueDays);
    if (!d) return;
    const body = JSON.stringify(documentPayload(d, k.clock.now()));
    assertPayloadKeys(JSON.parse(body));
    const secret = k.secrets.open(SEAL_PURPOSE, w.secretSealed).toString('utf8');
    const res = await fetchImpl(w.url, {
      method: 'POST', redirect: 'manual', signal: AbortSignal.timeout(15_000),
      headers: { 'content-type': 'application/json', 'user-agent': 'Keyward accounting webhook', 'keyward-document-id': d.id, [SIGNATURE_HEADER]: signBody(secret, body, Math.floor(k.clock.now() / 1000)) },
      body,
    });
    await res.arrayBuffer().catch(() => undefined);
    if (res.status < 200 || res.status >= 300) throw new Error(`accounting endpoint answered ${res.status}`);
  });
}
