import type { FastifyInstance } from 'fastify';
import type { Kernel } from '../../kernel/context.js';
import type { LicenceIssuer, OrdersModule } from '../orders/index.js';
import { ResellerService } from './resellers.service.js';
import { registerResellerPages } from './resellers.pages.js';
import { registerResellerAdminPages } from './admin.pages.js';
import './resellers.tables.js';

export { ResellerService, dueDaysForOrders } from './resellers.service.js';
export { withResellerEndCustomers } from './issuer.js';
export { resellersPrivacy } from './privacy.js';
export { resellersSubjectData } from './privacy-data.js';
export { migrations as resellersMigrations } from './migrations/index.js';

export interface ResellersModule {
  resellers: ResellerService;
  /** My account → Reseller, the public /resellers page and Admin → Resellers (pages surface). */
  registerPages(app: FastifyInstance): void;
}

export function createResellersModule(k: Kernel, deps: { orders: OrdersModule; issuer: LicenceIssuer }): ResellersModule {
  const resellers = new ResellerService(k, deps.orders);
  return {
    resellers,
    registerPages(app) {
      registerResellerPages(app, k, resellers, deps.issuer);
      registerResellerAdminPages(app, k, resellers);
    },
  };
}
