export { allDeclarations, buildRegistry, defaultProcessors, registryProblems, type Registry } from './registry.js';
