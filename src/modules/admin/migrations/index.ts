import type { Migration } from 'kysely';
import * as m1 from './2026-11-25T1900-admin.js';

export const migrations: Record<string, Migration> = {
  '2026-11-25T1900-admin': m1,
};
