import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { TEST_DIALECT } from '../../kernel/testing/db.js';
import { shopTestApp, planIdBySku, makeCustomer, UK_BILLING, type ShopTestApp } from '../orders/testing.js';
import { billingRepository, printableFromInvoice, renderPdf } from './index.js';
import zlib from 'node:zlib';

/** The text drawn in a PDF made by pdfkit: its content streams inflated, their hex strings decoded. */
function pdfText(pdf: Buffer): string {
  let text = '';
  for (const m of pdf.toString('latin1').matchAll(/stream\r?\n([\s\S]*?)\r?\nendstream/g)) {
    let raw: string;
    try { raw = zlib.inflateSync(Buffer.from(m[1]!, 'latin1')).toString('latin1'); } catch { continue; } // fonts, images
    for (const h of raw.matchAll(/<([0-9a-fA-F]+)>/g)) text += Buffer.from(h[1]!, 'hex').toString('latin1');
    text += ' ';
  }
  return text;
}

let t: ShopTestApp;
before(async () => { t = await shopTestApp(); });
after(async () => { await t.close(); });

let n = 0;
/** A bank-transfer order waiting for payment, made through the services. */
async function awaitingOrder(opts: { sku?: string; quantity?: number; currency?: 'GBP' | 'EUR' | 'USD'; billing?: Partial<typeof UK_BILLING> } = {}) {
  const customerId = await makeCustomer(t.k.db, `buyer${++n}@example.com`, t.clock.now());
  const id = await t.modules.orders.checkout.createForCustomer({
    customer: { id: customerId, email: `buyer${n}@example.com` }, billing: { ...UK_BILLING, ...opts.billing }, currency: opts.currency ?? 'GBP', couponCode: null,
    items: [{ planId: await planIdBySku(t.k.db, opts.sku ?? 'ms-5'), quantity: opts.quantity ?? 1, licenceId: null }],
    paymentMethod: 'bank_transfer', channel: 'phone', actor: { kind: 'staff', id: 'staff-1' }, placedByStaffId: 'staff-1', checkoutKey: null, checkoutHash: null,
  });
  await t.modules.orders.payments.start(id, { kind: 'staff', id: 'staff-1' });
  const o = await t.k.db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  return { id, customerId, total: Number(o.total_gross), currency: o.currency };
}
const pay = (o: { id: string; total: number; currency: string }) =>
  t.modules.orders.fulfilment.markPaid(o.id, { kind: 'staff', id: 'staff-1' }, { provider: 'bank_transfer', providerRef: null, providerPaymentRef: null, amount: o.total, currency: o.currency, note: null });
const allNumbers = async () => (await t.k.db.selectFrom('invoices').select('number').orderBy('number').execute()).map((r) => Number(r.number));

describe('invoice numbers', () => {
  test(`concurrent payments get consecutive numbers, no gaps, no duplicates (${TEST_DIALECT})`, async () => {
    const orders = await Promise.all(Array.from({ length: 12 }, () => awaitingOrder()));
    const before = await allNumbers();
    const results = await Promise.all(orders.map(pay));
    assert.ok(results.every((r) => r === 'paid'));
    const after = await allNumbers();
    const fresh = after.filter((x) => !before.includes(x));
    const start = (before.at(-1) ?? 0) + 1;
    assert.deepEqual(fresh, Array.from({ length: 12 }, (_, i) => start + i));
    // And paying all of them again, at once, issues nothing more.
    assert.ok((await Promise.all(orders.map(pay))).every((r) => r === 'already'));
    assert.deepEqual(await allNumbers(), after);
  });

  test('a payment that fails after taking a number gives it back (the transaction rolls back)', async () => {
    const a = await awaitingOrder();
    const before = await allNumbers();
    t.issuer.failNextIssue = true;
    await assert.rejects(pay(a), /licensing failed/);
    assert.deepEqual(await allNumbers(), before, 'no invoice kept');
    assert.equal((await t.k.db.selectFrom('orders').select('status').where('id', '=', a.id).executeTakeFirstOrThrow()).status, 'awaiting_payment');
    assert.equal((await t.issuer.listForCustomer(t.k.db, a.customerId)).length, 0);
    assert.equal(await pay(a), 'paid');
    assert.deepEqual(await allNumbers(), [...before, (before.at(-1) ?? 0) + 1], 'the next number, no gap');
  });

  test('numbers are numeric only (KashFlow)', async () => {
    for (const x of await allNumbers()) assert.ok(Number.isSafeInteger(x) && x > 0);
  });
});

describe('issued invoices', () => {
  test('carry every field a UK VAT invoice needs', async () => {
    const o = await awaitingOrder({ sku: 'ms-10', quantity: 2 });
    await pay(o);
    const inv = (await billingRepository.invoiceById(t.k.db, (await billingRepository.invoiceForOrder(t.k.db, o.id))!.id))!;
    assert.equal(inv.seller_name, 'Example Software Ltd');
    assert.match(inv.seller_address, /Huddersfield/);
    assert.equal(inv.seller_vat_number, 'GB123456789');
    assert.equal(Number(inv.issue_date), t.clock.now());
    assert.equal(Number(inv.tax_point), t.clock.now());
    assert.equal(inv.buyer_name, 'Ada Buyer');
    assert.match(inv.buyer_address, /2 Mill Lane\nLeeds\nLS1 1AA\nUnited Kingdom/);
    assert.deepEqual(inv.lines.map((l) => [l.description, l.quantity, Number(l.unit_net), l.tax_rate_bp, Number(l.net), Number(l.tax)]),
      [['Mail Server, 10 users (includes 1 year of support and updates)', 2, 49900, 2000, 99800, 19960]]);
    assert.deepEqual(JSON.parse(inv.rate_totals), [{ rateBp: 2000, net: 99800, tax: 19960 }]);
    assert.deepEqual([Number(inv.total_net), Number(inv.total_tax), Number(inv.total_gross)], [99800, 19960, 119760]);
    assert.equal(Number(inv.gbp_rate_micros), 1_000_000);
    assert.equal(Number(inv.total_tax_gbp), 19960);
    const pdf = await renderPdf(printableFromInvoice(inv));
    assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
    assert.ok(pdf.length > 2000);
  });

  test('EUR invoices show VAT in sterling at the stored rate; EU businesses get the reverse-charge wording', async () => {
    const oss = await awaitingOrder({ currency: 'EUR', billing: { country: 'IE', postcode: 'D01', city: 'Dublin' } });
    await pay(oss);
    const i1 = (await billingRepository.invoiceForOrder(t.k.db, oss.id))!;
    assert.equal(i1.tax_treatment, 'eu_oss');
    assert.equal(Number(i1.total_tax), Math.round(35000 * 0.23), '23% Irish VAT on €350.00');
    assert.equal(Number(i1.gbp_rate_micros), 856123);
    assert.equal(Number(i1.total_tax_gbp), Math.round((8050 * 856123) / 1e6));
    const rc = await awaitingOrder({ currency: 'EUR', billing: { country: 'DE', postcode: '10115', city: 'Berlin', vatNumber: 'DE123456789' } });
    await pay(rc);
    const i2 = (await billingRepository.invoiceForOrder(t.k.db, rc.id))!;
    assert.equal(Number(i2.total_tax), 0);
    assert.equal(i2.buyer_vat_number, 'DE123456789');
    assert.match(i2.notice!, /Reverse charge/);
    // Printed: the 0% of a reverse-charge sale is not labelled like a zero-rated supply.
    const lines = await t.k.db.selectFrom('invoice_lines').selectAll().where('invoice_id', '=', i2.id).execute();
    const text = pdfText(await renderPdf(printableFromInvoice({ ...i2, lines })));
    assert.match(text, /Net, reverse charge \(no UK VAT\)/);
    assert.doesNotMatch(text, /Net at 0%/);
  });

  test('are immutable: there is no update path in the code, and the database refuses one', async () => {
    const src = path.resolve(new URL('../..', import.meta.url).pathname);
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (/\.tsx?$/.test(e.name) && !/\.test\.tsx?$/.test(e.name) && /updateTable\(\s*['"](invoices|invoice_lines)['"]/.test(fs.readFileSync(p, 'utf8'))) offenders.push(p);
      }
    };
    walk(src);
    assert.deepEqual(offenders, []);
    const inv = (await t.k.db.selectFrom('invoices').select(['id', 'buyer_name']).limit(1).executeTakeFirstOrThrow());
    await assert.rejects(sql`UPDATE invoices SET buyer_name = 'Mallory' WHERE id = ${inv.id}`.execute(t.k.db), /immutable/);
    await assert.rejects(sql`UPDATE invoice_lines SET net = 1 WHERE invoice_id = ${inv.id}`.execute(t.k.db), /immutable/);
    await assert.rejects(sql`DELETE FROM invoices WHERE id = ${inv.id}`.execute(t.k.db), /seven years/);
    assert.equal((await t.k.db.selectFrom('invoices').select('buyer_name').where('id', '=', inv.id).executeTakeFirstOrThrow()).buyer_name, inv.buyer_name);
  });
});

describe('refunds and credit notes', () => {
  test('a partial then a full refund: credit notes quote the invoice, statuses follow, over-refunds are refused', async () => {
    const o = await awaitingOrder({ sku: 'ms-25' });
    await pay(o);
    const inv = (await billingRepository.invoiceForOrder(t.k.db, o.id))!;
    t.clock.advance(86_400_000);
    const first = await t.modules.orders.payments.refund(o.id, 20000, 'Bought one tier too many', 'staff-1', 'refund-key-1-xxxxxxxxxxxx');
    const cn = (await billingRepository.invoiceById(t.k.db, (await t.k.db.selectFrom('invoices').select('id').where('number', '=', first.creditNoteNumber).executeTakeFirstOrThrow()).id))!;
    assert.equal(cn.kind, 'credit_note');
    assert.equal(Number(cn.credited_invoice_number), Number(inv.number));
    assert.equal(Number(cn.credited_invoice_date), Number(inv.issue_date));
    assert.equal(Number(cn.total_gross), 20000);
    assert.equal(Number(cn.total_net) + Number(cn.total_tax), 20000);
    assert.deepEqual([Number(cn.total_net), Number(cn.total_tax)], [16667, 3333]);
    assert.match(cn.lines[0]!.description, new RegExp(`Refund against invoice ${inv.number}`));
    assert.ok(Number(cn.number) > Number(inv.number));
    assert.equal((await t.k.db.selectFrom('orders').select('status').where('id', '=', o.id).executeTakeFirstOrThrow()).status, 'partly_refunded');
    const credit = await t.k.db.selectFrom('mail_outbox').selectAll().where('subject', 'like', `Credit note ${first.creditNoteNumber}%`).executeTakeFirstOrThrow();
    assert.equal((JSON.parse(credit.attachments) as Array<{ filename: string }>)[0]!.filename, `credit-note-${first.creditNoteNumber}.pdf`);

    await assert.rejects(t.modules.orders.payments.refund(o.id, o.total, 'too much', 'staff-1', 'refund-key-2-xxxxxxxxxxxx'), { code: 'ORD_REFUND_TOO_LARGE' });
    await assert.rejects(t.modules.orders.payments.refund(o.id, -5, 'negative', 'staff-1', 'refund-key-3-xxxxxxxxxxxx'), { code: 'ORD_INVALID_INPUT' });
    const rest = o.total - 20000;
    const second = await t.modules.orders.payments.refund(o.id, rest, 'Cancelled', 'staff-1', 'refund-key-4-xxxxxxxxxxxx');
    assert.equal((await t.k.db.selectFrom('orders').select(['status', 'refunded_amount']).where('id', '=', o.id).executeTakeFirstOrThrow()).status, 'refunded');
    const notes = await t.k.db.selectFrom('invoices').select(['total_net', 'total_tax', 'total_gross']).where('credited_invoice_id', '=', inv.id).execute();
    assert.equal(notes.reduce((s, x) => s + Number(x.total_gross), 0), Number(inv.total_gross), 'credited in full, to the penny');
    assert.equal(notes.reduce((s, x) => s + Number(x.total_tax), 0), Number(inv.total_tax));
    assert.notEqual(second.creditNoteNumber, first.creditNoteNumber);
    await assert.rejects(t.modules.orders.payments.refund(o.id, 1, 'again', 'staff-1', 'refund-key-5-xxxxxxxxxxxx'), { code: 'ORD_BAD_TRANSITION' });
  });

  test('an unpaid order cannot be refunded', async () => {
    const o = await awaitingOrder();
    await assert.rejects(t.modules.orders.payments.refund(o.id, 100, 'x', 'staff-1', 'refund-key-6-xxxxxxxxxxxx'), { code: 'ORD_BAD_TRANSITION' });
  });
});
