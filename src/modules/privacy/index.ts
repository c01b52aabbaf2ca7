export { allDeclarations, buildRegistry, defaultProcessors, registryProblems, type Registry } from './registry.js';
export { schemaDeclarationProblems } from './schema-check.js';
