import type { Transaction } from 'kysely';
import type { Kernel } from '../../kernel/context.js';
import type { Db } from '../../kernel/db/database.js';
import type { Database } from '../../kernel/db/schema.js';
import { accountsRepository, normaliseEmail } from '../accounts/index.js';
import { CURRENCIES, parseMoney, plansForSale, type Currency } from '../catalog/index.js';
import { COUNTRIES, parseBilling, type OrdersModule } from '../orders/index.js';
import { grantedTopic, recordConsent, resellerDirectoryWithdrawWording, resellerDirectoryWording, type ConsentContext } from '../newsletter/index.js';
import { loadBrand } from '../../kernel/views/brand.js';
import { InvalidResellerInput, NotAReseller, ResellerNotFound } from './resellers.errors.js';
import * as repo from './resellers.repository.js';

type Trx = Transaction<Database>;
const TOPIC = 'reseller_directory' as const;

export interface ResellerTerms { discountPercent: number; paymentTermsDays: number; currency: Currency; publicName: string; publicUrl: string | null; publicCountry: string | null; status: 'active' | 'suspended' }

export function parseTerms(v: Record<string, string | undefined>): ResellerTerms {
  const int = (key: string, label: string, min: number, max: number) => {
    const s = (v[key] ?? '').trim() || '0';
    if (!/^\d{1,3}$/.test(s) || Number(s) < min || Number(s) > max) throw new InvalidResellerInput(`${label} must be a whole number from ${min} to ${max}.`);
    return Number(s);
  };
  const currency = (v.currency ?? 'GBP').trim().toUpperCase();
  if (!(CURRENCIES as readonly string[]).includes(currency)) throw new InvalidResellerInput('Choose GBP, EUR or USD.');
  const publicName = (v.public_name ?? '').trim();
  if (!publicName || publicName.length > 120) throw new InvalidResellerInput('Enter the reseller\'s business name (at most 120 characters).');
  const publicUrl = (v.public_url ?? '').trim() || null;
  if (publicUrl && (publicUrl.length > 300 || !/^https?:\/\/[^\s/$.?#][^\s]*$/i.test(publicUrl))) throw new InvalidResellerInput('The website must be an address like https://reseller.example.');
  const cc = (v.public_country ?? '').trim().toUpperCase() || null;
  if (cc && !COUNTRIES[cc]) throw new InvalidResellerInput('Choose the reseller\'s country from the list (two-letter code).');
  const status = v.status === 'suspended' ? 'suspended' : 'active';
  return { discountPercent: int('discount_percent', 'The discount', 0, 90), paymentTermsDays: int('payment_terms_days', 'Payment terms', 0, 120), currency: currency as Currency, publicName, publicUrl, publicCountry: cc, status };
}

export interface EndCustomer { name: string; company: string | null; email: string; country: string }

export function parseEndCustomer(v: Record<string, string | undefined>): EndCustomer {
  const name = (v.end_name ?? '').trim();
  if (!name || name.length > 200) throw new InvalidResellerInput('Enter the end customer\'s name (at most 200 characters).');
  const company = (v.end_company ?? '').trim() || null;
  if (company && company.length > 200) throw new InvalidResellerInput('The end customer\'s company is too long (at most 200 characters).');
  let email: string;
  try { email = normaliseEmail(v.end_email); } catch { throw new InvalidResellerInput('Enter the end customer\'s email address, like name@example.com.'); }
  const country = (v.end_country ?? '').trim().toUpperCase();
  if (!COUNTRIES[country]) throw new InvalidResellerInput('Choose the end customer\'s country from the list.');
  return { name, company, email, country };
}

/**
 * Resellers: staff make a customer account a reseller with a discount or price list and payment terms;
 * the reseller orders for end customers (invoiced to the reseller, on its terms; the end customer's
 * details go on the licences) and may ask to be listed publicly (recorded in the consent ledger).
 */
export class ResellerService {
  constructor(private readonly k: Kernel, private readonly orders: OrdersModule) {}

  async activeReseller(customerId: string) {
    const r = await repo.resellerById(this.k.db, customerId);
    if (!r || r.status !== 'active') throw new NotAReseller();
    return r;
  }

  async create(staffId: string, email: string, v: Record<string, string | undefined>): Promise<string> {
    let e: string;
    try { e = normaliseEmail(email); } catch { throw new InvalidResellerInput('Enter the reseller\'s account email address.'); }
    const c = await accountsRepository.customerByEmail(this.k.db, e);
    if (!c || c.closed_at) throw new InvalidResellerInput('No customer account has this email address: the reseller creates an account first.');
    if (await repo.resellerById(this.k.db, c.id)) throw new InvalidResellerInput('This account is already a reseller.');
    const t = parseTerms({ public_name: c.company || c.name, ...v });
    const now = this.k.clock.now();
    await this.k.db.insertInto('resellers').values({
      customer_id: c.id, status: t.status, discount_percent: t.discountPercent, payment_terms_days: t.paymentTermsDays, currency: t.currency,
      public_name: t.publicName, public_url: t.publicUrl, public_country: t.publicCountry, created_at: now, updated_at: now, updated_by: staffId,
    }).execute();
    await this.k.audit.record({ actorKind: 'staff', actorId: staffId, action: 'resellers.created', target: c.id, detail: { discount: t.discountPercent, terms: t.paymentTermsDays } });
    return c.id;
  }

  async update(staffId: string, resellerId: string, v: Record<string, string | undefined>): Promise<void> {
    if (!(await repo.resellerById(this.k.db, resellerId))) throw new ResellerNotFound();
    const t = parseTerms(v);
    await this.k.db.updateTable('resellers').set({
      status: t.status, discount_percent: t.discountPercent, payment_terms_days: t.paymentTermsDays, currency: t.currency,
      public_name: t.publicName, public_url: t.publicUrl, public_country: t.publicCountry, updated_at: this.k.clock.now(), updated_by: staffId,
    }).where('customer_id', '=', resellerId).execute();
    await this.k.audit.record({ actorKind: 'staff', actorId: staffId, action: 'resellers.updated', target: resellerId, detail: { status: t.status, discount: t.discountPercent, terms: t.paymentTermsDays } });
  }

  async setPrice(staffId: string, resellerId: string, sku: string, amount: string | undefined): Promise<void> {
    const r = await repo.resellerById(this.k.db, resellerId);
    if (!r) throw new ResellerNotFound();
    const plan = await this.k.db.selectFrom('catalog_plans').select(['id', 'kind']).where('sku', '=', (sku ?? '').trim()).executeTakeFirst();
    if (!plan) throw new InvalidResellerInput('No plan has this SKU.');
    const raw = (amount ?? '').trim();
    // Resellers order new licences (the reseller order form); renewals, upgrades and add-ons for a
    // licence are bought in the shop at its prices, so a reseller price for them would never apply.
    if (raw && plan.kind !== 'perpetual') throw new InvalidResellerInput('Reseller prices are for new licences only: renewals, upgrades and add-ons are bought in the shop at its prices.');
    if (!raw) {
      await this.k.db.deleteFrom('reseller_prices').where('reseller_id', '=', resellerId).where('plan_id', '=', plan.id).where('currency', '=', r.currency).execute();
    } else {
      let unit: number;
      try { unit = parseMoney(raw, 'The reseller price'); } catch (err) { throw new InvalidResellerInput((err as Error).message); }
      const now = this.k.clock.now();
      await this.k.db.insertInto('reseller_prices').values({ reseller_id: resellerId, plan_id: plan.id, currency: r.currency, unit_net: unit, updated_at: now })
        .onConflict((oc) => oc.columns(['reseller_id', 'plan_id', 'currency']).doUpdateSet({ unit_net: unit, updated_at: now })).execute();
    }
    await this.k.audit.record({ actorKind: 'staff', actorId: staffId, action: 'resellers.price_set', target: resellerId, detail: { sku, amount: raw || null } });
  }

  /** Net unit price and percent off for a plan: the price list first, otherwise the catalogue less the discount. */
  async pricing(db: Db, resellerId: string, currency: Currency, discountPercent: number) {
    const list = new Map((await db.selectFrom('reseller_prices').select(['plan_id', 'unit_net']).where('reseller_id', '=', resellerId).where('currency', '=', currency).execute())
      .map((p) => [p.plan_id, Number(p.unit_net)]));
    return (planId: string, catalogue: number) => (list.has(planId) ? { unitNet: list.get(planId)!, percentOff: 0 } : { unitNet: catalogue, percentOff: discountPercent });
  }

  /**
   * Places an order for an end customer. On payment terms the invoice (to the reseller, due in its
   * terms) and the licences are issued at once; without terms the order waits for a bank transfer.
   * A resubmitted form (same key) finds the order it made.
   */
  async placeOrder(customerId: string, v: Record<string, string | undefined>, form: { checkoutKey?: string; requestHash: string }): Promise<{ orderId: string; existing: boolean }> {
    const r = await this.activeReseller(customerId);
    const key = (form.checkoutKey ?? '').trim();
    if (!/^[A-Za-z0-9_-]{20,64}$/.test(key)) throw new InvalidResellerInput('This form has expired: open it again.');
    const prior = await this.orders.checkout.alreadyPlaced({ checkoutKey: key, requestHash: form.requestHash });
    if (prior) return { orderId: prior, existing: true };
    const end = parseEndCustomer(v);
    let billing;
    try { billing = parseBilling(v); } catch (err) { throw new InvalidResellerInput((err as Error).message); }
    const planId = (v.plan_id ?? '').trim();
    const quantity = Number((v.quantity ?? '1').trim());
    if (!Number.isInteger(quantity) || quantity < 1 || quantity > 100) throw new InvalidResellerInput('The quantity is a whole number from 1 to 100.');
    const sale = (await plansForSale(this.k.db, [planId], r.currency)).get(planId);
    if (!sale || sale.plan.kind !== 'perpetual') throw new InvalidResellerInput('Choose a product from the list.');
    const account = (await accountsRepository.customerById(this.k.db, customerId))!;
    const actor = { kind: 'customer' as const, id: customerId };
    const terms = Number(r.payment_terms_days);
    let orderId: string;
    try {
      orderId = await this.k.db.transaction().execute(async (trx) => {
        const price = await this.pricing(trx, customerId, r.currency, Number(r.discount_percent));
        const id = await this.orders.checkout.create(trx, {
          customer: { id: customerId, email: account.email }, billing, currency: r.currency, couponCode: null,
          items: [{ planId, quantity, licenceId: null }], paymentMethod: 'bank_transfer', channel: 'reseller', actor, placedByStaffId: null,
          checkoutKey: key, checkoutHash: form.requestHash, reseller: { id: customerId, price },
        });
        await trx.insertInto('reseller_sales').values({ order_id: id, reseller_id: customerId, end_name: end.name, end_company: end.company, end_email: end.email, end_country: end.country, terms_days: terms, created_at: this.k.clock.now() }).execute();
        if (terms > 0) await this.orders.fulfilment.fulfilOnAccountInTrx(trx, id, actor, terms);
        return id;
      });
    } catch (err) {
      const again = await this.orders.checkout.alreadyPlaced({ checkoutKey: key, requestHash: form.requestHash }).catch(() => null);
      if (again) return { orderId: again, existing: true };
      throw err;
    }
    if (terms === 0) await this.orders.payments.start(orderId, actor);
    return { orderId, existing: false };
  }

  /** Records the reseller's permission to be listed publicly, or its withdrawal, in the consent ledger. */
  async setListing(customerId: string, grant: boolean, ctx: ConsentContext): Promise<void> {
    const r = await this.activeReseller(customerId);
    const c = (await accountsRepository.customerById(this.k.db, customerId))!;
    const brand = await loadBrand(this.k.settings);
    await this.k.db.transaction().execute(async (trx) => {
      await recordConsent(this.k, trx, {
        subscriberId: null, email: c.email, listId: TOPIC, action: grant ? 'opt_in' : 'unsubscribe',
        wording: grant ? resellerDirectoryWording(brand, r.public_name) : resellerDirectoryWithdrawWording(brand),
      }, ctx);
    });
  }

  async isListed(customerId: string): Promise<boolean> {
    const c = await accountsRepository.customerById(this.k.db, customerId);
    return c ? (await grantedTopic(this.k.db, TOPIC, [c.email])).has(c.email) : false;
  }

  /** The public resellers page: active resellers whose latest ledger entry grants the listing. */
  async listed() {
    const rows = await this.k.db.selectFrom('resellers').innerJoin('customers', 'customers.id', 'resellers.customer_id')
      .select(['resellers.public_name', 'resellers.public_url', 'resellers.public_country', 'customers.email'])
      .where('resellers.status', '=', 'active').where('customers.closed_at', 'is', null).orderBy('resellers.public_name').execute();
    const ok = await grantedTopic(this.k.db, TOPIC, rows.map((r) => r.email));
    return rows.filter((r) => ok.has(r.email)).map(({ email: _e, ...r }) => r);
  }
}

/** Payment terms of reseller invoices, per order, for the accounting export's due dates. */
export async function dueDaysForOrders(db: Db, orderIds: string[]): Promise<Map<string, number>> {
  if (orderIds.length === 0) return new Map();
  const rows = await db.selectFrom('reseller_sales').select(['order_id', 'terms_days']).where('order_id', 'in', orderIds).execute();
  return new Map(rows.map((r) => [r.order_id, Number(r.terms_days)]));
}

/** The end customer of a reseller order, read inside the payment's transaction. */
export async function endCustomerOf(trx: Trx | Db, orderId: string) {
  return trx.selectFrom('reseller_sales').select(['end_name', 'end_company', 'end_email', 'end_country']).where('order_id', '=', orderId).executeTakeFirst();
}
