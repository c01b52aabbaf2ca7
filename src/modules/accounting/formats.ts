import type { SharedDocument, SharedLine, SharedPayment } from './shared.js';

/**
 * The export formats, as pure functions of the shared documents (shared.ts): one CSV row per invoice
 * line, lines of one document sharing its number; credit notes as negative invoices (domain notes).
 * Column names and rules follow /shared/reference/domain-notes.md and the importers' documentation.
 */
export type FormatId = 'xero' | 'quickbooks' | 'freeagent' | 'kashflow' | 'kashflow_customers' | 'ledger' | 'payments';

export const FORMAT_LABELS: Record<FormatId, string> = {
  xero: 'Xero (sales invoice import CSV)',
  quickbooks: 'QuickBooks Online (invoice import CSV)',
  freeagent: 'FreeAgent (API invoice bodies, one JSON object a line)',
  kashflow: 'KashFlow (invoice import CSV)',
  kashflow_customers: 'KashFlow customers (import before the invoices)',
  ledger: 'Keyward ledger (invoices, credit notes and payments)',
  payments: 'Payments received (receipts against invoice numbers)',
};

export type TaxKey = 'uk_standard' | 'uk_zero' | 'eu_reverse_charge' | 'eu_oss' | 'outside_scope';
export const TAX_KEYS: TaxKey[] = ['uk_standard', 'uk_zero', 'eu_reverse_charge', 'eu_oss', 'outside_scope'];
export const TAX_KEY_LABELS: Record<TaxKey, string> = {
  uk_standard: 'UK VAT at a positive rate', uk_zero: 'UK VAT at 0%', eu_reverse_charge: 'EU business (reverse charge)',
  eu_oss: 'EU consumer (one-stop shop)', outside_scope: 'Outside the scope of UK VAT',
};

/** The vendor's mapping to its accounting system (edited in Admin → Accounting; the accountant decides). */
export interface ExportSettings {
  salesAccountCode: string;
  xeroTaxTypes: Record<TaxKey, string>;
  quickbooksTaxCodes: Record<TaxKey, string>;
  quickbooksDateFormat: 'DD/MM/YYYY' | 'MM/DD/YYYY';
  kashflowSalesCode: string;
  /**
   * EU consumer sales carry their country's VAT (one-stop shop), at a different rate per country: one
   * Xero tax type or QuickBooks code cannot fit them all. Per buyer country, the code to use instead of
   * the eu_oss one (e.g. DE → "DE VAT 19% (OSS)", a rate the vendor set up in Xero).
   */
  xeroOssTaxTypes?: Record<string, string>;
  quickbooksOssTaxCodes?: Record<string, string>;
}

/**
 * A line's tax code in one importer's terms: `codes` per tax key, `perCountry` for one-stop-shop sales
 * when the vendor set one for the buyer's country (Xero tax types, QuickBooks tax codes).
 */
export function lineTaxCode(codes: Record<TaxKey, string>, perCountry: Record<string, string> | undefined, treatment: string, rateBp: number, country: string): string {
  const key = taxKey(treatment, rateBp);
  return (key === 'eu_oss' ? perCountry?.[country] : undefined) ?? codes[key];
}

/** "DE = DE VAT 19% (OSS)" lines → { DE: "DE VAT 19% (OSS)" }; a line that does not parse is named in the error. */
export function parseCountryCodes(text: string): { ok: true; value: Record<string, string> } | { ok: false; line: string } {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    const m = /^([A-Za-z]{2})\s*=\s*(\S.{0,59})$/.exec(line);
    if (!m) return { ok: false, line };
    out[m[1]!.toUpperCase()] = m[2]!.trim();
  }
  return { ok: true, value: out };
}

export const DEFAULT_EXPORT_SETTINGS: ExportSettings = {
  salesAccountCode: '200',
  xeroTaxTypes: { uk_standard: '20% (VAT on Income)', uk_zero: 'Zero Rated Income', eu_reverse_charge: 'Zero Rated EC Services', eu_oss: 'No VAT', outside_scope: 'No VAT' },
  quickbooksTaxCodes: { uk_standard: '20.0% S', uk_zero: '0.0% Z', eu_reverse_charge: '0.0% ECS', eu_oss: 'No VAT', outside_scope: 'No VAT' },
  quickbooksDateFormat: 'DD/MM/YYYY',
  kashflowSalesCode: '1',
};

export function taxKey(treatment: string, rateBp: number): TaxKey {
  if (treatment === 'uk_vat') return rateBp > 0 ? 'uk_standard' : 'uk_zero';
  if (treatment === 'eu_reverse_charge' || treatment === 'eu_oss') return treatment;
  return 'outside_scope';
}

const DAY_MS = 86_400_000;
const pad = (n: number) => String(n).padStart(2, '0');
export function dmy(t: number): string { const d = new Date(t); return `${pad(d.getUTCDate())}/${pad(d.getUTCMonth() + 1)}/${d.getUTCFullYear()}`; }
export function mdy(t: number): string { const d = new Date(t); return `${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${d.getUTCFullYear()}`; }
export function ymd(t: number): string { return new Date(t).toISOString().slice(0, 10); }

/** Minor units → "1234.56" (no symbol, no thousands separator, two decimals). */
export function decimal(minor: number): string {
  const neg = minor < 0;
  const a = Math.abs(minor);
  return `${neg ? '-' : ''}${Math.floor(a / 100)}.${pad(a % 100)}`;
}

/** 2000 → "20", 2550 → "25.5". */
export const percent = (bp: number) => String(bp / 100);

const sign = (d: SharedDocument) => (d.kind === 'credit_note' ? -1 : 1);
export const dueDate = (d: SharedDocument) => d.issueDate + d.dueDays * DAY_MS;
export const contactName = (d: { contactCompany: string | null; contactName: string }) => d.contactCompany || d.contactName;

/**
 * A whole-number quantity and a rate that multiply to the line's net exactly: the line's own when its
 * discount left the net divisible, otherwise one of the whole line (importers check quantity × rate).
 */
export function exactQuantityRate(l: SharedLine): { quantity: number; rate: number; description: string } {
  if (l.quantity > 0 && l.net % l.quantity === 0) return { quantity: l.quantity, rate: l.net / l.quantity, description: l.description };
  return { quantity: 1, rate: l.net, description: `${l.quantity} × ${l.description}` };
}

function memo(d: SharedDocument): string {
  return d.kind === 'credit_note' && d.creditedNumber !== null
    ? `Credit note against invoice ${d.creditedNumber} of ${dmy(d.creditedDate ?? d.issueDate)} (order ${d.orderReference})`
    : `Order ${d.orderReference}`;
}

// ---- CSV ----

/** One CSV field: quoted when needed; text that a spreadsheet would run as a formula gets a leading apostrophe. */
export function csvField(v: string | number | null | undefined, text = true): string {
  let s = v === null || v === undefined ? '' : String(v);
  if (text && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export interface Column<R> { header: string; text: boolean; value: (r: R) => string | number | null }
export const csvLine = <R>(cols: Column<R>[], r: R) => cols.map((c) => csvField(c.value(r), c.text)).join(',') + '\r\n';
export const csvHeader = <R>(cols: Column<R>[]) => cols.map((c) => csvField(c.header, false)).join(',') + '\r\n';

type Row = { d: SharedDocument; l: SharedLine; s: ExportSettings };
const t = (header: string, value: (r: Row) => string | number | null): Column<Row> => ({ header, text: true, value });
const n = (header: string, value: (r: Row) => string | number | null): Column<Row> => ({ header, text: false, value });
const addr = (r: Row, i: number) => r.d.contactAddress.split('\n')[i] ?? '';
/** Xero's address columns: street lines, town, region and postcode apart when the order has them; else the printed lines. */
const xeroStreet = (r: Row, i: 0 | 1 | 2 | 3) => (r.d.postal ? (i === 0 ? r.d.postal.street1 : i === 1 ? r.d.postal.street2 : '') : addr(r, i));

export const XERO_COLUMNS: Column<Row>[] = [
  t('*ContactName', (r) => contactName(r.d)), t('EmailAddress', (r) => r.d.contactEmail),
  t('POAddressLine1', (r) => xeroStreet(r, 0)), t('POAddressLine2', (r) => xeroStreet(r, 1)), t('POAddressLine3', (r) => xeroStreet(r, 2)), t('POAddressLine4', (r) => xeroStreet(r, 3)),
  t('POCity', (r) => r.d.postal?.city ?? ''), t('PORegion', (r) => r.d.postal?.region ?? ''), t('POPostalCode', (r) => r.d.postal?.postcode ?? ''), t('POCountry', (r) => r.d.contactCountry),
  n('*InvoiceNumber', (r) => r.d.number), t('Reference', (r) => memo(r.d)), n('*InvoiceDate', (r) => dmy(r.d.issueDate)), n('*DueDate', (r) => dmy(dueDate(r.d))),
  t('InventoryItemCode', () => ''), t('*Description', (r) => r.l.description), n('*Quantity', (r) => r.l.quantity),
  n('*UnitAmount', (r) => decimal(sign(r.d) * r.l.unitNet)),
  n('Discount', (r) => (r.l.discount > 0 ? (Math.round((r.l.discount * 10000) / (r.l.unitNet * r.l.quantity)) / 100).toFixed(2) : '')),
  t('*AccountCode', (r) => r.s.salesAccountCode), t('*TaxType', (r) => lineTaxCode(r.s.xeroTaxTypes, r.s.xeroOssTaxTypes, r.d.taxTreatment, r.l.taxRateBp, r.d.contactCountry)), n('Currency', (r) => r.d.currency),
];
/** Xero takes at most 500 invoices a file. */
export const XERO_MAX_INVOICES = 500;

export const QUICKBOOKS_COLUMNS: Column<Row>[] = [
  n('Invoice number', (r) => r.d.number), t('Customer', (r) => contactName(r.d)),
  n('Invoice date', (r) => (r.s.quickbooksDateFormat === 'MM/DD/YYYY' ? mdy : dmy)(r.d.issueDate)),
  n('Due date', (r) => (r.s.quickbooksDateFormat === 'MM/DD/YYYY' ? mdy : dmy)(dueDate(r.d))),
  t('Terms', (r) => (r.d.dueDays > 0 ? `Net ${r.d.dueDays}` : 'Due on receipt')), t('Memo', (r) => memo(r.d)),
  t('Item (Product/Service)', (r) => r.l.sku), t('Item Description', (r) => exactQuantityRate(r.l).description),
  n('Item Quantity', (r) => exactQuantityRate(r.l).quantity), n('Item Rate', (r) => decimal(sign(r.d) * exactQuantityRate(r.l).rate)),
  n('Item Amount', (r) => decimal(sign(r.d) * r.l.net)), t('Item tax code', (r) => lineTaxCode(r.s.quickbooksTaxCodes, r.s.quickbooksOssTaxCodes, r.d.taxTreatment, r.l.taxRateBp, r.d.contactCountry)),
  n('Service Date', (r) => (r.s.quickbooksDateFormat === 'MM/DD/YYYY' ? mdy : dmy)(r.d.taxPoint)),
];

/** KashFlow customer codes: short, upper case, stable per Keyward customer. */
export const kashflowCustomerCode = (customerRef: string) => `KW${customerRef.replace(/[^0-9a-zA-Z]/g, '').slice(0, 12).toUpperCase()}`;

export const KASHFLOW_COLUMNS: Column<Row>[] = [
  t('Customer Code', (r) => kashflowCustomerCode(r.d.customerRef)), n('Invoice Number', (r) => r.d.number),
  n('Invoice Date', (r) => dmy(r.d.issueDate)), n('Due Date', (r) => dmy(dueDate(r.d))), t('Customer Reference', (r) => r.d.orderReference),
  n('Line-Quantity', (r) => exactQuantityRate(r.l).quantity), t('Line-Description', (r) => exactQuantityRate(r.l).description),
  t('Line-Charge Type/Sales Code', (r) => r.s.kashflowSalesCode), n('Line-Rate', (r) => decimal(sign(r.d) * exactQuantityRate(r.l).rate)),
  n('Line-VAT Amount', (r) => decimal(sign(r.d) * r.l.tax)), n('Line-VAT Rate', (r) => percent(r.l.taxRateBp)),
];

type CustomerRow = { d: SharedDocument };
export const KASHFLOW_CUSTOMER_COLUMNS: Column<CustomerRow>[] = [
  { header: 'Code', text: true, value: (r) => kashflowCustomerCode(r.d.customerRef) },
  { header: 'Name', text: true, value: (r) => contactName(r.d) },
  { header: 'Contact', text: true, value: (r) => r.d.contactName },
  { header: 'Email', text: true, value: (r) => r.d.contactEmail },
  ...[0, 1, 2, 3].map((i): Column<CustomerRow> => ({ header: `Address${i + 1}`, text: true, value: (r) => r.d.contactAddress.split('\n')[i] ?? '' })),
  { header: 'Country', text: true, value: (r) => r.d.contactCountry },
  { header: 'VAT Number', text: true, value: (r) => r.d.contactVatNumber ?? '' },
];

type LedgerRow = { kind: 'invoice' | 'credit_note' | 'payment' | 'refund'; date: number; number: number; against: number | null; customerRef: string; contact: string; currency: string; net: number | null; tax: number | null; gross: number; method: string };
export const LEDGER_COLUMNS: Column<LedgerRow>[] = [
  { header: 'Date', text: false, value: (r) => ymd(r.date) }, { header: 'Type', text: true, value: (r) => r.kind },
  { header: 'Number', text: false, value: (r) => r.number }, { header: 'Against', text: false, value: (r) => r.against },
  { header: 'Customer reference', text: true, value: (r) => r.customerRef }, { header: 'Contact', text: true, value: (r) => r.contact },
  { header: 'Currency', text: false, value: (r) => r.currency },
  { header: 'Net', text: false, value: (r) => (r.net === null ? '' : decimal(r.net)) }, { header: 'VAT', text: false, value: (r) => (r.tax === null ? '' : decimal(r.tax)) },
  { header: 'Gross', text: false, value: (r) => decimal(r.gross) }, { header: 'Method', text: true, value: (r) => r.method },
];
export const ledgerRowOfDocument = (d: SharedDocument): LedgerRow => ({
  kind: d.kind, date: d.issueDate, number: d.number, against: d.creditedNumber, customerRef: d.customerRef, contact: contactName(d), currency: d.currency,
  net: sign(d) * d.totalNet, tax: sign(d) * d.totalTax, gross: sign(d) * d.totalGross, method: '',
});
export const ledgerRowOfPayment = (p: SharedPayment): LedgerRow => ({
  kind: p.kind, date: p.at, number: p.invoiceNumber, against: p.credits ?? p.invoiceNumber, customerRef: p.customerRef, contact: contactName(p), currency: p.currency,
  net: null, tax: null, gross: p.amount, method: p.provider,
});

export const PAYMENT_COLUMNS: Column<SharedPayment>[] = [
  { header: 'Date', text: false, value: (p) => dmy(p.at) }, { header: 'Invoice Number', text: false, value: (p) => p.invoiceNumber },
  { header: 'Contact', text: true, value: (p) => contactName(p) }, { header: 'Amount', text: false, value: (p) => decimal(p.amount) },
  { header: 'Currency', text: false, value: (p) => p.currency }, { header: 'Reference', text: true, value: (p) => `Keyward ${p.kind} ${p.id}` },
  { header: 'Method', text: true, value: (p) => (p.provider === 'stripe' ? 'Card (Stripe)' : 'Bank transfer') },
];

/** FreeAgent's `ec_status` for a document's tax treatment. */
export function ecStatus(treatment: string): string {
  if (treatment === 'eu_reverse_charge') return 'EC Services';
  if (treatment === 'eu_oss') return 'EC VAT MOSS';
  return 'UK/Non-EC';
}

/** The body of FreeAgent's `POST /v2/invoices` for a document (a credit note as a negative invoice). */
export function freeagentInvoice(d: SharedDocument) {
  return {
    invoice: {
      contact: d.customerRef, dated_on: ymd(d.issueDate), payment_terms_in_days: d.dueDays, reference: String(d.number), currency: d.currency,
      exchange_rate: d.currency === 'GBP' ? '1.0' : (d.gbpRateMicros / 1_000_000).toFixed(6), ec_status: ecStatus(d.taxTreatment),
      invoice_items: d.lines.map((l) => {
        const q = exactQuantityRate(l);
        return { item_type: 'Products', quantity: String(q.quantity), price: decimal(sign(d) * q.rate), description: q.description, sales_tax_rate: percent(l.taxRateBp) };
      }),
    },
  };
}

export function* rowsOf(d: SharedDocument, s: ExportSettings): Generator<Row> {
  for (const l of d.lines) yield { d, l, s };
}
