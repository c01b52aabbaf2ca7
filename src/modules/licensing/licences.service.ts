// Products and licences as staff (and later the shop) manage them: create, read, change, and the
// machine actions (release, block, offline licence file for a typed computer ID).

import type { Kernel } from '../../kernel/context.js';
import type { Db } from '../../kernel/db/database.js';
import { lockForUpdate } from '../../kernel/db/dialect.js';
import { newId } from '../../kernel/crypto/tokens.js';
import { generateLicenceKey, formatLicenceKey, normaliseLicenceKey } from './validation/keys.js';
import { withPolicyDefaults, type Policy, type VendorStatus } from './validation/snapshot.js';
import { lockLicence, parsePolicy } from './validation/snapshot.repository.js';
import { currentPolicyDefaults } from './licensing.settings.js';
import { blockMachine, listMachines, releaseMachine } from './machines.repository.js';
import { AddonNotFound, Duplicate, duplicateOnUniqueViolation, LicenceFileRefused, LicenceNotFound, MachineNotFound, ProductNotFound } from './licensing.errors.js';
import type { CallhomeService } from './callhome/callhome.service.js';
import { randomToken } from '../../kernel/crypto/tokens.js';
import { badRequest } from '../../kernel/http/errors.js';

export interface Actor {
  kind: 'staff' | 'api_key' | 'system' | 'customer';
  id: string | null;
  ip?: string | null;
}

export interface AddonGrantInput {
  code: string;
  /** Epoch ms; null = no end. */
  until: number | null;
}

export interface LicenceInput {
  product: string;
  maxUsers: number | null;
  maxMachines: number | null;
  expiresAt: number | null;
  maintenanceUntil: number | null;
  addons: AddonGrantInput[];
  policy: Partial<Policy>;
  customerEmail: string | null;
  customerId?: string | null;
  orderId?: string | null;
}

export interface LicencePatch {
  status?: VendorStatus;
  maxUsers?: number | null;
  maxMachines?: number | null;
  expiresAt?: number | null;
  maintenanceUntil?: number | null;
  addons?: AddonGrantInput[];
  policy?: Partial<Policy>;
}

export interface LicenceView {
  id: string;
  key: string;
  product: string;
  status: 'active' | 'suspended' | 'revoked' | 'expired';
  maxUsers: number | null;
  maxMachines: number | null;
  expiresAt: string | null;
  maintenanceUntil: string | null;
  addons: { code: string; until: string | null }[];
  policy: Policy;
  customerEmail: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface MachineView {
  computerId: string;
  firstSeen: string | null;
  lastSeen: string | null;
  lastVersion: string | null;
  lastUsersInUse: number | null;
  status: string;
}

const KEY_PURPOSE = 'licence-key';
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(Number(ms)).toISOString());

export class LicencesService {
  constructor(
    private readonly k: Kernel,
    private readonly callhome: CallhomeService,
  ) {}

  async createProduct(input: { code: string; name: string }, actor: Actor): Promise<{ code: string; name: string; createdAt: string }> {
    const now = this.k.clock.now();
    const duplicate = `A product with the code ${input.code} exists already.`;
    const exists = await this.k.db.selectFrom('products').select('id').where('code', '=', input.code).executeTakeFirst();
    if (exists) throw new Duplicate(duplicate);
    const id = newId();
    await this.k.db.insertInto('products').values({ id, code: input.code, name: input.name, created_at: now }).execute()
      .catch(duplicateOnUniqueViolation(duplicate));
    await this.audit(actor, 'licensing.product.created', id, { code: input.code });
    return { code: input.code, name: input.name, createdAt: new Date(now).toISOString() };
  }

  async productId(code: string, db: Db = this.k.db): Promise<string> {
    const row = await db.selectFrom('products').select('id').where('code', '=', code).executeTakeFirst();
    if (!row) throw new ProductNotFound(code);
    return row.id;
  }

  /** Makes a licence with a fresh key; the key is shown in the answer and kept sealed for its owner. */
  async createLicence(input: LicenceInput, actor: Actor): Promise<LicenceView> {
    const now = this.k.clock.now();
    const key = generateLicenceKey();
    const id = newId();
    await this.k.db.transaction().execute(async (trx) => {
      const productId = await this.productId(input.product, trx);
      const addonIds = await this.addonIds(trx, productId, input.addons);
      await trx.insertInto('licences').values({
        id, product_id: productId, key_hash: this.callhome.keyHash(key), key_sealed: this.k.secrets.seal(KEY_PURPOSE, key),
        customer_id: input.customerId ?? null, customer_email: input.customerEmail, order_id: input.orderId ?? null, status: 'active',
        max_users: input.maxUsers, max_machines: input.maxMachines, expires_at: input.expiresAt,
        maintenance_until: input.maintenanceUntil, policy: JSON.stringify(input.policy), created_at: now, updated_at: now,
      }).execute();
      await this.writeAddons(trx, id, addonIds);
      await this.audit(actor, 'licensing.licence.created', id, { product: input.product }, trx);
    });
    return this.view(id);
  }

  /** The licence with its machines, found by its key as typed. */
  async getLicence(key: string): Promise<LicenceView & { machines: MachineView[] }> {
    const id = await this.licenceId(key);
    const [licence, machines] = await Promise.all([this.view(id), listMachines(this.k.db, id)]);
    return {
      ...licence,
      machines: machines.map((m) => ({
        computerId: m.computer_id, firstSeen: iso(m.first_seen), lastSeen: iso(m.last_seen),
        lastVersion: m.last_version, lastUsersInUse: m.last_users_in_use, status: m.status,
      })),
    };
  }

  /**
   * Changes what is given; `policy` merges into the stored policy, `addons` replaces the set. The row is
   * locked before it is read, so concurrent PATCHes apply one after the other and none is lost.
   */
  async updateLicence(key: string, patch: LicencePatch, actor: Actor): Promise<LicenceView> {
    const id = await this.licenceId(key);
    await this.k.db.transaction().execute(async (trx) => {
      const row = await lockForUpdate(trx.selectFrom('licences').select(['product_id', 'policy']).where('id', '=', id), this.k.flags)
        .executeTakeFirstOrThrow();
      const set: Record<string, unknown> = { updated_at: this.k.clock.now() };
      if (patch.status !== undefined) set.status = patch.status;
      if (patch.maxUsers !== undefined) set.max_users = patch.maxUsers;
      if (patch.maxMachines !== undefined) set.max_machines = patch.maxMachines;
      if (patch.expiresAt !== undefined) set.expires_at = patch.expiresAt;
      if (patch.maintenanceUntil !== undefined) set.maintenance_until = patch.maintenanceUntil;
      if (patch.policy !== undefined) set.policy = JSON.stringify({ ...(parsePolicy(row.policy) ?? {}), ...patch.policy });
      if (patch.addons !== undefined) {
        const addonIds = await this.addonIds(trx, row.product_id, patch.addons);
        await trx.deleteFrom('licence_addons').where('licence_id', '=', id).execute();
        await this.writeAddons(trx, id, addonIds);
      }
      await trx.updateTable('licences').set(set).where('id', '=', id).execute();
      await this.audit(actor, 'licensing.licence.updated', id, { fields: Object.keys(patch) }, trx);
    });
    return this.view(id);
  }

  async releaseMachine(key: string, computerId: string, actor: Actor): Promise<void> {
    const id = await this.licenceId(key);
    const done = await this.k.db.transaction().execute(async (trx) => {
      // Like a call home that takes a seat: otherwise one that read the machine before could write it back.
      await lockLicence(trx, this.k.flags, id);
      const ok = await releaseMachine(trx, id, computerId);
      if (ok) await this.audit(actor, 'licensing.machine.released', id, {}, trx);
      return ok;
    });
    if (!done) throw new MachineNotFound();
  }

  /** Blocks a computer ID on the licence, whether or not it has called yet. */
  async blockMachine(key: string, computerId: string, actor: Actor): Promise<void> {
    const id = await this.licenceId(key);
    await this.k.db.transaction().execute(async (trx) => {
      await lockLicence(trx, this.k.flags, id);
      await blockMachine(trx, id, computerId);
      await this.audit(actor, 'licensing.machine.blocked', id, {}, trx);
    });
  }

  /**
   * An offline licence file for a computer ID staff typed in (a site with no internet). The same
   * rules as `/licence-file` apply, and the file takes a seat; a refusal says why.
   */
  async issueLicenceFile(key: string, computerId: string, actor: Actor): Promise<{ text: string; expiresAt: string }> {
    const id = await this.licenceId(key);
    const { decision, file } = await this.callhome.licenceFile({ licence: key, computerId, nonce: randomToken(18) }, null);
    if (!file) throw new LicenceFileRefused(`${decision.code}: ${decision.detail}`);
    await this.audit(actor, 'licensing.licence_file.issued', id, {});
    return { text: file.text, expiresAt: file.expiresAt.toISOString() };
  }

  /** The licence's id, from its key as typed (normalised and hashed like a call home). */
  async licenceId(key: string): Promise<string> {
    const row = normaliseLicenceKey(key) === ''
      ? undefined
      : await this.k.db.selectFrom('licences').select('id').where('key_hash', '=', this.callhome.keyHash(key)).executeTakeFirst();
    if (!row) throw new LicenceNotFound();
    return row.id;
  }

  async view(id: string): Promise<LicenceView> {
    const row = await this.k.db.selectFrom('licences as l').innerJoin('products as p', 'p.id', 'l.product_id')
      .select(['l.id', 'l.key_sealed', 'p.code as product', 'l.status', 'l.max_users', 'l.max_machines', 'l.expires_at',
        'l.maintenance_until', 'l.policy', 'l.customer_email', 'l.created_at', 'l.updated_at'])
      .where('l.id', '=', id).executeTakeFirstOrThrow();
    const addons = await this.k.db.selectFrom('licence_addons as la').innerJoin('addons as a', 'a.id', 'la.addon_id')
      .select(['a.code', 'la.until']).where('la.licence_id', '=', id).orderBy('a.code').execute();
    const expired = row.expires_at !== null && this.k.clock.now() >= Number(row.expires_at);
    return {
      id: row.id,
      key: formatLicenceKey(normaliseLicenceKey(this.k.secrets.open(KEY_PURPOSE, row.key_sealed).toString('utf8'))),
      product: row.product,
      status: row.status === 'active' && expired ? 'expired' : row.status,
      maxUsers: row.max_users,
      maxMachines: row.max_machines,
      expiresAt: iso(row.expires_at),
      maintenanceUntil: iso(row.maintenance_until),
      addons: addons.map((a) => ({ code: a.code, until: iso(a.until) })),
      policy: withPolicyDefaults(parsePolicy(row.policy), await currentPolicyDefaults(this.k.settings)),
      customerEmail: row.customer_email,
      createdAt: new Date(Number(row.created_at)).toISOString(),
      updatedAt: new Date(Number(row.updated_at)).toISOString(),
    };
  }

  private async addonIds(trx: Db, productId: string, grants: AddonGrantInput[]): Promise<{ id: string; until: number | null }[]> {
    const seen = new Set<string>();
    const out: { id: string; until: number | null }[] = [];
    for (const g of grants) {
      if (seen.has(g.code)) throw badRequest(`The add-on ${g.code} is listed twice.`, 'addons');
      seen.add(g.code);
      const row = await trx.selectFrom('addons').select(['id', 'product_id']).where('code', '=', g.code).executeTakeFirst();
      if (!row || row.product_id !== productId) throw new AddonNotFound(`This licence's product has no add-on ${g.code}.`);
      out.push({ id: row.id, until: g.until });
    }
    return out;
  }

  private async writeAddons(trx: Db, licenceId: string, addons: { id: string; until: number | null }[]): Promise<void> {
    if (addons.length === 0) return;
    await trx.insertInto('licence_addons').values(addons.map((a) => ({ licence_id: licenceId, addon_id: a.id, until: a.until }))).execute();
  }

  // Details carry ids only: the audit log is kept for years and computer IDs are personal data.
  private async audit(actor: Actor, action: string, target: string, detail: Record<string, unknown>, trx?: Db): Promise<void> {
    await this.k.audit.record({ actorKind: actor.kind === 'customer' ? 'customer' : actor.kind, actorId: actor.id, action, target, detail, ip: actor.ip ?? null }, trx);
  }
}
