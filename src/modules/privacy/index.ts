export { allDeclarations, buildRegistry, defaultProcessors, registryProblems, type Registry } from './registry.js';
export { schemaDeclarationProblems } from './schema-check.js';
export { registerPrivacyPages, loadNotice } from './privacy.pages.js';
export { buildNotice } from './notice.js';
