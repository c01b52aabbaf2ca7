import type { Transaction } from 'kysely';
import type { Kernel } from '../../kernel/context.js';
import type { Database } from '../../kernel/db/schema.js';
import { renderEmail } from '../../kernel/mail/template.js';
import { formatMoney, loadBank, loadBrandIn, loadSeller, renderPdf, type PrintableDocument } from '../billing/index.js';
import type { OrderLinesTable, OrdersTable } from './orders.tables.js';
import { addressLines } from './billing-form.js';

type Trx = Transaction<Database>;

const REASON = 'You are receiving this email because you placed an order with us.';

/** The pro forma for a bank-transfer order: "This is not a VAT invoice", with the bank details. */
export async function sendProforma(k: Kernel, trx: Trx, order: OrdersTable, lines: OrderLinesTable[]): Promise<void> {
  const [brand, seller, bank] = await Promise.all([loadBrandIn(k.settings, trx), loadSeller(k.settings, trx), loadBank(k.settings, trx)]);
  const notice = (JSON.parse(order.tax_evidence) as { notice?: string | null }).notice ?? null;
  const doc: PrintableDocument = {
    kind: 'proforma', number: order.reference, issueDate: k.clock.now(), taxPoint: null, currency: order.currency,
    seller: { name: seller.name, address: seller.address, vatNumber: seller.vatNumber || '—', companyNumber: seller.companyNumber || null },
    buyer: { name: order.billing_name, company: order.billing_company, address: addressLines(billingOf(order)).join('\n'), vatNumber: order.vat_number },
    orderReference: order.reference, credits: null,
    lines: lines.map((l) => ({ description: l.description, quantity: l.quantity, unitNet: Number(l.unit_net), discount: Number(l.discount), net: Number(l.net), rateBp: l.tax_rate_bp })),
    byRate: ratesOf(lines), totals: { net: Number(order.total_net), tax: Number(order.total_tax), gross: Number(order.total_gross) },
    gbp: null, notice, taxTreatment: order.tax_treatment, paymentNote: null, bank,
  };
  const pdf = await renderPdf(doc);
  const bankLines = [
    bank.accountName && `Account name: ${bank.accountName}`, bank.bankName && `Bank: ${bank.bankName}`, bank.sortCode && `Sort code: ${bank.sortCode}`,
    bank.accountNumber && `Account number: ${bank.accountNumber}`, bank.iban && `IBAN: ${bank.iban}`, bank.bic && `BIC: ${bank.bic}`,
  ].filter(Boolean).join('\n');
  const { text, html } = renderEmail({
    brandName: brand.name, heading: `Your order ${order.reference}: how to pay`,
    paragraphs: [
      `Hello ${order.billing_name},`,
      `Thank you for your order. Please pay ${formatMoney(Number(order.total_gross), order.currency)} by bank transfer, quoting ${order.reference} as the reference. The pro forma invoice is attached. This is not a VAT invoice: we send the VAT invoice and your licence keys as soon as your payment arrives.`,
      bankLines || 'Our bank details will follow in a separate email.',
    ],
    action: { label: 'View your order', url: `${k.config.publicUrl}/account/orders/${order.id}` },
    reason: REASON, senderAddress: brand.address,
  });
  await k.mail.send({
    to: order.email, subject: `Pro forma for order ${order.reference} (not a VAT invoice)`, text, html, category: 'order',
    attachments: [{ filename: `proforma-${order.reference}.pdf`, contentType: 'application/pdf', contentBase64: pdf.toString('base64') }],
  }, trx);
}

/** After payment: the VAT invoice as a PDF and every licence key the order made. */
export async function sendInvoiceAndKeys(k: Kernel, trx: Trx, order: OrdersTable, invoice: { number: number; pdf: Buffer }, keys: Array<{ description: string; key: string }>, changes: string[]): Promise<void> {
  const brand = await loadBrandIn(k.settings, trx);
  const { text, html } = renderEmail({
    brandName: brand.name, heading: `Thank you: order ${order.reference} is paid`,
    paragraphs: [
      `Hello ${order.billing_name},`,
      `We have received your payment of ${formatMoney(Number(order.total_gross), order.currency)}. Your VAT invoice ${invoice.number} is attached.`,
      ...(keys.length ? ['Your licence keys:', keys.map((x) => `${x.description}\n${x.key}`).join('\n\n')] : []),
      ...(changes.length ? ['Changes made to your licences:', changes.join('\n')] : []),
      'Keep this email: the keys are also in My account.',
    ],
    action: { label: 'Open My account', url: `${k.config.publicUrl}/account` },
    reason: REASON, senderAddress: brand.address,
  });
  await k.mail.send({
    to: order.email, subject: `Invoice ${invoice.number} and licence keys for order ${order.reference}`, text, html, category: 'invoice',
    attachments: [{ filename: `invoice-${invoice.number}.pdf`, contentType: 'application/pdf', contentBase64: invoice.pdf.toString('base64') }],
  }, trx);
}

export async function sendCreditNote(k: Kernel, trx: Trx, order: OrdersTable, note: { number: number; pdf: Buffer; amount: number }): Promise<void> {
  const brand = await loadBrandIn(k.settings, trx);
  const { text, html } = renderEmail({
    brandName: brand.name, heading: `Refund for order ${order.reference}`,
    paragraphs: [`Hello ${order.billing_name},`, `We have refunded ${formatMoney(note.amount, order.currency)}. Credit note ${note.number} is attached.`],
    reason: REASON, senderAddress: brand.address,
  });
  await k.mail.send({
    to: order.email, subject: `Credit note ${note.number} for order ${order.reference}`, text, html, category: 'invoice',
    attachments: [{ filename: `credit-note-${note.number}.pdf`, contentType: 'application/pdf', contentBase64: note.pdf.toString('base64') }],
  }, trx);
}

export function billingOf(o: OrdersTable) {
  return { line1: o.billing_address_line1, line2: o.billing_address_line2, city: o.billing_city, region: o.billing_region, postcode: o.billing_postcode, country: o.billing_country };
}

/** Net and VAT per rate, from the order lines (whose VAT was shared out per rate at checkout). */
export function ratesOf(lines: Array<{ tax_rate_bp: number; net: number; tax: number }>) {
  const m = new Map<number, { rateBp: number; net: number; tax: number }>();
  for (const l of lines) {
    const r = m.get(l.tax_rate_bp) ?? { rateBp: l.tax_rate_bp, net: 0, tax: 0 };
    r.net += Number(l.net); r.tax += Number(l.tax);
    m.set(l.tax_rate_bp, r);
  }
  return [...m.values()].sort((a, b) => b.rateBp - a.rateBp);
}
