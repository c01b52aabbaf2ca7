import type { Migration } from 'kysely';
import * as m1 from './2026-11-25T1010-accounts.js';
import * as m2 from './2026-11-25T1810-accounts-devices.js';

export const migrations: Record<string, Migration> = {
  '2026-11-25T1010-accounts': m1,
  '2026-11-25T1810-accounts-devices': m2,
};
