import type { Migration } from 'kysely';
import * as m1 from './2026-11-25T1705-resellers.js';
import * as m2 from './2026-11-25T1900-resellers-account-erasable.js';

export const migrations: Record<string, Migration> = {
  '2026-11-25T1705-resellers': m1,
  '2026-11-25T1900-resellers-account-erasable': m2,
};
