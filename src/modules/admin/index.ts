export { registerAdminPages } from './admin.pages.js';
