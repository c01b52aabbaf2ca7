import { notPersonal, type PersonalField, type PrivacyDeclarations } from '../../kernel/privacy/types.js';

const INVOICE_RETENTION = { period: 'P6Y', from: 'financial_year_end' as const, rationale: 'UK VAT records (invoices and credit notes) are kept for six years from the end of the financial year.' };

const invoiceField = (column: string, category: string, label: string, extra: Partial<PersonalField> = {}): PersonalField => ({
  location: { table: 'invoices', column }, subjects: ['customer'], category, label, purposes: ['billing'], source: 'data_subject',
  provision: 'statutory', recipients: ['accounting'], retention: INVOICE_RETENTION, onErasure: { retain: 'legal_obligation' },
  access: true, portable: true, identity: 'customer_id', protection: 'plain', logging: 'never', ...extra,
});

/** Issued invoices and credit notes keep the buyer's details as they were, under the VAT record-keeping duty. */
export const billingPrivacy: PrivacyDeclarations = {
  module: 'billing',
  fields: [
    invoiceField('customer_id', 'user.unique_id', 'Customer reference on invoices', { recipients: ['accounting'], logging: 'allowed' }),
    invoiceField('buyer_name', 'user.name', 'Name on invoices'),
    invoiceField('buyer_company', 'user.workplace', 'Company name on invoices'),
    invoiceField('buyer_address', 'user.contact.address', 'Invoice address'),
    invoiceField('buyer_country', 'user.contact.address', 'Invoice address (country)'),
    invoiceField('buyer_vat_number', 'user.financial', 'VAT number on invoices'),
    invoiceField('buyer_email', 'user.contact.email', 'Email address the invoice was sent to'),
  ],
  notPersonal: [
    ...notPersonal('billing_counters', ['name', 'next_value'], 'Invoice number series.'),
    ...notPersonal('invoices', ['id', 'number', 'kind', 'order_id', 'refund_id', 'credited_invoice_id', 'credited_invoice_number', 'credited_invoice_date', 'issue_date', 'tax_point', 'currency',
      'seller_name', 'seller_address', 'seller_vat_number', 'seller_company_number', 'order_reference', 'tax_treatment', 'notice', 'total_net', 'total_tax', 'total_gross',
      'rate_totals', 'gbp_rate_micros', 'total_net_gbp', 'total_tax_gbp', 'payment_note', 'created_at'], 'The invoice\'s own figures and the vendor\'s (the seller\'s) details.'),
    ...notPersonal('invoice_lines', ['invoice_id', 'line_no', 'sku', 'description', 'quantity', 'unit_net', 'discount', 'net', 'tax_rate_bp', 'tax'], 'What was sold and its price.'),
  ],
};
