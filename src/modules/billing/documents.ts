import type { InvoicesTable, InvoiceLinesTable } from './billing.tables.js';
import type { PrintableDocument } from './pdf.js';

/** An issued invoice or credit note as printed; only what was stored at issue, so reprints never differ. */
export function printableFromInvoice(inv: InvoicesTable & { lines: InvoiceLinesTable[] }): PrintableDocument {
  const gbp = inv.currency === 'GBP' ? null : { rateMicros: Number(inv.gbp_rate_micros), net: Number(inv.total_net_gbp), tax: Number(inv.total_tax_gbp) };
  return {
    kind: inv.kind, number: String(inv.number), issueDate: Number(inv.issue_date), taxPoint: Number(inv.tax_point), currency: inv.currency,
    seller: { name: inv.seller_name, address: inv.seller_address, vatNumber: inv.seller_vat_number, companyNumber: inv.seller_company_number },
    buyer: { name: inv.buyer_name, company: inv.buyer_company, address: inv.buyer_address, vatNumber: inv.buyer_vat_number },
    orderReference: inv.order_reference,
    credits: inv.credited_invoice_number !== null ? { number: Number(inv.credited_invoice_number), date: Number(inv.credited_invoice_date) } : null,
    lines: inv.lines.map((l) => ({ description: l.description, quantity: l.quantity, unitNet: Number(l.unit_net), discount: Number(l.discount), net: Number(l.net), rateBp: l.tax_rate_bp })),
    byRate: JSON.parse(inv.rate_totals), totals: { net: Number(inv.total_net), tax: Number(inv.total_tax), gross: Number(inv.total_gross) },
    gbp, notice: inv.notice, taxTreatment: inv.tax_treatment, paymentNote: inv.payment_note, bank: null,
  };
}
