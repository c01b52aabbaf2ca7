// Crash safety: a `bin/keyward serve` process is killed with SIGKILL at random moments while it answers
// call-home load (machine activations), takes checkouts (order, bank transfer, marked paid: invoice),
// records newsletter sign-ups (consent ledger) and sends a campaign; it is restarted each time. Then:
// the database passes its integrity check, everything acknowledged over HTTP is there, invoice numbers
// have no gap and no repeat, and the SMTP peer got no Message-ID twice: every message was delivered exactly
// once or is held as 'uncertain' (its node died mid-conversation; at most one per kill), none lost silently.
// Runs on SQLite (one node on the file) and on PostgreSQL, once per pass of scripts/test.mjs.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { loadConfig, type Config } from '../../src/kernel/config/config.js';
import { createKernel } from '../../src/kernel/context.js';
import { openDatabase, type DbHandle } from '../../src/kernel/db/database.js';
import { TEST_DIALECT, createTestDatabase, silentLog } from '../../src/kernel/testing/db.js';
import { SmtpPeer } from '../../src/kernel/testing/smtp.js';
import { hashPassword } from '../../src/modules/accounts/passwords.js';
import { StaffService } from '../../src/modules/accounts/staff.service.js';
import { loadDemoCatalogue } from '../../src/modules/catalog/index.js';
import { createLicensingModule } from '../../src/modules/licensing/index.js';
import { createNewsletterModule } from '../../src/modules/newsletter/index.js';
import { NEWSLETTER_SETTING } from '../../src/modules/newsletter/newsletter.settings.js';
import { seedSubscribers } from '../../src/modules/newsletter/testing.js';
import { planIdBySku } from '../../src/modules/orders/testing.js';
import { SELLER_SETTING, RATES_SETTING, BANK_SETTING } from '../../src/modules/billing/index.js';
import { seedInstalledBase, type SeededInstall } from '../../bench/lib/seed.js';
import { BIN, HttpBrowser, Node, callBody, callhome, nodeEnv, postgresOrSkip, run, sleep, tempDir } from './harness.js';

const KILLS = Number(process.env.KEYWARD_CRASH_KILLS ?? 3);
const SUBSCRIBERS = 200;
const UK = { billing_name: 'Ada Buyer', company: 'Buyer Ltd', line1: '2 Mill Lane', line2: '', city: 'Leeds', region: '', postcode: 'LS1 1AA', country: 'GB', phone: '+44 113 496 0000', vat_number: '' };

let skip: string | null = null;
let node: Node;
let peer: SmtpPeer;
let config: Config;
let dir: string;
let drop = async () => {};
let installs: SeededInstall[];
let planId: string;

before(async () => {
  if (TEST_DIALECT === 'postgres') skip = await postgresOrSkip();
  if (skip) return;
  dir = tempDir('crash');
  peer = await new SmtpPeer().start();
  peer.delayMs = 4;
  const extra: NodeJS.ProcessEnv = { KEYWARD_DATA_DIR: dir, SMTP_URL: peer.url, KEYWARD_MAIL_FROM: 'Vendor <shop@vendor.example>', KEYWARD_LOGIN_RATE_LIMIT: '10000' };
  if (TEST_DIALECT === 'postgres') {
    const db = await createTestDatabase();
    drop = db.drop;
    extra.DATABASE_URL = db.url;
  }
  const env = nodeEnv(extra);
  await run(BIN, ['migrate'], { env });
  config = loadConfig(env);
  const k = createKernel(config, { log: silentLog });
  try {
    installs = await seedInstalledBase(k, { licences: 200, machines: 200, sample: 200 });
    await loadDemoCatalogue(k.db, Date.now());
    planId = await planIdBySku(k.db, 'ms-10');
    await new StaffService(k).createStaff({ email: 'owner@vendor.example', name: 'Olive Owner', role: 'owner', password: 'staff password 123' }, null);
    const now = Date.now();
    await k.db.insertInto('customers').values({
      id: 'cust-crash', email: 'ada@buyer.example', name: 'Ada Buyer', company: null, phone: null, address_line1: null, address_line2: null, city: null,
      region: null, postcode: null, country: null, vat_number: null, password_hash: await hashPassword('customer password 1'), email_verified_at: now,
      created_at: now, updated_at: now, last_login_at: null, closed_at: null,
    }).execute();
    await k.settings.set(SELLER_SETTING, { name: 'Example Software Ltd', address: '1 High Street\nHuddersfield HD1 1AA\nUnited Kingdom', vatNumber: 'GB123456789', companyNumber: '01234567' });
    await k.settings.set(RATES_SETTING, { EUR: 856123, USD: 790000 });
    await k.settings.set(BANK_SETTING, { accountName: 'Example Software Ltd', bankName: 'Northern Bank', sortCode: '12-34-56', accountNumber: '12345678', iban: 'GB29NWBK60161331926819', bic: 'NWBKGB2L', paymentTermsDays: 14 });
    await k.settings.set(NEWSLETTER_SETTING, { ratePerMinute: 6000, unconfirmedDays: 14, fromAddress: '', mailDomain: '' });
    await seedSubscribers(k, SUBSCRIBERS, { domain: 'crash.example' });
    const newsletter = createNewsletterModule(k);
    const id = await newsletter.campaigns.create({ listId: 'newsletter', subject: 'Crash-proof', intro: 'Hello.' }, 'staff-test');
    await newsletter.campaigns.start(id, 'staff-test', null); // sent by the node as soon as it runs
  } finally {
    await k.close();
  }
  node = new Node('crash-node', env);
});

after(async () => {
  await node?.stop();
  await peer?.stop();
  await drop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** What the node acknowledged over HTTP (a 2xx/3xx answer that says it was done). */
const acked = { activations: [] as Array<{ licence: string; computerId: string }>, orders: [] as string[], invoices: [] as number[], consents: [] as string[] };
const serverErrors: string[] = [];
const kills: number[] = [];

function note5xx(what: string, status: number, body: string) {
  if (status >= 500) serverErrors.push(`${what}: ${status} ${body.slice(0, 200)}`);
}

async function callhomeLoad(stop: () => boolean) {
  while (!stop()) {
    const s = installs[crypto.randomInt(installs.length)]!;
    const computerId = crypto.randomBytes(32).toString('hex');
    try {
      const r = await callhome(node.url, callBody(s.licence, computerId));
      note5xx('callhome', r.status, r.raw.toString());
      if (r.status === 200 && r.json?.code === 'VALID') acked.activations.push({ licence: s.licence, computerId });
    } catch { await sleep(100); } // the node is down
  }
}

async function checkoutLoad(stop: () => boolean) {
  let customer = new HttpBrowser('');
  let staff = new HttpBrowser('');
  let signedIn = false;
  while (!stop()) {
    customer.base = staff.base = node.url;
    try {
      if (!signedIn) {
        // Afresh each time: a kill between the two sign-ins leaves the customer signed in, and the
        // sign-in page then redirects instead of showing a form with a token.
        customer = new HttpBrowser(node.url);
        staff = new HttpBrowser(node.url);
        await customer.get('/account/login');
        assert.equal((await customer.post('/account/login', { email: 'ada@buyer.example', password: 'customer password 1' })).status, 303);
        await staff.get('/admin/login');
        assert.equal((await staff.post('/admin/login', { email: 'owner@vendor.example', password: 'staff password 123' })).status, 303);
        signedIn = true;
      }
      await customer.get('/shop');
      const add = await customer.post('/basket/add', { plan_id: planId, quantity: '1', currency: 'GBP' });
      note5xx('basket', add.status, add.body);
      const form = await customer.get('/checkout');
      note5xx('checkout form', form.status, form.body);
      const hidden = {
        checkout_key: /name="checkout_key" value="([^"]+)"/.exec(form.body)?.[1] ?? '',
        basket_version: /name="basket_version" value="([^"]+)"/.exec(form.body)?.[1] ?? '',
      };
      const res = await customer.post('/checkout', { ...hidden, ...UK, payment_method: 'bank_transfer' });
      note5xx('checkout', res.status, res.body);
      const id = /\/checkout\/review\/([0-9a-f-]{36})$/.exec(String(res.location))?.[1];
      if (!id) continue;
      acked.orders.push(id);
      await customer.get(`/checkout/review/${id}`);
      const pay = await customer.post(`/checkout/pay/${id}`, {});
      note5xx('pay', pay.status, pay.body);
      await staff.get(`/admin/orders/${id}`);
      const paid = await staff.post(`/admin/orders/${id}/paid`, { note: 'BACS' });
      note5xx('paid', paid.status, paid.body);
      const n = /Invoice (\d+)/.exec(paid.body)?.[1];
      if (/Marked paid/.test(paid.body) && n) acked.invoices.push(Number(n));
    } catch (err) {
      if (err instanceof assert.AssertionError) throw err;
      await sleep(100);
    }
  }
}

async function signupLoad(stop: () => boolean) {
  const b = new HttpBrowser('');
  let i = 0;
  while (!stop()) {
    b.base = node.url;
    const email = `signup${i++}-${crypto.randomBytes(3).toString('hex')}@people.example`;
    try {
      const form = await b.get('/newsletter');
      const w = /name="w" value="([^"]+)"/.exec(form.body)?.[1] ?? '';
      const res = await b.post('/newsletter', { email, name: '', w, from: '/newsletter' });
      note5xx('signup', res.status, res.body);
      if (res.status === 200 && /Check your email/.test(res.body)) acked.consents.push(email);
    } catch { await sleep(100); }
  }
}

/**
 * The jobs a killed process held stay leased for 5 minutes, and so does its claim on the message it was
 * sending; move that time on instead of waiting it out (the process is dead: nobody else holds them).
 */
async function expireLeases(): Promise<void> {
  const h = openDatabase(config.database);
  try {
    await h.db.updateTable('jobs').set({ locked_until: 0 }).where('status', '=', 'running').execute();
    await h.db.updateTable('mail_outbox').set({ claim_until: 0 }).where('status', '=', 'sending').execute();
  } finally { await h.close(); }
}

const bareId = (id: string) => id.replace(/^<|>$/g, '');

async function integrityCheck(h: DbHandle): Promise<void> {
  if (TEST_DIALECT === 'sqlite') {
    assert.equal(h.sqlite!.pragma('integrity_check', { simple: true }), 'ok');
    assert.deepEqual(h.sqlite!.pragma('foreign_key_check'), []);
    return;
  }
  // amcheck: every B-tree index is consistent with itself and with its table.
  await sql`CREATE EXTENSION IF NOT EXISTS amcheck`.execute(h.db);
  const r = await sql<{ n: number }>`
    SELECT count(bt_index_check(c.oid, true)) AS n FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam JOIN pg_namespace ns ON ns.oid = c.relnamespace
    WHERE am.amname = 'btree' AND ns.nspname = current_schema() AND c.relpersistence <> 't'`.execute(h.db);
  assert.ok(Number(r.rows[0]!.n) > 10, 'indexes were checked');
}

test(`SIGKILL at random moments under load on ${TEST_DIALECT}: nothing acknowledged is lost, nothing is doubled`, async (t) => {
  if (skip) return t.skip(skip);
  const t0 = Date.now();
  let done = false;
  await node.start();
  const loads = [callhomeLoad(() => done), callhomeLoad(() => done), checkoutLoad(() => done), signupLoad(() => done)];
  try {
    for (let i = 0; i < KILLS; i++) {
      await sleep(300 + crypto.randomInt(2500));
      await node.kill('SIGKILL');
      kills.push(Date.now());
      await expireLeases();
      await node.start();
    }
    await sleep(1500);
  } finally {
    done = true;
    await Promise.all(loads);
  }
  // Let the node finish what was queued (the campaign, confirmation and order mails), then stop it cleanly.
  const h = openDatabase(config.database);
  try {
    const deadline = Date.now() + 40_000;
    // Settled: delivered, or held as uncertain (a node died during its SMTP conversation).
    const unsettled = async () => Number((await h.db.selectFrom('mail_outbox').select((eb) => eb.fn.countAll<number>().as('n')).where('status', 'not in', ['sent', 'uncertain']).executeTakeFirstOrThrow()).n);
    while ((await unsettled()) > 0 && Date.now() < deadline) await sleep(250);
    assert.equal(await unsettled(), 0, 'every queued email was delivered or is held as uncertain');
    await node.stop();
    await sleep(500);

    console.log(`# ${KILLS} kills in ${((Date.now() - t0) / 1000).toFixed(1)} s; acknowledged: ${acked.activations.length} activations, ${acked.orders.length} orders, ${acked.invoices.length} invoices, ${acked.consents.length} sign-ups; ${peer.received.length} emails`);
    assert.deepEqual(serverErrors, [], 'no 5xx answers');
    assert.ok(acked.activations.length > 5 && acked.orders.length > 0 && acked.invoices.length > 0 && acked.consents.length > 0, 'the load did something');

    await integrityCheck(h);

    // Every acknowledged activation holds its seat.
    const lic = createLicensingModule(createKernel(config, { log: silentLog, dbh: h }));
    const machines = await h.db.selectFrom('machines').innerJoin('licences', 'licences.id', 'machines.licence_id')
      .select(['licences.key_hash', 'machines.computer_id', 'machines.status']).execute();
    const seated = new Set(machines.filter((m) => m.status === 'active').map((m) => `${m.key_hash}/${m.computer_id}`));
    const lost = acked.activations.filter((a) => !seated.has(`${lic.callhome.keyHash(a.licence)}/${a.computerId}`));
    assert.deepEqual(lost, [], 'every acknowledged activation is there');

    // Every acknowledged order and invoice; invoice numbers without gap or repeat.
    const orders = new Set((await h.db.selectFrom('orders').select('id').execute()).map((o) => o.id));
    assert.deepEqual(acked.orders.filter((id) => !orders.has(id)), [], 'every acknowledged order is there');
    const numbers = (await h.db.selectFrom('invoices').select('number').orderBy('number').execute()).map((r) => Number(r.number));
    assert.equal(new Set(numbers).size, numbers.length, 'no invoice number twice');
    for (let i = 1; i < numbers.length; i++) assert.equal(numbers[i], numbers[i - 1]! + 1, `no gap after invoice ${numbers[i - 1]}`);
    assert.deepEqual(acked.invoices.filter((n) => !numbers.includes(n)), [], 'every acknowledged invoice is there');
    assert.equal(new Set(acked.invoices).size, acked.invoices.length, 'no number was acknowledged twice');
    const paidOrders = await h.db.selectFrom('orders').select('id').where('status', '=', 'fulfilled').execute();
    assert.equal(numbers.length, paidOrders.length, 'one invoice per paid order');

    // Every acknowledged sign-up has its consent record.
    const consents = new Set((await h.db.selectFrom('newsletter_consent_events').select('email').where('action', '=', 'subscribe').execute()).map((c) => c.email));
    assert.deepEqual(acked.consents.filter((e) => !consents.has(e)), [], 'every acknowledged consent record is there');

    // No email twice. A message whose SMTP conversation a kill cut short is held as 'uncertain' (the server
    // may or may not have it) and never re-sent by itself; everything else arrived exactly once.
    assert.deepEqual(peer.duplicates(), [], 'no Message-ID received twice');
    const received = peer.countsByMessageId();
    const mail = await h.db.selectFrom('mail_outbox').select(['id', 'message_id', 'status', 'to_addr', 'subject', 'category', 'claimed_at', 'claimed_by']).execute();
    const byMessageId = new Map(mail.map((m) => [bareId(m.message_id), m]));
    const unknown = [...received.keys()].filter((id) => !byMessageId.has(bareId(id)));
    assert.deepEqual(unknown, [], 'every message received came from the outbox');
    const uncertain = mail.filter((m) => m.status === 'uncertain');
    console.log(`# held as uncertain: ${uncertain.length} (at most one per kill)`);
    for (const m of uncertain) {
      const n = received.get(`<${bareId(m.message_id)}>`) ?? 0;
      console.log(`#   ${m.category} to ${m.to_addr} "${m.subject}", sending since ${new Date(m.claimed_at ?? 0).toISOString()} by ${m.claimed_by}; the server ${n ? 'had accepted it' : 'never got it'}`);
      assert.ok(n <= 1);
      assert.ok(kills.some((k) => (m.claimed_at ?? 0) <= k), `${m.id}: its conversation began before a kill`);
    }
    assert.ok(uncertain.length <= KILLS, 'a node sends one message at a time: at most one in doubt per kill');
    const wrong = mail.filter((m) => m.status === 'sent' && received.get(`<${bareId(m.message_id)}>`) !== 1);
    assert.deepEqual(wrong.map((m) => m.id), [], 'every message recorded as sent arrived exactly once');

    // The campaign: every subscriber has one message, recorded sent (received once) or held as uncertain.
    const sends = await h.db.selectFrom('newsletter_campaign_sends as s').leftJoin('mail_outbox as o', 'o.id', 's.outbox_id')
      .select(['s.status', 'o.status as outbox_status', 'o.message_id']).execute();
    assert.equal(sends.length, SUBSCRIBERS);
    assert.ok(sends.every((r) => r.status === 'queued' && (r.outbox_status === 'sent' || r.outbox_status === 'uncertain')), 'no campaign message lost silently');
    const campaign = peer.received.filter((m) => m.subject === 'Crash-proof');
    const heldUnseen = sends.filter((r) => r.outbox_status === 'uncertain' && !received.has(`<${bareId(r.message_id!)}>`)).length;
    console.log(`# campaign: ${campaign.length} delivered, ${sends.filter((r) => r.outbox_status === 'uncertain').length} held as uncertain (${heldUnseen} of them never reached the server)`);
    assert.equal(new Set(campaign.flatMap((m) => m.to)).size, campaign.length, 'nobody got the campaign twice');
    assert.equal(campaign.length, SUBSCRIBERS - heldUnseen, 'everyone got the campaign, except a held message the server never got');
  } finally {
    await h.close();
  }
  assert.ok(path.isAbsolute(dir));
});
