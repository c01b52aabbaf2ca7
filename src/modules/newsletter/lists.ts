import type { ListId } from './newsletter.tables.js';

/**
 * The two lists, fixed in code because their legal footing differs: the newsletter is marketing and needs
 * confirmed consent (double opt-in); security advisories are service mail every customer gets unless they
 * opt out. Each list has a one-letter code used inside unsubscribe tokens.
 */
export interface ListDef {
  id: ListId;
  code: 'n' | 'a';
  name: string;
  description: string;
  /** The description as a phrase inside a sentence. */
  about: string;
  kind: 'marketing' | 'service';
  /** Why the recipient gets it, shown in every message's footer. */
  reason: string;
}

export const LISTS: Record<ListId, ListDef> = {
  newsletter: {
    id: 'newsletter', code: 'n', name: 'Newsletter', kind: 'marketing',
    description: 'Release news, status updates and helpful tips, selected from our blog.',
    about: 'release news, status updates and helpful tips selected from our blog',
    reason: 'You receive this because you signed up for our newsletter and confirmed your address.',
  },
  advisories: {
    id: 'advisories', code: 'a', name: 'Security advisories', kind: 'service',
    description: 'Rare emails when a vulnerability is found in our software and a security update is available.',
    about: 'rare emails when a vulnerability is found in our software and a security update is available',
    reason: 'You receive this because you are our customer: we tell customers when a security update is available.',
  },
};

export const LIST_IDS = Object.keys(LISTS) as ListId[];

// Own keys only: `in` also finds `constructor`, `__proto__` and the rest of Object.prototype.
export const isListId = (v: unknown): v is ListId => typeof v === 'string' && Object.hasOwn(LISTS, v);

export const listByCode = (code: string): ListDef | undefined => Object.values(LISTS).find((l) => l.code === code);
