// A customer's own details in My account: name, company, telephone, invoice address and VAT number.
// Invoices copy the buyer's details when they are issued (billing), so a change here reaches future
// orders and invoices only: issued invoices keep the address they were issued to.

import type { Kernel } from '../../kernel/context.js';
import { InvalidInput } from './accounts.errors.js';
import * as repo from './accounts.repository.js';

/** Country list and tax-id rules, given by the shop (orders) so both forms accept the same things. */
export interface AddressRules {
  countries: Record<string, string>;
  /** An ISO code from `countries`; throws otherwise. */
  normaliseCountry(raw: unknown): string;
  /** The VAT number or tax id as printed on invoices, null when empty; throws when it cannot be one. */
  normaliseTaxId(country: string, raw: string): string | null;
}

export class ProfileFieldError extends InvalidInput {
  constructor(message: string, readonly field: string) { super(message); }
}

export interface ProfileInput {
  name?: string; company?: string; phone?: string; line1?: string; line2?: string; city?: string;
  region?: string; postcode?: string; country?: string; vat_number?: string;
}

export interface Profile {
  name: string; company: string | null; phone: string | null; address_line1: string | null; address_line2: string | null;
  city: string | null; region: string | null; postcode: string | null; country: string | null; vat_number: string | null;
}

const LIMITS: Record<keyof ProfileInput, number> = { name: 200, company: 200, phone: 40, line1: 200, line2: 200, city: 100, region: 100, postcode: 20, country: 4, vat_number: 30 };

/** Checks the form; every problem is a ProfileFieldError naming its field. */
export function parseProfile(input: ProfileInput, rules: AddressRules): Profile {
  const get = (k: keyof ProfileInput) => {
    const v = (input[k] ?? '').trim();
    if (v.length > LIMITS[k]) throw new ProfileFieldError(`That is too long (at most ${LIMITS[k]} characters).`, k);
    return v || null;
  };
  const name = get('name');
  if (!name) throw new ProfileFieldError('Enter your name.', 'name');
  const phone = get('phone');
  if (phone && !/^\+?[0-9 ()\-.]{6,40}$/.test(phone)) throw new ProfileFieldError('Enter a telephone number using digits, spaces and an optional leading +.', 'phone');
  const [line1, line2, city, region, postcode, countryRaw, vatRaw] = (['line1', 'line2', 'city', 'region', 'postcode', 'country', 'vat_number'] as const).map(get);
  const anyAddress = Boolean(line1 || line2 || city || region || postcode);
  let country: string | null = null;
  if (countryRaw || anyAddress || vatRaw) {
    try { country = rules.normaliseCountry(countryRaw); } catch { throw new ProfileFieldError('Choose your country from the list.', 'country'); }
  }
  if (anyAddress) {
    if (!line1) throw new ProfileFieldError('Enter the first line of the address.', 'line1');
    if (!city) throw new ProfileFieldError('Enter the town or city.', 'city');
    if (country === 'GB' && !postcode) throw new ProfileFieldError('Enter your postcode.', 'postcode');
  }
  let vat: string | null = null;
  if (vatRaw) {
    try { vat = rules.normaliseTaxId(country!, vatRaw); } catch (err) {
      throw new ProfileFieldError((err as Error).message || 'That is not a valid VAT number.', 'vat_number');
    }
  }
  return {
    name, company: get('company'), phone, address_line1: line1, address_line2: line2, city, region, postcode, country, vat_number: vat,
  };
}

export class ProfileService {
  constructor(private readonly k: Kernel, private readonly rules: AddressRules) {}

  get countries(): Record<string, string> { return this.rules.countries; }

  /** Saves the details; only the changed field names go in the audit log (never their values). */
  async update(customerId: string, input: ProfileInput, ip: string | null): Promise<{ changed: string[] }> {
    const next = parseProfile(input, this.rules);
    const current = await repo.customerById(this.k.db, customerId);
    if (!current) throw new InvalidInput('Your account was not found.');
    const changed = (Object.keys(next) as (keyof Profile)[]).filter((key) => (current[key] ?? null) !== next[key]);
    if (changed.length === 0) return { changed };
    await this.k.db.updateTable('customers').set({ ...next, updated_at: this.k.clock.now() }).where('id', '=', customerId).execute();
    await this.k.audit.record({ actorKind: 'customer', actorId: customerId, action: 'customer.profile_updated', target: customerId, detail: { fields: changed }, ip });
    return { changed };
  }
}
