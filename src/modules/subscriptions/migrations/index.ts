import type { Migration } from 'kysely';
import * as m1 from './2026-11-25T1700-subscriptions.js';

export const migrations: Record<string, Migration> = {
  '2026-11-25T1700-subscriptions': m1,
};
