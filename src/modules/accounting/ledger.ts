import type { Db } from '../../kernel/db/database.js';
import { DOCUMENT_SOURCES, LINE_SOURCES, POSTAL_SOURCES, type SharedDocument, type SharedLine, type SharedPayment, type SharedPostal } from './shared.js';

/** Days until an invoice is due, per order (resellers on account); orders not in the map are paid at issue. */
export type DueDaysLookup = (db: Db, orderIds: string[]) => Promise<Map<string, number>>;

export interface Range { from: number; to: number }

const col = (ref: string) => ref.split('.')[1]!;
const DOC_COLUMNS = Object.values(DOCUMENT_SOURCES).map(col) as Array<keyof import('../billing/billing.tables.js').InvoicesTable>;
const LINE_COLUMNS = ['invoice_id', ...Object.values(LINE_SOURCES).map(col)] as Array<keyof import('../billing/billing.tables.js').InvoiceLinesTable>;

const POSTAL_COLUMNS = Object.values(POSTAL_SOURCES).map(col) as Array<keyof import('../orders/orders.tables.js').OrdersTable>;

/** The declared address parts of these orders, by order id. */
async function postalOf(db: Db, orderIds: string[]): Promise<Map<string, SharedPostal>> {
  const out = new Map<string, SharedPostal>();
  if (orderIds.length === 0) return out;
  const rows = await db.selectFrom('orders').select(['id', ...POSTAL_COLUMNS]).where('id', 'in', orderIds).execute();
  for (const row of rows as Array<Record<string, unknown>>) {
    const p: Record<string, string> = {};
    for (const [key, ref] of Object.entries(POSTAL_SOURCES)) p[key] = String(row[col(ref)] ?? '');
    out.set(String(row.id), p as SharedPostal);
  }
  return out;
}

/** Picks exactly the declared keys out of a row (nothing else reaches a format). */
function toDocument(row: Record<string, unknown>, lines: SharedLine[], dueDays: number, postal: SharedPostal | null): SharedDocument {
  const d: Record<string, unknown> = {};
  for (const [key, ref] of Object.entries(DOCUMENT_SOURCES)) {
    const v = row[col(ref)];
    d[key] = typeof v === 'bigint' || (typeof v === 'string' && /^(number|issueDate|taxPoint|creditedNumber|creditedDate|total\w+|gbpRateMicros)$/.test(key)) ? Number(v) : v;
  }
  return { ...(d as Omit<SharedDocument, 'lines' | 'dueDays' | 'postal'>), lines, dueDays, postal };
}

function toLine(row: Record<string, unknown>): SharedLine {
  const l: Record<string, unknown> = {};
  for (const [key, ref] of Object.entries(LINE_SOURCES)) {
    const v = row[col(ref)];
    l[key] = key === 'sku' || key === 'description' ? String(v) : Number(v);
  }
  return l as SharedLine;
}

/**
 * The invoices and credit notes issued in [from, to), in number order, a batch at a time, so a range of
 * any size streams in constant memory. `skip`/`limit` count documents (Xero takes 500 a file).
 */
export async function* documentsIn(db: Db, range: Range, opts: { dueDays?: DueDaysLookup; skip?: number; limit?: number; batch?: number } = {}): AsyncGenerator<SharedDocument> {
  const batch = opts.batch ?? 200;
  const skip = opts.skip ?? 0;
  const limit = opts.limit ?? Number.MAX_SAFE_INTEGER;
  let after = -1;
  let skipped = 0;
  let yielded = 0;
  for (;;) {
    const rows = await db.selectFrom('invoices').select(DOC_COLUMNS).where('issue_date', '>=', range.from).where('issue_date', '<', range.to)
      .where('number', '>', after).orderBy('number').limit(batch).execute();
    if (rows.length === 0) return;
    after = Number(rows.at(-1)!.number);
    const take: typeof rows = [];
    for (const r of rows) {
      if (skipped < skip) { skipped++; continue; }
      if (yielded + take.length >= limit) break;
      take.push(r);
    }
    if (take.length) {
      const lineRows = await db.selectFrom('invoice_lines').select(LINE_COLUMNS).where('invoice_id', 'in', take.map((r) => r.id)).orderBy('invoice_id').orderBy('line_no').execute();
      const orderIds = [...new Set(take.map((r) => r.order_id))];
      const due = opts.dueDays ? await opts.dueDays(db, orderIds) : new Map<string, number>();
      const postal = await postalOf(db, orderIds);
      for (const r of take) {
        const lines = lineRows.filter((l) => l.invoice_id === r.id).map((l) => toLine(l as Record<string, unknown>));
        yield toDocument(r as Record<string, unknown>, lines, r.kind === 'invoice' ? due.get(r.order_id) ?? 0 : 0, postal.get(r.order_id) ?? null);
        yielded++;
      }
    }
    if (yielded >= limit || rows.length < batch) return;
  }
}

export async function documentById(db: Db, id: string, dueDays?: DueDaysLookup): Promise<SharedDocument | null> {
  const r = await db.selectFrom('invoices').select(DOC_COLUMNS).where('id', '=', id).executeTakeFirst();
  if (!r) return null;
  const lineRows = await db.selectFrom('invoice_lines').select(LINE_COLUMNS).where('invoice_id', '=', id).orderBy('line_no').execute();
  const due = dueDays && r.kind === 'invoice' ? (await dueDays(db, [r.order_id])).get(r.order_id) ?? 0 : 0;
  const postal = (await postalOf(db, [r.order_id])).get(r.order_id) ?? null;
  return toDocument(r as Record<string, unknown>, lineRows.map((l) => toLine(l as Record<string, unknown>)), due, postal);
}

export async function countDocuments(db: Db, range: Range): Promise<number> {
  const r = await db.selectFrom('invoices').select((eb) => eb.fn.countAll<number>().as('n')).where('issue_date', '>=', range.from).where('issue_date', '<', range.to).executeTakeFirstOrThrow();
  return Number(r.n);
}

/**
 * The money that moved in [from, to), in date order: payments received (against their invoice) and
 * refunds paid (negative, against their credit note), so the file matches the bank and Stripe.
 */
export async function* moneyIn(db: Db, range: Range): AsyncGenerator<SharedPayment> {
  const payments = paymentsIn(db, range);
  const refunds = refundsIn(db, range);
  let p = await payments.next();
  let r = await refunds.next();
  while (!p.done || !r.done) {
    if (r.done || (!p.done && (p.value.at < r.value.at || (p.value.at === r.value.at && p.value.id <= r.value.id)))) {
      yield p.value!;
      p = await payments.next();
    } else {
      yield r.value;
      r = await refunds.next();
    }
  }
}

/** Payments received in [from, to), as receipts against their order's invoice number. */
async function* paymentsIn(db: Db, range: Range, batch = 500): AsyncGenerator<SharedPayment> {
  let afterAt = -1;
  let afterId = '';
  for (;;) {
    const rows = await db.selectFrom('payments')
      .innerJoin('invoices', (j) => j.onRef('invoices.order_id', '=', 'payments.order_id').on('invoices.kind', '=', 'invoice'))
      .select(['payments.id', 'payments.updated_at', 'payments.amount', 'payments.currency', 'payments.provider', 'invoices.number', 'invoices.customer_id', 'invoices.buyer_name', 'invoices.buyer_company'])
      .where('payments.status', '=', 'succeeded').where('payments.updated_at', '>=', range.from).where('payments.updated_at', '<', range.to)
      .where((eb) => eb.or([eb('payments.updated_at', '>', afterAt), eb.and([eb('payments.updated_at', '=', afterAt), eb('payments.id', '>', afterId)])]))
      .orderBy('payments.updated_at').orderBy('payments.id').limit(batch).execute();
    for (const r of rows) {
      yield { kind: 'payment', id: r.id, at: Number(r.updated_at), amount: Number(r.amount), currency: r.currency, provider: r.provider, invoiceNumber: Number(r.number), credits: null, customerRef: r.customer_id, contactName: r.buyer_name, contactCompany: r.buyer_company };
    }
    if (rows.length < batch) return;
    afterAt = Number(rows.at(-1)!.updated_at);
    afterId = rows.at(-1)!.id;
  }
}

/**
 * Refunds made in [from, to): negative amounts against the credit note each one issued, by the method
 * of the payment refunded (a refund of an order paid by hand goes back by bank transfer).
 */
async function* refundsIn(db: Db, range: Range, batch = 500): AsyncGenerator<SharedPayment> {
  let afterAt = -1;
  let afterId = '';
  for (;;) {
    const rows = await db.selectFrom('refunds')
      .innerJoin('invoices', 'invoices.id', 'refunds.credit_note_id')
      .leftJoin('payments', 'payments.id', 'refunds.payment_id')
      .select(['refunds.id', 'refunds.created_at', 'refunds.amount', 'payments.provider', 'invoices.currency', 'invoices.number', 'invoices.credited_invoice_number', 'invoices.customer_id', 'invoices.buyer_name', 'invoices.buyer_company'])
      .where('refunds.created_at', '>=', range.from).where('refunds.created_at', '<', range.to)
      .where((eb) => eb.or([eb('refunds.created_at', '>', afterAt), eb.and([eb('refunds.created_at', '=', afterAt), eb('refunds.id', '>', afterId)])]))
      .orderBy('refunds.created_at').orderBy('refunds.id').limit(batch).execute();
    for (const r of rows) {
      yield {
        kind: 'refund', id: r.id, at: Number(r.created_at), amount: -Number(r.amount), currency: r.currency, provider: r.provider ?? 'bank_transfer',
        invoiceNumber: Number(r.number), credits: r.credited_invoice_number === null ? null : Number(r.credited_invoice_number),
        customerRef: r.customer_id, contactName: r.buyer_name, contactCompany: r.buyer_company,
      };
    }
    if (rows.length < batch) return;
    afterAt = Number(rows.at(-1)!.created_at);
    afterId = rows.at(-1)!.id;
  }
}
