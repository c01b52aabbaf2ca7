import type { FastifyInstance } from 'fastify';
import type { Kernel } from '../../kernel/context.js';
import { DAY_MS } from '../../kernel/clock.js';
import { defaultBrand } from '../../kernel/views/brand.js';
import { pollImap, type ImapPollResult } from '../../kernel/mail/imap.js';
import { registerAccountTicketPages } from './account-tickets.pages.js';
import { registerAdminContentPages } from './admin-content.pages.js';
import { registerAdminTicketActions } from './admin-ticket-actions.js';
import { registerAdminTicketPages } from './admin-tickets.pages.js';
import { registerAdminSupportPages } from './admin-support.pages.js';
import { registerFileRoutes } from './files.routes.js';
import { ForumService } from './forum.service.js';
import { registerForumPages } from './forum.pages.js';
import { SupportIntake } from './intake.service.js';
import { KbService } from './kb.service.js';
import { registerKbPages } from './kb.pages.js';
import { PortalService } from './portal.service.js';
import { applySupportRetention } from './privacy-data.js';
import { registerSupportPages } from './support.pages.js';
import { loadSupportSettings } from './support.settings.js';
import { TicketService } from './tickets.service.js';
import { registerMultipart } from './uploads.js';

export { supportPrivacy } from './privacy.js';
export { migrations as supportMigrations } from './migrations/index.js';
export { exportSupportData, eraseSupportData, applySupportRetention, type SupportExport } from './privacy-data.js';
export { SUPPORT_SETTING, type SupportSettings } from './support.settings.js';

export interface SupportModule {
  tickets: TicketService;
  intake: SupportIntake;
  portal: PortalService;
  kb: KbService;
  forum: ForumService;
  /** The help centre, My account tickets, the staff queue, knowledge base and forum (pages surface). */
  registerPages(app: FastifyInstance): Promise<void>;
  /** Routes mail for the support address (and its +tag variants) from the kernel's SMTP intake here. */
  registerInbound(): Promise<void>;
  /** Re-reads the support address after the settings change. */
  refreshAddress(): Promise<void>;
  /** One IMAP poll (KEYWARD_IMAP_*) into the intake; null when IMAP polling is not configured. */
  pollMailbox(): Promise<ImapPollResult | null>;
}

export const SUPPORT_RETENTION_JOB = 'support.retention';
export const SUPPORT_IMAP_JOB = 'support.imap-poll';

export function createSupportModule(k: Kernel): SupportModule {
  const tickets = new TicketService(k);
  const intake = new SupportIntake(k, tickets);
  const portal = new PortalService(k, tickets);
  const kb = new KbService(k);
  const forum = new ForumService(k);
  // The intake's recipient check is synchronous, so the address is kept here and refreshed on change,
  // and read again in the background when a check finds it older than a minute: it can also change with
  // the branding's support address (its fallback), which another page or another node saves.
  let address = defaultBrand.supportEmail;
  let readAt = Date.now();
  const refreshAddress = async () => { readAt = Date.now(); address = (await loadSupportSettings(k)).address; };
  const isSupport = (rcpt: string) => {
    if (Date.now() - readAt > 60_000) refreshAddress().catch((err: unknown) => k.log.warn({ err }, 'support: could not read the support address'));
    const [local, domain] = rcpt.toLowerCase().split('@');
    const [ourLocal, ourDomain] = address.split('@');
    return domain === ourDomain && (local === ourLocal || local?.startsWith(`${ourLocal}+`) === true);
  };

  k.jobs.every(SUPPORT_RETENTION_JOB, DAY_MS, async () => { await applySupportRetention(k); await refreshAddress(); });

  // IMAP polling feeds the very same entry as the SMTP/LMTP listener: k.inbound.deliver → intake.receive.
  const pollMailbox = async (): Promise<ImapPollResult | null> => {
    const cfg = k.config.imap;
    if (!cfg) return null;
    await refreshAddress();
    const to = cfg.deliverTo ?? address;
    // A recipient nobody handles would be marked \Seen yet filed nowhere: refuse before touching the mailbox.
    if (!k.inbound.handlerFor(to)) throw new Error(`IMAP polling: no intake handles ${to}; set KEYWARD_IMAP_DELIVER_TO to the support address.`);
    return pollImap(cfg, to, { log: k.log, maxBytes: k.inbound.maxBytes, deliver: (msg) => k.inbound.deliver(msg) });
  };
  if (k.config.imap) k.jobs.every(SUPPORT_IMAP_JOB, k.config.imap.pollMs, async () => { await pollMailbox(); });

  return {
    tickets, intake, portal, kb, forum, refreshAddress, pollMailbox,
    async registerPages(app) {
      await app.register(async (scope) => {
        await registerMultipart(scope, k);
        registerSupportPages(scope, k, portal);
        registerAccountTicketPages(scope, k, portal);
        registerFileRoutes(scope, k);
        const view = registerAdminTicketPages(scope, k);
        registerAdminTicketActions(scope, k, tickets, view);
        registerAdminSupportPages(scope, k, refreshAddress);
        registerKbPages(scope, k, kb);
        registerForumPages(scope, k, forum);
        registerAdminContentPages(scope, k, kb, forum);
      });
    },
    async registerInbound() {
      await refreshAddress();
      k.inbound.route('support', isSupport, async (msg) => { await intake.receive(msg, address); });
    },
  };
}
export { supportSubjectData } from './privacy-provider.js';
