/**
 * npm run bench:dashboard [-- --licences 100000 --machines 150000 --daily 20000 --days 365 --renders 20]
 *
 * Seeds an installed base on SQLite (100,000 licences, their machines, a year of call-home counters with
 * `daily` licences calling each day, a year of invoices), then measures in the same process and run:
 *  1. the baseline: a trivial admin page (Security) through the same app, session and layout,
 *  2. the periodic jobs' work: the read model for the whole year (once) and the shared-licence list (hourly),
 *  3. the first dashboard render of the process, then warm renders (median, p95, max).
 * Requests go through app.inject(): the same routing, hooks and rendering as a real request, minus the socket.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/kernel/config/config.js';
import { createKernel } from '../src/kernel/context.js';
import { migrateToLatest } from '../src/kernel/db/migrate.js';
import { ensureSigningKey } from '../src/kernel/crypto/signing.js';
import { allMigrations } from '../src/migrations.js';
import { buildApp } from '../src/app.js';
import { DashboardService } from '../src/modules/admin/index.js';
import { seedInstalledBase } from './lib/seed.js';

const { values: a } = parseArgs({ options: {
  licences: { type: 'string', default: '100000' }, machines: { type: 'string', default: '150000' },
  daily: { type: 'string', default: '20000' }, days: { type: 'string', default: '365' }, renders: { type: 'string', default: '20' },
} });
const N = { licences: Number(a.licences), machines: Number(a.machines), daily: Number(a.daily), days: Number(a.days), renders: Number(a.renders) };
const DAY = 86_400_000;

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const stats = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  return { median: s[Math.floor(s.length / 2)]!, p95: s[Math.min(s.length - 1, Math.ceil(s.length * 0.95) - 1)]!, max: s.at(-1)! };
};
const progress = (label: string, done: number, total: number) => {
  if (done % Math.max(1, Math.floor(total / 5)) === 0 || done >= total) process.stderr.write(`${label} ${done}/${total}\n`);
};

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-bench-dash-'));
const env: NodeJS.ProcessEnv = { ...process.env, KEYWARD_DATA_DIR: dataDir, LOG_LEVEL: 'silent', NODE_ENV: 'production', KEYWARD_ROLE: 'all' };
const k = createKernel(loadConfig(env));
try {
  console.log(`Seeding ${N.licences} licences, ${N.machines} machines, ${N.days} days × ${N.daily} licences of call-home counters on SQLite in ${dataDir} …`);
  const tSeed = process.hrtime.bigint();
  await migrateToLatest(k.db, allMigrations);
  await ensureSigningKey(k.db, k.secrets);
  const sqlite = k.dbh.sqlite!;
  // Seeding only: no fsync per transaction (the measurements below run with the app's own FULL setting).
  const synchronous = sqlite.pragma('synchronous', { simple: true });
  sqlite.pragma('synchronous = OFF');
  const cacheSize = sqlite.pragma('cache_size', { simple: true });
  sqlite.pragma('cache_size = -262144'); // 256 MB while the counters' indexes grow
  await seedInstalledBase(k, { licences: N.licences, machines: N.machines, sample: 0, onProgress: (d, t) => progress('licences', d, t) });

  const now = Date.now();
  const today = Math.floor(now / DAY) * DAY;
  // Spread maintenance ends over the coming year and give a third of the licences an add-on.
  sqlite.prepare(`update licences set maintenance_until = ? + (abs(random()) % 365) * ${DAY}`).run(now);
  const product = sqlite.prepare('select id from products limit 1').get() as { id: string };
  sqlite.prepare('insert into addons (id, product_id, code, name, created_at) values (?, ?, ?, ?, ?)').run('bench-addon', product.id, 'spamfilter', 'Spam filter', now);
  sqlite.prepare(`insert into licence_addons (licence_id, addon_id, until) select id, 'bench-addon', ? + (abs(random()) % 365) * ${DAY} from licences where abs(random()) % 3 = 0`).run(now);

  const ids = (sqlite.prepare('select id, max_users from licences').all() as { id: string; max_users: number | null }[]);
  const versions = ['8.3.0', '8.4.0', '8.4.1', '8.5.0', '8.6.0'];
  const insertDaily = sqlite.prepare('insert into callhome_daily (day, licence_id, version, calls, max_users_in_use) values (?, ?, ?, ?, ?)');
  for (let d = N.days - 1; d >= 0; d--) {
    const day = today - d * DAY;
    const offset = (d * 7919) % ids.length;
    // In key order within the day, as the primary key (day, licence_id, version) lays them out.
    const idxs = Array.from({ length: N.daily }, (_, i) => (offset + i * 5) % ids.length).sort((x, y) => (ids[x]!.id < ids[y]!.id ? -1 : 1));
    sqlite.transaction(() => {
      for (const [i, idx] of idxs.entries()) {
        const l = ids[idx]!;
        // Newer versions spread over the year: a licence moves up one version roughly every 73 days.
        const v = versions[Math.min(versions.length - 1, Math.max(0, Math.floor((N.days - d) / 73) + (idx % 2) - 1))]!;
        insertDaily.run(day, l.id, v, 1 + (i % 4), Math.floor((l.max_users ?? 200) * (0.4 + (i % 50) / 100)));
      }
      insertDaily.run(day, '', '8.5.0', 40 + (d % 9), null);
    })();
    if ((N.days - d) % 73 === 0 || d === 0) progress('call-home days', N.days - d, N.days);
  }
  // A year of invoices: about 2,000 a month in three currencies.
  const insertInvoice = sqlite.prepare(`insert into invoices (id, number, kind, order_id, customer_id, issue_date, tax_point, currency, seller_name, seller_address, seller_vat_number,
    buyer_name, buyer_address, buyer_country, buyer_email, order_reference, tax_treatment, total_net, total_tax, total_gross, rate_totals, gbp_rate_micros, total_net_gbp, total_tax_gbp, created_at)
    values (?, ?, ?, ?, ?, ?, ?, ?, 'Vendor', 'Road', 'GB123456789', 'Buyer', 'Lane', 'GB', 'b@example.com', ?, 'uk_vat', ?, 0, ?, '[]', 1000000, ?, 0, ?)`);
  sqlite.transaction(() => {
    for (let i = 0; i < 24_000; i++) {
      const at = now - Math.floor((i / 24_000) * 365 * DAY);
      const gross = 9_900 + (i % 40) * 1_000;
      insertInvoice.run(`inv${i}`, i + 1, i % 50 === 0 ? 'credit_note' : 'invoice', `ord${i}`, `cus${i % 5000}`, at, at, ['GBP', 'EUR', 'USD'][i % 3], `R${i}`, gross, gross, gross, at);
    }
  })();
  // One licence in a hundred spread over many networks: the shared-licence signals have something to find.
  const insertNetwork = sqlite.prepare('insert into licence_networks (licence_id, network, first_seen, last_seen) values (?, ?, ?, ?)');
  sqlite.transaction(() => {
    for (let i = 0; i < ids.length; i += 100) for (let n = 0; n < 12; n++) insertNetwork.run(ids[i]!.id, `198.${n}.${i % 250}.0/24`, now - 20 * DAY, now - n * DAY);
  })();
  sqlite.pragma('wal_checkpoint(TRUNCATE)');
  sqlite.pragma(`synchronous = ${synchronous}`);
  sqlite.pragma(`cache_size = ${cacheSize}`);
  sqlite.pragma('analyze');
  const rows = (sqlite.prepare('select count(*) as n from callhome_daily').get() as { n: number }).n;
  console.log(`Seeded in ${(ms(tSeed) / 1000).toFixed(1)} s: ${rows.toLocaleString('en')} call-home counter rows.`);

  const { app, accounts, licensing } = await buildApp(k);
  await app.ready();
  await accounts.staff.createStaff({ email: 'owner@bench.example', name: 'Owner', role: 'owner', password: 'bench password 12345' }, null);
  const login = await app.inject({ method: 'GET', url: '/admin/login' });
  const csrf = /name="_csrf" value="([^"]+)"/.exec(login.body)![1]!;
  const signIn = await app.inject({ method: 'POST', url: '/admin/login', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: k.config.publicUrl },
    payload: new URLSearchParams({ _csrf: csrf, email: 'owner@bench.example', password: 'bench password 12345' }).toString() });
  const cookie = ([] as string[]).concat(signIn.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ');
  const get = async (url: string) => {
    const t0 = process.hrtime.bigint();
    const res = await app.inject({ method: 'GET', url, headers: { cookie, accept: 'text/html' } });
    if (res.statusCode !== 200) throw new Error(`${url} answered ${res.statusCode}`);
    return { time: ms(t0), body: res.body };
  };

  // 1. Baseline: a trivial page through the same stack.
  for (let i = 0; i < 5; i++) await get('/admin/security');
  const base: number[] = [];
  for (let i = 0; i < N.renders; i++) base.push((await get('/admin/security')).time);
  const baseline = stats(base);

  // 2. The periodic jobs' work: the read model for the whole year (once; then one day a day), and the
  //    shared-licence list (hourly).
  const dash = new DashboardService(k, licensing.abuse);
  let t0 = process.hrtime.bigint();
  const built = await dash.rollUp();
  const rollUp = ms(t0);
  t0 = process.hrtime.bigint();
  const shared = await dash.sharedLicences(Date.now(), true);
  const abuse = ms(t0);

  // 3. First render of this process, then warm renders.
  const first = await get('/admin');
  if ((first.body.match(/<svg /g) ?? []).length !== 6) throw new Error('the dashboard did not draw its six charts (no shared licence found?)');
  const warm: number[] = [];
  for (let i = 0; i < N.renders; i++) warm.push((await get('/admin')).time);
  const w = stats(warm);

  console.log('');
  console.log('| measurement (SQLite, one process) | ms |');
  console.log('| --- | ---: |');
  console.log(`| baseline: trivial admin page (Security), median of ${N.renders} | ${baseline.median.toFixed(1)} |`);
  console.log(`| job: read model for ${built} days (once; then one day a day) | ${rollUp.toFixed(0)} |`);
  console.log(`| job: shared-licence list (hourly; ${shared.total} licences flagged) | ${abuse.toFixed(0)} |`);
  console.log(`| first dashboard render of the process | ${first.time.toFixed(0)} |`);
  console.log(`| dashboard render, median of ${N.renders} | ${w.median.toFixed(1)} |`);
  console.log(`| dashboard render, p95 / max | ${w.p95.toFixed(1)} / ${w.max.toFixed(1)} |`);
  console.log(`| dashboard median ÷ baseline median | ${(w.median / baseline.median).toFixed(1)}× |`);
  console.log('');
  console.log(`Goal: the dashboard renders in under a second. First render ${first.time < 1000 ? 'meets' : 'MISSES'} it (${first.time.toFixed(0)} ms); warm renders ${w.max < 1000 ? 'meet' : 'MISS'} it (max ${w.max.toFixed(0)} ms).`);
  await app.close();
} finally {
  await k.close().catch(() => {});
  fs.rmSync(dataDir, { recursive: true, force: true });
}
