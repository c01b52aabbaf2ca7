// What a signed-in customer may do with the licences they own (My account → Licences): see them and
// their machines, reveal a key (audited), release a machine they no longer use (a few times a month per
// licence), and download an offline licence file for a computer ID they type in.
//
// Every method takes the customer's id and checks ownership first: a licence that is not theirs answers
// exactly like one that does not exist, and nothing is read or changed for it.

import type { Kernel } from '../../kernel/context.js';
import type { Db } from '../../kernel/db/database.js';
import { newId, randomToken } from '../../kernel/crypto/tokens.js';
import { lockForUpdate } from '../../kernel/db/dialect.js';
import type { Settings } from '../../kernel/settings/settings.js';
import { badRequest } from '../../kernel/http/errors.js';
import { formatLicenceKey, normaliseLicenceKey } from './validation/keys.js';
import { listMachines, releaseMachine } from './machines.repository.js';
import { InvalidComputerId, LicenceFileRefused, LicenceNotFound, MachineNotFound, ReleaseLimitReached } from './licensing.errors.js';
import type { CallhomeService } from './callhome/callhome.service.js';
import type { MachineStatus, VendorStatus } from './validation/snapshot.js';

const KEY_PURPOSE = 'licence-key';

export const SELF_SERVICE_SETTINGS_KEY = 'licensing.self_service';
export interface SelfServiceSettings {
  /** Machines a customer may release from one licence per calendar month (UTC); 0 turns self-service release off. */
  releasesPerMonth: number;
}
export const SELF_SERVICE_DEFAULTS: SelfServiceSettings = Object.freeze({ releasesPerMonth: 3 });

/** The stored setting over the defaults; a value of the wrong type or out of range is ignored. */
export async function selfServiceSettings(settings: Settings, db?: Db): Promise<SelfServiceSettings> {
  const stored = await settings.get<Partial<Record<keyof SelfServiceSettings, unknown>>>(SELF_SERVICE_SETTINGS_KEY, {}, db);
  const v = stored.releasesPerMonth;
  return { releasesPerMonth: typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 100 ? v : SELF_SERVICE_DEFAULTS.releasesPerMonth };
}

/** For the admin settings page: validates and stores the setting, or throws BAD_REQUEST naming the field. */
export async function saveSelfServiceSettings(settings: Settings, input: { releasesPerMonth?: unknown }, by: string | null): Promise<SelfServiceSettings> {
  const raw = input.releasesPerMonth;
  const n = typeof raw === 'string' && /^\d{1,3}$/.test(raw.trim()) ? Number(raw.trim()) : raw;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 100) {
    throw badRequest('Machines a customer may release per licence per month must be a whole number from 0 to 100 (0: only staff release machines).', 'releasesPerMonth');
  }
  const value = { releasesPerMonth: n };
  await settings.set(SELF_SERVICE_SETTINGS_KEY, value, by);
  return value;
}

export interface CustomerMachine {
  computerId: string;
  status: MachineStatus;
  firstSeen: number | null;
  lastSeen: number | null;
  version: string | null;
  usersInUse: number | null;
}

export interface CustomerLicence {
  id: string;
  /** The key's last group ("…-7Q4F3"): enough to tell licences apart, useless to call home with. */
  label: string;
  product: string;
  productName: string;
  status: VendorStatus | 'expired';
  maxUsers: number | null;
  maxMachines: number | null;
  expiresAt: number | null;
  maintenanceUntil: number | null;
  addons: { code: string; name: string; until: number | null }[];
  machines: CustomerMachine[];
  releasesThisMonth: number;
}

export interface CustomerActor { customerId: string; ip: string | null }

/** Epoch ms of the first instant of the UTC calendar month holding `now`, and of the next one. */
export function monthBounds(now: number): { start: number; next: number } {
  const d = new Date(now);
  return { start: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1), next: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) };
}

/** A computer ID as typed: spaces and dashes ignored, any case; otherwise InvalidComputerId. */
export function parseComputerId(raw: unknown): string {
  const id = typeof raw === 'string' ? raw.replace(/[\s-]/g, '').toLowerCase() : '';
  if (!/^[0-9a-f]{64}$/.test(id)) throw new InvalidComputerId();
  return id;
}

export class CustomerLicencesService {
  constructor(
    private readonly k: Kernel,
    private readonly callhome: CallhomeService,
  ) {}

  /** The customer's licences, newest first, with add-ons, machines and this month's releases. */
  async list(customerId: string): Promise<CustomerLicence[]> {
    const rows = await this.k.db.selectFrom('licences as l').innerJoin('products as p', 'p.id', 'l.product_id')
      .select(['l.id', 'l.key_sealed', 'p.code', 'p.name', 'l.status', 'l.max_users', 'l.max_machines', 'l.expires_at', 'l.maintenance_until', 'l.created_at'])
      .where('l.customer_id', '=', customerId).orderBy('l.created_at', 'desc').orderBy('l.id').execute();
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const now = this.k.clock.now();
    const { start } = monthBounds(now);
    const [addons, releases, machines] = await Promise.all([
      this.k.db.selectFrom('licence_addons as la').innerJoin('addons as a', 'a.id', 'la.addon_id')
        .select(['la.licence_id', 'a.code', 'a.name', 'la.until']).where('la.licence_id', 'in', ids).orderBy('a.code').execute(),
      this.k.db.selectFrom('licence_self_releases').select(['licence_id', (eb) => eb.fn.countAll<number>().as('n')])
        .where('licence_id', 'in', ids).where('released_at', '>=', start).groupBy('licence_id').execute(),
      Promise.all(ids.map((id) => listMachines(this.k.db, id))),
    ]);
    return rows.map((r, i) => {
      const expired = r.expires_at !== null && now >= Number(r.expires_at);
      return {
        id: r.id, label: labelOf(this.openKey(r.key_sealed)), product: r.code, productName: r.name,
        status: r.status === 'active' && expired ? 'expired' : r.status,
        maxUsers: r.max_users, maxMachines: r.max_machines,
        expiresAt: r.expires_at === null ? null : Number(r.expires_at),
        maintenanceUntil: r.maintenance_until === null ? null : Number(r.maintenance_until),
        addons: addons.filter((a) => a.licence_id === r.id).map((a) => ({ code: a.code, name: a.name, until: a.until === null ? null : Number(a.until) })),
        machines: machines[i]!.map((m) => ({
          computerId: m.computer_id, status: m.status, firstSeen: num(m.first_seen), lastSeen: num(m.last_seen),
          version: m.last_version, usersInUse: m.last_users_in_use,
        })),
        releasesThisMonth: Number(releases.find((x) => x.licence_id === r.id)?.n ?? 0),
      };
    });
  }

  /** The full key of one of the customer's licences; every reveal is in the audit log. */
  async revealKey(licenceId: string, actor: CustomerActor): Promise<string> {
    const row = await this.owned(this.k.db, licenceId, actor.customerId);
    await this.k.audit.record({ actorKind: 'customer', actorId: actor.customerId, action: 'licensing.licence.key_revealed', target: row.id, ip: actor.ip });
    return this.openKey(row.key_sealed);
  }

  /**
   * Releases a machine from one of the customer's licences, freeing its seat. At most
   * `releasesPerMonth` per licence per calendar month; the licence row is locked while counting, so two
   * tabs cannot both take the last one.
   */
  async releaseMachine(licenceId: string, computerIdRaw: unknown, actor: CustomerActor): Promise<{ remaining: number }> {
    const computerId = parseComputerId(computerIdRaw);
    const now = this.k.clock.now();
    const { start, next } = monthBounds(now);
    return this.k.db.transaction().execute(async (trx) => {
      const lic = await lockForUpdate(trx.selectFrom('licences').select(['id', 'customer_id']).where('id', '=', licenceId), this.k.flags).executeTakeFirst();
      if (!lic || lic.customer_id !== actor.customerId) throw new LicenceNotFound();
      const machine = await trx.selectFrom('machines').select('status').where('licence_id', '=', lic.id).where('computer_id', '=', computerId).executeTakeFirst();
      // A machine already released (or blocked by staff) has nothing to free; it is not the customer's to unblock.
      if (!machine || machine.status === 'released' || machine.status === 'blocked') throw new MachineNotFound();
      const { releasesPerMonth: limit } = await selfServiceSettings(this.k.settings, trx);
      const used = Number((await trx.selectFrom('licence_self_releases').select((eb) => eb.fn.countAll<number>().as('n'))
        .where('licence_id', '=', lic.id).where('released_at', '>=', start).executeTakeFirstOrThrow()).n);
      if (used >= limit) {
        throw new ReleaseLimitReached(limit === 0
          ? 'Machines cannot be released from My account. Please contact support and we will do it for you.'
          : `You have already released ${used} machine${used === 1 ? '' : 's'} from this licence this month, the most allowed (${limit}). You can release another from ${new Date(next).toISOString().slice(0, 10)}, or contact support if you need one released sooner.`);
      }
      await releaseMachine(trx, lic.id, computerId);
      await trx.insertInto('licence_self_releases').values({ id: newId(), licence_id: lic.id, released_at: now }).execute();
      // Ids only: computer IDs are personal data and the audit log is kept for years.
      await this.k.audit.record({ actorKind: 'customer', actorId: actor.customerId, action: 'licensing.machine.released', target: lic.id, detail: { selfService: true }, ip: actor.ip }, trx);
      return { remaining: limit - used - 1 };
    }).catch((err: unknown) => {
      // Audited after the rollback the thrown error causes, so the refusal is on record.
      if (!(err instanceof ReleaseLimitReached)) throw err;
      return this.k.audit.record({ actorKind: 'customer', actorId: actor.customerId, action: 'licensing.machine.release_refused', target: licenceId, ip: actor.ip })
        .then(() => { throw err; });
    });
  }

  /**
   * An offline licence file for a computer ID the customer typed in, built exactly like
   * POST /api/v1/licence-file (the same rules; the file takes a seat). A refusal says why.
   */
  async licenceFile(licenceId: string, computerIdRaw: unknown, actor: CustomerActor): Promise<{ text: string; fileName: string; expiresAt: string }> {
    const computerId = parseComputerId(computerIdRaw);
    const row = await this.owned(this.k.db, licenceId, actor.customerId);
    const key = this.openKey(row.key_sealed);
    const { decision, file } = await this.callhome.licenceFile({ licence: key, computerId, nonce: randomToken(18) }, null);
    if (!file) throw new LicenceFileRefused(refusalText(decision.code, decision.detail));
    await this.k.audit.record({ actorKind: 'customer', actorId: actor.customerId, action: 'licensing.licence_file.issued', target: row.id, ip: actor.ip });
    return { text: file.text, fileName: `licence-${key.slice(-5)}-${computerId.slice(0, 8)}.lic`, expiresAt: file.expiresAt.toISOString() };
  }

  private async owned(db: Db, licenceId: string, customerId: string) {
    const row = await db.selectFrom('licences').select(['id', 'key_sealed']).where('id', '=', licenceId).where('customer_id', '=', customerId).executeTakeFirst();
    if (!row) throw new LicenceNotFound();
    return row;
  }

  private openKey(sealed: string): string {
    return formatLicenceKey(normaliseLicenceKey(this.k.secrets.open(KEY_PURPOSE, sealed).toString('utf8')));
  }
}

const num = (v: number | null): number | null => (v === null ? null : Number(v));

export function labelOf(formattedKey: string): string {
  return `…-${formattedKey.slice(-5)}`;
}

/** The call-home refusal codes in words a customer understands. */
function refusalText(code: string, detail: string): string {
  switch (code) {
    case 'TOO_MANY_MACHINES':
      return 'This licence is already in use on as many computers as it allows. Release a computer you no longer use, then try again.';
    case 'MACHINE_BLOCKED':
      return 'This computer has been blocked from this licence. Please contact support.';
    case 'EXPIRED': return 'This licence has expired, so no licence file can be issued. Renew it in the shop.';
    case 'SUSPENDED': case 'REVOKED': case 'PRODUCT_MISMATCH': return 'This licence is not active, so no licence file can be issued. Please contact support.';
    default: return `No licence file can be issued for this computer (${code}: ${detail}).`;
  }
}
