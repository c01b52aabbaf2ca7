import type { Migration } from 'kysely';
import * as m1 from './2026-11-25T1000-kernel.js';
import * as mailEnvelope from './2026-11-25T1500-mail-envelope.js';
import * as mailSending from './2026-11-25T1900-mail-sending.js';

export const migrations: Record<string, Migration> = {
  '2026-11-25T1000-kernel': m1,
  '2026-11-25T1500-mail-envelope': mailEnvelope,
  '2026-11-25T1900-mail-sending': mailSending,
};
