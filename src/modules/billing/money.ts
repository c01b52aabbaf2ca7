/**
 * Money arithmetic in integer minor units, as pure functions. Rates are basis points (2000 = 20%).
 * VAT is worked out once per rate on the sum of the nets at that rate (rounded half up), then shared
 * out over the lines by largest remainder, so line VAT always adds up exactly to the rate's total:
 * no drift between lines, rate totals and the invoice total.
 */

/** a / b rounded half up, for a ≥ 0 and b > 0, in exact integer arithmetic. */
export function divRoundHalfUp(a: bigint, b: bigint): bigint {
  return (2n * a + b) / (2n * b);
}

export interface LineInput {
  unitNet: number;
  quantity: number;
  /** Whole percent off (a coupon), 0 when none. */
  percentOff: number;
  rateBp: number;
}

export interface LineTotals { unitNet: number; quantity: number; rateBp: number; discount: number; net: number; tax: number; gross: number }
export interface RateTotals { rateBp: number; net: number; tax: number }
export interface Totals { lines: LineTotals[]; byRate: RateTotals[]; net: number; tax: number; gross: number; discount: number }

export function lineNet(l: Pick<LineInput, 'unitNet' | 'quantity' | 'percentOff'>): { discount: number; net: number } {
  if (!Number.isSafeInteger(l.unitNet) || l.unitNet < 0 || !Number.isSafeInteger(l.quantity) || l.quantity < 1 || l.percentOff < 0 || l.percentOff > 100) {
    throw new RangeError('invalid line');
  }
  const before = BigInt(l.unitNet) * BigInt(l.quantity);
  const discount = divRoundHalfUp(before * BigInt(l.percentOff), 100n);
  return { discount: Number(discount), net: Number(before - discount) };
}

export function computeTotals(lines: LineInput[]): Totals {
  const nets = lines.map(lineNet);
  const rates = [...new Set(lines.map((l) => l.rateBp))].sort((a, b) => b - a);
  const tax = new Array<number>(lines.length).fill(0);
  const byRate: RateTotals[] = [];
  for (const rate of rates) {
    const idx = lines.map((l, i) => (l.rateBp === rate ? i : -1)).filter((i) => i >= 0);
    const net = idx.reduce((s, i) => s + BigInt(nets[i]!.net), 0n);
    const total = divRoundHalfUp(net * BigInt(rate), 10000n);
    // Largest remainder: each line gets its floor, then the pennies left go to the biggest fractions.
    const exact = idx.map((i) => ({ i, num: BigInt(nets[i]!.net) * BigInt(rate) }));
    let given = 0n;
    for (const e of exact) { const f = e.num / 10000n; tax[e.i] = Number(f); given += f; }
    const order = [...exact].sort((a, b) => Number((b.num % 10000n) - (a.num % 10000n)) || a.i - b.i);
    for (let left = total - given, k = 0; left > 0n; left--, k++) tax[order[k % order.length]!.i]! += 1;
    byRate.push({ rateBp: rate, net: Number(net), tax: Number(total) });
  }
  const out = lines.map((l, i) => ({ unitNet: l.unitNet, quantity: l.quantity, rateBp: l.rateBp, discount: nets[i]!.discount, net: nets[i]!.net, tax: tax[i]!, gross: nets[i]!.net + tax[i]! }));
  const sum = (f: (x: LineTotals) => number) => out.reduce((s, x) => s + f(x), 0);
  return { lines: out, byRate, net: sum((x) => x.net), tax: sum((x) => x.tax), gross: sum((x) => x.gross), discount: sum((x) => x.discount) };
}

/** An amount converted to sterling with a rate in millionths (GBP per unit × 10^6), rounded half up. */
export function toGbp(amount: number, rateMicros: number): number {
  const neg = amount < 0;
  const v = Number(divRoundHalfUp(BigInt(Math.abs(amount)) * BigInt(rateMicros), 1_000_000n));
  return neg ? -v : v;
}

const SYMBOL: Record<string, string> = { GBP: '£', EUR: '€', USD: '$' };

/** 123456 GBP → "£1,234.56". */
export function formatMoney(minor: number, currency: string): string {
  const neg = minor < 0;
  const abs = Math.abs(minor);
  const units = Math.floor(abs / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${neg ? '-' : ''}${SYMBOL[currency] ?? currency + ' '}${units}.${String(abs % 100).padStart(2, '0')}`;
}

/** 2000 → "20%", 2550 → "25.5%". */
export function formatRate(bp: number): string {
  return `${(bp / 100).toString()}%`;
}

/**
 * A 0% line is not always zero-rated: a sale under the reverse charge, or outside the scope of UK VAT,
 * carries no UK VAT at all, and an invoice must not label it like a zero-rated supply (those totals are
 * shown apart). `treatment` is the order's tax treatment.
 */
export function rateLabel(bp: number, treatment: string | undefined): string {
  if (bp === 0 && treatment === 'eu_reverse_charge') return 'RC';
  if (bp === 0 && treatment === 'outside_scope') return 'n/a';
  return formatRate(bp);
}

/** The label of a per-rate total on an invoice (see rateLabel). */
export function rateTotalLabel(bp: number, treatment: string | undefined, tax: string): string {
  if (bp === 0 && treatment === 'eu_reverse_charge') return 'Net, reverse charge (no UK VAT)';
  if (bp === 0 && treatment === 'outside_scope') return 'Net, outside the scope of UK VAT';
  return `Net at ${formatRate(bp)} (VAT ${tax})`;
}
