import crypto from 'node:crypto';
import type { Kernel } from '../../../kernel/context.js';
import { PaymentProviderFailed, WebhookRejected } from '../orders.errors.js';

/** Stripe settings, edited in the admin; the keys are stored sealed with the master secret. */
export interface StripeSettings { enabled: boolean; apiBase: string; secretKeySealed: string; webhookSecretSealed: string }
export const STRIPE_SETTING = 'payments.stripe';
export const STRIPE_TOLERANCE_S = 300;

export async function loadStripe(k: Kernel): Promise<{ enabled: boolean; apiBase: string; secretKey: string; webhookSecret: string } | null> {
  const s = await k.settings.get<StripeSettings | null>(STRIPE_SETTING, null);
  if (!s?.enabled || !s.secretKeySealed || !s.webhookSecretSealed) return null;
  return {
    enabled: true, apiBase: s.apiBase.replace(/\/+$/, ''),
    secretKey: k.secrets.open('stripe', s.secretKeySealed).toString('utf8'),
    webhookSecret: k.secrets.open('stripe', s.webhookSecretSealed).toString('utf8'),
  };
}

export async function saveStripe(k: Kernel, input: { enabled: boolean; apiBase: string; secretKey?: string; webhookSecret?: string }, by: string | null): Promise<void> {
  const prev = await k.settings.get<StripeSettings | null>(STRIPE_SETTING, null);
  await k.settings.set(STRIPE_SETTING, {
    enabled: input.enabled, apiBase: input.apiBase,
    secretKeySealed: input.secretKey ? k.secrets.seal('stripe', input.secretKey) : prev?.secretKeySealed ?? '',
    webhookSecretSealed: input.webhookSecret ? k.secrets.seal('stripe', input.webhookSecret) : prev?.webhookSecretSealed ?? '',
  } satisfies StripeSettings, by);
}

/** Stripe's form encoding: nested keys as `a[b][0][c]=v`. */
export function formEncode(obj: Record<string, unknown>, prefix = ''): string[] {
  const out: string[] = [];
  for (const [key, v] of Object.entries(obj)) {
    const name = prefix ? `${prefix}[${key}]` : key;
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) v.forEach((item, i) => out.push(...(typeof item === 'object' ? formEncode(item as Record<string, unknown>, `${name}[${i}]`) : [`${encodeURIComponent(`${name}[${i}]`)}=${encodeURIComponent(String(item))}`])));
    else if (typeof v === 'object') out.push(...formEncode(v as Record<string, unknown>, name));
    else out.push(`${encodeURIComponent(name)}=${encodeURIComponent(String(v))}`);
  }
  return out;
}

/** A minimal client for the two Stripe calls the shop makes, over fetch to a configurable base URL. */
export class StripeClient {
  constructor(private readonly apiBase: string, private readonly secretKey: string, private readonly timeoutMs = 15_000) {}

  private async post<T>(path: string, body: Record<string, unknown>, idempotencyKey: string): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.apiBase}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.secretKey}`, 'content-type': 'application/x-www-form-urlencoded', 'idempotency-key': idempotencyKey, 'stripe-version': '2024-06-20' },
        body: formEncode(body).join('&'),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new PaymentProviderFailed((err as Error).name === 'TimeoutError' ? 'timeout' : 'network error');
    }
    const json = (await res.json().catch(() => ({}))) as T & { error?: { message?: string } };
    if (!res.ok) throw new PaymentProviderFailed(`HTTP ${res.status}${json.error?.message ? `: ${json.error.message.slice(0, 200)}` : ''}`);
    return json;
  }

  createCheckoutSession(params: Record<string, unknown>, idempotencyKey: string) {
    return this.post<{ id: string; url: string; amount_total: number; currency: string }>('/v1/checkout/sessions', params, idempotencyKey);
  }

  createRefund(params: { payment_intent: string; amount: number; reason?: string }, idempotencyKey: string) {
    return this.post<{ id: string; status: string; amount: number }>('/v1/refunds', params, idempotencyKey);
  }
}

/**
 * Checks a `Stripe-Signature: t=<unix>,v1=<hex>[,v1=…]` header the way Stripe documents it: HMAC-SHA256
 * with the endpoint secret over `<t>.<raw body>`, compared in constant time, refused when `t` is more
 * than 300 s from now (a replayed old event), whatever its signature.
 */
export function verifyStripeSignature(header: unknown, rawBody: Buffer, secret: string, nowMs: number, toleranceS = STRIPE_TOLERANCE_S): void {
  if (typeof header !== 'string' || !header) throw new WebhookRejected('no Stripe-Signature header');
  let t: number | null = null;
  const v1: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    const k = part.slice(0, eq).trim(); const v = part.slice(eq + 1).trim();
    if (k === 't' && /^\d{1,12}$/.test(v)) t = Number(v);
    else if (k === 'v1' && /^[0-9a-f]{64}$/.test(v)) v1.push(v);
  }
  if (t === null || v1.length === 0) throw new WebhookRejected('malformed Stripe-Signature header');
  if (Math.abs(nowMs / 1000 - t) > toleranceS) throw new WebhookRejected('timestamp outside the tolerance');
  const expected = crypto.createHmac('sha256', secret).update(`${t}.`).update(rawBody).digest();
  if (!v1.some((sig) => crypto.timingSafeEqual(Buffer.from(sig, 'hex'), expected))) throw new WebhookRejected('signature does not match');
}

/** Signs a payload as Stripe does (used by the test stand-in and by tools that replay events). */
export function signStripePayload(secret: string, body: string, tSeconds: number): string {
  return `t=${tSeconds},v1=${crypto.createHmac('sha256', secret).update(`${tSeconds}.${body}`).digest('hex')}`;
}
