import fs from 'node:fs';
import { refuseNulCharacters } from './kernel/http/nul-guard.js';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import { FastLane } from './kernel/http/fast-lane.js';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import { Type } from 'typebox';
import type { Kernel } from './kernel/context.js';
import { LOG_REDACT } from './kernel/context.js';
import { installErrorHandlers } from './kernel/http/errors.js';
import { logRequest } from './kernel/http/request-log.js';
import { dbRateLimitStore } from './kernel/http/rate-limit-store.js';
import { page } from './kernel/http/page.js';
import './kernel/http/request-auth.js';
import { loadBrand } from './kernel/views/brand.js';
import { createAccountsModule, type AccountsModule } from './modules/accounts/index.js';
import { registerAdminPages } from './modules/admin/index.js';
import { registerPrivacyPages, registerPrivacyWork } from './modules/privacy/index.js';
import { createLicensingModule, isCallhomeSurface, type LicensingModule } from './modules/licensing/index.js';
import { enrolCustomerInAdvisories, createNewsletterModule, type NewsletterModule } from './modules/newsletter/index.js';
import { CatalogService, loadDemoCatalogue, registerCatalogAdminPages } from './modules/catalog/index.js';
import { registerBillingAdminPages } from './modules/billing/index.js';
import { createOrdersModule, type LicenceIssuer, type OrdersModule } from './modules/orders/index.js';
import { COUNTRIES, normaliseCountry, normaliseTaxId } from './modules/orders/index.js';
import { createSupportModule, type SupportModule } from './modules/support/index.js';
import { createSubscriptionsModule, type SubscriptionsModule } from './modules/subscriptions/index.js';
import { createAccountingModule, type AccountingModule } from './modules/accounting/index.js';
import { createResellersModule, dueDaysForOrders, withResellerEndCustomers, type ResellersModule } from './modules/resellers/index.js';

const SITE_CSS = fs.readFileSync(new URL('./kernel/views/assets/site.css', import.meta.url), 'utf8');

export interface App {
  app: FastifyInstance;
  /** The fast lane in front of Fastify (kernel/http/fast-lane.ts). */
  lane: FastLane;
  accounts: AccountsModule;
  licensing: LicensingModule;
  newsletter: NewsletterModule;
  orders: OrdersModule;
  catalog: CatalogService;
  support: SupportModule;
  subscriptions: SubscriptionsModule;
  accounting: AccountingModule;
  resellers: ResellersModule;
}

/**
 * Builds the Fastify app with its three surfaces (pages, admin JSON API, call-home), each in its own
 * encapsulated context. It never listens: main.ts does, and tests use app.inject().
 */
export async function buildApp(k: Kernel, opts: { licenceIssuer?: LicenceIssuer } = {}): Promise<App> {
  let frameworkError: LicensingModule['frameworkError'] = (err, _request, reply) => { reply.code(err.statusCode ?? 400).send({ error: { code: 'BAD_REQUEST', message: 'The path is not valid.', field: 'path' } }); };
  let clientError: LicensingModule['clientError'] = (_err, socket) => { socket.destroy(); };
  let webFrameworkError: LicensingModule['frameworkError'] = (err, request, reply) => frameworkError(err, request, reply);
  // Plain call-home calls are served in front of the framework (kernel/http/fast-lane.ts).
  const lane = new FastLane();
  const app = Fastify({
    serverFactory: lane.serverFactory,
    logger: k.config.logLevel === 'silent' ? false : { level: k.config.logLevel, redact: { paths: LOG_REDACT, censor: '[redacted]' }, serializers: { req: logRequest } },
    bodyLimit: 1024 * 1024,
    trustProxy: k.config.trustedProxies.length ? k.config.trustedProxies : false,
    // Wrong types are errors, not silently coerced (an installed program sending "5" for 5 has a bug).
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    return503OnClosing: true,
    // Path parameters (licence keys, product codes) up to this length reach the routes and get their 404.
    routerOptions: { maxParamLength: 256 },
    // Bad percent-encoding or an over-long parameter never reaches a context: a 400, signed under /api/v1.
    frameworkErrors: (err, request, reply) => { webFrameworkError(err, request, reply); },
    // A request Node's HTTP parser refuses never reaches a route: answered with a signed error object.
    clientErrorHandler: (err, socket) => { clientError(err, socket); },
  });

  app.decorateRequest('apiKey', null);
  refuseNulCharacters(app, isCallhomeSurface);
  await app.register(cookie);
  await app.register(formbody, { bodyLimit: 64 * 1024 });
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'"], imgSrc: ["'self'", 'data:'],
        formAction: ["'self'"], frameAncestors: ["'none'"], baseUri: ["'self'"], objectSrc: ["'none'"],
      },
    },
    strictTransportSecurity: k.config.secureCookies ? { maxAge: 31536000, includeSubDomains: false } : false,
    crossOriginEmbedderPolicy: false,
    // 'same-origin' keeps our addresses private to other sites while browsers still send a real Origin to us.
    referrerPolicy: { policy: 'same-origin' },
  });
  // Counters are shared by every node: in Redis when configured, otherwise in the database.
  const redis = k.config.redisUrl ? new (await import('ioredis')).Redis(k.config.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 1 }) : null;
  if (redis) { redis.on('error', () => { /* reported by the failing commands */ }); app.addHook('onClose', async () => { redis.disconnect(); }); }
  await app.register(rateLimit, {
    global: false,
    ...(redis
      ? { redis }
      : { store: dbRateLimitStore(k.db, k.clock) as never }),
  });

  const problemPage = async (request: FastifyRequest, reply: FastifyReply, status: number, message: string) => {
    const title = status === 404 ? 'Page not found' : status === 403 ? 'Not allowed' : status === 429 ? 'Slow down' : status >= 500 ? 'Something went wrong' : 'There is a problem';
    return page(k.settings, request, reply, { title, status }, (
      <div class="card narrow"><h1>{title}</h1><p>{message}</p><p>{request.auth?.kind === 'staff' && request.url.startsWith('/admin') ? <a href="/admin">Go to the dashboard</a> : <a href="/">Go to the home page</a>}</p></div>
    ));
  };
  installErrorHandlers(app, problemPage);
  // An address the router cannot read (bad percent-encoding): a page for people, the contract's signed
  // error object under /api/.
  webFrameworkError = (err, request, reply) => {
    if (request.url.startsWith('/api/') || !(request.headers.accept ?? '').includes('text/html')) return frameworkError(err, request, reply);
    const tooLong = err.code === 'FST_ERR_MAX_PARAM_LENGTH';
    void problemPage(request, reply, err.statusCode ?? 400, tooLong ? 'This address is too long: check it for a typing mistake.' : 'This address is not valid: check it for a typing mistake.');
  };

  app.get('/healthz', { schema: { response: { 200: Type.Object({ status: Type.String(), database: Type.String() }) } } }, async () => {
    await k.db.selectFrom('settings').select('key').limit(1).execute();
    return { status: 'ok', database: k.flags.kind };
  });

  app.get('/assets/site.css', async (_req, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(SITE_CSS));
  app.get('/assets/brand.css', async (_req, reply) => {
    const brand = await loadBrand(k.settings);
    const colour = /^#[0-9a-fA-F]{6}$/.test(brand.primaryColor) ? brand.primaryColor : '#1d4ed8';
    return reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=60').send(`:root { --brand: ${colour}; }\n`);
  });

  // A customer who proves their address is enrolled in security advisories (opt-out service mail).
  const accounts = createAccountsModule(k, {
    customerConfirmed: async (id) => { await enrolCustomerInAdvisories(k, id); },
    addressRules: { countries: COUNTRIES, normaliseCountry, normaliseTaxId },
  });

  // Surface 2: the admin JSON API (staff API key; rate-limited per key and per address). One check for
  // every admin API route, so bad keys are counted together wherever they are tried.
  const apiKeyAuth = accounts.apiKeyAuth();
  await app.register(async (api) => {
    api.addHook('preHandler', apiKeyAuth);
    accounts.registerApi(api);
  });

  // Surface 3: call-home (bare, signed answers) and its downloads; licensing's admin API in its own context.
  const licensing = createLicensingModule(k);
  frameworkError = licensing.frameworkError;
  clientError = licensing.clientError;
  await licensing.registerPublic(app, lane);
  await licensing.registerAdmin(app, apiKeyAuth);

  const newsletter = createNewsletterModule(k);
  newsletter.registerInbound();
  registerPrivacyWork(k);

  // The helpdesk: mail to the support address becomes tickets.
  const support = createSupportModule(k);
  await support.registerInbound();

  // The shop issues licences through this interface (orders/licence-issuer.ts); tests pass a double.
  const catalog = new CatalogService(k);
  // Reseller sales put the end customer's email on the licences they issue.
  const issuer = withResellerEndCustomers(opts.licenceIssuer ?? licensing.issuer);
  const subscriptions = createSubscriptionsModule(k, { issuer });
  const orders = createOrdersModule(k, { issuer, terms: subscriptions.terms });
  await app.register(async (webhooks) => orders.registerWebhook(webhooks));

  // The accounting export and its webhook (push jobs queued by billing as documents are issued).
  const accounting = createAccountingModule(k, { dueDays: dueDaysForOrders });
  const resellers = createResellersModule(k, { orders, issuer });

  // Surface 1: pages (session cookie, CSRF on every form).
  await app.register(async (pages) => {
    accounts.registerPages(pages, { afterSetup: async ({ demo }) => { if (demo) await loadDemoCatalogue(k.db, k.clock.now()); } });
    orders.registerPages(pages, accounts.accounts);
    licensing.registerAccountPages(pages);
    subscriptions.registerPages(pages, orders);
    registerCatalogAdminPages(pages, k, catalog);
    registerBillingAdminPages(pages, k);
    registerAdminPages(pages, k, { licensing });
    registerPrivacyPages(pages, k);
    newsletter.registerPages(pages);
    await support.registerPages(pages);
    accounting.registerPages(pages);
    resellers.registerPages(pages);
    pages.get('/', async (request, reply) => page(k.settings, request, reply, { title: 'Home' }, (
      <div class="card"><h1>{(await loadBrand(k.settings)).name}</h1><p>{(await loadBrand(k.settings)).tagline}</p><p><a class="button" href="/account">My account</a></p></div>
    )));
  });

  return { app, lane, accounts, licensing, newsletter, orders, catalog, support, subscriptions, accounting, resellers };
}
