import { notPersonal, type PrivacyDeclarations } from '../../kernel/privacy/types.js';

/** The admin assembles other modules' data; its one table holds per-day totals that identify no one. */
export const adminPrivacy: PrivacyDeclarations = {
  module: 'admin',
  fields: [],
  notPersonal: [
    ...notPersonal('admin_daily', ['day', 'metric', 'key', 'value'], 'Per-day totals across all licences (calls, installations per version, users in use), and the ids of the licences that look shared most: counts and licence ids, never a person.'),
  ],
};
