import './catalog.tables.js';

export { CURRENCIES, PLAN_KINDS, type Currency, type PlanKind } from './catalog.tables.js';
export { CatalogService, parseMoney } from './catalog.service.js';
export { plansForSale, productByCode, activeCoupon, loadCatalogue, type PlanForSale, type CatalogueEntry } from './catalog.repository.js';
export { loadDemoCatalogue } from './demo.js';
export { UnknownPlan, NoPrice, UnknownCoupon } from './catalog.errors.js';
export { registerCatalogAdminPages } from './catalog.pages.js';
export { catalogPrivacy } from './privacy.js';
export { migrations as catalogMigrations } from './migrations/index.js';
