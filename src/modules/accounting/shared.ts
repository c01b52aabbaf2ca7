import { allDeclarations, buildRegistry } from '../privacy/index.js';
import type { PrivacyDeclarations } from '../../kernel/privacy/types.js';
import { FieldNotShared } from './accounting.errors.js';

/** The processor id the privacy registry uses for the vendor's accounting system. */
export const ACCOUNTING_RECIPIENT = 'accounting';

/**
 * What may leave the system for the accounting processor, derived from the privacy declarations:
 * a column declared not personal, or a personal column whose recipients include the accounting
 * processor. Anything else (an undeclared column, or a personal one not shared) is refused.
 */
export function shareableColumns(decls: PrivacyDeclarations[] = allDeclarations): { personal: Set<string>; notPersonal: Set<string> } {
  const reg = buildRegistry(decls);
  const personal = new Set<string>();
  for (const f of reg.fields) {
    if ('table' in f.location && f.recipients.includes(ACCOUNTING_RECIPIENT)) personal.add(`${f.location.table}.${f.location.column}`);
  }
  return { personal, notPersonal: new Set(reg.notPersonal.map((n) => `${n.table}.${n.column}`)) };
}

/** Throws FieldNotShared for the first source column that may not go to the accounting processor. */
export function assertShareable(sources: Iterable<string>, decls?: PrivacyDeclarations[]): void {
  const ok = shareableColumns(decls);
  for (const s of sources) if (!ok.personal.has(s) && !ok.notPersonal.has(s)) throw new FieldNotShared(s);
}

/**
 * A document as the accounting exports see it. Every key names the one column it is read from, and
 * the formats (and the webhook) read nothing else: this map is what the privacy test holds against
 * the declarations. `settings.*` and `derived.*` sources are the vendor's own configuration or
 * figures computed from the listed columns.
 */
export const DOCUMENT_SOURCES = {
  id: 'invoices.id',
  kind: 'invoices.kind',
  number: 'invoices.number',
  issueDate: 'invoices.issue_date',
  taxPoint: 'invoices.tax_point',
  currency: 'invoices.currency',
  orderReference: 'invoices.order_reference',
  customerRef: 'invoices.customer_id',
  contactName: 'invoices.buyer_name',
  contactCompany: 'invoices.buyer_company',
  contactEmail: 'invoices.buyer_email',
  contactAddress: 'invoices.buyer_address',
  contactCountry: 'invoices.buyer_country',
  contactVatNumber: 'invoices.buyer_vat_number',
  taxTreatment: 'invoices.tax_treatment',
  creditedNumber: 'invoices.credited_invoice_number',
  creditedDate: 'invoices.credited_invoice_date',
  totalNet: 'invoices.total_net',
  totalTax: 'invoices.total_tax',
  totalGross: 'invoices.total_gross',
  gbpRateMicros: 'invoices.gbp_rate_micros',
  orderId: 'invoices.order_id',
} as const;

/**
 * The buyer's address in parts, from the order the document was made for (the invoice keeps it as
 * printed lines, which no importer can split back into street, town and postcode).
 */
export const POSTAL_SOURCES = {
  street1: 'orders.billing_address_line1',
  street2: 'orders.billing_address_line2',
  city: 'orders.billing_city',
  region: 'orders.billing_region',
  postcode: 'orders.billing_postcode',
} as const;

export type SharedPostal = { [K in keyof typeof POSTAL_SOURCES]: string };

export const LINE_SOURCES = {
  lineNo: 'invoice_lines.line_no',
  sku: 'invoice_lines.sku',
  description: 'invoice_lines.description',
  quantity: 'invoice_lines.quantity',
  unitNet: 'invoice_lines.unit_net',
  discount: 'invoice_lines.discount',
  net: 'invoice_lines.net',
  taxRateBp: 'invoice_lines.tax_rate_bp',
  tax: 'invoice_lines.tax',
} as const;

export const PAYMENT_SOURCES = {
  id: 'payments.id',
  at: 'payments.updated_at',
  amount: 'payments.amount',
  currency: 'payments.currency',
  provider: 'payments.provider',
} as const;

/** Money paid back: each refund, dated when it was made, against its credit note. */
export const REFUND_SOURCES = {
  id: 'refunds.id',
  at: 'refunds.created_at',
  amount: 'refunds.amount',
  creditNote: 'refunds.credit_note_id',
  payment: 'refunds.payment_id',
} as const;

export type SharedLine = { [K in keyof typeof LINE_SOURCES]: K extends 'sku' | 'description' ? string : number };

export interface SharedDocument {
  id: string; kind: 'invoice' | 'credit_note'; number: number; issueDate: number; taxPoint: number; currency: string;
  orderReference: string; customerRef: string; contactName: string; contactCompany: string | null; contactEmail: string;
  contactAddress: string; contactCountry: string; contactVatNumber: string | null; taxTreatment: string;
  creditedNumber: number | null; creditedDate: number | null; totalNet: number; totalTax: number; totalGross: number;
  gbpRateMicros: number; orderId: string;
  /** Days from the issue date to the due date: 0 for documents paid at issue, the terms for invoices on account. */
  dueDays: number;
  /** The address in parts; null when the order is gone (then only contactAddress, as printed). */
  postal: SharedPostal | null;
  lines: SharedLine[];
}

/**
 * Money received (`payment`, against the invoice) or paid back (`refund`: a negative amount, against
 * the credit note that records it; `credits` is the invoice that note credits).
 */
export interface SharedPayment {
  kind: 'payment' | 'refund'; id: string; at: number; amount: number; currency: string; provider: string;
  invoiceNumber: number; credits: number | null; customerRef: string; contactName: string; contactCompany: string | null;
}

/** Every column the exports and the webhook read. */
export function allSources(): string[] {
  return [...Object.values(DOCUMENT_SOURCES), ...Object.values(POSTAL_SOURCES), ...Object.values(LINE_SOURCES), ...Object.values(PAYMENT_SOURCES), ...Object.values(REFUND_SOURCES)];
}

/**
 * The webhook's JSON payload, key path by key path (arrays as `[]`): the only keys it may carry. A
 * payload with any other key is refused before it is signed.
 */
export const PAYLOAD_KEYS = new Set([
  'event', 'sent_at', 'document', 'document.type', 'document.id', 'document.number', 'document.date', 'document.tax_point', 'document.due_date',
  'document.currency', 'document.reference', 'document.tax_treatment', 'document.credits', 'document.credits.number', 'document.credits.date',
  'document.contact', 'document.contact.reference', 'document.contact.name', 'document.contact.company', 'document.contact.email',
  'document.contact.address', 'document.contact.country', 'document.contact.vat_number',
  'document.lines', 'document.lines[]', 'document.lines[].sku', 'document.lines[].description', 'document.lines[].quantity', 'document.lines[].unit_net',
  'document.lines[].discount', 'document.lines[].net', 'document.lines[].tax_rate_percent', 'document.lines[].tax',
  'document.totals', 'document.totals.net', 'document.totals.tax', 'document.totals.gross', 'document.gbp_rate',
]);

export function payloadKeyPaths(v: unknown, prefix = ''): string[] {
  if (Array.isArray(v)) return [prefix + '[]', ...v.flatMap((x) => payloadKeyPaths(x, prefix + '[]').filter((p) => p !== prefix + '[]'))];
  if (v && typeof v === 'object') {
    return Object.entries(v).flatMap(([k, x]) => {
      const p = prefix ? `${prefix}.${k}` : k;
      return [p, ...payloadKeyPaths(x, p).filter((q) => q !== p)];
    });
  }
  return [];
}

/** Throws FieldNotShared when a payload carries a key outside PAYLOAD_KEYS. */
export function assertPayloadKeys(payload: unknown): void {
  for (const p of payloadKeyPaths(payload)) if (!PAYLOAD_KEYS.has(p)) throw new FieldNotShared(`payload key ${p}`);
}
