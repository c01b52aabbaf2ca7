import { divRoundHalfUp } from './money.js';

export interface RateTotal { rateBp: number; net: number; tax: number }

/**
 * Splits a refund (gross, minor units) over an invoice's VAT rates in proportion to each rate's gross,
 * by largest remainder so the parts add up exactly, then each part into net and VAT at its rate
 * (VAT = gross − net, net rounded half up). A full refund gives back exactly the invoice's figures.
 */
export function apportionRefund(byRate: RateTotal[], refundGross: number): RateTotal[] {
  const grossOf = (r: RateTotal) => r.net + r.tax;
  const total = byRate.reduce((s, r) => s + grossOf(r), 0);
  if (!Number.isSafeInteger(refundGross) || refundGross <= 0 || refundGross > total) throw new RangeError('refund out of range');
  if (refundGross === total) return byRate.map((r) => ({ ...r }));
  const exact = byRate.map((r, i) => ({ i, num: BigInt(grossOf(r)) * BigInt(refundGross) }));
  const parts = exact.map((e) => e.num / BigInt(total));
  let left = BigInt(refundGross) - parts.reduce((s, p) => s + p, 0n);
  const order = [...exact].sort((a, b) => Number((b.num % BigInt(total)) - (a.num % BigInt(total))) || a.i - b.i);
  for (let k = 0; left > 0n; left--, k++) parts[order[k % order.length]!.i]! += 1n;
  return byRate.map((r, i) => {
    const gross = parts[i]!;
    const net = divRoundHalfUp(gross * 10000n, BigInt(10000 + r.rateBp));
    return { rateBp: r.rateBp, net: Number(net), tax: Number(gross - net) };
  }).filter((r) => r.net + r.tax > 0);
}
