import type { FastifyInstance } from 'fastify';
import type { Kernel } from '../../kernel/context.js';
import type { LicenceIssuer, OrdersModule, TermHooks } from '../orders/index.js';
import { SubscriptionsService } from './subscriptions.service.js';
import { RenewalsService } from './renewals.service.js';
import { registerSubscriptionAccountPages } from './account.pages.js';
import { registerSubscriptionAdminPages } from './admin.pages.js';
import './subscriptions.tables.js';

export { subscriptionsPrivacy } from './privacy.js';
export { subscriptionsSubjectData } from './privacy-data.js';
export { migrations as subscriptionsMigrations } from './migrations/index.js';
export { statusAt, proRata, renewalStart, dueReminder, entitlementEnd, type SubscriptionStatus } from './rules.js';
export { RENEWALS_SETTING, DEFAULT_GRACE_DAYS } from './subscriptions.settings.js';

export interface SubscriptionsModule {
  subscriptions: SubscriptionsService;
  renewals: RenewalsService;
  /** Passed to createOrdersModule: orders calls these while fulfilling a payment. */
  terms: TermHooks;
  /** My account → subscriptions and Admin → subscriptions (inside the pages context); needs the orders module. */
  registerPages(app: FastifyInstance, orders: OrdersModule): void;
}

export function createSubscriptionsModule(k: Kernel, opts: { issuer: LicenceIssuer }): SubscriptionsModule {
  const subscriptions = new SubscriptionsService(k, opts.issuer);
  const renewals = new RenewalsService(k, subscriptions, opts.issuer);
  // Hourly, so a reminder goes out within the hour its day comes; the ledger makes repeats harmless.
  k.jobs.every('subscriptions.reminders', 3600_000, async () => { await subscriptions.runReminders(); });
  k.jobs.every('subscriptions.sync', 24 * 3600_000, async () => { await subscriptions.syncEntitlements(); });
  return {
    subscriptions, renewals, terms: subscriptions.terms,
    registerPages(app, orders) {
      subscriptions.orders = orders;
      registerSubscriptionAccountPages(app, k, subscriptions, renewals, opts.issuer);
      registerSubscriptionAdminPages(app, k, subscriptions, opts.issuer);
    },
  };
}
