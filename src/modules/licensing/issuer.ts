// What the shop (orders) needs from licensing, every change inside the payment's transaction so a
// licence exists if and only if its payment committed. It matches the `LicenceIssuer` interface the
// orders module declares (structurally: licensing does not import orders).

import type { Transaction } from 'kysely';
import type { Kernel } from '../../kernel/context.js';
import type { Db } from '../../kernel/db/database.js';
import type { Database } from '../../kernel/db/schema.js';
import { newId } from '../../kernel/crypto/tokens.js';
import { generateLicenceKey } from './validation/keys.js';
import { AddonNotFound, LicenceNotFound, ProductNotFound } from './licensing.errors.js';
import type { CallhomeService } from './callhome/callhome.service.js';

export interface ShopLicenceRequest {
  productCode: string;
  /** The catalogue's name for the product: a product licensing first meets in a sale is named so. */
  productName?: string;
  maxUsers: number | null;
  /** null: the default of one machine. */
  maxMachines: number | null;
  maintenanceUntil: number | null;
  addons: Array<{ code: string; until: number | null }>;
  customerId: string;
  customerEmail: string;
  orderId: string;
}

export interface ShopLicenceSummary {
  licenceId: string;
  productCode: string;
  customerId: string | null;
  maxUsers: number | null;
  maintenanceUntil: number | null;
  addons: Array<{ code: string; until: number | null }>;
  status: 'active' | 'suspended' | 'revoked';
  /** The key's last group ("…-7Q4F3"): enough to tell licences apart, useless to call home with. */
  label: string;
}

const KEY_PURPOSE = 'licence-key';
type Trx = Transaction<Database>;

export class ShopLicenceIssuer {
  constructor(
    private readonly k: Kernel,
    private readonly callhome: CallhomeService,
  ) {}

  async issue(trx: Trx, req: ShopLicenceRequest): Promise<{ licenceId: string; key: string }> {
    const product = await this.ensureProduct(trx, req.productCode, req.productName);
    const key = generateLicenceKey();
    const licenceId = newId();
    const now = this.k.clock.now();
    await trx.insertInto('licences').values({
      id: licenceId, product_id: product.id, key_hash: this.callhome.keyHash(key), key_sealed: this.k.secrets.seal(KEY_PURPOSE, key),
      customer_id: req.customerId, customer_email: req.customerEmail, order_id: req.orderId, status: 'active',
      max_users: req.maxUsers, max_machines: req.maxMachines ?? 1, expires_at: null, maintenance_until: req.maintenanceUntil,
      policy: '{}', created_at: now, updated_at: now,
    }).execute();
    for (const addon of req.addons) await this.setAddon(trx, licenceId, addon);
    await this.k.audit.record({ actorKind: 'system', action: 'licensing.licence.issued', target: licenceId, detail: { orderId: req.orderId, product: req.productCode } }, trx);
    return { licenceId, key };
  }

  /**
   * A sale must never fail because staff have not set the product up in licensing yet: the catalogue's
   * product and add-on codes are created here on first sale, the product with the catalogue's name
   * (customers see it on their licences). One that was made so by an earlier sale, still named by its
   * code, takes the name too; a name staff gave it stays.
   */
  private async ensureProduct(trx: Trx, code: string, name?: string): Promise<{ id: string }> {
    const found = await trx.selectFrom('products').select(['id', 'name']).where('code', '=', code).executeTakeFirst();
    if (found) {
      if (name && found.name === code && name !== code) await trx.updateTable('products').set({ name }).where('id', '=', found.id).execute();
      return { id: found.id };
    }
    const id = newId();
    await trx.insertInto('products').values({ id, code, name: name || code, created_at: this.k.clock.now() }).execute();
    return { id };
  }

  private async ensureAddon(trx: Trx, productId: string, code: string): Promise<{ id: string }> {
    const found = await trx.selectFrom('addons').select('id').where('code', '=', code).where('product_id', '=', productId).executeTakeFirst();
    if (found) return found;
    const id = newId();
    await trx.insertInto('addons').values({ id, product_id: productId, code, name: code, created_at: this.k.clock.now() }).execute();
    return { id };
  }

  async raiseTier(trx: Trx, licenceId: string, change: { maxUsers: number | null }): Promise<void> {
    await this.update(trx, licenceId, { max_users: change.maxUsers });
  }

  async extendMaintenance(trx: Trx, licenceId: string, change: { until: number }): Promise<void> {
    await this.update(trx, licenceId, { maintenance_until: change.until });
  }

  /** Adds the add-on to the licence, or moves its end date. */
  async setAddon(trx: Trx, licenceId: string, addon: { code: string; until: number | null }): Promise<void> {
    const lic = await trx.selectFrom('licences').select('product_id').where('id', '=', licenceId).executeTakeFirst();
    if (!lic) throw new LicenceNotFound();
    const row = await this.ensureAddon(trx, lic.product_id, addon.code);
    await trx.insertInto('licence_addons').values({ licence_id: licenceId, addon_id: row.id, until: addon.until })
      .onConflict((oc) => oc.columns(['licence_id', 'addon_id']).doUpdateSet({ until: addon.until }))
      .execute();
    await this.update(trx, licenceId, {});
  }

  async find(db: Db, licenceId: string): Promise<ShopLicenceSummary | null> {
    return (await this.summaries(db, 'l.id', licenceId))[0] ?? null;
  }

  async listForCustomer(db: Db, customerId: string): Promise<ShopLicenceSummary[]> {
    return this.summaries(db, 'l.customer_id', customerId);
  }

  private async update(trx: Trx, licenceId: string, set: { max_users?: number | null; maintenance_until?: number | null }): Promise<void> {
    const r = await trx.updateTable('licences').set({ ...set, updated_at: this.k.clock.now() }).where('id', '=', licenceId).executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) throw new LicenceNotFound();
  }

  private async summaries(db: Db, column: 'l.id' | 'l.customer_id', value: string): Promise<ShopLicenceSummary[]> {
    const rows = await db.selectFrom('licences as l').innerJoin('products as p', 'p.id', 'l.product_id')
      .select(['l.id', 'p.code', 'l.customer_id', 'l.max_users', 'l.maintenance_until', 'l.key_sealed', 'l.created_at', 'l.status'])
      .where(column, '=', value).execute();
    if (rows.length === 0) return [];
    const addons = await db.selectFrom('licence_addons as la').innerJoin('addons as a', 'a.id', 'la.addon_id')
      .select(['la.licence_id', 'a.code', 'la.until']).where('la.licence_id', 'in', rows.map((r) => r.id)).orderBy('a.code').execute();
    return rows
      .sort((a, b) => Number(a.created_at) - Number(b.created_at) || (a.id < b.id ? -1 : 1))
      .map((r) => ({
        licenceId: r.id,
        productCode: r.code,
        customerId: r.customer_id,
        maxUsers: r.max_users,
        maintenanceUntil: r.maintenance_until === null ? null : Number(r.maintenance_until),
        addons: addons.filter((a) => a.licence_id === r.id).map((a) => ({ code: a.code, until: a.until === null ? null : Number(a.until) })),
        status: r.status,
        label: `…-${this.k.secrets.open(KEY_PURPOSE, r.key_sealed).toString('utf8').slice(-5)}`,
      }));
  }
}
