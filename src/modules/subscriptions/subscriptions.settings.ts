import type { Settings } from '../../kernel/settings/settings.js';
import type { Db } from '../../kernel/db/database.js';
import { InvalidSubscriptionInput } from './subscriptions.errors.js';

export const RENEWALS_SETTING = 'subscriptions.renewals';
export const DEFAULT_GRACE_DAYS = 14;
export const MAX_GRACE_DAYS = 90;

export interface RenewalSettings { graceDays: number }

/** The grace period in force; a stored value of the wrong type or out of range falls back to the default. */
export async function loadRenewalSettings(settings: Settings, db?: Db): Promise<RenewalSettings> {
  const s = await settings.get<Partial<RenewalSettings>>(RENEWALS_SETTING, {}, db);
  const g = s.graceDays;
  return { graceDays: typeof g === 'number' && Number.isInteger(g) && g >= 0 && g <= MAX_GRACE_DAYS ? g : DEFAULT_GRACE_DAYS };
}

export function parseGraceDays(raw: string | undefined): number {
  const s = (raw ?? '').trim();
  if (!/^\d{1,3}$/.test(s) || Number(s) > MAX_GRACE_DAYS) throw new InvalidSubscriptionInput(`The grace period is a whole number of days from 0 to ${MAX_GRACE_DAYS}.`);
  return Number(s);
}
