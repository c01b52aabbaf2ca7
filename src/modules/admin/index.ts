export { registerAdminPages } from './admin.pages.js';
export { ACCESS_RULES, allows, ruleFor } from './access.js';
export { DashboardService } from './dashboard.service.js';
export { adminPrivacy } from './privacy.js';
export { migrations as adminMigrations } from './migrations/index.js';
