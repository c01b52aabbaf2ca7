import type { FastifyInstance } from 'fastify';
import type { Kernel } from '../../kernel/context.js';
import { AccountsService } from './accounts.service.js';
import { StaffService } from './staff.service.js';
import { installAuthHooks } from './auth.hooks.js';
import { registerAuthPages } from './auth.pages.js';
import { registerRegistrationPages } from './register.pages.js';
import { registerSetupPages } from './setup.pages.js';
import { registerAccountPages } from './account.pages.js';
import { Unauthorized } from './accounts.errors.js';

export { accountsPrivacy } from './privacy.js';
export { requireCustomer, requireStaff, startSession } from './auth.hooks.js';
export { normaliseEmail } from './accounts.service.js';
export type { StaffRole, SubjectKind } from './accounts.tables.js';
export * as accountsRepository from './accounts.repository.js';
export { migrations as accountsMigrations } from './migrations/index.js';

export interface AccountsModule {
  accounts: AccountsService;
  staff: StaffService;
  /** The pages surface: session hooks, CSRF and the account pages. */
  registerPages(app: FastifyInstance, opts: { afterSetup: (o: { demo: boolean }) => Promise<void> }): void;
  /** A preHandler for the admin JSON API: `Authorization: Bearer <staff API key>`. */
  apiKeyAuth(): (request: import('fastify').FastifyRequest) => Promise<void>;
}

export function createAccountsModule(k: Kernel): AccountsModule {
  const accounts = new AccountsService(k);
  const staff = new StaffService(k);
  return {
    accounts,
    staff,
    registerPages(app, opts) {
      installAuthHooks(app, k);
      registerAuthPages(app, k, accounts, staff, 'customer');
      registerAuthPages(app, k, accounts, staff, 'staff');
      registerRegistrationPages(app, k, accounts);
      registerSetupPages(app, k, staff, opts.afterSetup);
      registerAccountPages(app, k, accounts);
    },
    apiKeyAuth() {
      return async (request) => {
        const h = request.headers.authorization;
        const key = typeof h === 'string' && h.startsWith('Bearer ') ? h.slice(7).trim() : '';
        const found = key ? await staff.authenticateApiKey(key) : null;
        if (!found) throw new Unauthorized();
        request.apiKey = found;
      };
    },
  };
}
