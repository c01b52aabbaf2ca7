export { allDeclarations, buildRegistry, defaultProcessors, registryProblems, type Registry } from './registry.js';
export { schemaDeclarationProblems } from './schema-check.js';
export { registerPrivacyPages, loadNotice } from './privacy.pages.js';
export { buildNotice } from './notice.js';
export { privacyPrivacy } from './privacy.js';
export { migrations as privacyMigrations } from './migrations/index.js';
export { subjectDataProviders } from './providers.js';
export { buildArchive, subjectAccess, eraseSubject, reapplyErasureJournal, resolveSubject, subjectHash, registerPrivacyJobs, processorErasers, type SubjectArchive, type ErasureResult } from './subject-rights.js';
export { publishedTestimonials, saveTestimonial, withdrawTestimonialPermission, hasPublishPermission } from './testimonials.js';
