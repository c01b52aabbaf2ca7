// The licensing module's only door: the call-home surface, the downloads, the admin API, the services
// other modules use (the shop will create licences through `licences`), migrations and privacy.

import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import type { Kernel } from '../../kernel/context.js';
import { DAY_MS } from '../../kernel/clock.js';
import { CatalogCache } from './callhome/catalog.js';
import { Bookkeeper } from './callhome/bookkeeping.js';
import { CallhomeService } from './callhome/callhome.service.js';
import { answerClientError, answerFrameworkError, registerCallhomeApi } from './callhome/callhome.routes.js';
import { DownloadUrls } from './callhome/download-urls.js';
import { CallhomeRateLimiter } from './callhome/rate-limit.js';
import { sharedCounterStore } from '../../kernel/http/shared-counter.js';
import { readBodiesWhateverTheirType } from '../../kernel/http/any-content-type.js';
import { CommitmentPool } from '../../kernel/crypto/commitments.js';
import type { FastLane } from '../../kernel/http/fast-lane.js';
import { SignerHolder } from './callhome/signer.js';
import { LicencesService } from './licences.service.js';
import { CatalogService } from './catalog.service.js';
import { AbuseService } from './abuse.service.js';
import { registerDownloads } from './downloads.routes.js';
import { registerLicenceRoutes } from './admin/licences.routes.js';
import { registerCatalogRoutes } from './admin/catalog.routes.js';
import { truncateOldIps } from './retention.js';
import { sweepUnreferencedFiles } from './file-sweep.js';
import { badRequest } from '../../kernel/http/errors.js';
import { ShopLicenceIssuer } from './issuer.js';
import { CustomerLicencesService } from './customer-licences.service.js';
import { registerLicenceAccountPages } from './account.pages.js';
import { callhomeSettingsFromEnv, currentCallhomeSettings, callhomeSettingsNow, type CallhomeSettings } from './licensing.settings.js';

export { licensingPrivacy } from './privacy.js';
export { migrations as licensingMigrations } from './migrations/index.js';

/**
 * The public call-home surface (/api/v1 outside the admin API): its contract decides every input
 * itself and answers it signed (a NUL in a key is just a key that matches nothing), so the app-wide
 * input guards leave it alone.
 */
export function isCallhomeSurface(url: string): boolean {
  return url.startsWith('/api/v1/') && !(url === '/api/v1/admin' || url.startsWith('/api/v1/admin/') || url.startsWith('/api/v1/admin?'));
}
export type { Actor, LicenceInput, LicenceView } from './licences.service.js';
export type { AbuseSignals } from './abuse.service.js';
export type { ShopLicenceIssuer, ShopLicenceRequest, ShopLicenceSummary } from './issuer.js';
export { SETTINGS_KEY as LICENSING_SETTINGS_KEY, type CallhomeSettings } from './licensing.settings.js';
export { POLICY_DEFAULTS_KEY, currentPolicyDefaults } from './licensing.settings.js';
export { POLICY_DEFAULTS, type Policy } from './validation/snapshot.js';
export { typedComputerId } from './validation/parse-request.js';
export { SELF_SERVICE_SETTINGS_KEY, SELF_SERVICE_DEFAULTS, saveSelfServiceSettings, selfServiceSettings, type SelfServiceSettings, type CustomerLicence } from './customer-licences.service.js';

export interface LicensingModule {
  licences: LicencesService;
  catalog: CatalogService;
  abuse: AbuseService;
  callhome: CallhomeService;
  /** For the shop: issue and change licences inside the payment's transaction (orders' LicenceIssuer). */
  issuer: ShopLicenceIssuer;
  /** What a signed-in customer may do with their own licences (My account). */
  customerLicences: CustomerLicencesService;
  /** My account → Licences (inside the pages context: session cookie and CSRF). */
  registerAccountPages(app: FastifyInstance): void;
  /** The call-home surface (/api/v1, signed) and the downloads (/downloads). */
  /** `lane`: the server's fast lane, where plain call-home calls skip the framework (kernel/http/fast-lane.ts). */
  registerPublic(app: FastifyInstance, lane?: FastLane): Promise<void>;
  /** The admin API in its own context, behind the staff API-key check. */
  registerAdmin(app: FastifyInstance, apiKeyAuth: (request: FastifyRequest) => Promise<void>): Promise<void>;
  /** Writes buffered bookkeeping (last-seen, counters) now; tests and shutdown use it. */
  flush(): Promise<void>;
  /** Fastify's `frameworkErrors` (bad percent-encoding, over-long path parameters): a 400, signed under /api/v1. */
  frameworkError(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void;
  /** Fastify's `clientErrorHandler` (requests Node's HTTP parser refused): the contract's signed error object. */
  clientError(err: NodeJS.ErrnoException, socket: Duplex): void;
  /** Re-reads the active signing key now (it is also re-read every two seconds). */
  reloadSigningKey(): Promise<void>;
  settings(): Promise<CallhomeSettings>;
  /** Sends this node's call-home rate-limit counts to the shared store now (tests; otherwise every 100 ms). */
  syncRateLimits(): Promise<void>;
}

/** Largest installer or content pack the admin API accepts. */
const MAX_UPLOAD_BYTES = 4 * 1024 ** 3;

export function createLicensingModule(k: Kernel): LicensingModule {
  const defaults = callhomeSettingsFromEnv();
  const settings = () => currentCallhomeSettings(k.settings, defaults);
  const catalogCache = new CatalogCache(k.db);
  // The kernel's clock: lazy refreshes fall due by the same clock the calls were decided by.
  const bookkeeper = new Bookkeeper(k.flags, k.dbh.writeBehind, k.log, undefined, undefined, () => k.clock.now());
  // The costly half of each signature is made ahead on a thread of its own (kernel/crypto/commitments.ts).
  const signer = new SignerHolder(k, undefined, new CommitmentPool());
  const callhome = new CallhomeService(k, catalogCache, bookkeeper, signer);
  const licences = new LicencesService(k, callhome);
  const catalog = new CatalogService(k, licences, catalogCache);
  const abuse = new AbuseService(k);
  const urls = new DownloadUrls(k.secrets, k.config);
  const limiter = new CallhomeRateLimiter(() => k.clock.now(), sharedCounterStore(k.config, k.db));
  const customerLicences = new CustomerLicencesService(k, callhome);

  k.jobs.every('licensing.ip-retention', DAY_MS, async () => {
    await truncateOldIps(k, (await settings()).ipRetentionDays);
  });
  k.jobs.every('licensing.file-sweep', DAY_MS, async () => {
    await sweepUnreferencedFiles(k);
  });

  return {
    licences, catalog, abuse, callhome, settings, customerLicences,
    issuer: new ShopLicenceIssuer(k, callhome),
    registerAccountPages(app) {
      registerLicenceAccountPages(app, k, customerLicences);
    },
    async registerPublic(app, lane) {
      app.addHook('onReady', async () => {
        await signer.start();
        bookkeeper.start();
      });
      app.addHook('onClose', async () => {
        await signer.stop();
        await bookkeeper.stop();
        await limiter.close();
      });
      await registerCallhomeApi(app, {
        k, service: callhome, signer, limiter, settings, settingsNow: () => callhomeSettingsNow(k.settings, defaults), catalog: catalogCache, urls,
        productId: (code) => catalog.productIdOrNull(code),
      }, lane ?? null);
      await registerDownloads(app, k, urls);
    },
    async registerAdmin(app, apiKeyAuth) {
      await app.register(async (api) => {
        // onRequest, so a request without a valid key is refused before its body is even read.
        api.addHook('onRequest', apiKeyAuth);
        // Last-seen and usage from refreshes reach the database in batches (callhome/bookkeeping.ts):
        // staff reading a licence see this node's calls so far, not the state of the last batch.
        api.addHook('preHandler', async (request) => {
          if (request.method === 'GET') await bookkeeper.writeRefreshes();
        });
        // The admin API speaks JSON (and multipart for uploads): a body is read as JSON whatever its
        // Content-Type says (curl -d labels it a form, fetch with a string body text/plain, some clients
        // send none), so a JSON body is never a 415 or a mangled form, and anything else is a 400.
        readBodiesWhateverTheirType(api, (type) => /^\s*multipart\//i.test(type));
        api.removeAllContentTypeParsers();
        api.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
          const text = body as string;
          if (text.trim() === '') return done(null, undefined);
          try {
            done(null, JSON.parse(text.replace(/^\uFEFF/, '')));
          } catch {
            done(badRequest('The body is not valid JSON.', 'body'), undefined);
          }
        });
        // A NUL in params or the JSON body is refused app-wide (kernel/http/nul-guard.ts); multipart
        // text fields are checked where they are read (admin/input.ts).
        await api.register(multipart, { limits: { fileSize: MAX_UPLOAD_BYTES, files: 1, fields: 20, fieldSize: 64 * 1024, parts: 25 } });
        registerLicenceRoutes(api, licences, abuse);
        registerCatalogRoutes(api, catalog, licences, k.config.dataDir);
      });
    },
    flush: () => bookkeeper.flush(),
    frameworkError: (err, request, reply) => answerFrameworkError(signer, err, request, reply),
    clientError: (err, socket) => answerClientError(signer, err, socket),
    reloadSigningKey: () => signer.reload(),
    syncRateLimits: () => limiter.sync(),
  };
}
export { licensingSubjectData, applyLicensingRetention } from './privacy-data.js';
// For the admin back office's release and content pages (same storage and date rules as the admin API).
export { storeFile, type StoredFile } from './files.js';
export { parseDate as parseAdminDate } from './admin/input.js';
export { CODE_PATTERN } from './admin/schemas.js';
