import type { FastifyInstance } from 'fastify';
import type { Kernel } from '../../kernel/context.js';
import { AccountsService, type AccountsHooks } from './accounts.service.js';
import { StaffService } from './staff.service.js';
import { installAuthHooks } from './auth.hooks.js';
import { registerAuthPages } from './auth.pages.js';
import { registerRegistrationPages } from './register.pages.js';
import { registerSetupPages } from './setup.pages.js';
import { registerAccountPages } from './account.pages.js';
import { registerTeamPages } from './team.pages.js';
import { registerSecurityPages } from './security.pages.js';
import { ProfileService, type AddressRules } from './profile.service.js';
import { TooManyKeyFailures, Unauthorized } from './accounts.errors.js';
import { FixedWindowCounter } from '../../kernel/http/window-counter.js';
import { registerAccountsApi } from './accounts.routes.js';

export { accountsPrivacy } from './privacy.js';
export { requireCustomer, requireStaff, startSession } from './auth.hooks.js';
export { AccountNav, ACCOUNT_LINKS } from './account-nav.js';
export { normaliseEmail } from './accounts.service.js';
export { checkPasswordStrength } from './passwords.js';
export type { StaffRole, SubjectKind } from './accounts.tables.js';
export * as accountsRepository from './accounts.repository.js';
export { migrations as accountsMigrations } from './migrations/index.js';

export type { AddressRules } from './profile.service.js';

/** Without the shop's rules (tests of this module alone): any two-letter country, tax ids unchecked. */
const BASIC_ADDRESS_RULES: AddressRules = {
  countries: {},
  normaliseCountry: (raw) => {
    const c = typeof raw === 'string' ? raw.trim().toUpperCase() : '';
    if (!/^[A-Z]{2}$/.test(c)) throw new Error('Choose your country.');
    return c;
  },
  normaliseTaxId: (_country, raw) => raw.trim() || null,
};

export interface AccountsModule {
  accounts: AccountsService;
  profile: ProfileService;
  staff: StaffService;
  /** The pages surface: session hooks, CSRF and the account pages. */
  registerPages(app: FastifyInstance, opts: { afterSetup: (o: { demo: boolean }) => Promise<void> }): void;
  /** The admin JSON API routes of this module (inside a context that already checks the API key). */
  registerApi(app: FastifyInstance): void;
  /** A preHandler for the admin JSON API: `Authorization: Bearer <staff API key>`. */
  apiKeyAuth(): (request: import('fastify').FastifyRequest) => Promise<void>;
}

/** Bad API keys an address may send in a minute before it is answered 429 (well above any honest script's retries). */
export const KEY_FAILURES_PER_MINUTE = 300;

/** The token of `Authorization: Bearer <token>`; the scheme is case-insensitive (RFC 9110 §11.1). */
function bearerToken(header: string | undefined): string {
  if (typeof header !== 'string') return '';
  const m = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return m ? m[1]! : '';
}

export function createAccountsModule(k: Kernel, hooks: AccountsHooks = {}): AccountsModule {
  const accounts = new AccountsService(k, hooks);
  const staff = new StaffService(k);
  const profile = new ProfileService(k, hooks.addressRules ?? BASIC_ADDRESS_RULES);
  return {
    accounts,
    staff,
    profile,
    registerPages(app, opts) {
      installAuthHooks(app, k);
      registerAuthPages(app, k, accounts, staff, 'customer');
      registerAuthPages(app, k, accounts, staff, 'staff');
      registerRegistrationPages(app, k, accounts);
      registerSetupPages(app, k, staff, opts.afterSetup);
      registerAccountPages(app, k, profile);
      registerSecurityPages(app, k, accounts);
      registerTeamPages(app, k);
    },
    registerApi(app) {
      registerAccountsApi(app);
    },
    apiKeyAuth() {
      // Guessing keys is pointless (178 random bits and a checksum, which refuses a made-up key without
      // a look-up), but a flood of bad keys from one address is still told to back off: past
      // KEY_FAILURES_PER_MINUTE failures in a minute its bad keys get 429 instead of 401. A valid key
      // always passes, so staff scripts behind the same address (an office NAT, a CI runner) are never
      // locked out by someone else's mistakes.
      const failures = new FixedWindowCounter(60_000, () => k.clock.now());
      return async (request) => {
        const key = bearerToken(request.headers.authorization);
        const found = key ? await staff.authenticateApiKey(key) : null;
        if (found) {
          request.apiKey = found;
          return;
        }
        if (failures.count(request.ip) >= KEY_FAILURES_PER_MINUTE) throw new TooManyKeyFailures();
        failures.hit(request.ip);
        throw new Unauthorized();
      };
    },
  };
}
export { accountsSubjectData } from './privacy-data.js';
export { SESSION_COOKIE, REMEMBER_COOKIE } from './auth.hooks.js';
export { verifyPassword } from './passwords.js';
