import type { Settings } from '../../kernel/settings/settings.js';
import type { Db } from '../../kernel/db/database.js';
import { BRAND_SETTING, defaultBrand, type Brand } from '../../kernel/views/brand.js';
import { InvalidBillingInput } from './billing.errors.js';

/** Seller details printed on every invoice; name and address default to the vendor's brand. */
export interface SellerDetails { name: string; address: string; vatNumber: string; companyNumber: string }
/** Bank details printed on pro formas for payment by bank transfer. */
export interface BankDetails { accountName: string; bankName: string; sortCode: string; accountNumber: string; iban: string; bic: string; paymentTermsDays: number }
/** Sterling per unit of each currency × 10^6 (e.g. EUR 0.856123 → 856123), for VAT in sterling. */
export type ExchangeRates = Partial<Record<'EUR' | 'USD', number>>;

export const SELLER_SETTING = 'billing.seller';
export const BANK_SETTING = 'billing.bank';
export const RATES_SETTING = 'billing.exchange_rates';

/**
 * Loaders take the caller's transaction (`db`) because invoices and pro formas are made inside one: on
 * SQLite a read through the pool would wait for that very transaction.
 */
export async function loadBrandIn(settings: Settings, db?: Db): Promise<Brand> {
  return { ...defaultBrand, ...(await settings.get<Partial<Brand>>(BRAND_SETTING, {}, db)) };
}

export async function loadSeller(settings: Settings, db?: Db): Promise<SellerDetails> {
  const brand = await loadBrandIn(settings, db);
  return { name: brand.name, address: brand.address, vatNumber: '', companyNumber: '', ...(await settings.get<Partial<SellerDetails>>(SELLER_SETTING, {}, db)) };
}

export async function loadBank(settings: Settings, db?: Db): Promise<BankDetails> {
  return { accountName: '', bankName: '', sortCode: '', accountNumber: '', iban: '', bic: '', paymentTermsDays: 14, ...(await settings.get<Partial<BankDetails>>(BANK_SETTING, {}, db)) };
}

export async function loadExchangeRates(settings: Settings, db?: Db): Promise<ExchangeRates> {
  return settings.get<ExchangeRates>(RATES_SETTING, {}, db);
}

/** "0.856123" → 856123; at most six decimals, never through floats. */
export function parseRateMicros(raw: string | undefined, label: string): number | undefined {
  const s = (raw ?? '').trim();
  if (!s) return undefined;
  const m = /^(\d{1,4})(?:\.(\d{1,6}))?$/.exec(s);
  if (!m || (Number(m[1]) === 0 && !/[1-9]/.test(m[2] ?? ''))) throw new InvalidBillingInput(`${label} must be a positive number like 0.856123.`);
  return Number(m[1]) * 1_000_000 + Number((m[2] ?? '').padEnd(6, '0'));
}

export function formatRateMicros(micros: number | undefined): string {
  if (micros === undefined) return '';
  return `${Math.floor(micros / 1_000_000)}.${String(micros % 1_000_000).padStart(6, '0')}`;
}

/** The sterling exchange rates from the Billing form; an empty field removes that rate. */
export async function saveExchangeRates(settings: Settings, input: Record<string, string | undefined>, by: string): Promise<void> {
  const rates: ExchangeRates = {};
  const eur = parseRateMicros(input.rate_EUR, 'The EUR rate'); if (eur) rates.EUR = eur;
  const usd = parseRateMicros(input.rate_USD, 'The USD rate'); if (usd) rates.USD = usd;
  await settings.set(RATES_SETTING, rates, by);
}
