import { COUNTRIES, normaliseCountry } from './tax.js';
import { InvalidOrderInput } from './orders.errors.js';

/** The billing details of an order, validated; the VAT number is checked by the tax decision. */
export interface BillingDetails {
  name: string; company: string | null; line1: string; line2: string | null; city: string; region: string | null;
  postcode: string | null; country: string; phone: string; vatNumber: string | null;
}

export class FieldError extends InvalidOrderInput {
  constructor(message: string, readonly field: string) { super(message); }
}

export function parseBilling(input: Record<string, string | undefined>): BillingDetails {
  const req = (k: string, label: string, max = 200) => {
    const v = (input[k] ?? '').trim();
    if (!v) throw new FieldError(`Enter ${label}.`, k);
    if (v.length > max) throw new FieldError(`${label[0]!.toUpperCase()}${label.slice(1)} is too long (at most ${max} characters).`, k);
    return v;
  };
  const opt = (k: string, max = 200) => {
    const v = (input[k] ?? '').trim();
    if (v.length > max) throw new FieldError(`That is too long (at most ${max} characters).`, k);
    return v || null;
  };
  let country: string;
  try { country = normaliseCountry(input.country); } catch { throw new FieldError('Choose your country from the list.', 'country'); }
  const phone = req('phone', 'a telephone number', 40);
  if (!/^\+?[0-9 ()\-.]{6,40}$/.test(phone)) throw new FieldError('Enter a telephone number using digits, spaces and an optional leading +.', 'phone');
  const postcode = opt('postcode', 20);
  if (country === 'GB' && !postcode) throw new FieldError('Enter your postcode.', 'postcode');
  return {
    name: req('billing_name', 'the name to put on the invoice'), company: opt('company'), line1: req('line1', 'the first line of the address'),
    line2: opt('line2'), city: req('city', 'the town or city', 100), region: opt('region', 100), postcode, country, phone,
    vatNumber: opt('vat_number', 30),
  };
}

export function addressLines(b: { line1: string; line2: string | null; city: string; region: string | null; postcode: string | null; country: string }): string[] {
  return [b.line1, b.line2 ?? '', b.city, [b.region, b.postcode].filter(Boolean).join(' '), COUNTRIES[b.country] ?? b.country].filter(Boolean);
}
