import type { Migration } from 'kysely';
import * as m1 from './2026-11-25T1300-support.js';
import * as m2 from './2026-11-25T1830-support-ack-id.js';

export const migrations: Record<string, Migration> = {
  '2026-11-25T1300-support': m1,
  '2026-11-25T1830-support-ack-id': m2,
};
