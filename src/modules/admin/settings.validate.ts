// Validation of the settings forms: pure functions from the submitted fields to either the value to
// store or a message per field, so the form is shown again with each message beside its field.

import { EU_COUNTRIES } from '../orders/index.js';

export type Form = Record<string, string | undefined>;
export type Result<T> = { ok: true; value: T } | { ok: false; errors: Record<string, string> };

class Check {
  errors: Record<string, string> = {};
  constructor(private readonly form: Form) {}
  text(name: string, label: string, max: number, required = false): string {
    const v = (this.form[name] ?? '').trim();
    if (required && !v) this.errors[name] = `Enter the ${label}.`;
    else if (v.length > max) this.errors[name] = `The ${label} is at most ${max} characters.`;
    return v;
  }
  pattern(name: string, label: string, max: number, re: RegExp, example: string, normalise = (s: string) => s, required = false): string {
    const v = normalise(this.text(name, label, max, required));
    if (v && !this.errors[name] && !re.test(v)) this.errors[name] = `The ${label} must look like ${example}.`;
    return v;
  }
  int(name: string, label: string, min: number, max: number): number {
    const raw = (this.form[name] ?? '').trim();
    if (!/^\d{1,9}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      this.errors[name] = `The ${label} must be a whole number from ${min} to ${max}.`;
      return min;
    }
    return Number(raw);
  }
  done<T>(value: T): Result<T> {
    return Object.keys(this.errors).length ? { ok: false, errors: this.errors } : { ok: true, value };
  }
}

/** An address with one @ and a dot after it: enough to catch a slip; delivery proves the rest. */
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const compact = (s: string) => s.replace(/\s+/g, '').toUpperCase();

export interface BrandForm { name: string; tagline: string; primaryColor: string; supportEmail: string; address: string; footerText: string; showPoweredBy: boolean }

/** The vendor's identity on every page and email (kernel/views/brand.ts). */
export function validateBrand(f: Form): Result<BrandForm> {
  const c = new Check(f);
  const name = c.text('brand_name', 'name shown on pages and emails', 100, true);
  const tagline = c.text('tagline', 'tagline', 200);
  const primaryColor = c.pattern('primary_color', 'colour', 7, /^#[0-9a-f]{6}$/, '#1d4ed8', (s) => s.toLowerCase()) || '#1d4ed8';
  const supportEmail = c.pattern('support_email', 'support email address', 254, EMAIL, 'support@example.com', (s) => s.toLowerCase(), true);
  const address = c.text('brand_address', 'postal address', 300, true);
  const footerText = c.text('footer_text', 'footer text', 300);
  return c.done({ name, tagline, primaryColor, supportEmail, address, footerText, showPoweredBy: f.show_powered_by === '1' });
}

export interface ControllerForm { name: string; address: string; email: string; phone: string; supervisoryAuthority: { name: string; url: string } }

/** Who the privacy notice names as controller, and where people may complain (modules/privacy/notice.ts). */
export function validateController(f: Form): Result<ControllerForm> {
  const c = new Check(f);
  const name = c.text('controller_name', 'controller\'s name', 200, true);
  const address = c.text('controller_address', 'controller\'s address', 500, true);
  const email = c.pattern('controller_email', 'privacy contact address', 254, EMAIL, 'privacy@example.com', (s) => s.toLowerCase(), true);
  const phone = c.text('controller_phone', 'telephone number', 40);
  const authority = c.text('authority_name', 'supervisory authority', 200, true);
  const url = c.pattern('authority_url', 'address of the authority\'s complaint page', 500, /^https:\/\/[^\s]+$/, 'https://ico.org.uk/make-a-complaint/', (s) => s, true);
  return c.done({ name, address, email, phone, supervisoryAuthority: { name: authority, url } });
}

export interface ProcessorForm { id: string; name: string; service: string; country: string; contractRef: string; transferSafeguard?: string }

/**
 * Who receives personal data, one block of fields per processor id (`accounting_name` …): the vendor
 * names the companies and services they really use, so the notice says who gets what. The ids are the
 * declarations'; a processor outside the UK and EEA needs the safeguard for the transfer.
 */
export function validateProcessors(f: Form, ids: readonly string[]): Result<ProcessorForm[]> {
  const c = new Check(f);
  const out = ids.map((id) => {
    const name = c.text(`${id}_name`, 'company name', 200, true);
    const service = c.text(`${id}_service`, 'service', 300, true);
    const country = c.pattern(`${id}_country`, 'two-letter country code', 2, /^[A-Z]{2}$/, 'GB', (s) => s.toUpperCase(), true);
    const contractRef = c.text(`${id}_contract`, 'contract reference', 300, true);
    const transferSafeguard = c.text(`${id}_safeguard`, 'transfer safeguard', 500);
    if (country && !EEA_AND_UK.has(country) && !transferSafeguard) c.errors[`${id}_safeguard`] = 'Outside the UK and EEA: name the safeguard for the transfer (e.g. standard contractual clauses).';
    return { id, name, service, country, contractRef, ...(transferSafeguard ? { transferSafeguard } : {}) };
  });
  return c.done(out);
}

/** The UK, the EU and the other EEA states: no transfer safeguard needed. */
const EEA_AND_UK = new Set<string>(['GB', ...EU_COUNTRIES, 'IS', 'LI', 'NO']);

export interface Seller { name: string; address: string; vatNumber: string; companyNumber: string }
export function validateSeller(f: Form): Result<Seller> {
  const c = new Check(f);
  const name = c.text('name', 'seller\'s legal name', 200, true);
  const address = c.text('address', 'seller\'s address', 1000, true);
  const vatNumber = c.pattern('vat_number', 'VAT number', 20, /^GB(\d{9}|\d{12}|GD\d{3}|HA\d{3})$/, 'GB123456789', compact);
  const companyNumber = c.pattern('company_number', 'company number', 20, /^[A-Z0-9]{6,10}$/, '01234567 or SC123456', compact);
  return c.done({ name, address, vatNumber, companyNumber });
}

/** ISO 13616 check: move the first four characters to the end, letters to numbers, mod 97 must be 1. */
export function ibanValid(iban: string): boolean {
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(iban)) return false;
  const digits = (iban.slice(4) + iban.slice(0, 4)).replace(/[A-Z]/g, (ch) => String(ch.charCodeAt(0) - 55));
  let rem = 0;
  for (const d of digits) rem = (rem * 10 + Number(d)) % 97;
  return rem === 1;
}

export interface Bank { accountName: string; bankName: string; sortCode: string; accountNumber: string; iban: string; bic: string; paymentTermsDays: number }
export function validateBank(f: Form): Result<Bank> {
  const c = new Check(f);
  const accountName = c.text('account_name', 'account name', 200, true);
  const bankName = c.text('bank_name', 'bank\'s name', 200, true);
  const sortCode = c.pattern('sort_code', 'sort code', 20, /^\d{2}-\d{2}-\d{2}$/, '12-34-56', (s) => s.replace(/\s/g, '').replace(/^(\d{2})(\d{2})(\d{2})$/, '$1-$2-$3'));
  const accountNumber = c.pattern('account_number', 'account number', 20, /^\d{8}$/, '8 digits such as 12345678', (s) => s.replace(/\s/g, ''));
  const iban = compact(c.text('iban', 'IBAN', 42));
  if (iban && !c.errors.iban && !ibanValid(iban)) c.errors.iban = 'The IBAN is not valid: check for a typing mistake (it must look like GB29NWBK60161331926819).';
  const bic = c.pattern('bic', 'BIC', 20, /^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$/, 'NWBKGB2L', compact);
  if (!iban && !(sortCode && accountNumber) && !c.errors.sort_code && !c.errors.account_number) {
    c.errors.iban = 'Enter an IBAN, or a sort code and account number, so buyers can pay by bank transfer.';
  }
  const paymentTermsDays = c.int('payment_terms_days', 'payment term in days', 0, 120);
  return c.done({ accountName, bankName, sortCode, accountNumber, iban, bic, paymentTermsDays });
}

export interface Smtp { url?: string; from: string }
/** `url` empty keeps the stored URL (it may hold a password that is never shown again). */
export function validateSmtp(f: Form): Result<Smtp> {
  const c = new Check(f);
  const raw = c.text('url', 'SMTP URL', 500);
  let url: string | undefined;
  if (raw && !c.errors.url) {
    try {
      const u = new URL(raw);
      if (!['smtp:', 'smtps:'].includes(u.protocol) || !u.hostname) throw new Error('scheme');
      if (u.port && (Number(u.port) < 1 || Number(u.port) > 65535)) throw new Error('port');
      url = raw;
    } catch {
      c.errors.url = 'The SMTP URL must look like smtp://user:password@mail.example.com:587 or smtps://…:465.';
    }
  }
  const from = c.text('from', 'sender address', 300, true);
  const addr = /<([^<>]+)>$/.exec(from)?.[1] ?? from;
  if (from && !c.errors.from && !/^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/.test(addr)) c.errors.from = 'The sender must be an email address, optionally with a name: Example Ltd <sales@example.com>.';
  return c.done({ ...(url ? { url } : {}), from });
}

export interface Limits { perLicence: number; perIp: number; windowSeconds: number }
export function validateLimits(f: Form): Result<Limits> {
  const c = new Check(f);
  const perLicence = c.int('per_licence', 'limit per licence', 1, 1_000_000);
  const perIp = c.int('per_ip', 'limit per address', 1, 100_000_000);
  const windowSeconds = c.int('window_seconds', 'window', 1, 3600);
  if (!c.errors.per_licence && !c.errors.per_ip && perIp < perLicence) c.errors.per_ip = 'The limit per address must be at least the limit per licence (several licences share an office\'s address).';
  return c.done({ perLicence, perIp, windowSeconds });
}

export interface Retention { ipRetentionDays: number; ticketRetentionDays: number }
export function validateRetention(f: Form): Result<Retention> {
  const c = new Check(f);
  const ipRetentionDays = c.int('ip_days', 'call-home address retention', 1, 3650);
  const ticketRetentionDays = c.int('ticket_days', 'closed ticket retention', 1, 3650);
  return c.done({ ipRetentionDays, ticketRetentionDays });
}

/** Policy defaults for licences without their own value (stored as the licensing `Policy` fields). */
export interface PolicyDefaults { enforcement: 'flag' | 'deny'; userOverage: number; machineInactiveDays: number; offlineGraceDays: number; offlineFileDays: number; checkIntervalSeconds: number }
export function validatePolicyDefaults(f: Form): Result<PolicyDefaults> {
  const c = new Check(f);
  const enforcement = (f.enforcement ?? '').trim();
  if (enforcement !== 'flag' && enforcement !== 'deny') c.errors.enforcement = 'Choose to flag or to deny a computer over the limit.';
  const overageRaw = (f.user_overage ?? '').trim();
  let userOverage = 1;
  if (!/^\d{1,3}(\.\d{1,3})?$/.test(overageRaw) || Number(overageRaw) < 1 || Number(overageRaw) > 100) {
    c.errors.user_overage = 'The user overage must be a number from 1 to 100 with at most three decimals, e.g. 1.2 (20% over the licensed users).';
  } else userOverage = Number(overageRaw);
  const machineInactiveDays = c.int('machine_inactive_days', 'days before an unused computer frees its seat', 1, 3650);
  const offlineGraceDays = c.int('offline_grace_days', 'offline grace period in days', 0, 3650);
  const offlineFileDays = c.int('offline_file_days', 'offline licence file validity in days', 1, 3650);
  const checkIntervalSeconds = c.int('check_interval_seconds', 'check interval in seconds', 60, 31_536_000);
  return c.done({ enforcement: enforcement as 'flag' | 'deny', userOverage, machineInactiveDays, offlineGraceDays, offlineFileDays, checkIntervalSeconds });
}
