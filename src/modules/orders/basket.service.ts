import type { Kernel } from '../../kernel/context.js';
import type { Db } from '../../kernel/db/database.js';
import { newId, randomToken, sha256Hex } from '../../kernel/crypto/tokens.js';
import { CURRENCIES, activeCoupon, plansForSale, type Currency, type PlanForSale, UnknownPlan, NoPrice, UnknownCoupon } from '../catalog/index.js';
import { computeTotals, type Totals } from '../billing/index.js';
import { EmptyBasket, InvalidCurrency, InvalidOrderInput, InvalidQuantity, LicenceNotActive, LicenceNotYours } from './orders.errors.js';
import type { BasketLinesTable, BasketsTable } from './orders.tables.js';
import type { LicenceIssuer } from './licence-issuer.js';
import type { TermHooks } from './terms.js';
import { purgeStaleBaskets } from './orders.repository.js';

export const MAX_QUANTITY = 100;
const MAX_LINES = 30;

export function parseQuantity(raw: unknown): number {
  const s = typeof raw === 'string' ? raw.trim() : '';
  if (!/^\d{1,3}$/.test(s)) throw new InvalidQuantity();
  const n = Number(s);
  if (n < 1 || n > MAX_QUANTITY) throw new InvalidQuantity();
  return n;
}

export function parseCurrency(raw: unknown): Currency {
  if (typeof raw !== 'string' || !(CURRENCIES as readonly string[]).includes(raw)) throw new InvalidCurrency();
  return raw as Currency;
}

export interface Basket { row: BasketsTable; lines: BasketLinesTable[] }

export interface PricedLine {
  line: BasketLinesTable;
  sale: PlanForSale;
  unitNet: number;
}

export interface PricedBasket { basket: Basket; lines: PricedLine[]; percentOff: number; totals: Totals; problems: string[] }

/**
 * The basket: one row per browser session, found by the SHA-256 of the random token in the browser's
 * session cookie. Prices are never stored here; they are read from the catalogue every time.
 */
export class BasketService {
  constructor(private readonly k: Kernel, private readonly issuer: LicenceIssuer, private readonly terms: TermHooks | null = null) {}

  /** Upgrades and new add-ons for a licence mid-term are priced pro rata by subscriptions (orders/terms.ts). */
  async termPrice(db: Db, sale: PlanForSale, licenceId: string | null): Promise<{ unitNet: number; termEnd: number | null } | null> {
    const kind = sale.plan.kind;
    if (!this.terms || !licenceId || sale.unitNet === null || (kind !== 'upgrade' && kind !== 'addon')) return null;
    return this.terms.priceForLicence(db, { kind, licenceId, addonCode: sale.plan.addon_code, fullPrice: sale.unitNet, now: this.k.clock.now() });
  }

  async find(token: string | undefined, db: Db = this.k.db): Promise<Basket | null> {
    if (!token || !/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
    const row = await db.selectFrom('baskets').selectAll().where('token_hash', '=', sha256Hex(token)).executeTakeFirst();
    if (!row) return null;
    const lines = await db.selectFrom('basket_lines').selectAll().where('basket_id', '=', row.id).orderBy('created_at').orderBy('id').execute();
    return { row, lines };
  }

  /** Adds a plan; creates the basket (and returns its new token) only now, when the first item goes in. */
  async add(token: string | undefined, input: { planId?: string; quantity?: string; currency?: string; licenceId?: string }, customerId: string | null): Promise<{ token: string; created: boolean }> {
    const quantity = parseQuantity(input.quantity ?? '1');
    const existing = await this.find(token);
    const currency = existing?.row.currency ?? parseCurrency(input.currency ?? 'GBP');
    const sale = (await plansForSale(this.k.db, [String(input.planId ?? '')], currency)).get(String(input.planId ?? ''));
    if (!sale) throw new UnknownPlan();
    if (sale.unitNet === null) throw new NoPrice(sale.plan.name, currency);
    const targetLicenceId = await this.checkTarget(sale, input.licenceId || null, customerId, quantity);
    if (existing && existing.lines.length >= MAX_LINES) throw new InvalidOrderInput(`A basket holds at most ${MAX_LINES} different items.`);
    const now = this.k.clock.now();
    let newToken: string | null = null;
    await this.k.db.transaction().execute(async (trx) => {
      let basketId = existing?.row.id;
      if (!basketId) {
        newToken = randomToken(32);
        basketId = newId();
        await trx.insertInto('baskets').values({ id: basketId, token_hash: sha256Hex(newToken), currency, coupon_code: null, version: 0, created_at: now, updated_at: now }).execute();
      }
      const same = existing?.lines.find((l) => l.plan_id === sale.plan.id && l.target_licence_id === targetLicenceId);
      if (same && !targetLicenceId) {
        await trx.updateTable('basket_lines').set({ quantity: Math.min(MAX_QUANTITY, same.quantity + quantity) }).where('id', '=', same.id).execute();
      } else if (!same) {
        await trx.insertInto('basket_lines').values({ id: newId(), basket_id: basketId, plan_id: sale.plan.id, quantity, target_licence_id: targetLicenceId, created_at: now }).execute();
      }
      await this.touch(trx, basketId, now);
    });
    return newToken ? { token: newToken, created: true } : { token: token!, created: false };
  }

  /**
   * Upgrades and renewals name one of the buyer's licences, on the right product and tier; add-ons may
   * name one or ride along with a new licence in the same order. Quantities for a named licence are 1.
   */
  async checkTarget(sale: PlanForSale, licenceId: string | null, customerId: string | null, quantity: number, db: Db = this.k.db): Promise<string | null> {
    const kind = sale.plan.kind;
    if (kind === 'perpetual') return null;
    if (!licenceId) {
      if (kind === 'addon') return null;
      throw new LicenceNotYours();
    }
    if (!customerId || quantity !== 1) throw new LicenceNotYours();
    const lic = await this.issuer.find(db, licenceId);
    if (!lic || lic.customerId !== customerId || lic.productCode !== sale.product.code) throw new LicenceNotYours();
    if (kind === 'upgrade' && lic.maxUsers !== sale.fromTier?.max_users) throw new LicenceNotYours();
    if (kind === 'renewal' && lic.maxUsers !== sale.tier?.max_users) throw new LicenceNotYours();
    if (lic.status !== 'active') throw new LicenceNotActive();
    return lic.licenceId;
  }

  async setQuantity(token: string | undefined, lineId: string, raw: string | undefined): Promise<void> {
    const b = await this.require(token);
    const line = b.lines.find((l) => l.id === lineId);
    if (!line) return;
    const q = parseQuantity(raw);
    if (line.target_licence_id && q !== 1) throw new InvalidQuantity();
    await this.k.db.transaction().execute(async (trx) => {
      await trx.updateTable('basket_lines').set({ quantity: q }).where('id', '=', lineId).where('basket_id', '=', b.row.id).execute();
      await this.touch(trx, b.row.id, this.k.clock.now());
    });
  }

  /** Removes a line; an emptied basket is deleted, and the caller clears the cookie. Returns whether it still exists. */
  async remove(token: string | undefined, lineId: string): Promise<boolean> {
    const b = await this.find(token);
    if (!b) return false;
    return this.k.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('basket_lines').where('id', '=', lineId).where('basket_id', '=', b.row.id).execute();
      const left = await trx.selectFrom('basket_lines').select('id').where('basket_id', '=', b.row.id).execute();
      if (left.length === 0) { await trx.deleteFrom('baskets').where('id', '=', b.row.id).execute(); return false; }
      await this.touch(trx, b.row.id, this.k.clock.now());
      return true;
    });
  }

  async setCurrency(token: string | undefined, raw: string | undefined): Promise<void> {
    const b = await this.require(token);
    const currency = parseCurrency(raw);
    await this.k.db.updateTable('baskets').set({ currency, version: b.row.version + 1, updated_at: this.k.clock.now() }).where('id', '=', b.row.id).execute();
  }

  async applyCoupon(token: string | undefined, raw: string | undefined): Promise<void> {
    const b = await this.require(token);
    const code = (raw ?? '').trim().toUpperCase();
    if (code && !(await activeCoupon(this.k.db, code, this.k.clock.now()))) throw new UnknownCoupon();
    await this.k.db.updateTable('baskets').set({ coupon_code: code || null, version: b.row.version + 1, updated_at: this.k.clock.now() }).where('id', '=', b.row.id).execute();
  }

  /** Prices the basket from the catalogue at `rateBp` (0 for a net-only view); lists lines that can no longer be bought. */
  async price(b: Basket, rateBp: number, db: Db = this.k.db): Promise<PricedBasket> {
    const sales = await plansForSale(db, b.lines.map((l) => l.plan_id), b.row.currency);
    const coupon = b.row.coupon_code ? await activeCoupon(db, b.row.coupon_code, this.k.clock.now()) : null;
    const percentOff = coupon?.percent_off ?? 0;
    const problems: string[] = [];
    const lines: PricedLine[] = [];
    for (const line of b.lines) {
      const sale = sales.get(line.plan_id);
      if (!sale || sale.unitNet === null) { problems.push('An item in your basket is no longer sold in this currency; remove it to continue.'); continue; }
      lines.push({ line, sale, unitNet: (await this.termPrice(db, sale, line.target_licence_id))?.unitNet ?? sale.unitNet });
    }
    if (b.row.coupon_code && !coupon) problems.push(`The coupon ${b.row.coupon_code} is no longer valid.`);
    const totals = computeTotals(lines.map((l) => ({ unitNet: l.unitNet, quantity: l.line.quantity, percentOff, rateBp })));
    return { basket: b, lines, percentOff, totals, problems };
  }

  /** Baskets die with the browser session; rows nobody touched for a week are removed by a daily job. */
  purgeStale(): Promise<number> {
    return purgeStaleBaskets(this.k.db, this.k.clock.now());
  }

  private async require(token: string | undefined): Promise<Basket> {
    const b = await this.find(token);
    if (!b) throw new EmptyBasket();
    return b;
  }

  private async touch(trx: Db, basketId: string, now: number): Promise<void> {
    const row = await trx.selectFrom('baskets').select('version').where('id', '=', basketId).executeTakeFirstOrThrow();
    await trx.updateTable('baskets').set({ version: row.version + 1, updated_at: now }).where('id', '=', basketId).execute();
  }
}
