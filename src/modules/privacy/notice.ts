import type { CookieDecl, LawfulBasis, PersonalField, Processor, Purpose, Subject } from '../../kernel/privacy/types.js';
import type { Registry } from './registry.js';

/**
 * The privacy notice as data, derived from the registry and the vendor's settings. The pages render it;
 * the snapshot test pins it, so a change of declaration shows up as a change of notice.
 */
export interface Controller {
  name: string;
  address: string;
  email: string;
  phone: string;
  supervisoryAuthority: { name: string; url: string };
}

export const defaultController: Controller = {
  name: 'Your Software Ltd',
  address: '1 High Street, Huddersfield, HD1 1AA, United Kingdom',
  email: 'privacy@example.com',
  phone: '',
  supervisoryAuthority: { name: "the Information Commissioner's Office (ICO)", url: 'https://ico.org.uk/make-a-complaint/' },
};

export const GROUPS: Array<{ subject: Subject; title: string; who: string }> = [
  { subject: 'customer', title: 'Customers', who: 'People who have purchased items or services from us.' },
  { subject: 'reseller_contact', title: 'Resellers', who: 'People at companies that resell our software.' },
  { subject: 'support_user', title: 'Technical support users', who: 'People who have requested technical support from us.' },
  { subject: 'newsletter_subscriber', title: 'Newsletter users', who: 'People who have explicitly signed up to our newsletter or security advisories.' },
];

export const BASIS_LABEL: Record<LawfulBasis, string> = {
  consent: 'Consent', contract: 'Contractual', legal_obligation: 'Legal obligation',
  vital_interests: 'Vital interests', public_task: 'Public task', legitimate_interests: 'Legitimate Interests',
};

const FROM_LABEL: Record<PersonalField['retention']['from'], string> = {
  collection: 'from when we receive it', last_activity: 'after your last activity', account_closure: 'after your account is closed',
  financial_year_end: 'from the end of the financial year', consent_withdrawn: 'after you withdraw consent', ticket_closed: 'after the support request is closed',
};

/** ISO 8601 period in words: P6Y → "6 years", P30D → "30 days", P0D → "" (until the start event). */
export function periodInWords(period: string): string {
  const m = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(period);
  if (!m) return period;
  const units = ['year', 'month', 'week', 'day', 'hour', 'minute', 'second'];
  const parts = m.slice(1).map((v, i) => (v && v !== '0' ? `${v} ${units[i]}${v === '1' ? '' : 's'}` : '')).filter(Boolean);
  return parts.join(' ');
}

export function retentionInWords(r: PersonalField['retention']): string {
  const span = periodInWords(r.period);
  if (!span) return r.from === 'account_closure' ? 'until your account is closed' : r.from === 'consent_withdrawn' ? 'until you withdraw consent' : `until ${FROM_LABEL[r.from].replace(/^(from|after) /, '')}`;
  return `${span} ${FROM_LABEL[r.from]}`;
}

export interface NoticeGroup {
  subject: Subject;
  title: string;
  who: string;
  data: string[];
  purposes: Array<{ id: string; description: string; basis: string; detail?: string }>;
  bases: string[];
  sharedWith: Array<{ processor: Processor; data: string[] }>;
  retention: Array<{ data: string; period: string }>;
  required: string[];
  optional: string[];
  sources: string[];
  withdraw: string[];
}

export interface Notice {
  controller: Controller;
  groups: NoticeGroup[];
  cookies: CookieDecl[];
  callHome: { data: string[]; purposes: NoticeGroup['purposes']; retention: NoticeGroup['retention'] };
  processors: Processor[];
}

const uniq = <T>(xs: T[]) => [...new Set(xs)];

/** Where a value comes from, in the reader's words. */
export function sourceInWords(source: PersonalField['source'], processors: Processor[]): string {
  if (typeof source !== 'string') return processors.find((p) => p.id === source.processor)?.name ?? source.processor;
  return { data_subject: 'you', customer_admin: 'the person who manages your organisation\'s account', installed_software: 'the software you installed, when it calls home', staff: 'our staff' }[source];
}

function describeGroup(fields: PersonalField[], purposes: Map<string, Purpose>, processors: Processor[], held: (f: PersonalField) => boolean = () => true): Omit<NoticeGroup, 'subject' | 'title' | 'who'> {
  const usedPurposes = uniq(fields.flatMap((f) => f.purposes)).map((id) => purposes.get(id)).filter((p): p is Purpose => !!p);
  const byProcessor = processors.map((processor) => ({ processor, data: uniq(fields.filter((f) => f.recipients.includes(processor.id)).map((f) => f.label)) }))
    .filter((x) => x.data.length > 0);
  return {
    data: uniq(fields.filter(held).map((f) => f.label)),
    purposes: usedPurposes.map((p) => ({
      id: p.id, description: p.description, basis: BASIS_LABEL[p.lawfulBasis],
      detail: p.legitimateInterest ?? p.legalObligation ?? (p.consent ? `You can withdraw consent: ${p.consent.howToWithdraw}` : undefined),
    })),
    bases: uniq(usedPurposes.map((p) => BASIS_LABEL[p.lawfulBasis])),
    sharedWith: byProcessor,
    // One row per label: the longest-kept column of a label decides what the reader is told.
    retention: uniq(fields.map((f) => f.label)).map((label) => {
      const periods = fields.filter((f) => f.label === label).map((f) => retentionInWords(f.retention));
      return { data: label, period: uniq(periods).join('; ') };
    }),
    required: uniq(fields.filter((f) => f.provision !== 'optional').map((f) => f.label)),
    optional: uniq(fields.filter((f) => f.provision === 'optional').map((f) => f.label)),
    sources: uniq(fields.map((f) => sourceInWords(f.source, processors))),
    withdraw: uniq(usedPurposes.filter((p) => p.consent).map((p) => p.consent!.howToWithdraw)),
  };
}

export function buildNotice(reg: Registry, controller: Controller, processors: Processor[]): Notice {
  const purposes = new Map(reg.purposes.map((p) => [p.id, p]));
  // Every declared value a group's people have, log fields included (the server log's IP address).
  const groups = GROUPS.map((g) => ({ ...g, ...describeGroup(reg.fields.filter((f) => f.subjects.includes(g.subject)), purposes, processors) }))
    .filter((g) => g.data.length > 0);
  // What a call home stores: the values it brings, without the derived counters nobody can ask for.
  const sw = describeGroup(reg.fields.filter((f) => 'table' in f.location && f.subjects.includes('installed_software') && f.source === 'installed_software'),
    purposes, processors, (f) => f.access || f.protection !== 'plain');
  return {
    controller, groups, cookies: reg.cookies, processors,
    callHome: { data: sw.data, purposes: sw.purposes, retention: sw.retention },
  };
}
