import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TEST_DIALECT } from '../../kernel/testing/db.js';
import { TestBrowser } from '../../kernel/testing/http.js';
import { newId } from '../../kernel/crypto/tokens.js';
import { buildRegistry } from '../privacy/index.js';
import { shopTestApp, planIdBySku, makeCustomer, UK_BILLING, type ShopTestApp } from '../orders/testing.js';
import {
  ExportService, parseRange, allSources, assertShareable, assertPayloadKeys, documentPayload, saveWebhook, verifySignature,
  DOCUMENT_SOURCES, PUSH_JOB, type FormatId,
} from './index.js';
import { documentById } from './ledger.js';
import { staffBrowser, customerBrowser } from '../newsletter/testing.js';

// ---- what the importers document (domain notes), restated here, not imported from the code ----
const XERO = ['*ContactName', 'EmailAddress', 'POAddressLine1', 'POAddressLine2', 'POAddressLine3', 'POAddressLine4', 'POCity', 'PORegion', 'POPostalCode', 'POCountry',
  '*InvoiceNumber', 'Reference', '*InvoiceDate', '*DueDate', 'InventoryItemCode', '*Description', '*Quantity', '*UnitAmount', 'Discount', '*AccountCode', '*TaxType', 'Currency'];
const QBO = ['Invoice number', 'Customer', 'Invoice date', 'Due date', 'Terms', 'Memo', 'Item (Product/Service)', 'Item Description', 'Item Quantity', 'Item Rate', 'Item Amount', 'Item tax code', 'Service Date'];
const QBO_REQUIRED = ['Invoice number', 'Customer', 'Invoice date', 'Due date', 'Item Amount'];
const KASHFLOW = ['Customer Code', 'Invoice Number', 'Invoice Date', 'Due Date', 'Customer Reference', 'Line-Quantity', 'Line-Description', 'Line-Charge Type/Sales Code', 'Line-Rate', 'Line-VAT Amount', 'Line-VAT Rate'];
const KASHFLOW_REQUIRED = ['Customer Code', 'Invoice Number', 'Invoice Date', 'Due Date'];
const DMY = /^(0[1-9]|[12]\d|3[01])\/(0[1-9]|1[0-2])\/\d{4}$/;
const MONEY = /^-?\d+\.\d{2}$/;

/** RFC 4180 parsing (quotes, doubled quotes, CRLF), independent of the code under test. */
function parseCsv(text: string): Array<Record<string, string>> {
  const rows: string[][] = [];
  let row: string[] = [];
  let f = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (q) {
      if (c === '"' && text[i + 1] === '"') { f += '"'; i++; } else if (c === '"') q = false; else f += c;
    } else if (c === '"') q = true;
    else if (c === ',') { row.push(f); f = ''; } else if (c === '\r' && text[i + 1] === '\n') { row.push(f); rows.push(row); row = []; f = ''; i++; } else f += c;
  }
  assert.equal(f + row.join(''), '', 'the file ends with CRLF');
  const [head, ...body] = rows;
  return body.map((r) => { assert.equal(r.length, head!.length, 'every row has every column'); return Object.fromEntries(head!.map((h, i) => [h, r[i]!])); });
}
const headerOf = (text: string) => text.split('\r\n')[0]!.split(',');
const minor = (s: string) => { assert.match(s, MONEY); return Math.round(Number(s) * 100); };

let t: ShopTestApp;
let ex: ExportService;
const DAY = 86_400_000;
let n = 0;
async function paidOrder(o: { sku?: string; quantity?: number; currency?: 'GBP' | 'EUR'; billing?: Partial<typeof UK_BILLING>; coupon?: string | null } = {}) {
  const email = `buyer${++n}@example.com`;
  const customerId = await makeCustomer(t.k.db, email, t.clock.now());
  await t.k.db.updateTable('customers').set({ phone: '+44 7700 900461' }).where('id', '=', customerId).execute();
  const id = await t.modules.orders.checkout.createForCustomer({
    customer: { id: customerId, email }, billing: { ...UK_BILLING, ...o.billing }, currency: o.currency ?? 'GBP', couponCode: o.coupon ?? null,
    items: [{ planId: await planIdBySku(t.k.db, o.sku ?? 'ms-5'), quantity: o.quantity ?? 1, licenceId: null }],
    paymentMethod: 'bank_transfer', channel: 'phone', actor: { kind: 'staff', id: 'staff-1' }, placedByStaffId: 'staff-1', checkoutKey: null, checkoutHash: null,
  });
  await t.modules.orders.payments.start(id, { kind: 'staff', id: 'staff-1' });
  const row = await t.k.db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  await t.modules.orders.fulfilment.markPaid(id, { kind: 'staff', id: 'staff-1' }, { provider: 'bank_transfer', providerRef: null, providerPaymentRef: null, amount: Number(row.total_gross), currency: row.currency, note: null });
  const inv = await t.k.db.selectFrom('invoices').selectAll().where('order_id', '=', id).executeTakeFirstOrThrow();
  return { id, customerId, total: Number(row.total_gross), invoice: inv };
}

const today = () => new Date(t.clock.now()).toISOString().slice(0, 10);
const range = () => parseRange('2000-01-01', today());

before(async () => {
  t = await shopTestApp();
  ex = t.modules.accounting.exports;
  await paidOrder({ billing: { name: 'Ada "The" Buyer', company: 'Buyer, Sons & Co', line2: '=SUM(A1)' } });
  await paidOrder({ quantity: 3, currency: 'EUR', billing: { country: 'DE', name: 'Dora Kunde', company: null, city: 'Berlin', postcode: '10115', phone: '+49 30 000000', vatNumber: null } });
  const refunded = await paidOrder({ billing: { name: 'Rita Refund', company: 'Refund Ltd' } });
  await t.modules.orders.payments.refund(refunded.id, 1000, 'Goodwill', 'staff-1', 'refund-key-1');
  await t.modules.orders.payments.refund(refunded.id, refunded.total - 1000, 'Returned', 'staff-1', 'refund-key-2');
});
after(async () => { await t.close(); });

describe(`accounting export formats (${TEST_DIALECT})`, () => {
  test('Xero: documented headers, required columns filled, DD/MM/YYYY dates, numbers with two decimals, lines add up', async () => {
    const text = await ex.text('xero', range());
    assert.deepEqual(headerOf(text), XERO);
    const rows = parseCsv(text);
    assert.ok(rows.length >= 5);
    for (const r of rows) {
      for (const h of XERO.filter((x) => x.startsWith('*'))) assert.notEqual(r[h], '', `${h} is required`);
      assert.match(r['*InvoiceDate']!, DMY);
      assert.match(r['*DueDate']!, DMY);
      assert.match(r['*InvoiceNumber']!, /^\d+$/);
      assert.match(r['*Quantity']!, /^\d+$/);
      minor(r['*UnitAmount']!);
      assert.equal(r['*TaxType'], r.Currency === 'EUR' ? 'No VAT' : '20% (VAT on Income)');
    }
    // The awkward name survives quoting; a formula-looking address line is neutralised.
    assert.ok(rows.some((r) => r['*ContactName'] === 'Buyer, Sons & Co'));
    assert.ok(rows.some((r) => r.POAddressLine2 === "'=SUM(A1)"));
    // The address in Xero's parts: street lines, then town and postcode in their own columns (not in line 3 or 4).
    const berlin = rows.find((r) => r['*ContactName'] === 'Dora Kunde')!;
    assert.deepEqual([berlin.POCity, berlin.POPostalCode, berlin.POCountry, berlin.POAddressLine3, berlin.POAddressLine4], ['Berlin', '10115', 'DE', '', '']);
    assert.notEqual(berlin.POAddressLine1, '');
    // Per document: quantity × unit (less discount) adds up to the stored net; credit notes are negative.
    const docs = await t.k.db.selectFrom('invoices').selectAll().execute();
    for (const d of docs) {
      const mine = rows.filter((r) => r['*InvoiceNumber'] === String(d.number));
      const sum = mine.reduce((s, r) => s + Math.round(Number(r['*Quantity']) * minor(r['*UnitAmount']!) * (1 - Number(r.Discount || '0') / 100)), 0);
      assert.equal(sum, (d.kind === 'credit_note' ? -1 : 1) * Number(d.total_net), `document ${d.number}`);
    }
    // Numbers are unique per document (lines share them).
    assert.equal(new Set(rows.map((r) => r['*InvoiceNumber'])).size, docs.length);
  });

  test('QuickBooks Online: documented headers, required columns, invoice number at most 21 characters, amount = quantity × rate', async () => {
    const text = await ex.text('quickbooks', range());
    assert.deepEqual(headerOf(text), QBO);
    const rows = parseCsv(text);
    for (const r of rows) {
      for (const h of QBO_REQUIRED) assert.notEqual(r[h], '', `${h} is required`);
      assert.ok(r['Invoice number']!.length <= 21);
      assert.match(r['Invoice date']!, DMY);
      assert.match(r['Service Date']!, DMY);
      assert.equal(minor(r['Item Amount']!), Number(r['Item Quantity']) * minor(r['Item Rate']!));
      assert.equal(r.Terms, 'Due on receipt');
    }
    const credit = rows.filter((r) => r.Memo.startsWith('Credit note against invoice'));
    assert.ok(credit.length >= 2 && credit.every((r) => minor(r['Item Amount']!) < 0));
  });

  test('KashFlow: numeric invoice numbers, whole quantities, net rate with two decimals and no symbol, VAT rate in percent; every customer code is in the customers file', async () => {
    const text = await ex.text('kashflow', range());
    assert.deepEqual(headerOf(text), KASHFLOW);
    const rows = parseCsv(text);
    for (const r of rows) {
      for (const h of KASHFLOW_REQUIRED) assert.notEqual(r[h], '', `${h} is required`);
      assert.match(r['Invoice Number']!, /^\d+$/);
      assert.match(r['Line-Quantity']!, /^\d+$/);
      assert.match(r['Line-Rate']!, MONEY);
      assert.match(r['Line-VAT Amount']!, MONEY);
      assert.match(r['Line-VAT Rate']!, /^\d+(\.\d+)?$/);
      assert.match(r['Invoice Date']!, DMY);
      assert.match(r['Due Date']!, DMY);
    }
    const customers = parseCsv(await ex.text('kashflow_customers', range()));
    const codes = new Set(customers.map((c) => c.Code));
    assert.equal(codes.size, customers.length, 'one row per customer');
    for (const r of rows) assert.ok(codes.has(r['Customer Code']!), `customer ${r['Customer Code']} exported`);
  });

  test('FreeAgent: one POST /v2/invoices body a line with the documented fields, dates YYYY-MM-DD', async () => {
    const lines = (await ex.text('freeagent', range())).trim().split('\n').map((l) => JSON.parse(l));
    const count = Number((await t.k.db.selectFrom('invoices').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    assert.equal(lines.length, count);
    for (const l of lines) {
      assert.deepEqual(Object.keys(l), ['invoice']);
      assert.deepEqual(Object.keys(l.invoice).sort(), ['contact', 'currency', 'dated_on', 'ec_status', 'exchange_rate', 'invoice_items', 'payment_terms_in_days', 'reference'].sort());
      assert.match(l.invoice.dated_on, /^\d{4}-\d{2}-\d{2}$/);
      assert.ok(['UK/Non-EC', 'EC Services', 'EC VAT MOSS', 'EC Goods'].includes(l.invoice.ec_status));
      for (const i of l.invoice.invoice_items) {
        assert.deepEqual(Object.keys(i).sort(), ['description', 'item_type', 'price', 'quantity', 'sales_tax_rate']);
        assert.match(i.price, MONEY);
      }
    }
    assert.ok(lines.some((l) => l.invoice.currency === 'EUR' && l.invoice.ec_status === 'EC VAT MOSS' && l.invoice.exchange_rate === '0.856123'));
  });

  test('ledger and payments: invoices, credit notes (negative), payments against their invoice numbers, refunds (negative) against their credit notes', async () => {
    const rows = parseCsv(await ex.text('ledger', range()));
    const kinds = new Set(rows.map((r) => r.Type));
    assert.deepEqual([...kinds].sort(), ['credit_note', 'invoice', 'payment', 'refund']);
    for (const r of rows.filter((x) => x.Type === 'credit_note')) assert.ok(minor(r.Gross!) < 0);
    const payments = parseCsv(await ex.text('payments', range()));
    const invoiceNumbers = new Set(rows.filter((r) => r.Type === 'invoice').map((r) => r.Number));
    const received = payments.filter((p) => p.Reference!.startsWith('Keyward payment '));
    assert.equal(received.length, invoiceNumbers.size);
    for (const p of received) { assert.ok(invoiceNumbers.has(p['Invoice Number']!)); assert.ok(minor(p.Amount!) > 0); assert.match(p.Date!, DMY); }

    // Rita's order was refunded in two parts: each refund is money out, against the credit note it issued,
    // and the ledger's refund rows name the invoice that note credits.
    const notes = await t.k.db.selectFrom('refunds').innerJoin('invoices', 'invoices.id', 'refunds.credit_note_id')
      .select(['refunds.id', 'refunds.amount', 'invoices.number', 'invoices.credited_invoice_number']).execute();
    assert.equal(notes.length, 2);
    const refunds = payments.filter((p) => p.Reference!.startsWith('Keyward refund '));
    assert.deepEqual(refunds.map((p) => [p.Reference, p['Invoice Number'], minor(p.Amount!), p.Contact]).sort(),
      notes.map((n) => [`Keyward refund ${n.id}`, String(n.number), -Number(n.amount), 'Refund Ltd']).sort());
    const ledgerRefunds = rows.filter((r) => r.Type === 'refund');
    assert.deepEqual(ledgerRefunds.map((r) => [r.Number, r.Against, minor(r.Gross!), r.Method]).sort(),
      notes.map((n) => [String(n.number), String(n.credited_invoice_number), -Number(n.amount), 'bank_transfer']).sort());
    // What was received less what was paid back is what stayed: the refunded order nets to nothing.
    const rita = rows.filter((r) => r.Contact === 'Refund Ltd' && (r.Type === 'payment' || r.Type === 'refund'));
    assert.equal(rita.reduce((sum, r) => sum + minor(r.Gross!), 0), 0);
    // In date order, payments and refunds together.
    const dates = payments.map((p) => p.Date!.split('/').reverse().join(''));
    assert.deepEqual(dates, [...dates].sort());
  });

  test('payments export: a refund outside the range is left out, one inside is in', async () => {
    const o = await paidOrder({ billing: { name: 'Late Refund', company: null } });
    t.clock.advance(3 * DAY);
    await t.modules.orders.payments.refund(o.id, 700, 'Later', 'staff-1', 'refund-key-late');
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const before = parseCsv(await ex.text('payments', parseRange('2000-01-01', day(t.clock.now() - 2 * DAY)))).filter((p) => p.Contact === 'Late Refund');
    assert.deepEqual(before.map((p) => minor(p.Amount!)), [o.total]);
    const after = parseCsv(await ex.text('payments', parseRange(day(t.clock.now()), day(t.clock.now())))).filter((p) => p.Contact === 'Late Refund');
    assert.deepEqual(after.map((p) => minor(p.Amount!)), [-700]);
  });

  test('date ranges: documents outside the range are left out; bad dates are refused with a stable code', async () => {
    const tomorrow = new Date(t.clock.now() + DAY).toISOString().slice(0, 10);
    assert.equal(parseCsv(await ex.text('xero', parseRange(tomorrow, tomorrow))).length, 0);
    for (const [a, b] of [['2026-02-30', '2026-03-01'], ['yesterday', '2026-01-01'], ['2026-03-02', '2026-03-01'], ['', '']]) {
      assert.throws(() => parseRange(a, b), (e: { code?: string }) => e.code === 'ACT_INVALID_INPUT');
    }
  });

  test('Xero files hold at most 500 invoices: a large range streams in parts, each document in exactly one part', async () => {
    // 1,001 documents inserted directly (the exports only read them), on a day of their own.
    const day = t.clock.now() - 400 * DAY;
    const base = 900_000;
    const tpl = (await t.k.db.selectFrom('invoices').selectAll().limit(1).executeTakeFirstOrThrow());
    for (let i = 0; i < 1001; i += 250) {
      const batch = Array.from({ length: Math.min(250, 1001 - i) }, (_, j) => ({ ...tpl, id: newId(), number: base + i + j, order_id: newId(), refund_id: null, kind: 'invoice' as const, issue_date: day + i + j }));
      await t.k.db.insertInto('invoices').values(batch).execute();
      await t.k.db.insertInto('invoice_lines').values(batch.map((b) => ({ invoice_id: b.id, line_no: 1, sku: 'ms-5', description: 'Mail server', quantity: 1, unit_net: 100, discount: 0, net: 100, tax_rate_bp: 2000, tax: 20 }))).execute();
    }
    const d = new Date(day).toISOString().slice(0, 10);
    const r = parseRange(d, d);
    assert.equal(await ex.xeroParts(r), 3);
    const seen: string[] = [];
    for (const part of [1, 2, 3]) {
      let chunks = 0;
      let text = '';
      for await (const c of ex.stream('xero', r, { part })) { chunks++; text += c; }
      const numbers = new Set(parseCsv(text).map((x) => x['*InvoiceNumber']!));
      assert.ok(numbers.size <= 500);
      if (part < 3) assert.ok(chunks > 100, 'streamed in pieces, not built whole');
      seen.push(...numbers);
    }
    assert.equal(seen.length, 1001);
    assert.equal(new Set(seen).size, 1001);
    assert.equal(parseCsv(await ex.text('xero', r, { part: 4 })).length, 0);
  });
});

describe('only fields shared with the accounting processor leave the system', () => {
  const allowed = () => {
    const reg = buildRegistry();
    return {
      shared: new Set(reg.fields.filter((f) => 'table' in f.location && f.recipients.includes('accounting')).map((f) => `${(f.location as { table: string }).table}.${(f.location as { column: string }).column}`)),
      notPersonal: new Set(reg.notPersonal.map((x) => `${x.table}.${x.column}`)),
    };
  };

  test('every column the exports and the webhook read is declared not personal or shared with "accounting"', () => {
    const { shared, notPersonal } = allowed();
    for (const s of allSources()) assert.ok(shared.has(s) || notPersonal.has(s), `${s} may not go to accounting`);
    assert.ok(allSources().includes('invoices.buyer_email') && shared.has('invoices.buyer_email'));
    assert.doesNotThrow(() => assertShareable(allSources()));
  });

  test('planting a personal field that is not shared (or an undeclared one) is refused', () => {
    for (const planted of ['customers.phone', 'orders.phone', 'customers.email', 'orders.tax_evidence', 'invoices.not_a_column']) {
      assert.throws(() => assertShareable([...allSources(), planted]), (e: { code?: string; message: string }) => e.code === 'ACT_FIELD_NOT_SHARED' && e.message.includes(planted));
    }
    assert.throws(() => assertShareable(Object.values({ ...DOCUMENT_SOURCES, phone: 'customers.phone' })), /customers\.phone/);
  });

  test('every export and the webhook payload carry no value of a field that is not shared (phone numbers)', async () => {
    // Phones are personal and not shared with accounting (customers.phone, orders.phone).
    const forbidden = ['+44 7700 900461', '7700 900461', '+44 113 496 0000', '496 0000', '+49 30 000000'];
    for (const f of ['xero', 'quickbooks', 'kashflow', 'kashflow_customers', 'freeagent', 'ledger', 'payments'] as FormatId[]) {
      const text = await ex.text(f, range());
      for (const v of forbidden) assert.ok(!text.includes(v), `${f} export leaks ${v}`);
    }
    const doc = (await documentById(t.k.db, (await t.k.db.selectFrom('invoices').select('id').where('number', '<', 900_000).orderBy('number').executeTakeFirstOrThrow()).id))!;
    const payload = documentPayload(doc, t.clock.now());
    assert.doesNotThrow(() => assertPayloadKeys(payload));
    const text = JSON.stringify(payload);
    for (const v of forbidden) assert.ok(!text.includes(v));
    const planted = { ...payload, document: { ...payload.document, contact: { ...payload.document.contact, phone: '+44 7700 900461' } } };
    assert.throws(() => assertPayloadKeys(planted), /document\.contact\.phone/);
    assert.throws(() => assertPayloadKeys({ ...payload, ip: '203.0.113.9' }), /ACT_FIELD_NOT_SHARED|payload key ip/);
  });
});

describe('the signed webhook', () => {
  let server: http.Server;
  let url = '';
  const got: Array<{ body: string; sig: string | undefined; id: string | undefined }> = [];
  let failNext = 0;
  before(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        if (failNext > 0) { failNext--; res.writeHead(503).end('busy'); return; }
        got.push({ body, sig: req.headers['keyward-signature'] as string | undefined, id: req.headers['keyward-document-id'] as string | undefined });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  after(async () => { await new Promise<void>((r) => server.close(() => r())); });

  const pushJobs = () => t.k.db.selectFrom('jobs').selectAll().where('name', '=', PUSH_JOB).execute();

  test('off: issued documents queue a push job each, and nothing is sent', async () => {
    await t.k.jobs.drain();
    const jobs = await pushJobs();
    assert.ok(jobs.length >= 5, 'one per issued document');
    assert.ok(jobs.every((j) => j.status === 'done'));
    assert.equal(got.length, 0);
  });

  test('on: each issued document is posted once, signed with HMAC-SHA256 over "t.body"; a failing endpoint is retried by the job queue', async () => {
    const { secret } = await saveWebhook(t.k, { enabled: true, url, newSecret: true }, null);
    assert.ok(secret && secret.length >= 40);
    failNext = 2;
    const o = await paidOrder();
    await t.k.jobs.drain();
    const job = (await pushJobs()).find((j) => JSON.parse(j.payload).documentId === o.invoice.id)!;
    assert.equal(job.status, 'queued', 'failed once, waiting to retry');
    assert.match(job.last_error ?? '', /503/);
    assert.equal(got.length, 0);
    for (let i = 0; i < 3 && got.length === 0; i++) { t.clock.advance(60_000); await t.k.jobs.drain(); }
    assert.equal(got.length, 1);
    const g = got[0]!;
    assert.equal(g.id, o.invoice.id);
    const nowS = Math.floor(t.clock.now() / 1000);
    assert.ok(verifySignature(secret!, g.body, g.sig, nowS));
    assert.ok(!verifySignature(secret!, g.body.replace('"number"', '"numbeR"'), g.sig, nowS), 'a changed body fails');
    assert.ok(!verifySignature('wrong secret', g.body, g.sig, nowS));
    assert.ok(!verifySignature(secret!, g.body, g.sig, nowS + 3600), 'an old signature fails');
    const body = JSON.parse(g.body);
    assert.doesNotThrow(() => assertPayloadKeys(body));
    assert.equal(body.event, 'invoice.issued');
    assert.equal(body.document.number, Number(o.invoice.number));
    assert.equal(body.document.totals.gross, (o.total / 100).toFixed(2));
    // The job is done; draining again sends nothing more.
    t.clock.advance(3_600_000);
    await t.k.jobs.drain();
    assert.equal(got.length, 1);
    // A credit note is pushed too, as a credit note with negative figures.
    await t.modules.orders.payments.refund(o.id, 500, 'Partial', 'staff-1', 'refund-key-wh');
    await t.k.jobs.drain();
    assert.equal(got.length, 2);
    const cn = JSON.parse(got[1]!.body);
    assert.equal(cn.event, 'credit_note.issued');
    assert.equal(cn.document.credits.number, Number(o.invoice.number));
    assert.equal(cn.document.totals.gross, '-5.00');
  });

  test('settings refuse bad endpoints with a stable code', async () => {
    for (const u of ['ftp://x.example', 'not a url', 'https://user:pw@x.example/']) {
      await assert.rejects(saveWebhook(t.k, { enabled: true, url: u, newSecret: false }, null), (e: { code?: string }) => e.code === 'ACT_INVALID_INPUT');
    }
    await assert.rejects(saveWebhook(t.k, { enabled: true, url: '', newSecret: false }, null), (e: { code?: string }) => e.code === 'ACT_INVALID_INPUT');
  });
});

describe('Admin → Accounting', () => {
  let owner: TestBrowser;
  before(async () => {
    const link = (await t.modules.accounts.staff.firstRunLink())!;
    owner = new TestBrowser(t.app);
    const path = new URL(link).pathname;
    await owner.get(path);
    assert.equal((await owner.post(path, { name: 'Olive Owner', email: 'olive@vendor.example', password: 'owner password 1' })).statusCode, 303);
  });

  test('staff download a range in each format (streamed, as an attachment); bad input is a 400 with a message', async () => {
    const page = await owner.get(`/admin/accounting?from=2000-01-01&to=${today()}`);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /href="\/admin\/accounting\/export\?format=kashflow&amp;from=2000-01-01/);
    const res = await owner.get(`/admin/accounting/export?format=quickbooks&from=2000-01-01&to=${today()}`);
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/csv/);
    assert.match(String(res.headers['content-disposition']), /attachment; filename="keyward-quickbooks-2000-01-01-to-\d{4}-\d{2}-\d{2}\.csv"/);
    assert.deepEqual(res.body.split('\r\n')[0]!.split(','), QBO);
    const bad = await owner.get('/admin/accounting/export?format=quickbooks&from=2026-13-01&to=2026-12-01');
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /date like/);
    assert.equal((await owner.get(`/admin/accounting/export?format=sage&from=2000-01-01&to=${today()}`)).statusCode, 400);
    assert.equal((await owner.get(`/admin/accounting/export?format=xero&from=2000-01-01&to=${today()}&part=99`)).statusCode, 400);
  });

  test('customers, support and sales staff, and anonymous visitors cannot reach the exports', async () => {
    for (const role of ['support', 'sales'] as const) {
      const b = await staffBrowser(t, role);
      assert.equal((await b.get(`/admin/accounting/export?format=ledger&from=2000-01-01&to=${today()}`)).statusCode, 403);
      assert.equal((await b.get('/admin/accounting')).statusCode, 403);
    }
    const { b: customer } = await customerBrowser(t, 'curious@customer.example');
    const c = await customer.get(`/admin/accounting/export?format=ledger&from=2000-01-01&to=${today()}`);
    assert.equal(c.statusCode, 303);
    const anon = await new TestBrowser(t.app).get(`/admin/accounting/export?format=ledger&from=2000-01-01&to=${today()}`);
    assert.equal(anon.statusCode, 303);
    assert.match(String(anon.headers.location), /^\/admin\/login/);
  });

  test('codes and the webhook are configured in the admin; the secret is shown once', async () => {
    await owner.get('/admin/accounting');
    const bad = await owner.post('/admin/accounting/settings', { sales_account_code: '4000', kashflow_sales_code: '1', quickbooks_date_format: 'YYYY-MM-DD', xero_uk_standard: 'x', xero_uk_zero: 'x', xero_eu_reverse_charge: 'x', xero_eu_oss: 'x', xero_outside_scope: 'x', qbo_uk_standard: 'x', qbo_uk_zero: 'x', qbo_eu_reverse_charge: 'x', qbo_eu_oss: 'x', qbo_outside_scope: 'x' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /DD\/MM\/YYYY or MM\/DD\/YYYY/);
    const ok = await owner.post('/admin/accounting/settings', { sales_account_code: '4000', kashflow_sales_code: '7', quickbooks_date_format: 'MM/DD/YYYY', xero_uk_standard: '20% (VAT on Income)', xero_uk_zero: 'Zero Rated Income', xero_eu_reverse_charge: 'Zero Rated EC Services', xero_eu_oss: 'No VAT', xero_outside_scope: 'No VAT', qbo_uk_standard: '20.0% S', qbo_uk_zero: '0.0% Z', qbo_eu_reverse_charge: '0.0% ECS', qbo_eu_oss: 'No VAT', qbo_outside_scope: 'No VAT' });
    assert.equal(ok.statusCode, 200);
    const xero = parseCsv(await ex.text('xero', range()));
    assert.ok(xero.every((r) => r['*AccountCode'] === '4000'));
    // One-stop-shop sales: a tax type per buyer country, so each country's VAT reaches the books.
    await owner.get('/admin/accounting');
    const codes = { sales_account_code: '4000', kashflow_sales_code: '7', quickbooks_date_format: 'MM/DD/YYYY', xero_uk_standard: '20% (VAT on Income)', xero_uk_zero: 'Zero Rated Income', xero_eu_reverse_charge: 'Zero Rated EC Services', xero_eu_oss: 'No VAT', xero_outside_scope: 'No VAT', qbo_uk_standard: '20.0% S', qbo_uk_zero: '0.0% Z', qbo_eu_reverse_charge: '0.0% ECS', qbo_eu_oss: 'No VAT', qbo_outside_scope: 'No VAT' };
    const badOss = await owner.post('/admin/accounting/settings', { ...codes, xero_oss: 'Germany: 19%' });
    assert.equal(badOss.statusCode, 400);
    assert.match(badOss.body, /is not a line like DE = DE VAT 19% \(OSS\)/);
    await owner.get('/admin/accounting');
    assert.equal((await owner.post('/admin/accounting/settings', { ...codes, xero_oss: 'de = DE VAT 19% (OSS)\nFR = FR VAT 20% (OSS)', qbo_oss: 'DE = DE 19% OSS' })).statusCode, 200);
    const withOss = parseCsv(await ex.text('xero', range()));
    const berlin = withOss.filter((r) => r['*ContactName'] === 'Dora Kunde');
    assert.ok(berlin.length > 0 && berlin.every((r) => r['*TaxType'] === 'DE VAT 19% (OSS)'), JSON.stringify(berlin.map((r) => r['*TaxType'])));
    assert.ok(withOss.filter((r) => r.POCountry === 'GB').every((r) => r['*TaxType'] !== 'DE VAT 19% (OSS)'));
    const qboOss = parseCsv(await ex.text('quickbooks', range())).filter((r) => r['Customer'] === 'Dora Kunde' || r['*Customer'] === 'Dora Kunde');
    assert.ok(qboOss.length > 0 && qboOss.every((r) => r['Item tax code'] === 'DE 19% OSS'));
    const qbo = parseCsv(await ex.text('quickbooks', range()));
    const inv = await t.k.db.selectFrom('invoices').select(['number', 'issue_date']).where('number', '<', 900_000).orderBy('number').executeTakeFirstOrThrow();
    const d = new Date(Number(inv.issue_date));
    assert.equal(qbo.find((r) => r['Invoice number'] === String(inv.number))!['Invoice date'], `${String(d.getUTCMonth() + 1).padStart(2, '0')}/${String(d.getUTCDate()).padStart(2, '0')}/${d.getUTCFullYear()}`);
    const wh = await owner.post('/admin/accounting/webhook', { url: 'https://books.example.com/keyward', enabled: '1', new_secret: '1' });
    assert.equal(wh.statusCode, 200);
    assert.match(wh.body, /not shown again/);
    const again = await owner.get('/admin/accounting');
    assert.doesNotMatch(again.body, /not shown again/);
    assert.match(again.body, /value="https:\/\/books\.example\.com\/keyward"/);
    const noCsrf = await owner.post('/admin/accounting/webhook', { _csrf: null, url: 'https://evil.example/', enabled: '1' });
    assert.equal(noCsrf.statusCode, 403);
  });
});
