// Abuse signals: how widely a licence is used over the last 30 days (distinct computers, distinct
// networks, the highest user count reported) against what it allows, and the licences that look
// shared, for staff to look at. Nothing here acts on a licence: a signal is a reason to ask.

import { sql } from 'kysely';
import type { Kernel } from '../../kernel/context.js';
import { DAY_MS } from '../../kernel/clock.js';

export interface AbuseSignals {
  licenceId: string;
  product: string;
  maxMachines: number | null;
  maxUsers: number | null;
  /** Computer IDs seen in the window (any status: over-limit and blocked ones are the interesting ones). */
  distinctComputers: number;
  /** IPv4 /24 and IPv6 /48 networks calls came from in the window. */
  distinctNetworks: number;
  highestUsersInUse: number | null;
  /** Why the licence looks shared; empty when it does not. */
  reasons: string[];
}

export interface SharingThresholds {
  windowDays: number;
  /** Flag when computers exceed maxMachines by more than this factor (1 = any excess). */
  machineFactor: number;
  /** Flag when networks exceed this many per allowed machine (a laptop moves; a shared key spreads). */
  networksPerMachine: number;
}

export const SHARING_DEFAULTS: SharingThresholds = Object.freeze({ windowDays: 30, machineFactor: 1, networksPerMachine: 3 });

export class AbuseService {
  constructor(private readonly k: Kernel) {}

  /** Signals of every licence used in the window that looks shared, the most spread first. */
  async sharedLicences(t: SharingThresholds = SHARING_DEFAULTS): Promise<AbuseSignals[]> {
    const all = await this.signals(null, t);
    return all.filter((s) => s.reasons.length > 0)
      .sort((a, b) => b.distinctComputers - a.distinctComputers || b.distinctNetworks - a.distinctNetworks);
  }

  /** One licence's signals (null when it was not used in the window). */
  async forLicence(licenceId: string, t: SharingThresholds = SHARING_DEFAULTS): Promise<AbuseSignals | null> {
    return (await this.signals(licenceId, t))[0] ?? null;
  }

  private async signals(licenceId: string | null, t: SharingThresholds): Promise<AbuseSignals[]> {
    const since = this.k.clock.now() - t.windowDays * DAY_MS;
    const db = this.k.db;
    const machines = db.selectFrom('machines').select(['licence_id', sql<number>`count(*)`.as('n')])
      .where('last_seen', '>=', since).groupBy('licence_id');
    const networks = db.selectFrom('licence_networks').select(['licence_id', sql<number>`count(*)`.as('n')])
      .where('last_seen', '>=', since).groupBy('licence_id');
    const users = db.selectFrom('callhome_daily').select(['licence_id', sql<number | null>`max(max_users_in_use)`.as('n')])
      .where('day', '>=', since - DAY_MS).groupBy('licence_id');
    // Over the whole installed base these aggregates take seconds: they run on the read thread
    // (kernel/db/read-thread.ts), never on the one that answers call-home requests.
    const reads = this.k.dbh.reads;
    const [m, n, u] = await Promise.all([
      reads.all(licenceId ? machines.where('licence_id', '=', licenceId) : machines),
      reads.all(licenceId ? networks.where('licence_id', '=', licenceId) : networks),
      reads.all(licenceId ? users.where('licence_id', '=', licenceId) : users),
    ]);
    const ids = new Set([...m, ...n].map((r) => r.licence_id));
    if (ids.size === 0) return [];
    // In chunks: SQLite takes at most 32,766 bound values per statement (PostgreSQL 65,535), and a large
    // installed base has far more licences in use within the window.
    const all = [...ids];
    const licences = [];
    for (let i = 0; i < all.length; i += 10_000) {
      licences.push(...await reads.all(db.selectFrom('licences as l').innerJoin('products as p', 'p.id', 'l.product_id')
        .select(['l.id', 'p.code', 'l.max_machines', 'l.max_users']).where('l.id', 'in', all.slice(i, i + 10_000))));
    }
    const byId = <R extends { licence_id: string; n: number | null }>(rows: R[]) => new Map(rows.map((r) => [r.licence_id, r.n === null ? null : Number(r.n)]));
    const mm = byId(m);
    const nn = byId(n);
    const uu = byId(u);
    return licences.map((l) => {
      const s: AbuseSignals = {
        licenceId: l.id, product: l.code, maxMachines: l.max_machines, maxUsers: l.max_users,
        distinctComputers: mm.get(l.id) ?? 0, distinctNetworks: nn.get(l.id) ?? 0, highestUsersInUse: uu.get(l.id) ?? null, reasons: [],
      };
      const allowed = l.max_machines ?? Number.POSITIVE_INFINITY;
      if (s.distinctComputers > allowed * t.machineFactor) s.reasons.push(`${s.distinctComputers} computers for ${allowed} allowed`);
      if (s.distinctNetworks > Math.max(1, l.max_machines ?? 1) * t.networksPerMachine && l.max_machines !== null) {
        s.reasons.push(`${s.distinctNetworks} networks for ${l.max_machines} computer(s)`);
      }
      if (s.highestUsersInUse !== null && l.max_users !== null && s.highestUsersInUse > l.max_users) {
        s.reasons.push(`${s.highestUsersInUse} users in use for ${l.max_users} licensed`);
      }
      return s;
    });
  }
}
