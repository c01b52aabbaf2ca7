import type { Kernel } from '../../kernel/context.js';
import type { Db } from '../../kernel/db/database.js';
import { InvalidInput } from './newsletter.errors.js';

/** The vendor's newsletter settings, edited in the admin. */
export interface NewsletterSettings {
  /** Messages handed to the outbox per minute while a campaign sends. */
  ratePerMinute: number;
  /** Sign-ups not confirmed within this many days are removed by the daily retention job. */
  unconfirmedDays: number;
  /** From address for list mail; empty means the deployment's usual sender. */
  fromAddress: string;
  /** Domain of the per-recipient bounce and unsubscribe addresses; empty means the From address's domain. */
  mailDomain: string;
}

export const NEWSLETTER_SETTING = 'newsletter.settings';
/** Owned by the privacy module once it lands; read here so each consent record names the notice in force. */
export const NOTICE_VERSION_SETTING = 'privacy.notice_version';

export const DEFAULT_SETTINGS: NewsletterSettings = { ratePerMinute: 600, unconfirmedDays: 14, fromAddress: '', mailDomain: '' };

export async function loadNewsletterSettings(k: Kernel, db?: Db): Promise<NewsletterSettings> {
  return { ...DEFAULT_SETTINGS, ...(await k.settings.get<Partial<NewsletterSettings>>(NEWSLETTER_SETTING, {}, db)) };
}

export async function noticeVersion(k: Kernel, db?: Db): Promise<string> {
  return String(await k.settings.get<string>(NOTICE_VERSION_SETTING, '1', db));
}

/** The From address and the domain the VERP and mailto addresses live on. */
export async function sendingIdentity(k: Kernel, s: NewsletterSettings, db?: Db): Promise<{ from: string; domain: string }> {
  const from = s.fromAddress || (await k.mail.from(db));
  const domain = s.mailDomain || /@([^>\s]+)/.exec(from)?.[1] || 'localhost';
  return { from, domain: domain.toLowerCase() };
}

export function validateSettings(input: Record<string, string | undefined>): NewsletterSettings {
  const rate = Number(input.ratePerMinute);
  if (!Number.isInteger(rate) || rate < 1 || rate > 100_000) throw new InvalidInput('Sending rate must be a whole number of messages per minute, from 1 to 100000.');
  const days = Number(input.unconfirmedDays);
  if (!Number.isInteger(days) || days < 1 || days > 365) throw new InvalidInput('Unconfirmed sign-ups must be kept between 1 and 365 days.');
  const fromAddress = (input.fromAddress ?? '').trim();
  if (fromAddress && !/^(?:[^<>@\r\n]{0,100}<)?[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+>?$/.test(fromAddress)) throw new InvalidInput('The From address must look like "Vendor News <news@example.com>" or news@example.com.');
  const mailDomain = (input.mailDomain ?? '').trim().toLowerCase();
  if (mailDomain && !/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(mailDomain)) throw new InvalidInput('The bounce domain must be a domain name such as bounces.example.com.');
  return { ratePerMinute: rate, unconfirmedDays: days, fromAddress, mailDomain };
}
