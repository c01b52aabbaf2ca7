import { PdfUnavailable } from './billing.errors.js';
import { formatMoney, rateLabel, rateTotalLabel } from './money.js';
import type { BankDetails } from './billing.settings.js';

/** Everything printed on an invoice, credit note or pro forma (the last is not a VAT invoice). */
export interface PrintableDocument {
  kind: 'invoice' | 'credit_note' | 'proforma';
  number: string;
  issueDate: number;
  taxPoint: number | null;
  currency: string;
  seller: { name: string; address: string; vatNumber: string; companyNumber: string | null };
  buyer: { name: string; company: string | null; address: string; vatNumber: string | null };
  orderReference: string;
  credits: { number: number; date: number } | null;
  lines: Array<{ description: string; quantity: number; unitNet: number; discount: number; net: number; rateBp: number }>;
  byRate: Array<{ rateBp: number; net: number; tax: number }>;
  totals: { net: number; tax: number; gross: number };
  gbp: { rateMicros: number; net: number; tax: number } | null;
  notice: string | null;
  /** The order's tax treatment: labels 0% lines as reverse charge or outside scope, not zero-rated. */
  taxTreatment?: string;
  paymentNote: string | null;
  bank: BankDetails | null;
}

export const formatDate = (t: number) => new Date(t).toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });

const TITLE = { invoice: 'VAT invoice', credit_note: 'Credit note', proforma: 'Pro forma invoice' } as const;

/**
 * Draws the document with pdfkit (loaded on first use, so the rest of the app runs without it). Fonts are
 * the PDF standard ones; times come from the document, so the same document always gives the same PDF.
 */
export async function renderPdf(d: PrintableDocument): Promise<Buffer> {
  let PDFDocument: typeof import('pdfkit');
  try {
    PDFDocument = (await import('pdfkit')).default;
  } catch {
    throw new PdfUnavailable();
  }
  const doc = new PDFDocument({ size: 'A4', margin: 50, info: { Title: `${TITLE[d.kind]} ${d.number}`, Author: d.seller.name, CreationDate: new Date(d.issueDate) } });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => { doc.on('end', () => resolve(Buffer.concat(chunks))); doc.on('error', reject); });
  const money = (n: number) => formatMoney(n, d.currency);
  const grey = '#52606d';
  const left = 50; const right = 545; const width = right - left;

  doc.font('Helvetica-Bold').fontSize(18).fillColor('#1f2933').text(d.seller.name, left, 50, { width: 300 });
  doc.font('Helvetica').fontSize(9).fillColor(grey).text(d.seller.address, left, doc.y + 2, { width: 260 });
  doc.text(`VAT registration number: ${d.seller.vatNumber}`);
  if (d.seller.companyNumber) doc.text(`Company number: ${d.seller.companyNumber}`);
  const headerBottom = doc.y;

  doc.font('Helvetica-Bold').fontSize(16).fillColor('#1f2933').text(TITLE[d.kind], 340, 50, { width: 205, align: 'right' });
  doc.font('Helvetica').fontSize(9.5).fillColor('#1f2933');
  const meta: Array<[string, string]> = [
    [d.kind === 'proforma' ? 'Reference' : 'Number', d.number],
    ['Date of issue', formatDate(d.issueDate)],
    ...(d.taxPoint !== null ? [['Tax point', formatDate(d.taxPoint)] as [string, string]] : []),
    ...(d.kind !== 'proforma' ? [['Order', d.orderReference] as [string, string]] : []),
    ...(d.credits ? [['Credits invoice', `${d.credits.number} of ${formatDate(d.credits.date)}`] as [string, string]] : []),
    ['Currency', d.currency],
  ];
  let y = doc.y + 4;
  for (const [k, v] of meta) {
    doc.fillColor(grey).text(k, 340, y, { width: 90 });
    doc.fillColor('#1f2933').text(v, 430, y, { width: 115, align: 'right' });
    y = doc.y + 1;
  }
  y = Math.max(y, headerBottom) + 20;
  doc.font('Helvetica-Bold').fontSize(10).text(d.kind === 'credit_note' ? 'Credit to' : 'Bill to', left, y);
  doc.font('Helvetica').fontSize(10).text([d.buyer.name, d.buyer.company, d.buyer.address].filter(Boolean).join('\n'), left, doc.y + 2, { width: 280 });
  if (d.buyer.vatNumber) doc.text(`VAT number: ${d.buyer.vatNumber}`);
  y = doc.y + 20;

  const cols = [
    { h: 'Description', x: left, w: 215, a: 'left' as const },
    { h: 'Qty', x: left + 215, w: 35, a: 'right' as const },
    { h: 'Unit price', x: left + 250, w: 75, a: 'right' as const },
    { h: 'VAT rate', x: left + 325, w: 50, a: 'right' as const },
    { h: 'Discount', x: left + 375, w: 55, a: 'right' as const },
    { h: 'Net', x: left + 430, w: 65, a: 'right' as const },
  ];
  doc.rect(left, y - 4, width, 18).fill('#eef2f6');
  doc.fillColor('#1f2933').font('Helvetica-Bold').fontSize(8.5);
  for (const c of cols) doc.text(c.h.toUpperCase(), c.x + 2, y, { width: c.w - 4, align: c.a });
  y += 20;
  doc.font('Helvetica').fontSize(9.5);
  for (const l of d.lines) {
    if (y > 700) { doc.addPage(); y = 50; }
    const cells = [l.description, String(l.quantity), money(l.unitNet), rateLabel(l.rateBp, d.taxTreatment), l.discount ? money(-l.discount) : '', money(l.net)];
    const h = doc.heightOfString(l.description, { width: cols[0]!.w - 4 });
    cells.forEach((v, i) => doc.text(v, cols[i]!.x + 2, y, { width: cols[i]!.w - 4, align: cols[i]!.a }));
    y += Math.max(h, 12) + 6;
    doc.moveTo(left, y - 3).lineTo(right, y - 3).strokeColor('#d9e2ec').lineWidth(0.5).stroke();
  }

  y += 8;
  const total = (label: string, value: string, bold = false) => {
    doc.font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(bold ? 11 : 9.5).fillColor('#1f2933');
    doc.text(label, 300, y, { width: 160, align: 'right' });
    doc.text(value, 465, y, { width: 78, align: 'right' });
    y = doc.y + 3;
  };
  for (const r of d.byRate) total(rateTotalLabel(r.rateBp, d.taxTreatment, money(r.tax)), money(r.net));
  total('Total net', money(d.totals.net));
  total('Total VAT', money(d.totals.tax));
  total(d.kind === 'credit_note' ? 'Total credited' : d.kind === 'proforma' ? 'Amount due' : 'Total', money(d.totals.gross), true);
  if (d.gbp) {
    total(`VAT in sterling (1 ${d.currency} = £${(d.gbp.rateMicros / 1e6).toFixed(6)})`, formatMoney(d.gbp.tax, 'GBP'));
  }

  y += 14;
  doc.font('Helvetica').fontSize(9.5).fillColor('#1f2933');
  if (d.kind === 'proforma') {
    doc.font('Helvetica-Bold').text('This is not a VAT invoice.', left, y, { width });
    doc.font('Helvetica').text('A VAT invoice will be sent when payment is received.', { width });
    y = doc.y + 8;
  }
  if (d.notice) { doc.text(d.notice, left, y, { width }); y = doc.y + 6; }
  if (d.paymentNote) { doc.fillColor(grey).text(d.paymentNote, left, y, { width }); y = doc.y + 6; }
  if (d.bank) {
    doc.fillColor('#1f2933').font('Helvetica-Bold').text('How to pay by bank transfer', left, y + 6, { width });
    doc.font('Helvetica').text([
      d.bank.accountName && `Account name: ${d.bank.accountName}`, d.bank.bankName && `Bank: ${d.bank.bankName}`,
      d.bank.sortCode && `Sort code: ${d.bank.sortCode}`, d.bank.accountNumber && `Account number: ${d.bank.accountNumber}`,
      d.bank.iban && `IBAN: ${d.bank.iban}`, d.bank.bic && `BIC: ${d.bank.bic}`,
      `Please quote ${d.orderReference} as the payment reference. Payment is due within ${d.bank.paymentTermsDays} days.`,
    ].filter(Boolean).join('\n'), { width });
  }
  // The footer sits in the bottom margin; without lifting the margin pdfkit would start a new page for it.
  doc.page.margins.bottom = 0;
  doc.fontSize(8).fillColor(grey).text(`${d.seller.name} · VAT ${d.seller.vatNumber}`, left, 800, { width, align: 'center', lineBreak: false });
  doc.end();
  return done;
}
