import type { Db } from '../../kernel/db/database.js';
import { newId } from '../../kernel/crypto/tokens.js';
import type { Currency, PlanKind } from './catalog.tables.js';

/** A Windows mail server sold in user tiers, with support renewals, two add-ons and tier upgrades. */
const TIERS: Array<{ users: number | null; gbp: number }> = [
  { users: 5, gbp: 29900 }, { users: 10, gbp: 49900 }, { users: 25, gbp: 99900 },
  { users: 50, gbp: 179900 }, { users: 100, gbp: 299900 }, { users: null, gbp: 499900 },
];
const ADDONS = [{ code: 'spamfilter', name: 'Spam filter updates', gbp: 9900 }, { code: 'antivirus', name: 'Antivirus definition updates', gbp: 14900 }];

/** Prices in the other currencies are rounded to whole units, as a vendor would list them. */
const convert = (gbp: number): Record<Currency, number> => ({
  GBP: gbp, EUR: Math.round((gbp * 117) / 10000) * 100, USD: Math.round((gbp * 127) / 10000) * 100,
});
const label = (users: number | null) => (users === null ? 'Unlimited users' : `${users} users`);

/**
 * Loads the demo catalogue (idempotent: does nothing when its product exists). Used by the first-run
 * set-up checkbox and by `bin/keyward demo`. Returns whether anything was loaded.
 */
export async function loadDemoCatalogue(db: Db, now: number): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    if (await trx.selectFrom('catalog_products').select('id').where('code', '=', 'mailserver').executeTakeFirst()) return false;
    const productId = newId();
    await trx.insertInto('catalog_products').values({
      id: productId, code: 'mailserver', name: 'Keyward Demo Mail Server', active: 1, sort: 0, created_at: now, updated_at: now,
      description: 'A Windows mail server for small and medium businesses: SMTP, IMAP, webmail and shared calendars.',
    }).execute();
    const editionId = newId();
    await trx.insertInto('catalog_editions').values({ id: editionId, product_id: productId, code: 'standard', name: 'Standard', sort: 0, active: 1 }).execute();
    const tierIds: string[] = [];
    for (const [i, t] of TIERS.entries()) {
      const id = newId();
      tierIds.push(id);
      await trx.insertInto('catalog_tiers').values({ id, product_id: productId, max_users: t.users, label: label(t.users), rank: (i + 1) * 10, active: 1 }).execute();
    }
    let sort = 0;
    const plan = async (kind: PlanKind, sku: string, name: string, gbp: number, extra: { tier?: string; from?: string; addon?: string }) => {
      const id = newId();
      await trx.insertInto('catalog_plans').values({
        id, sku, product_id: productId, edition_id: editionId, kind, tier_id: extra.tier ?? null, from_tier_id: extra.from ?? null,
        addon_code: extra.addon ?? null, name, term_months: kind === 'upgrade' ? null : 12, active: 1, sort: sort++, created_at: now, updated_at: now,
      }).execute();
      for (const [currency, amount] of Object.entries(convert(gbp))) {
        await trx.insertInto('catalog_prices').values({ plan_id: id, currency: currency as Currency, amount, updated_at: now }).execute();
      }
    };
    for (const [i, t] of TIERS.entries()) {
      const suffix = t.users === null ? 'unl' : String(t.users);
      await plan('perpetual', `ms-${suffix}`, `Mail Server, ${label(t.users)} (includes 1 year of support and updates)`, t.gbp, { tier: tierIds[i] });
    }
    for (const [i, t] of TIERS.entries()) {
      const suffix = t.users === null ? 'unl' : String(t.users);
      await plan('renewal', `ms-${suffix}-renew`, `Support and updates renewal, ${label(t.users)}, 1 year`, Math.round(t.gbp / 4 / 100) * 100, { tier: tierIds[i] });
    }
    for (const a of ADDONS) await plan('addon', `ms-${a.code}`, `${a.name}, 1 year`, a.gbp, { addon: a.code });
    for (let i = 0; i < TIERS.length; i++) {
      for (let j = i + 1; j < TIERS.length; j++) {
        const from = TIERS[i]!; const to = TIERS[j]!;
        const sfx = (u: number | null) => (u === null ? 'unl' : String(u));
        await plan('upgrade', `ms-up-${sfx(from.users)}-${sfx(to.users)}`, `Upgrade from ${label(from.users)} to ${label(to.users)}`, to.gbp - from.gbp, { from: tierIds[i], tier: tierIds[j] });
      }
    }
    await trx.insertInto('catalog_coupons').values({ id: newId(), code: 'WELCOME10', percent_off: 10, valid_from: null, valid_until: null, active: 1, created_at: now })
      .onConflict((oc) => oc.column('code').doNothing()).execute();
    return true;
  });
}
