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

/** Every problem of a form at once, by field: a form that names one problem a time takes many tries. */
export class FieldErrors extends InvalidOrderInput {
  constructor(readonly fields: Record<string, string>) { super(Object.values(fields)[0]!); }
}

/**
 * The problems by field when `err` is a FieldErrors, else null. Not `instanceof`: @fastify/error's
 * classes answer it by error code, so every ORD_INVALID_INPUT error would pass.
 */
export function fieldErrorsOf(err: unknown): Record<string, string> | null {
  const fields = (err as { fields?: unknown } | null)?.fields;
  return fields && typeof fields === 'object' ? fields as Record<string, string> : null;
}

export function parseBilling(input: Record<string, string | undefined>): BillingDetails {
  const problems: Record<string, string> = {};
  const req = (k: string, label: string, max = 200) => {
    const v = (input[k] ?? '').trim();
    if (!v) problems[k] = `Enter ${label}.`;
    else if (v.length > max) problems[k] = `${label[0]!.toUpperCase()}${label.slice(1)} is too long (at most ${max} characters).`;
    return v;
  };
  const opt = (k: string, max = 200) => {
    const v = (input[k] ?? '').trim();
    if (v.length > max) problems[k] = `That is too long (at most ${max} characters).`;
    return v || null;
  };
  const name = req('billing_name', 'the name to put on the invoice');
  const company = opt('company');
  const line1 = req('line1', 'the first line of the address');
  const line2 = opt('line2');
  const city = req('city', 'the town or city', 100);
  const region = opt('region', 100);
  const postcode = opt('postcode', 20);
  let country = '';
  try { country = normaliseCountry(input.country); } catch { problems.country = 'Choose your country from the list.'; }
  if (country === 'GB' && !postcode && !problems.postcode) problems.postcode = 'Enter your postcode.';
  const phone = req('phone', 'a telephone number', 40);
  if (phone && !problems.phone && !/^\+?[0-9 ()\-.]{6,40}$/.test(phone)) problems.phone = 'Enter a telephone number using digits, spaces and an optional leading +.';
  const vatNumber = opt('vat_number', 30);
  if (Object.keys(problems).length) throw new FieldErrors(problems);
  return { name, company, line1, line2, city, region, postcode, country, phone, vatNumber };
}

export function addressLines(b: { line1: string; line2: string | null; city: string; region: string | null; postcode: string | null; country: string }): string[] {
  return [b.line1, b.line2 ?? '', b.city, [b.region, b.postcode].filter(Boolean).join(' '), COUNTRIES[b.country] ?? b.country].filter(Boolean);
}
