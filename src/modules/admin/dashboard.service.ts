// The dashboard's numbers. Every query is a range scan on an index: completed days come from the
// admin_daily read model (built once per day from callhome_daily's primary key, which starts with the
// day); only today is aggregated live. Renewals and revenue read the indexes of admin's migration.

import { sql } from 'kysely';
import type { Kernel } from '../../kernel/context.js';
import { DAY_MS } from '../../kernel/clock.js';
import type { AbuseSignals } from '../licensing/index.js';

export interface SharedLicenceSource { sharedLicences(): Promise<AbuseSignals[]>; forLicence(id: string): Promise<AbuseSignals | null> }

export interface DailyTotals {
  day: number;
  calls: number;
  installs: Map<string, number>;
  usersInUse: number;
  usersLicensed: number;
}

export interface DashboardData {
  days: DailyTotals[];
  versions: string[];
  renewals: { weekStart: number; maintenance: number; addons: number }[];
  revenue: { month: string; byCurrency: Record<string, number> }[];
  currencies: string[];
  shared: { rows: AbuseSignals[]; total: number; asOf: number };
  /** Completed days the read model does not hold yet (the periodic job builds them). */
  pendingDays: number;
}

const WEEK_MS = 7 * DAY_MS;
/** How far back the read model goes, and how many days the charts show. */
export const HISTORY_DAYS = 366;
export const CHART_DAYS = 90;
/** A day computed this long after it ended is final (bookkeeping flushes within seconds). */
const SETTLE_MS = 10 * 60_000;
/** admin_daily's `day` 0 holds the latest list of licences that look shared (metric 'shared', key = licence, value = rank). */
const SHARED_DAY = 0;
/** Missing days a render may build itself before leaving the rest to the job. */
const RENDER_ROLLUP_DAYS = 3;
const SHARED_TOP = 10;

const startOfDay = (t: number) => Math.floor(t / DAY_MS) * DAY_MS;
const n = (v: unknown) => Number(v ?? 0);

export class DashboardService {
  private rolling: Promise<number> | null = null;
  constructor(private readonly k: Kernel, private readonly abuse: SharedLicenceSource) {}

  /** One day's totals straight from callhome_daily (primary key (day, licence_id, version)). */
  async computeDay(day: number): Promise<Omit<DailyTotals, 'day'>> {
    const db = this.k.db;
    // A day of counters is tens of thousands of rows: aggregated on the read thread (kernel/db/read-thread.ts).
    const [byVersion, users] = await Promise.all([
      this.k.dbh.reads.all(db.selectFrom('callhome_daily').where('day', '=', day).groupBy('version')
        .select(['version', sql<number>`sum(calls)`.as('calls'), sql<number>`sum(case when licence_id <> '' then 1 else 0 end)`.as('installs')])),
      this.k.dbh.reads.all(sql<{ used: number | null; licensed: number | null }>`
        select sum(x.u) as used, sum(l.max_users) as licensed
        from (select licence_id, max(max_users_in_use) as u from callhome_daily where day = ${day} and licence_id <> '' group by licence_id) x
        inner join licences l on l.id = x.licence_id
        where l.max_users is not null`.compile(db)),
    ]);
    const installs = new Map<string, number>();
    let calls = 0;
    for (const r of byVersion) {
      calls += n(r.calls);
      if (n(r.installs) > 0) installs.set(r.version || 'unknown', (installs.get(r.version || 'unknown') ?? 0) + n(r.installs));
    }
    return { calls, installs, usersInUse: n(users[0]?.used), usersLicensed: n(users[0]?.licensed) };
  }

  /**
   * Brings the read model up to date: every completed day of the last year that has no row yet, and the
   * last few days again. Idempotent; the periodic job runs it, and the dashboard before reading.
   */
  async rollUp(): Promise<number> {
    this.rolling ??= this.rollUpNow(Number.POSITIVE_INFINITY).then((r) => r.built).finally(() => { this.rolling = null; });
    return this.rolling;
  }

  /** Builds at most `limit` missing days, the most recent first; says how many are left for the job. */
  private async rollUpNow(limit: number): Promise<{ built: number; pending: number }> {
    const now = this.k.clock.now();
    const today = startOfDay(now);
    const from = today - HISTORY_DAYS * DAY_MS;
    // 'done' holds when the day was computed: a day computed before it settled is computed again.
    const final = new Set((await this.k.db.selectFrom('admin_daily').select(['day', 'value']).where('metric', '=', 'done')
      .where('day', '>=', from).where('day', '<', today).execute()).filter((r) => n(r.value) >= n(r.day) + DAY_MS + SETTLE_MS).map((r) => n(r.day)));
    // The first day with any call-home data bounds the work on a fresh install.
    const first = await this.k.db.selectFrom('callhome_daily').select('day').where('day', '>=', from).orderBy('day').limit(1).executeTakeFirst();
    let built = 0;
    let pending = 0;
    for (let day = today - DAY_MS; day >= Math.max(from, first ? n(first.day) : today); day -= DAY_MS) {
      if (final.has(day)) continue;
      if (built >= limit) { pending++; continue; }
      const t = await this.computeDay(day);
      const rows = [
        { day, metric: 'done', key: '', value: now },
        { day, metric: 'calls', key: '', value: t.calls },
        { day, metric: 'users_in_use', key: '', value: t.usersInUse },
        { day, metric: 'users_licensed', key: '', value: t.usersLicensed },
        ...[...t.installs].map(([version, v]) => ({ day, metric: 'installs', key: version.slice(0, 100), value: v })),
      ];
      await this.k.db.transaction().execute(async (trx) => {
        await trx.deleteFrom('admin_daily').where('day', '=', day).execute();
        // Another node may be building the same day: the last one wins, neither fails.
        await trx.insertInto('admin_daily').values(rows)
          .onConflict((oc) => oc.columns(['day', 'metric', 'key']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value') }))).execute();
      });
      built++;
    }
    return { built, pending };
  }

  async data(): Promise<DashboardData> {
    // A render builds a few missing days itself (yesterday, after midnight); a long history waits for the job.
    const { pending } = this.rolling ? { pending: 0 } : await this.rollUpNow(RENDER_ROLLUP_DAYS);
    const now = this.k.clock.now();
    const today = startOfDay(now);
    const from = today - (CHART_DAYS - 1) * DAY_MS;
    const [stored, live, renewals, revenue, shared] = await Promise.all([
      this.k.db.selectFrom('admin_daily').select(['day', 'metric', 'key', 'value']).where('day', '>=', from).where('day', '<', today).execute(),
      this.computeDay(today),
      this.renewals(now),
      this.revenue(now),
      this.sharedLicences(now),
    ]);
    const days = new Map<number, DailyTotals>();
    for (let d = from; d < today; d += DAY_MS) days.set(d, { day: d, calls: 0, installs: new Map(), usersInUse: 0, usersLicensed: 0 });
    for (const r of stored) {
      const t = days.get(n(r.day));
      if (!t) continue;
      if (r.metric === 'calls') t.calls = n(r.value);
      else if (r.metric === 'users_in_use') t.usersInUse = n(r.value);
      else if (r.metric === 'users_licensed') t.usersLicensed = n(r.value);
      else if (r.metric === 'installs') t.installs.set(r.key, n(r.value));
    }
    days.set(today, { day: today, ...live });
    const list = [...days.values()];
    return { days: list, versions: topVersions(list, 5), renewals, ...revenue, shared, pendingDays: pending };
  }

  /** Maintenance and add-on ends per week for the next 13 weeks (active licences). */
  async renewals(now: number): Promise<DashboardData['renewals']> {
    const until = now + 13 * WEEK_MS;
    const week = (col: string) => sql<number>`cast((${sql.ref(col)} - ${now}) / ${WEEK_MS} as integer)`;
    const [m, a] = await Promise.all([
      this.k.db.selectFrom('licences').where('maintenance_until', '>=', now).where('maintenance_until', '<', until).where('status', '=', 'active')
        .select([week('maintenance_until').as('w'), sql<number>`count(*)`.as('n')]).groupBy(sql`1`).execute(),
      this.k.db.selectFrom('licence_addons').where('until', '>=', now).where('until', '<', until)
        .select([week('until').as('w'), sql<number>`count(*)`.as('n')]).groupBy(sql`1`).execute(),
    ]);
    const out = Array.from({ length: 13 }, (_, i) => ({ weekStart: now + i * WEEK_MS, maintenance: 0, addons: 0 }));
    for (const r of m) if (out[n(r.w)]) out[n(r.w)]!.maintenance = n(r.n);
    for (const r of a) if (out[n(r.w)]) out[n(r.w)]!.addons = n(r.n);
    return out;
  }

  /** Invoiced revenue (gross, credit notes subtracted) per calendar month (UTC) and currency, last 12 months. */
  async revenue(now: number): Promise<{ revenue: DashboardData['revenue']; currencies: string[] }> {
    const d = new Date(now);
    const months = Array.from({ length: 12 }, (_, i) => {
      const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 11 + i, 1);
      const end = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 10 + i, 1);
      return { start, end, month: new Date(start).toISOString().slice(0, 7) };
    });
    const rows = await Promise.all(months.map((m) => this.k.db.selectFrom('invoices')
      .where('issue_date', '>=', m.start).where('issue_date', '<', m.end).groupBy('currency')
      .select(['currency', sql<number>`sum(case when kind = 'credit_note' then -total_gross else total_gross end)`.as('gross')]).execute()));
    const currencies = new Set<string>();
    const revenue = months.map((m, i) => {
      const byCurrency: Record<string, number> = {};
      for (const r of rows[i]!) { byCurrency[r.currency] = n(r.gross); currencies.add(r.currency); }
      return { month: m.month, byCurrency };
    });
    return { revenue, currencies: [...currencies].sort() };
  }

  /**
   * The abuse signals scan 30 days of machines, networks and counters: seconds with a large installed
   * base. The periodic job computes them and stores the top of the list; a render reads that and
   * refreshes only those few licences' signals (one licence's signals are index look-ups). Only when
   * nothing was ever stored does a render compute the list itself, once.
   */
  async sharedLicences(now: number, refresh = false): Promise<DashboardData['shared']> {
    let stored = refresh ? [] : await this.k.db.selectFrom('admin_daily').select(['metric', 'key', 'value']).where('day', '=', SHARED_DAY).execute();
    if (!stored.some((r) => r.metric === 'shared_asof')) {
      await this.storeShared(now);
      stored = await this.k.db.selectFrom('admin_daily').select(['metric', 'key', 'value']).where('day', '=', SHARED_DAY).execute();
    }
    const ids = stored.filter((r) => r.metric === 'shared').sort((a, b) => n(a.value) - n(b.value)).map((r) => r.key);
    const rows = (await Promise.all(ids.map((id) => this.abuse.forLicence(id)))).filter((s): s is AbuseSignals => s !== null && s.reasons.length > 0);
    const meta = (m: string) => n(stored.find((r) => r.metric === m)?.value);
    return { rows, total: meta('shared_total'), asOf: meta('shared_asof') };
  }

  private async storeShared(now: number): Promise<void> {
    const all = await this.abuse.sharedLicences();
    const rows = [
      { day: SHARED_DAY, metric: 'shared_asof', key: '', value: now },
      { day: SHARED_DAY, metric: 'shared_total', key: '', value: all.length },
      ...all.slice(0, SHARED_TOP).map((s, i) => ({ day: SHARED_DAY, metric: 'shared', key: s.licenceId, value: i })),
    ];
    await this.k.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('admin_daily').where('day', '=', SHARED_DAY).execute();
      await trx.insertInto('admin_daily').values(rows)
        .onConflict((oc) => oc.columns(['day', 'metric', 'key']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value') }))).execute();
    });
  }
}

/** The versions with the most installations on the latest day with data; the rest are summed as "other". */
function topVersions(days: DailyTotals[], k: number): string[] {
  const latest = [...days].reverse().find((d) => d.installs.size > 0);
  if (!latest) return [];
  return [...latest.installs].sort((a, b) => b[1] - a[1]).slice(0, k).map(([v]) => v);
}
