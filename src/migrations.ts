import type { NamedMigrations } from './kernel/db/migrate.js';
import { migrations as kernel } from './kernel/db/migrations/index.js';
import { accountsMigrations } from './modules/accounts/index.js';
import { licensingMigrations } from './modules/licensing/index.js';
import { newsletterMigrations } from './modules/newsletter/index.js';
import { catalogMigrations } from './modules/catalog/index.js';
import { ordersMigrations } from './modules/orders/index.js';
import { billingMigrations } from './modules/billing/index.js';
import { supportMigrations } from './modules/support/index.js';
import { subscriptionsMigrations } from './modules/subscriptions/index.js';
import { resellersMigrations } from './modules/resellers/index.js';
import { migrations as privacyMigrations } from './modules/privacy/migrations/index.js';
import { migrations as adminMigrations } from './modules/admin/migrations/index.js';

/** Every migration of the kernel and the modules; names start with their date, so they sort in the order written. */
export const allMigrations: NamedMigrations = { ...kernel, ...accountsMigrations, ...licensingMigrations, ...newsletterMigrations, ...catalogMigrations, ...ordersMigrations, ...billingMigrations, ...supportMigrations, ...subscriptionsMigrations, ...resellersMigrations, ...privacyMigrations, ...adminMigrations };
