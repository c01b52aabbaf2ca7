import type { Kernel } from '../../kernel/context.js';
import { defaultBrand, loadBrand } from '../../kernel/views/brand.js';
import { InvalidInput } from './support.errors.js';

/** The helpdesk's operational settings, edited in the admin (Tickets → Settings). */
export interface SupportSettings {
  /** The support mailbox; null means the branding's support address (its default until the vendor saves one). */
  address: string | null;
  autoAcknowledge: boolean;
  /** RFC 3834: at most this many automatic replies per sender per window. */
  ackLimit: number;
  ackWindowHours: number;
  /** A reply to a ticket closed longer ago than this starts a new ticket. */
  reopenDays: number;
  /** Closed tickets are anonymised this many days after closing. */
  retentionDays: number;
  attachmentMaxMb: number;
  /** Contact-form submissions allowed per IP address per hour. */
  contactPerHour: number;
  /** Seconds a person needs at least to fill in the contact form (faster is a robot). */
  minFillSeconds: number;
}

export const SUPPORT_SETTING = 'support.settings';

export const defaultSupportSettings: SupportSettings = {
  address: null, autoAcknowledge: true, ackLimit: 3, ackWindowHours: 6, reopenDays: 14,
  retentionDays: 730, attachmentMaxMb: 5, contactPerHour: 10, minFillSeconds: 3,
};

/**
 * The address is the one set here, else the support address in the branding settings (what customers
 * are told to write to; its placeholder until the vendor saves the branding): the help page, the intake,
 * the emails and every other page then name one mailbox unless the vendor chose two.
 */
export async function loadSupportSettings(k: Kernel): Promise<SupportSettings & { address: string }> {
  const s = { ...defaultSupportSettings, ...(await k.settings.get<Partial<SupportSettings>>(SUPPORT_SETTING, {})) };
  return { ...s, address: s.address ? s.address.toLowerCase() : await fallbackSupportAddress(k) };
}

/** The address used while none is set here. */
export async function fallbackSupportAddress(k: Kernel): Promise<string> {
  return ((await loadBrand(k.settings)).supportEmail || defaultBrand.supportEmail).toLowerCase();
}

const int = (v: unknown, min: number, max: number, label: string): number => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d{1,6}$/.test(v.trim()) ? Number(v.trim()) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidInput(`${label} must be a whole number from ${min} to ${max}.`);
  return n;
};

/** Validates a settings form; throws SUP_INVALID_INPUT with a message that says what to fix. */
export function parseSupportSettings(input: Record<string, unknown>): SupportSettings {
  const address = typeof input.address === 'string' ? input.address.trim().toLowerCase() : '';
  if (address && !/^[^\s@<>()",;]+@[^\s@<>()",;]+$/.test(address)) throw new InvalidInput('The support address must look like support@example.com (or leave it empty for the default).');
  return {
    address: address || null,
    autoAcknowledge: input.autoAcknowledge === '1' || input.autoAcknowledge === true,
    ackLimit: int(input.ackLimit, 0, 50, 'Automatic replies per sender'),
    ackWindowHours: int(input.ackWindowHours, 1, 168, 'The automatic-reply window'),
    reopenDays: int(input.reopenDays, 0, 365, 'The reopen period'),
    retentionDays: int(input.retentionDays, 1, 3650, 'The retention period'),
    attachmentMaxMb: int(input.attachmentMaxMb, 1, 100, 'The attachment size limit'),
    contactPerHour: int(input.contactPerHour, 1, 10000, 'Contact-form submissions per hour'),
    minFillSeconds: int(input.minFillSeconds, 0, 120, 'The minimum fill time'),
  };
}
