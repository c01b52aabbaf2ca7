import type { Kernel } from '../../kernel/context.js';
import { documentsIn, moneyIn, countDocuments, type DueDaysLookup, type Range } from './ledger.js';
import {
  csvHeader, csvLine, freeagentInvoice, ledgerRowOfDocument, ledgerRowOfPayment, rowsOf, DEFAULT_EXPORT_SETTINGS, KASHFLOW_COLUMNS,
  KASHFLOW_CUSTOMER_COLUMNS, LEDGER_COLUMNS, PAYMENT_COLUMNS, QUICKBOOKS_COLUMNS, XERO_COLUMNS, XERO_MAX_INVOICES, type ExportSettings, type FormatId,
} from './formats.js';
import { assertShareable, allSources } from './shared.js';
import { InvalidAccountingInput } from './accounting.errors.js';

export const EXPORT_SETTING = 'accounting.export';

export async function loadExportSettings(k: Kernel): Promise<ExportSettings> {
  const s = await k.settings.get<Partial<ExportSettings>>(EXPORT_SETTING, {});
  return {
    ...DEFAULT_EXPORT_SETTINGS, ...s,
    xeroTaxTypes: { ...DEFAULT_EXPORT_SETTINGS.xeroTaxTypes, ...s.xeroTaxTypes },
    quickbooksTaxCodes: { ...DEFAULT_EXPORT_SETTINGS.quickbooksTaxCodes, ...s.quickbooksTaxCodes },
  };
}

/** "2026-11-01" → epoch ms at 00:00 UTC; the range is [from, to + 1 day). */
export function parseRange(from: string | undefined, to: string | undefined): Range {
  const day = (s: string | undefined, label: string) => {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec((s ?? '').trim());
    const t = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
    if (!m || Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== s!.trim()) throw new InvalidAccountingInput(`${label} must be a date like 2026-11-01.`);
    return t;
  };
  const f = day(from, 'The start date');
  const t = day(to, 'The end date') + 86_400_000;
  if (t <= f) throw new InvalidAccountingInput('The end date is before the start date.');
  return { from: f, to: t };
}

export const FORMAT_FILES: Record<FormatId, { ext: string; type: string }> = {
  xero: { ext: 'csv', type: 'text/csv; charset=utf-8' }, quickbooks: { ext: 'csv', type: 'text/csv; charset=utf-8' },
  freeagent: { ext: 'ndjson', type: 'application/x-ndjson; charset=utf-8' }, kashflow: { ext: 'csv', type: 'text/csv; charset=utf-8' },
  kashflow_customers: { ext: 'csv', type: 'text/csv; charset=utf-8' }, ledger: { ext: 'csv', type: 'text/csv; charset=utf-8' },
  payments: { ext: 'csv', type: 'text/csv; charset=utf-8' },
};

/**
 * Exports a date range in one format, as a stream of text chunks read a batch of documents at a time.
 * Every column the exports read is checked against the privacy declarations first (shared.ts).
 */
export class ExportService {
  constructor(private readonly k: Kernel, private readonly dueDays?: DueDaysLookup) {}

  /** How many files Xero needs for a range (500 invoices each). */
  async xeroParts(range: Range): Promise<number> {
    return Math.max(1, Math.ceil((await countDocuments(this.k.db, range)) / XERO_MAX_INVOICES));
  }

  async *stream(format: FormatId, range: Range, opts: { part?: number } = {}): AsyncGenerator<string> {
    assertShareable(allSources());
    const s = await loadExportSettings(this.k);
    const db = this.k.db;
    const docs = (o: { skip?: number; limit?: number } = {}) => documentsIn(db, range, { dueDays: this.dueDays, ...o });
    switch (format) {
      case 'xero': {
        const part = opts.part ?? 1;
        if (!Number.isInteger(part) || part < 1) throw new InvalidAccountingInput('The part must be a whole number from 1.');
        yield csvHeader(XERO_COLUMNS);
        for await (const d of docs({ skip: (part - 1) * XERO_MAX_INVOICES, limit: XERO_MAX_INVOICES })) {
          let chunk = '';
          for (const r of rowsOf(d, s)) chunk += csvLine(XERO_COLUMNS, r);
          yield chunk;
        }
        return;
      }
      case 'quickbooks':
      case 'kashflow': {
        const cols = format === 'quickbooks' ? QUICKBOOKS_COLUMNS : KASHFLOW_COLUMNS;
        yield csvHeader(cols);
        for await (const d of docs()) {
          let chunk = '';
          for (const r of rowsOf(d, s)) chunk += csvLine(cols, r);
          yield chunk;
        }
        return;
      }
      case 'kashflow_customers': {
        yield csvHeader(KASHFLOW_CUSTOMER_COLUMNS);
        const seen = new Set<string>();
        for await (const d of docs()) {
          if (seen.has(d.customerRef)) continue;
          seen.add(d.customerRef);
          yield csvLine(KASHFLOW_CUSTOMER_COLUMNS, { d });
        }
        return;
      }
      case 'freeagent':
        for await (const d of docs()) yield JSON.stringify(freeagentInvoice(d)) + '\n';
        return;
      case 'ledger': {
        yield csvHeader(LEDGER_COLUMNS);
        for await (const d of docs()) yield csvLine(LEDGER_COLUMNS, ledgerRowOfDocument(d));
        for await (const p of moneyIn(db, range)) yield csvLine(LEDGER_COLUMNS, ledgerRowOfPayment(p));
        return;
      }
      case 'payments': {
        yield csvHeader(PAYMENT_COLUMNS);
        for await (const p of moneyIn(db, range)) yield csvLine(PAYMENT_COLUMNS, p);
        return;
      }
      default:
        throw new InvalidAccountingInput('Unknown export format.');
    }
  }

  /** The whole export as one string (tests and small ranges). */
  async text(format: FormatId, range: Range, opts: { part?: number } = {}): Promise<string> {
    let out = '';
    for await (const c of this.stream(format, range, opts)) out += c;
    return out;
  }
}
