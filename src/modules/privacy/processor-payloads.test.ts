import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestBrowser } from '../../kernel/testing/http.js';
import { hashPassword } from '../accounts/passwords.js';
import { shopTestApp, planIdBySku, StripeStandIn, type ShopTestApp } from '../orders/testing.js';
import { buildRegistry } from './registry.js';
import { allCells } from './testing.js';

/**
 * What leaves Keyward for a processor carries only what the registry says that processor receives:
 * every key of the payload is mapped to a declared column (personal, with the processor among its
 * recipients, or declared not personal), and no personal value of the person whose declaration does not
 * name the processor appears anywhere in it. Stripe's servers are replaced by the local stand-in (the only
 * fake); the mailing processor's payload is the message in the outbox, handed to the relay as is.
 */
const reg = buildRegistry();
let t: ShopTestApp;
const stripe = new StripeStandIn();
before(async () => { t = await shopTestApp(); await stripe.configure(t); });
after(async () => { await t.close(); await stripe.stop(); });

const declared = (table: string, column: string) =>
  reg.fields.find((f) => 'table' in f.location && f.location.table === table && f.location.column === column)
  ?? reg.notPersonal.find((n) => n.table === table && n.column === column);

/**
 * Problems: a personal value of `rows` that reached `payload` although its declaration does not name
 * `processor` (a value held in several columns is fine when one of them names it: the order's copy of the
 * email is declared as sent to the payments processor, the account's is not).
 */
function leaks(payload: string, rows: Array<{ table: string; row: Record<string, unknown> }>, processor: string): string[] {
  const out: string[] = [];
  const allowed = new Set<string>();
  for (const { table, row } of rows) {
    for (const [column, value] of Object.entries(row)) {
      const f = reg.fields.find((x) => 'table' in x.location && x.location.table === table && x.location.column === column);
      if (f?.recipients.includes(processor) && typeof value === 'string') allowed.add(value.toLowerCase());
    }
  }
  for (const { table, row } of rows) {
    for (const [column, value] of Object.entries(row)) {
      if (typeof value !== 'string' || value.length < 4) continue;
      const f = reg.fields.find((x) => 'table' in x.location && x.location.table === table && x.location.column === column);
      if (!f || f.recipients.includes(processor) || allowed.has(value.toLowerCase())) continue;
      if (payload.toLowerCase().includes(value.toLowerCase())) out.push(`${table}.${column} (${f.label}) sent to ${processor}, which its declaration does not name`);
    }
  }
  return out;
}

/** Every Stripe Checkout Session parameter, and the declared column it carries (or why it carries none). */
const STRIPE_KEYS: Array<[RegExp, { table: string; column: string } | { none: string }]> = [
  [/^mode$/, { none: 'constant' }],
  [/^client_reference_id$/, { table: 'orders', column: 'id' }],
  [/^customer_email$/, { table: 'orders', column: 'email' }],
  [/^success_url$|^cancel_url$/, { none: 'our own page addresses with the order id' }],
  [/^metadata\[order_id\]$/, { table: 'orders', column: 'id' }],
  [/^metadata\[reference\]$/, { table: 'orders', column: 'reference' }],
  [/^line_items\[0\]\[quantity\]$/, { none: 'constant 1' }],
  [/^line_items\[0\]\[price_data\]\[currency\]$/, { table: 'orders', column: 'currency' }],
  [/^line_items\[0\]\[price_data\]\[unit_amount\]$/, { table: 'orders', column: 'total_gross' }],
  [/^line_items\[0\]\[price_data\]\[product_data\]\[name\]$/, { table: 'orders', column: 'reference' }],
  [/^line_items\[0\]\[price_data\]\[product_data\]\[description\]$/, { table: 'order_lines', column: 'description' }],
];

function keyProblems(keys: string[], processor: string): string[] {
  const out: string[] = [];
  for (const key of keys) {
    const m = STRIPE_KEYS.find(([re]) => re.test(key));
    if (!m) { out.push(`undeclared field ${key} sent to ${processor}`); continue; }
    const target = m[1];
    if ('none' in target) continue;
    const d = declared(target.table, target.column);
    if (!d) out.push(`${key} maps to ${target.table}.${target.column}, which is not declared`);
    else if ('recipients' in d && !d.recipients.includes(processor)) out.push(`${key} carries ${target.table}.${target.column}, whose declaration does not name ${processor}`);
  }
  return out;
}

describe('payments processor (Stripe Checkout, local stand-in)', () => {
  test('stand-in: the Checkout Session carries only declared fields, and no other personal value of the buyer', async () => {
    const email = 'payload.buyer@example.com';
    const now = t.clock.now();
    await t.k.db.insertInto('customers').values({
      id: 'c-payload', email, name: 'Quentin Payload', company: 'Payload Widgets Ltd', phone: '+44 1632 960123', address_line1: '7 Secret Street', address_line2: null,
      city: 'Leeds', region: null, postcode: 'LS2 7EE', country: 'GB', vat_number: null, password_hash: await hashPassword('customer password 1'),
      email_verified_at: now, created_at: now, updated_at: now, last_login_at: null, closed_at: null,
    }).execute();
    const b = new TestBrowser(t.app);
    await b.get('/account/login');
    await b.post('/account/login', { email, password: 'customer password 1' });
    await b.get('/shop');
    await b.post('/basket/add', { plan_id: await planIdBySku(t.k.db, 'ms-5'), quantity: '1', currency: 'GBP' });
    await b.get('/checkout');
    const hidden = { checkout_key: /name="checkout_key" value="([^"]+)"/.exec(b.lastHtml)![1]!, basket_version: /name="basket_version" value="([^"]+)"/.exec(b.lastHtml)![1]! };
    const placed = await b.post('/checkout', { ...hidden, billing_name: 'Quentin Payload', company: 'Payload Widgets Ltd', line1: '7 Secret Street', line2: '', city: 'Leeds', region: '', postcode: 'LS2 7EE', country: 'GB', phone: '+44 1632 960123', vat_number: '', payment_method: 'stripe' });
    const orderId = /review\/(.+)$/.exec(String(placed.headers.location))![1]!;
    await b.get(`/checkout/review/${orderId}`);
    assert.equal((await b.post(`/checkout/pay/${orderId}`, {})).statusCode, 303);

    const req = stripe.requests.find((r) => r.path === '/v1/checkout/sessions' && r.body.get('client_reference_id') === orderId);
    assert.ok(req, 'a Checkout Session was created');
    assert.deepEqual(keyProblems([...req.body.keys()], 'payments'), []);
    assert.equal(req.body.get('customer_email'), email);
    const cells = await allCells(t.k, t.k.dbh.schema);
    const rowsOf = async (table: 'customers' | 'orders', col: string, v: string) =>
      (await t.k.db.selectFrom(table).selectAll().where(col as 'id', '=', v).execute()).map((row) => ({ table, row: row as Record<string, unknown> }));
    const rows = [...await rowsOf('customers', 'id', 'c-payload'), ...await rowsOf('orders', 'id', orderId)];
    assert.ok(cells.length > 0 && rows.length === 2);
    assert.deepEqual(leaks(req.body.toString().replace(/\+/g, ' ') + '\n' + decodeURIComponent(req.body.toString()), rows, 'payments'), []);
  });

  test('the checks catch an undeclared key and a leaked value', () => {
    assert.deepEqual(keyProblems(['customer_email', 'shipping[name]'], 'payments'), ['undeclared field shipping[name] sent to payments']);
    assert.match(keyProblems(['metadata[order_id]'], 'accounting').join() + keyProblems(['customer_email'], 'accounting').join(), /does not name accounting/);
    assert.deepEqual(leaks('name=Quentin Payload', [{ table: 'customers', row: { name: 'Quentin Payload' } }], 'payments'), ['customers.name (Name) sent to payments, which its declaration does not name']);
  });
});

describe('mailing processor (the outbox message handed to the relay)', () => {
  test('a newsletter confirmation carries the address, and none of the person\'s other data', async () => {
    const email = 'mailing.person@example.com';
    const now = t.clock.now();
    await t.k.db.insertInto('customers').values({
      id: 'c-mailing', email, name: 'Zebedee Quux', company: 'Quux Holdings', phone: '+44 1632 960999', address_line1: '9 Hidden Lane', address_line2: null,
      city: 'York', region: null, postcode: 'YO9 9ZZ', country: 'GB', vat_number: 'GB999999973', password_hash: await hashPassword('customer password 1'),
      email_verified_at: now, created_at: now, updated_at: now, last_login_at: null, closed_at: null,
    }).execute();
    const b = new TestBrowser(t.app);
    const blog = await b.get('/blog');
    const w = /name="w" value="([0-9a-f]{64})"/.exec(blog.body)?.[1];
    assert.ok(w, 'the sign-up form is on the blog');
    const res = await b.post('/newsletter', { email, name: 'Zebedee Quux', w, from: '/blog' });
    assert.equal(res.statusCode, 200);
    const mail = await t.k.db.selectFrom('mail_outbox').selectAll().where('to_addr', '=', email).executeTakeFirst();
    assert.ok(mail, 'a confirmation is in the outbox');
    const payload = [mail.to_addr, mail.subject, mail.headers, mail.text_body, mail.html_body ?? '', mail.attachments].join('\n');
    const customer = await t.k.db.selectFrom('customers').selectAll().where('id', '=', 'c-mailing').executeTakeFirstOrThrow();
    const subscriber = await t.k.db.selectFrom('newsletter_subscribers').selectAll().where('email', '=', email).executeTakeFirstOrThrow();
    const problems = leaks(payload, [{ table: 'customers', row: customer }, { table: 'newsletter_subscribers', row: subscriber }], 'mailing');
    assert.deepEqual(problems, []);
    assert.ok(payload.includes(email), 'the address itself is declared as shared with the mailing processor');
  });
});
