import crypto from 'node:crypto';
import type { Kernel } from '../../src/kernel/context.js';
import { newId } from '../../src/kernel/crypto/tokens.js';
import { createLicensingModule } from '../../src/modules/licensing/index.js';
import { generateLicenceKey } from '../../src/modules/licensing/validation/keys.js';
import type { Insertable } from 'kysely';
import type { Database } from '../../src/kernel/db/schema.js';

export interface SeededInstall { licence: string; computerId: string; version: string; usersInUse: number }

/**
 * A realistic installed base, written straight into the licensing tables in 1,000-row transactions:
 * `licences` licences of one product in per-user tiers, about `machines` machines spread over them
 * (most licences one PC, some two or three), a few releases. Returns a sample of real installations
 * (key + known computer ID) for the load generator.
 */
export async function seedInstalledBase(k: Kernel, opts: { licences: number; machines: number; sample: number; onProgress?: (done: number, total: number) => void }): Promise<SeededInstall[]> {
  const lic = createLicensingModule(k);
  const now = k.clock.now();
  const day = 86_400_000;
  const productId = newId();
  await k.db.insertInto('products').values({ id: productId, code: 'mailserver', name: 'Mail Server', created_at: now }).execute();
  const versions = ['8.3.0', '8.4.0', '8.4.1', '8.5.0', '8.6.0'];
  for (const [i, version] of versions.entries()) {
    await k.db.insertInto('releases').values({
      id: newId(), product_id: productId, channel: 'stable', version, released_at: now - (versions.length - i) * 60 * day, security: 0,
      notes: `Release ${version}`, file_sha256: null, file_size: null, file_path: null, file_name: null, created_at: now,
    }).execute();
  }
  const tiers = [5, 10, 25, 50, 100, null];
  const sample: SeededInstall[] = [];
  const perLicence = opts.machines / opts.licences;
  let machinesLeft = opts.machines;
  const batch = 1000;
  for (let start = 0; start < opts.licences; start += batch) {
    const licRows: Insertable<Database['licences']>[] = [];
    const machineRows: Insertable<Database['machines']>[] = [];
    for (let i = start; i < Math.min(opts.licences, start + batch); i++) {
      const key = generateLicenceKey();
      const id = newId();
      const maxUsers = tiers[i % tiers.length]!;
      const nMachines = Math.min(machinesLeft, i === opts.licences - 1 ? machinesLeft : Math.max(1, Math.round(perLicence + (Math.random() - 0.5))));
      machinesLeft -= nMachines;
      licRows.push({
        id, product_id: productId, key_hash: lic.callhome.keyHash(key), key_sealed: k.secrets.seal('licence-key', key),
        customer_id: null, customer_email: null, order_id: null, status: 'active' as const, max_users: maxUsers, max_machines: 3,
        expires_at: null, maintenance_until: now + 180 * day, policy: '{}', created_at: now - 400 * day, updated_at: now,
      });
      for (let m = 0; m < nMachines; m++) {
        const computerId = crypto.randomBytes(32).toString('hex');
        const version = versions[(i + m) % versions.length]!;
        const usersInUse = Math.max(0, Math.floor((maxUsers ?? 200) * 0.6));
        machineRows.push({
          licence_id: id, computer_id: computerId, status: 'active' as const, first_seen: now - 300 * day, last_seen: now - (i % 7) * day,
          last_version: version, last_users_in_use: usersInUse, last_ip: `203.0.${i % 250}.${m + 1}`,
        });
        if (sample.length < opts.sample && m === 0 && i % Math.max(1, Math.floor(opts.licences / opts.sample)) === 0) {
          sample.push({ licence: key, computerId, version, usersInUse });
        }
      }
    }
    await k.db.transaction().execute(async (trx) => {
      await trx.insertInto('licences').values(licRows).execute();
      for (let j = 0; j < machineRows.length; j += 500) await trx.insertInto('machines').values(machineRows.slice(j, j + 500)).execute();
    });
    opts.onProgress?.(Math.min(opts.licences, start + batch), opts.licences);
  }
  return sample;
}
