// Billing's tables (frozen DDL in migrations/). Issued rows are never updated (the database refuses).

export interface BillingCountersTable {
  name: string;
  next_value: number;
}

export interface InvoicesTable {
  id: string;
  /** Numeric only (KashFlow imports numbers only); one series shared by invoices and credit notes. */
  number: number;
  kind: 'invoice' | 'credit_note';
  order_id: string;
  customer_id: string;
  /** Credit notes: the refund they document (one credit note per refund). */
  refund_id: string | null;
  credited_invoice_id: string | null;
  credited_invoice_number: number | null;
  credited_invoice_date: number | null;
  issue_date: number;
  /** For a sale paid before it is invoiced the tax point is the payment date. */
  tax_point: number;
  currency: string;
  seller_name: string;
  seller_address: string;
  seller_vat_number: string;
  seller_company_number: string | null;
  buyer_name: string;
  buyer_company: string | null;
  /** The invoice address as printed, one line per line. */
  buyer_address: string;
  buyer_country: string;
  buyer_vat_number: string | null;
  buyer_email: string;
  order_reference: string;
  tax_treatment: string;
  /** Reverse-charge or outside-the-scope wording. */
  notice: string | null;
  total_net: number;
  total_tax: number;
  total_gross: number;
  /** JSON: [{ rateBp, net, tax }] */
  rate_totals: string;
  /** Sterling per unit of the currency × 10^6, as used for the VAT-in-sterling figures. */
  gbp_rate_micros: number;
  total_net_gbp: number;
  total_tax_gbp: number;
  payment_note: string | null;
  created_at: number;
}

export interface InvoiceLinesTable {
  invoice_id: string;
  line_no: number;
  sku: string;
  description: string;
  quantity: number;
  unit_net: number;
  discount: number;
  net: number;
  tax_rate_bp: number;
  tax: number;
}

declare module '../../kernel/db/schema.js' {
  interface Database {
    billing_counters: BillingCountersTable;
    invoices: InvoicesTable;
    invoice_lines: InvoiceLinesTable;
  }
}
