import type { Migration } from 'kysely';
import * as m1 from './2026-11-25T1850-privacy.js';

export const migrations: Record<string, Migration> = {
  '2026-11-25T1850-privacy': m1,
};
