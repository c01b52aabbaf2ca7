import type { Transaction } from 'kysely';
import type { Kernel } from '../../kernel/context.js';
import type { Database } from '../../kernel/db/schema.js';
import { newId } from '../../kernel/crypto/tokens.js';
import { NoExchangeRate, SellerNotConfigured } from './billing.errors.js';
import { loadExchangeRates, loadSeller } from './billing.settings.js';
import { takeNextNumber, invoiceForOrder, invoiceById } from './billing.repository.js';
import { apportionRefund, type RateTotal } from './credit.js';
import { toGbp } from './money.js';

type Trx = Transaction<Database>;

/** What orders hands billing to invoice a paid order (billing never reads the orders tables). */
export interface InvoiceDraft {
  orderId: string;
  orderReference: string;
  customerId: string;
  currency: string;
  buyer: { name: string; company: string | null; addressLines: string[]; country: string; vatNumber: string | null; email: string };
  taxTreatment: string;
  notice: string | null;
  lines: Array<{ sku: string; description: string; quantity: number; unitNet: number; discount: number; net: number; rateBp: number; tax: number }>;
  byRate: RateTotal[];
  totals: { net: number; tax: number; gross: number };
  /** When the payment was received (the tax point of a sale paid before it is invoiced). */
  taxPoint: number;
  paymentNote: string | null;
}

export interface IssuedDocument { id: string; number: number; created: boolean }

/**
 * Issues invoices and credit notes inside the caller's transaction (the payment's), so the number, the
 * document and everything else the payment does commit together or not at all. Documents are written
 * once and never updated: there is no update path here, and the database refuses one.
 */
export class BillingService {
  constructor(private readonly k: Kernel) {}

  private async sellerAndRate(trx: Trx, currency: string) {
    const seller = await loadSeller(this.k.settings, trx);
    if (!seller.vatNumber || !seller.name || !seller.address) throw new SellerNotConfigured();
    let rate = 1_000_000;
    if (currency !== 'GBP') {
      const r = (await loadExchangeRates(this.k.settings, trx))[currency as 'EUR' | 'USD'];
      if (!r) throw new NoExchangeRate(currency);
      rate = r;
    }
    return { seller, rate };
  }

  /**
   * Queues the accounting push of a new document in the issuing transaction (the accounting module's
   * job; it sends nothing while its webhook is off), so a document is pushed if and only if it exists.
   */
  private async announce(trx: Trx, documentId: string): Promise<void> {
    await this.k.jobs.enqueue('accounting.push', { documentId }, { trx, idempotencyKey: `accounting.push:${documentId}` });
  }

  /** Issues the order's invoice; a second call for the same order returns the first (never a second number). */
  async issueInvoice(trx: Trx, d: InvoiceDraft): Promise<IssuedDocument> {
    const existing = await invoiceForOrder(trx, d.orderId);
    if (existing) return { id: existing.id, number: Number(existing.number), created: false };
    const { seller, rate } = await this.sellerAndRate(trx, d.currency);
    const number = await takeNextNumber(trx, this.k.flags);
    const id = newId();
    const now = this.k.clock.now();
    await trx.insertInto('invoices').values({
      id, number, kind: 'invoice', order_id: d.orderId, customer_id: d.customerId, refund_id: null,
      credited_invoice_id: null, credited_invoice_number: null, credited_invoice_date: null,
      issue_date: now, tax_point: d.taxPoint, currency: d.currency,
      seller_name: seller.name, seller_address: seller.address, seller_vat_number: seller.vatNumber, seller_company_number: seller.companyNumber || null,
      buyer_name: d.buyer.name, buyer_company: d.buyer.company, buyer_address: d.buyer.addressLines.filter(Boolean).join('\n'),
      buyer_country: d.buyer.country, buyer_vat_number: d.buyer.vatNumber, buyer_email: d.buyer.email, order_reference: d.orderReference,
      tax_treatment: d.taxTreatment, notice: d.notice, total_net: d.totals.net, total_tax: d.totals.tax, total_gross: d.totals.gross,
      rate_totals: JSON.stringify(d.byRate), gbp_rate_micros: rate, total_net_gbp: toGbp(d.totals.net, rate), total_tax_gbp: toGbp(d.totals.tax, rate),
      payment_note: d.paymentNote, created_at: now,
    }).execute();
    await trx.insertInto('invoice_lines').values(d.lines.map((l, i) => ({
      invoice_id: id, line_no: i + 1, sku: l.sku, description: l.description, quantity: l.quantity,
      unit_net: l.unitNet, discount: l.discount, net: l.net, tax_rate_bp: l.rateBp, tax: l.tax,
    }))).execute();
    await this.announce(trx, id);
    return { id, number, created: true };
  }

  /**
   * A credit note for a refund (gross amount) of an issued invoice. It quotes the invoice's number and
   * date, uses the invoice's own exchange rate, and splits the amount over the invoice's VAT rates.
   * One credit note per refund id: a retried refund returns the first.
   */
  async issueCreditNote(trx: Trx, c: { invoiceId: string; refundId: string; amount: number; reason: string }): Promise<IssuedDocument> {
    const prior = await trx.selectFrom('invoices').select(['id', 'number']).where('refund_id', '=', c.refundId).executeTakeFirst();
    if (prior) return { id: prior.id, number: Number(prior.number), created: false };
    const inv = await invoiceById(trx, c.invoiceId);
    if (!inv || inv.kind !== 'invoice') throw new Error('credit note for a missing invoice');
    const fullRefund = c.amount === Number(inv.total_gross);
    const parts = apportionRefund(JSON.parse(inv.rate_totals) as RateTotal[], c.amount);
    const net = parts.reduce((s, p) => s + p.net, 0);
    const tax = parts.reduce((s, p) => s + p.tax, 0);
    const number = await takeNextNumber(trx, this.k.flags);
    const id = newId();
    const now = this.k.clock.now();
    const { id: _i, number: _n, lines, created_at: _c, ...copy } = inv;
    await trx.insertInto('invoices').values({
      ...copy, id, number, kind: 'credit_note', refund_id: c.refundId,
      credited_invoice_id: inv.id, credited_invoice_number: Number(inv.number), credited_invoice_date: Number(inv.issue_date),
      issue_date: now, tax_point: now, total_net: net, total_tax: tax, total_gross: c.amount, rate_totals: JSON.stringify(parts),
      total_net_gbp: toGbp(net, Number(inv.gbp_rate_micros)), total_tax_gbp: toGbp(tax, Number(inv.gbp_rate_micros)),
      payment_note: c.reason.slice(0, 500), created_at: now,
    }).execute();
    const creditLines = fullRefund
      ? lines.map((l) => ({ ...l, invoice_id: id }))
      : parts.map((p, i) => ({
        invoice_id: id, line_no: i + 1, sku: 'REFUND', description: `Refund against invoice ${inv.number}${parts.length > 1 ? ` (VAT ${p.rateBp / 100}%)` : ''}: ${c.reason}`.slice(0, 300),
        quantity: 1, unit_net: p.net, discount: 0, net: p.net, tax_rate_bp: p.rateBp, tax: p.tax,
      }));
    await trx.insertInto('invoice_lines').values(creditLines).execute();
    await this.announce(trx, id);
    return { id, number, created: true };
  }
}
