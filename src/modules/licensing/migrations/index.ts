import type { Migration } from 'kysely';
import * as m1 from './2026-11-25T1100-licensing.js';
import * as m2 from './2026-11-25T1800-licensing-self-release.js';

export const migrations: Record<string, Migration> = {
  '2026-11-25T1100-licensing': m1,
  '2026-11-25T1800-licensing-self-release': m2,
};
