import type { TicketStatus } from './support.tables.js';

/**
 * Ticket states as a table of transitions (STYLE: state machines are tables). Events come from people
 * (a staff reply, a customer reply) or from staff choosing a status; anything not listed is refused.
 */
export type TicketEvent = 'customer_message' | 'staff_reply' | 'set_open' | 'set_pending' | 'close' | 'mark_spam' | 'not_spam';

export const TRANSITIONS: ReadonlyArray<{ from: TicketStatus; event: TicketEvent; to: TicketStatus }> = [
  { from: 'open', event: 'customer_message', to: 'open' },
  { from: 'pending', event: 'customer_message', to: 'open' },
  { from: 'closed', event: 'customer_message', to: 'open' },
  // A spammer writing again stays where they are; staff see it, nobody is told.
  { from: 'spam', event: 'customer_message', to: 'spam' },
  { from: 'open', event: 'staff_reply', to: 'pending' },
  { from: 'pending', event: 'staff_reply', to: 'pending' },
  { from: 'closed', event: 'staff_reply', to: 'pending' },
  { from: 'pending', event: 'set_open', to: 'open' },
  { from: 'closed', event: 'set_open', to: 'open' },
  { from: 'open', event: 'set_pending', to: 'pending' },
  { from: 'open', event: 'close', to: 'closed' },
  { from: 'pending', event: 'close', to: 'closed' },
  { from: 'open', event: 'mark_spam', to: 'spam' },
  { from: 'pending', event: 'mark_spam', to: 'spam' },
  { from: 'closed', event: 'mark_spam', to: 'spam' },
  { from: 'spam', event: 'not_spam', to: 'open' },
];

export function nextStatus(from: TicketStatus, event: TicketEvent): TicketStatus | null {
  return TRANSITIONS.find((t) => t.from === from && t.event === event)?.to ?? null;
}

/** The statuses staff may pick from the ticket page, with the event each one is. */
const CHOICE_EVENTS: Record<TicketStatus, TicketEvent[]> = {
  open: ['set_open', 'not_spam'], pending: ['set_pending'], closed: ['close'], spam: ['mark_spam'],
};

export function eventFor(from: TicketStatus, to: TicketStatus): TicketEvent | null {
  return CHOICE_EVENTS[to].find((e) => nextStatus(from, e) === to) ?? null;
}

export function statusChoices(from: TicketStatus): TicketStatus[] {
  return (['open', 'pending', 'closed', 'spam'] as TicketStatus[]).filter((to) => to !== from && eventFor(from, to));
}

export const STATUS_LABEL: Record<TicketStatus, string> = { open: 'Open', pending: 'Waiting on customer', closed: 'Closed', spam: 'Spam' };
export const STATUS_BADGE: Record<TicketStatus, string> = { open: 'warn', pending: '', closed: 'ok', spam: 'bad' };
