export { allDeclarations, buildRegistry, defaultProcessors, registryProblems, type Registry } from './registry.js';
export { schemaDeclarationProblems } from './schema-check.js';
export { registerPrivacyPages, loadNotice } from './privacy.pages.js';
export { loadController, loadProcessors, CONTROLLER_SETTING, PROCESSORS_SETTING } from './privacy.settings.js';
export { buildNotice } from './notice.js';
export { privacyPrivacy } from './privacy.js';
export { migrations as privacyMigrations } from './migrations/index.js';
export { subjectDataProviders } from './providers.js';
export { buildArchive, subjectAccess, eraseSubject, reapplyErasureJournal, resolveSubject, subjectHash, registerPrivacyJobs, processorErasers, type SubjectArchive, type ErasureResult } from './subject-rights.js';
export { publishedTestimonials, saveTestimonial, withdrawTestimonialPermission, hasPublishPermission } from './testimonials.js';
export { runRetention, retentionRules, RETENTION_JOB, type RetentionRule } from './retention.js';
import type { Kernel } from '../../kernel/context.js';
import { registerPrivacyJobs as _jobs } from './subject-rights.js';
import { registerRetentionJob as _retention } from './retention.js';
/** The privacy module's jobs: telling processors about erasures, and the daily retention run. */
export function registerPrivacyWork(k: Kernel): void { _jobs(k); _retention(k); }
