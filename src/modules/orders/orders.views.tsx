import { formatMoney, formatRate } from '../billing/index.js';
import type { OrderLinesTable, OrdersTable } from './orders.tables.js';
import { COUNTRIES } from './tax.js';
import { ratesOf } from './orders.mail.js';
import { STATUS_LABEL } from './state.js';

export function treatmentText(o: Pick<OrdersTable, 'tax_treatment' | 'billing_country' | 'vat_number'>, rateBp: number): string {
  const country = COUNTRIES[o.billing_country] ?? o.billing_country;
  switch (o.tax_treatment) {
    case 'uk_vat': return `UK VAT at ${formatRate(rateBp)}.`;
    case 'eu_reverse_charge': return `No VAT charged: reverse charge. As a VAT-registered business in ${country} (${o.vat_number}) you account for the VAT.`;
    case 'eu_oss': return `VAT of ${country} at ${formatRate(rateBp)} (you are buying as a consumer; add your VAT number if you are a business).`;
    default: return `No VAT: outside the scope of UK VAT (${country}).`;
  }
}

export function StatusBadge({ status }: { status: OrdersTable['status'] }) {
  const tone = status === 'fulfilled' || status === 'paid' ? 'ok' : status === 'awaiting_payment' || status === 'draft' ? 'warn' : 'bad';
  return <span class={`badge ${tone}`}>{STATUS_LABEL[status]}</span>;
}

/** Lines, totals per VAT rate and the grand total of an order, as a table. */
export function OrderTable({ order, lines }: { order: OrdersTable; lines: OrderLinesTable[] }) {
  const m = (n: number) => formatMoney(Number(n), order.currency);
  const rates = ratesOf(lines);
  return (
    <div class="table-wrap"><table class="stack">
      <thead><tr><th>Item</th><th class="num">Qty</th><th class="num">Unit price</th><th class="num">VAT rate</th><th class="num">Net</th></tr></thead>
      <tbody>{lines.map((l) => (
        <tr><td>{l.description}{Number(l.discount) ? <div class="muted">includes {m(l.discount)} discount</div> : null}</td><td class="num" data-label="Qty">{l.quantity}</td><td class="num" data-label="Unit price">{m(l.unit_net)}</td><td class="num" data-label="VAT rate">{formatRate(l.tax_rate_bp)}</td><td class="num" data-label="Net">{m(l.net)}</td></tr>
      ))}</tbody>
      <tfoot>
        {rates.map((r) => <tr><td colSpan={4}>VAT at {formatRate(r.rateBp)} on {m(r.net)}</td><td class="num">{m(r.tax)}</td></tr>)}
        <tr><td colSpan={4}>Total net</td><td class="num">{m(order.total_net)}</td></tr>
        <tr><td colSpan={4}>Total VAT</td><td class="num">{m(order.total_tax)}</td></tr>
        <tr><th colSpan={4}>Total</th><th class="num">{m(order.total_gross)}</th></tr>
      </tfoot>
    </table></div>
  );
}

export function BillingAddress({ o }: { o: OrdersTable }) {
  return (
    <p class="pre-wrap">{[o.billing_name, o.billing_company, o.billing_address_line1, o.billing_address_line2, o.billing_city, [o.billing_region, o.billing_postcode].filter(Boolean).join(' '), COUNTRIES[o.billing_country] ?? o.billing_country].filter(Boolean).join('\n')}{o.vat_number ? `\nVAT number ${o.vat_number}` : ''}</p>
  );
}
