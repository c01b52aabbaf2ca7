import type { PrivacyDeclarations } from '../../kernel/privacy/types.js';

/** The admin assembles other modules' data and owns no table of its own. */
export const adminPrivacy: PrivacyDeclarations = { module: 'admin', fields: [], notPersonal: [] };
