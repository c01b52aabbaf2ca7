import { InvalidCountry, InvalidVatNumber, VatEvidenceMissing } from './orders.errors.js';

/**
 * The VAT decision for a UK seller of downloaded software, as a pure function (domain-notes.md, VAT):
 *  - UK buyers pay UK VAT, business or not;
 *  - EU businesses with a VAT number in their country's format are outside the scope of UK VAT: the
 *    buyer accounts for VAT (reverse charge);
 *  - EU consumers pay their own country's rate (one-stop shop);
 *  - everyone else is outside the scope of UK VAT.
 * Rates are basis points (2000 = 20%) from the table staff edit, so 25.5% is exact.
 */
export type TaxTreatment = 'uk_vat' | 'eu_reverse_charge' | 'eu_oss' | 'outside_scope';

export const EU_COUNTRIES = ['AT', 'BE', 'BG', 'CY', 'CZ', 'DE', 'DK', 'EE', 'ES', 'FI', 'FR', 'GR', 'HR', 'HU', 'IE', 'IT', 'LT', 'LU', 'LV', 'MT', 'NL', 'PL', 'PT', 'RO', 'SE', 'SI', 'SK'] as const;

/** VAT number formats without the country prefix (the EU's VIES formats; HMRC's for GB). */
const VAT_FORMATS: Record<string, RegExp> = {
  AT: /^U\d{8}$/, BE: /^[01]\d{9}$/, BG: /^\d{9,10}$/, CY: /^\d{8}[A-Z]$/, CZ: /^\d{8,10}$/, DE: /^\d{9}$/, DK: /^\d{8}$/,
  EE: /^\d{9}$/, GR: /^\d{9}$/, ES: /^[A-Z0-9]\d{7}[A-Z0-9]$/, FI: /^\d{8}$/, FR: /^[A-HJ-NP-Z0-9]{2}\d{9}$/, HR: /^\d{11}$/,
  HU: /^\d{8}$/, IE: /^(\d{7}[A-W][A-I]?|\d[A-Z+*]\d{5}[A-W])$/, IT: /^\d{11}$/, LT: /^(\d{9}|\d{12})$/, LU: /^\d{8}$/,
  LV: /^\d{11}$/, MT: /^\d{8}$/, NL: /^\d{9}B\d{2}$/, PL: /^\d{10}$/, PT: /^\d{9}$/, RO: /^\d{2,10}$/, SE: /^\d{10}01$/,
  SI: /^\d{8}$/, SK: /^\d{10}$/, GB: /^(\d{9}|\d{12}|GD\d{3}|HA\d{3})$/,
};
/** Greece's VAT numbers carry EL, not its ISO code GR. */
const VAT_PREFIX = (country: string) => (country === 'GR' ? 'EL' : country);

/** Countries a buyer can choose; the EU, the UK and the vendor's usual export markets. */
export const COUNTRIES: Record<string, string> = {
  GB: 'United Kingdom', AT: 'Austria', BE: 'Belgium', BG: 'Bulgaria', HR: 'Croatia', CY: 'Cyprus', CZ: 'Czechia', DK: 'Denmark',
  EE: 'Estonia', FI: 'Finland', FR: 'France', DE: 'Germany', GR: 'Greece', HU: 'Hungary', IE: 'Ireland', IT: 'Italy', LV: 'Latvia',
  LT: 'Lithuania', LU: 'Luxembourg', MT: 'Malta', NL: 'Netherlands', PL: 'Poland', PT: 'Portugal', RO: 'Romania', SK: 'Slovakia',
  SI: 'Slovenia', ES: 'Spain', SE: 'Sweden', US: 'United States', CA: 'Canada', AU: 'Australia', NZ: 'New Zealand', CH: 'Switzerland',
  NO: 'Norway', IS: 'Iceland', LI: 'Liechtenstein', JP: 'Japan', IN: 'India', SG: 'Singapore', ZA: 'South Africa', BR: 'Brazil',
  MX: 'Mexico', AE: 'United Arab Emirates', IL: 'Israel', TR: 'Türkiye', UA: 'Ukraine', KR: 'South Korea', HK: 'Hong Kong',
  MY: 'Malaysia', PH: 'Philippines', AR: 'Argentina', CL: 'Chile', SA: 'Saudi Arabia', EG: 'Egypt', NG: 'Nigeria', KE: 'Kenya',
  GG: 'Guernsey', JE: 'Jersey', IM: 'Isle of Man', GI: 'Gibraltar',
};

export function normaliseCountry(raw: unknown): string {
  const c = typeof raw === 'string' ? raw.trim().toUpperCase() : '';
  const code = c === 'UK' ? 'GB' : c;
  if (!COUNTRIES[code]) throw new InvalidCountry();
  return code;
}

/** A VAT number as the buyer typed it → `DE123456789` form; throws when it cannot be one for that country. */
export function normaliseVatNumber(country: string, raw: string): string {
  const prefix = VAT_PREFIX(country);
  let s = raw.toUpperCase().replace(/[\s.\-/]/g, '');
  if (s.length > 20) throw new InvalidVatNumber(country);
  if (s.startsWith(prefix)) s = s.slice(prefix.length);
  else if (/^[A-Z]{2}/.test(s) && !VAT_FORMATS[country]?.test(s)) throw new InvalidVatNumber(country);
  const format = VAT_FORMATS[country];
  if (!format || !format.test(s)) throw new InvalidVatNumber(country);
  return prefix + s;
}

/** The VAT number (UK and EU, checked) or other tax id (kept tidy) of a buyer in `country`; null when empty. */
export function normaliseTaxId(country: string, raw: string | null | undefined): string | null {
  const s = (raw ?? '').trim();
  if (!s) return null;
  return (EU_COUNTRIES as readonly string[]).includes(country) || country === 'GB' ? normaliseVatNumber(country, s) : foreignTaxId(s);
}

/** A tax id from outside the UK and EU: not checked (it changes no VAT), only kept tidy for the invoice. */
function foreignTaxId(raw: string): string {
  const s = raw.trim().toUpperCase().replace(/\s+/g, ' ');
  if (s.length > 30 || !/^[A-Z0-9][A-Z0-9 .\-/]*$/.test(s)) throw new InvalidVatNumber('your country');
  return s;
}

/** International calling codes of the UK and the EU countries (one code each; the evidence is the prefix). */
export const CALLING_CODES: Readonly<Record<string, string>> = {
  GB: '44', AT: '43', BE: '32', BG: '359', CY: '357', CZ: '420', DE: '49', DK: '45', EE: '372', ES: '34', FI: '358', FR: '33',
  GR: '30', HR: '385', HU: '36', IE: '353', IT: '39', LT: '370', LU: '352', LV: '371', MT: '356', NL: '31', PL: '48', PT: '351',
  RO: '40', SE: '46', SI: '386', SK: '421',
};

/** Longest code first: +358 (Finland) is tried before any shorter code it starts with. */
const CODES_LONGEST_FIRST = Object.entries(CALLING_CODES).sort((a, b) => b[1].length - a[1].length);

/**
 * The country a telephone number's international prefix points to, as location evidence for VAT:
 * a UK or EU country when the prefix is one of theirs, 'other' for any other international number,
 * null for a number written without its country code (which says nothing about the country).
 */
export function phoneCountry(phone: string): { prefix: string | null; country: string | null } {
  const compact = phone.replace(/[\s().\-]/g, '');
  const digits = compact.startsWith('+') ? compact.slice(1) : compact.startsWith('00') ? compact.slice(2) : null;
  if (digits === null || !/^\d{6,}$/.test(digits)) return { prefix: null, country: null };
  const hit = CODES_LONGEST_FIRST.find(([, code]) => digits.startsWith(code));
  return hit ? { prefix: `+${hit[1]}`, country: hit[0] } : { prefix: `+${digits.slice(0, 3)}`, country: 'other' };
}

export interface TaxInput {
  country: string;
  vatNumber?: string | null;
  /** Country → basis points, from the rates table (GB included). */
  ratesBp: Record<string, number>;
  /** Further location evidence the caller has (e.g. the country of the phone number's prefix). */
  evidence?: Record<string, string | null>;
  /**
   * The buyer's telephone number: for an EU consumer (VAT of their country, one-stop shop) its country
   * code is the second, non-contradictory piece of location evidence beside the billing country, and
   * is required when `requireSecondEvidence` (web checkout; staff taking an order by phone judge it).
   */
  phone?: string;
  requireSecondEvidence?: boolean;
  now: number;
}

export interface TaxDecision {
  treatment: TaxTreatment;
  rateBp: number;
  country: string;
  vatNumber: string | null;
  /** Wording the invoice must carry, if any. */
  notice: string | null;
  evidence: Record<string, unknown>;
}

export const REVERSE_CHARGE_NOTICE = 'Reverse charge: the customer accounts for VAT (Article 196, Council Directive 2006/112/EC). Outside the scope of UK VAT.';
export const OUTSIDE_SCOPE_NOTICE = 'Outside the scope of UK VAT.';

export function decideTax(input: TaxInput): TaxDecision {
  const country = normaliseCountry(input.country);
  const raw = (input.vatNumber ?? '').trim();
  const isEu = (EU_COUNTRIES as readonly string[]).includes(country);
  const vatNumber = normaliseTaxId(country, raw);
  const phone = input.phone === undefined ? null : phoneCountry(input.phone);
  const evidence = {
    billingCountry: country, vatNumber, vatNumberFormatValid: vatNumber !== null && (isEu || country === 'GB') ? true : null,
    ...(phone ? { phonePrefix: phone.prefix, phoneCountry: phone.country, evidenceAgrees: phone.country === country } : {}),
    ...input.evidence, decidedAt: input.now, rules: 'uk-seller-2026-2',
  };
  const rate = (c: string) => {
    const r = input.ratesBp[c];
    if (r === undefined) throw new InvalidCountry(`We cannot sell to ${COUNTRIES[c] ?? c} yet: its VAT rate is not set. Please contact us.`);
    return r;
  };
  if (country === 'GB') return { treatment: 'uk_vat', rateBp: rate('GB'), country, vatNumber, notice: null, evidence };
  if (isEu && vatNumber) return { treatment: 'eu_reverse_charge', rateBp: 0, country, vatNumber, notice: REVERSE_CHARGE_NOTICE, evidence };
  if (isEu) {
    if (input.requireSecondEvidence && phone?.country !== country) throw new VatEvidenceMissing(COUNTRIES[country] ?? country, `+${CALLING_CODES[country]}`);
    return { treatment: 'eu_oss', rateBp: rate(country), country, vatNumber: null, notice: null, evidence };
  }
  return { treatment: 'outside_scope', rateBp: 0, country, vatNumber, notice: OUTSIDE_SCOPE_NOTICE, evidence };
}

/** Default standard rates (basis points), loaded by the orders migration; staff edit them in the admin. */
export const DEFAULT_RATES_BP: Record<string, number> = {
  GB: 2000, AT: 2000, BE: 2100, BG: 2000, CY: 1900, CZ: 2100, DE: 1900, DK: 2500, EE: 2400, GR: 2400, ES: 2100, FI: 2550,
  FR: 2000, HR: 2500, HU: 2700, IE: 2300, IT: 2200, LT: 2100, LU: 1700, LV: 2100, MT: 1800, NL: 2100, PL: 2300, PT: 2300,
  RO: 2100, SE: 2500, SI: 2200, SK: 2300,
};
