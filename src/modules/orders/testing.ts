// Test support for the shop: a faithful in-memory LicenceIssuer, the app built with it, and a local
// stand-in for Stripe's HTTP API. Not imported by application code.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Transaction } from 'kysely';
import type { Database } from '../../kernel/db/schema.js';
import type { Db } from '../../kernel/db/database.js';
import { newId, randomToken } from '../../kernel/crypto/tokens.js';
import { testKernel } from '../../kernel/testing/db.js';
import type { TestApp } from '../../kernel/testing/app.js';
import type { ManualClock } from '../../kernel/clock.js';
import type { Config } from '../../kernel/config/config.js';
import { buildApp } from '../../app.js';
import { SELLER_SETTING, RATES_SETTING, BANK_SETTING } from '../billing/index.js';
import { loadDemoCatalogue } from '../catalog/index.js';
import type { IssueLicenceRequest, LicenceIssuer, LicenceSummary } from './licence-issuer.js';
import { saveStripe, signStripePayload } from './payments/stripe.js';
import type { BillingDetails } from './billing-form.js';

interface Lic extends LicenceSummary { key: string; orderId: string | null; maxMachines: number | null }
type Change = (m: Map<string, Lic>) => void;

/**
 * Licences in memory, with the one property tests rely on: a change made in a transaction that rolls
 * back never becomes visible. Each change is staged with a marker row written through the caller's
 * transaction (the audit log), and applied only once that marker is committed.
 */
export class InMemoryLicenceIssuer implements LicenceIssuer {
  private staged: Array<{ marker: string; change: Change }> = [];
  calls: string[] = [];
  /** Makes the next issue() throw, as a licensing failure inside the payment transaction would. */
  failNextIssue = false;

  private async stage(trx: Transaction<Database>, what: string, change: Change): Promise<void> {
    if (!trx.isTransaction) throw new Error('LicenceIssuer must be called inside the payment transaction');
    const marker = newId();
    await trx.insertInto('audit_log').values({ id: marker, at: 0, actor_kind: 'system', actor_id: null, action: `test.licence.${what}`, target: null, detail: '{}', ip: null }).execute();
    this.staged.push({ marker, change });
    this.calls.push(what);
  }

  /** The committed state, as seen by `db` (a transaction sees its own staged changes). */
  async state(db: Db): Promise<Map<string, Lic>> {
    const m = new Map<string, Lic>();
    if (!this.staged.length) return m;
    const committed = new Set((await db.selectFrom('audit_log').select('id').where('id', 'in', this.staged.map((s) => s.marker)).execute()).map((r) => r.id));
    for (const s of this.staged) if (committed.has(s.marker)) s.change(m);
    return m;
  }

  async issue(trx: Transaction<Database>, req: IssueLicenceRequest) {
    if (this.failNextIssue) { this.failNextIssue = false; throw new Error('licensing failed (test)'); }
    const licenceId = newId();
    const key = `TEST-${randomToken(9).toUpperCase().replace(/[^A-Z0-9]/g, 'X')}`;
    await this.stage(trx, 'issue', (m) => m.set(licenceId, {
      licenceId, key, productCode: req.productCode, customerId: req.customerId, maxUsers: req.maxUsers, maxMachines: req.maxMachines,
      maintenanceUntil: req.maintenanceUntil, addons: req.addons.map((a) => ({ ...a })), orderId: req.orderId, status: 'active', label: `${req.productCode} …${key.slice(-4)}`,
    }));
    return { licenceId, key };
  }

  async raiseTier(trx: Transaction<Database>, licenceId: string, c: { maxUsers: number | null }) {
    await this.stage(trx, 'raiseTier', (m) => { const l = m.get(licenceId); if (l) l.maxUsers = c.maxUsers; });
  }

  async extendMaintenance(trx: Transaction<Database>, licenceId: string, c: { until: number }) {
    await this.stage(trx, 'extendMaintenance', (m) => { const l = m.get(licenceId); if (l) l.maintenanceUntil = c.until; });
  }

  /** What staff do in licensing: take an add-on off a licence. */
  async removeAddon(trx: Transaction<Database>, licenceId: string, code: string) {
    await this.stage(trx, 'removeAddon', (m) => { const l = m.get(licenceId); if (l) l.addons = l.addons.filter((a) => a.code !== code); });
  }

  /** What staff do in licensing (suspend, revoke, reinstate). */
  async setStatus(trx: Transaction<Database>, licenceId: string, status: Lic['status']) {
    await this.stage(trx, 'setStatus', (m) => { const l = m.get(licenceId); if (l) l.status = status; });
  }

  async setAddon(trx: Transaction<Database>, licenceId: string, a: { code: string; until: number | null }) {
    await this.stage(trx, 'setAddon', (m) => {
      const l = m.get(licenceId);
      if (!l) return;
      l.addons = [...l.addons.filter((x) => x.code !== a.code), { ...a }];
    });
  }

  async find(db: Db, licenceId: string) {
    const l = (await this.state(db)).get(licenceId);
    return l ? { ...l, addons: l.addons.map((a) => ({ ...a })) } : null;
  }

  async listForCustomer(db: Db, customerId: string) {
    return [...(await this.state(db)).values()].filter((l) => l.customerId === customerId);
  }
}

export interface ShopTestApp extends TestApp { issuer: InMemoryLicenceIssuer }

/** The whole app on a fresh database with the in-memory issuer, seller details, exchange rates and the demo catalogue. */
export async function shopTestApp(opts: { config?: Partial<Config>; clock?: ManualClock; demo?: boolean } = {}): Promise<ShopTestApp> {
  const t = await testKernel(opts);
  const issuer = new InMemoryLicenceIssuer();
  const modules = await buildApp(t.k, { licenceIssuer: issuer });
  await modules.app.ready();
  await t.k.settings.set(SELLER_SETTING, { name: 'Example Software Ltd', address: '1 High Street\nHuddersfield HD1 1AA\nUnited Kingdom', vatNumber: 'GB123456789', companyNumber: '01234567' });
  await t.k.settings.set(RATES_SETTING, { EUR: 856123, USD: 790000 });
  await t.k.settings.set(BANK_SETTING, { accountName: 'Example Software Ltd', bankName: 'Northern Bank', sortCode: '12-34-56', accountNumber: '12345678', iban: 'GB29NWBK60161331926819', bic: 'NWBKGB2L', paymentTermsDays: 14 });
  if (opts.demo !== false) await loadDemoCatalogue(t.k.db, t.clock.now());
  return {
    ...t, app: modules.app, modules, issuer,
    async close() { await modules.app.close(); await t.close(); },
  };
}

export async function planIdBySku(db: Db, sku: string): Promise<string> {
  return (await db.selectFrom('catalog_plans').select('id').where('sku', '=', sku).executeTakeFirstOrThrow()).id;
}

export async function makeCustomer(db: Db, email: string, now: number): Promise<string> {
  const id = newId();
  await db.insertInto('customers').values({
    id, email, name: 'Test Buyer', company: null, phone: null, address_line1: null, address_line2: null, city: null, region: null,
    postcode: null, country: null, vat_number: null, password_hash: null, email_verified_at: now, created_at: now, updated_at: now, last_login_at: null, closed_at: null,
  }).execute();
  return id;
}

export const UK_BILLING: BillingDetails = { name: 'Ada Buyer', company: 'Buyer Ltd', line1: '2 Mill Lane', line2: null, city: 'Leeds', region: null, postcode: 'LS1 1AA', country: 'GB', phone: '+44 113 496 0000', vatNumber: null };

/**
 * A stand-in for Stripe's API on a local port: the two endpoints the shop calls, with Stripe's form
 * encoding, bearer auth and Idempotency-Key replay; and events signed the way Stripe signs them.
 */
export class StripeStandIn {
  server: http.Server;
  sessions = new Map<string, { id: string; amount_total: number; currency: string; client_reference_id: string; payment_intent: string }>();
  refunds: Array<{ id: string; payment_intent: string; amount: number }> = [];
  requests: Array<{ path: string; idempotencyKey: string | undefined; body: URLSearchParams }> = [];
  private replies = new Map<string, string>();
  failNext = 0;
  constructor(readonly secretKey = 'sk_test_standin', readonly webhookSecret = 'whsec_standin') {
    this.server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => { raw += c; });
      req.on('end', () => {
        const body = new URLSearchParams(raw);
        const idem = req.headers['idempotency-key'] as string | undefined;
        this.requests.push({ path: req.url ?? '', idempotencyKey: idem, body });
        const send = (status: number, json: unknown) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(typeof json === 'string' ? json : JSON.stringify(json)); };
        if (req.headers.authorization !== `Bearer ${this.secretKey}`) return send(401, { error: { message: 'Invalid API Key provided' } });
        if (this.failNext > 0) { this.failNext--; return send(500, { error: { message: 'stand-in outage' } }); }
        if (idem && this.replies.has(idem)) return send(200, this.replies.get(idem)!);
        let out: unknown;
        if (req.url === '/v1/checkout/sessions') {
          const id = `cs_test_${randomToken(12)}`;
          const s = { id, amount_total: Number(body.get('line_items[0][price_data][unit_amount]')) * Number(body.get('line_items[0][quantity]')), currency: body.get('line_items[0][price_data][currency]') ?? '', client_reference_id: body.get('client_reference_id') ?? '', payment_intent: `pi_test_${randomToken(12)}` };
          this.sessions.set(id, s);
          out = { id, object: 'checkout.session', url: `https://checkout.stripe.test/c/pay/${id}`, amount_total: s.amount_total, currency: s.currency, payment_status: 'unpaid' };
        } else if (req.url === '/v1/refunds') {
          const r = { id: `re_test_${randomToken(12)}`, payment_intent: body.get('payment_intent') ?? '', amount: Number(body.get('amount')) };
          this.refunds.push(r);
          out = { ...r, object: 'refund', status: 'succeeded' };
        } else return send(404, { error: { message: 'Unrecognized request URL' } });
        const text = JSON.stringify(out);
        if (idem) this.replies.set(idem, text);
        send(200, text);
      });
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> { await new Promise<void>((r) => this.server.close(() => r())); }

  /** Points the app's Stripe settings at this stand-in. */
  async configure(t: TestApp): Promise<void> {
    await saveStripe(t.k, { enabled: true, apiBase: await this.start(), secretKey: this.secretKey, webhookSecret: this.webhookSecret }, null);
  }

  /** A `checkout.session.completed` event for a session, as Stripe would send it. */
  completedEvent(sessionId: string, overrides: Record<string, unknown> = {}): { id: string; body: string } {
    const s = this.sessions.get(sessionId)!;
    const id = `evt_test_${randomToken(12)}`;
    return { id, body: JSON.stringify({ id, object: 'event', type: 'checkout.session.completed', data: { object: { id: s.id, object: 'checkout.session', payment_status: 'paid', amount_total: s.amount_total, currency: s.currency, payment_intent: s.payment_intent, client_reference_id: s.client_reference_id, ...overrides } } }) };
  }

  sign(body: string, tSeconds: number, secret = this.webhookSecret): string {
    return signStripePayload(secret, body, tSeconds);
  }
}
