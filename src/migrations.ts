import type { NamedMigrations } from './kernel/db/migrate.js';
import { migrations as kernel } from './kernel/db/migrations/index.js';
import { accountsMigrations } from './modules/accounts/index.js';

/** Every migration of the kernel and the modules; names start with their date, so they sort in the order written. */
export const allMigrations: NamedMigrations = { ...kernel, ...accountsMigrations };
