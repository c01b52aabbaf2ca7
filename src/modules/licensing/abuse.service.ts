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

  /**
   * One licence's signals, or (licenceId null) those of every licence that may look shared. Over the
   * whole installed base the aggregates take seconds: they run on the read thread
   * (kernel/db/read-thread.ts), never on the one that answers call-home requests, and the database
   * returns only the licences past a threshold (the rules below decide), not a row per licence in use.
   */
  private async signals(licenceId: string | null, t: SharingThresholds): Promise<AbuseSignals[]> {
    const since = this.k.clock.now() - t.windowDays * DAY_MS;
    const db = this.k.db;
    const one = <Q extends { where: (...a: any[]) => Q }>(q: Q): Q => (licenceId === null ? q : q.where('licence_id', '=', licenceId));
    // A released machine is not counted: replacing a PC (release the old one, activate the new) is
    // routine, and releases by the customer are capped per month (licensing.self_service).
    const machines = one(db.selectFrom('machines').select(['licence_id', sql<number>`count(*)`.as('n')])
      .where('last_seen', '>=', since).where('status', '<>', 'released').groupBy('licence_id'));
    const networks = one(db.selectFrom('licence_networks').select(['licence_id', sql<number>`count(*)`.as('n')])
      .where('last_seen', '>=', since).groupBy('licence_id'));
    const users = one(db.selectFrom('callhome_daily').select(['licence_id', sql<number | null>`max(max_users_in_use)`.as('n')])
      .where('day', '>=', since - DAY_MS).groupBy('licence_id'));
    let q = db.selectFrom('licences as l').innerJoin('products as p', 'p.id', 'l.product_id')
      .leftJoin(machines.as('m'), 'm.licence_id', 'l.id')
      .leftJoin(networks.as('nw'), 'nw.licence_id', 'l.id')
      .leftJoin(users.as('u'), 'u.licence_id', 'l.id')
      .select(['l.id', 'p.code', 'l.max_machines', 'l.max_users', 'm.n as computers', 'nw.n as networks', 'u.n as users'])
      .where((eb) => eb.or([eb('m.n', 'is not', null), eb('nw.n', 'is not', null)]));
    q = licenceId !== null
      ? q.where('l.id', '=', licenceId)
      // A superset of the rules below, in SQL, so that only candidates leave the database.
      : q.where((eb) => eb.or([
        eb.and([eb('l.max_machines', 'is not', null), eb('m.n', '>', sql<number>`l.max_machines * cast(${t.machineFactor} as double precision)`)]),
        eb.and([eb('l.max_machines', 'is not', null), eb('nw.n', '>', sql<number>`(case when l.max_machines < 1 then 1 else l.max_machines end) * cast(${t.networksPerMachine} as double precision)`)]),
        eb.and([eb('l.max_users', 'is not', null), eb('u.n', '>', eb.ref('l.max_users'))]),
      ]));
    const licences = await this.k.dbh.reads.all(q);
    const count = (v: number | null) => (v === null ? 0 : Number(v));
    return licences.map((l) => {
      const u = l.users === null ? null : Number(l.users);
      const s: AbuseSignals = {
        licenceId: l.id, product: l.code, maxMachines: l.max_machines, maxUsers: l.max_users,
        distinctComputers: count(l.computers), distinctNetworks: count(l.networks), highestUsersInUse: u, reasons: [],
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
