import type { FastifyInstance } from 'fastify';
import type { Kernel } from '../../kernel/context.js';
import type { AccountsModule } from '../accounts/index.js';

type AccountsService = AccountsModule['accounts'];
import { BillingService } from '../billing/index.js';
import { BasketService } from './basket.service.js';
import { CheckoutService } from './checkout.service.js';
import { FulfilmentService } from './fulfilment.service.js';
import { PaymentsService } from './payments.service.js';
import type { LicenceIssuer } from './licence-issuer.js';
import type { TermHooks } from './terms.js';
import { registerShopPages } from './shop.pages.js';
import { registerBasketPages } from './basket.pages.js';
import { registerCheckoutPages } from './checkout.pages.js';
import { registerAccountOrderPages } from './account-orders.pages.js';
import { registerOrdersAdminPages } from './orders.admin.pages.js';
import { registerPhoneOrderPages } from './phone-order.pages.js';
import { registerStripeWebhook } from './webhook.routes.js';
import './orders.tables.js';

export type { TermHooks } from './terms.js';
export type { OrderItem } from './checkout.service.js';
export { unwiredLicenceIssuer, type LicenceIssuer, type IssueLicenceRequest, type LicenceSummary } from './licence-issuer.js';
export type { OrderStatus, PaymentMethod } from './orders.tables.js';
export { TRANSITIONS, canTransition } from './state.js';
export { decideTax, normaliseVatNumber, EU_COUNTRIES, type TaxDecision, type TaxTreatment } from './tax.js';
export { COUNTRIES, normaliseCountry, normaliseTaxId } from './tax.js';
export { ordersPrivacy } from './privacy.js';
export { purgeStaleBaskets } from './orders.repository.js';
export { parseBilling, addressLines, FieldError, type BillingDetails } from './billing-form.js';
export { BillingFields, CountrySelect } from './checkout.pages.js';
export { migrations as ordersMigrations } from './migrations/index.js';

export interface OrdersModule {
  baskets: BasketService;
  checkout: CheckoutService;
  fulfilment: FulfilmentService;
  payments: PaymentsService;
  /** Shop, basket, checkout, My account → orders, and the admin pages (inside the pages context). */
  registerPages(app: FastifyInstance, accounts: AccountsService): void;
  /** The Stripe webhook, in a bare context of its own (raw body, no cookies, no CSRF). */
  registerWebhook(app: FastifyInstance): void;
}

export function createOrdersModule(k: Kernel, opts: { issuer: LicenceIssuer; terms?: TermHooks }): OrdersModule {
  const billing = new BillingService(k);
  const baskets = new BasketService(k, opts.issuer, opts.terms ?? null);
  const checkout = new CheckoutService(k, baskets);
  const fulfilment = new FulfilmentService(k, billing, opts.issuer, opts.terms ?? null);
  const payments = new PaymentsService(k, fulfilment, billing);
  k.jobs.every('orders.housekeeping', 6 * 3600_000, async () => {
    await baskets.purgeStale();
    await payments.cancelStaleDrafts();
  });
  return {
    baskets, checkout, fulfilment, payments,
    registerPages(app, accounts) {
      registerShopPages(app, k, opts.issuer);
      registerBasketPages(app, k, baskets, opts.issuer);
      registerCheckoutPages(app, k, { baskets, checkout, payments, accounts });
      registerAccountOrderPages(app, k);
      registerOrdersAdminPages(app, k, { fulfilment, payments });
      registerPhoneOrderPages(app, k, checkout);
    },
    registerWebhook(app) {
      registerStripeWebhook(app, payments);
    },
  };
}
export { ordersSubjectData } from './privacy-data.js';
