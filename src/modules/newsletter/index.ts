import type { FastifyInstance } from 'fastify';
import type { Kernel } from '../../kernel/context.js';
import { DAY_MS } from '../../kernel/clock.js';
import { SubscriptionService } from './subscriptions.service.js';
import { PostService } from './posts.service.js';
import { CampaignService } from './campaigns.service.js';
import { registerSender } from './sender.js';
import { inboundHandler, isNewsletterRecipient } from './bounces.js';
import { applyRetention, eraseNewsletterData, exportNewsletterData } from './subject-data.js';
import { registerBlogPages } from './blog.pages.js';
import { registerSubscribePages } from './subscribe.pages.js';
import { registerAdminHomePages } from './admin.pages.js';
import { registerAdminPostPages } from './admin-posts.pages.js';
import { registerAdminCampaignPages } from './admin-campaigns.pages.js';
import { registerAdminPeoplePages } from './admin-people.pages.js';
import './newsletter.tables.js';

export { newsletterPrivacy } from './privacy.js';
export { migrations as newsletterMigrations } from './migrations/index.js';
export { exportNewsletterData, eraseNewsletterData } from './subject-data.js';
export type { ListId } from './newsletter.tables.js';
export type { ConsentTopic } from './newsletter.tables.js';
export { recordConsent, grantedTopic, resellerDirectoryWording, resellerDirectoryWithdrawWording, type ConsentContext } from './consent.js';

/**
 * Puts a customer on the security-advisory list (by customer id or email address) unless they opted out
 * before or the address is suppressed. For other modules: call it when someone becomes a customer.
 */
export function enrolCustomerInAdvisories(k: Kernel, customerIdOrEmail: string) {
  return new SubscriptionService(k).enrolCustomerInAdvisories(customerIdOrEmail);
}

export interface NewsletterModule {
  subscriptions: SubscriptionService;
  posts: PostService;
  campaigns: CampaignService;
  enrolCustomerInAdvisories(customerIdOrEmail: string): ReturnType<SubscriptionService['enrolCustomerInAdvisories']>;
  exportData(email: string): ReturnType<typeof exportNewsletterData>;
  eraseData(email: string, by: string | null): ReturnType<typeof eraseNewsletterData>;
  /** The public blog, sign-up, unsubscribe and preference pages, and the admin pages (pages surface). */
  registerPages(app: FastifyInstance): void;
  /** Routes bounce (VERP) and mailto-unsubscribe addresses on the SMTP intake. */
  registerInbound(): void;
}

export function createNewsletterModule(k: Kernel): NewsletterModule {
  const subscriptions = new SubscriptionService(k);
  const posts = new PostService(k);
  const campaigns = new CampaignService(k);
  registerSender(k);
  k.jobs.every('newsletter.retention', DAY_MS, async () => { await applyRetention(k); });
  return {
    subscriptions, posts, campaigns,
    enrolCustomerInAdvisories: (x) => subscriptions.enrolCustomerInAdvisories(x),
    exportData: (email) => exportNewsletterData(k, email),
    eraseData: (email, by) => eraseNewsletterData(k, email, by),
    registerPages(app) {
      registerBlogPages(app, k);
      registerSubscribePages(app, k, subscriptions);
      registerAdminHomePages(app, k);
      registerAdminPostPages(app, k, posts);
      registerAdminCampaignPages(app, k, campaigns);
      registerAdminPeoplePages(app, k, subscriptions);
    },
    registerInbound() {
      k.inbound.route('newsletter', isNewsletterRecipient, inboundHandler(k, subscriptions));
    },
  };
}
export { newsletterSubjectData } from './privacy-provider.js';
export { applyRetention as applyNewsletterRetention } from './subject-data.js';
