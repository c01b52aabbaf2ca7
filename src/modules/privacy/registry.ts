import { kernelPrivacy } from '../../kernel/privacy/kernel.privacy.js';
import type { CookieDecl, NotPersonal, PersonalField, PrivacyDeclarations, Processor, Purpose } from '../../kernel/privacy/types.js';
import { accountsPrivacy } from '../accounts/index.js';
import { adminPrivacy } from '../admin/privacy.js';
import { licensingPrivacy } from '../licensing/index.js';
import { newsletterPrivacy } from '../newsletter/index.js';
import { catalogPrivacy } from '../catalog/index.js';
import { ordersPrivacy } from '../orders/index.js';
import { billingPrivacy } from '../billing/index.js';
import { supportPrivacy } from '../support/index.js';
import { subscriptionsPrivacy } from '../subscriptions/index.js';
import { resellersPrivacy } from '../resellers/privacy.js';
import { privacyPrivacy } from './privacy.js';

/** Every module's declarations, in one list. A module that adds tables adds its declarations here. */
export const allDeclarations: PrivacyDeclarations[] = [kernelPrivacy, accountsPrivacy, adminPrivacy, licensingPrivacy, newsletterPrivacy, catalogPrivacy, ordersPrivacy, billingPrivacy, supportPrivacy, subscriptionsPrivacy, resellersPrivacy, privacyPrivacy];

export interface Registry {
  purposes: Purpose[];
  fields: PersonalField[];
  notPersonal: NotPersonal[];
  cookies: CookieDecl[];
}

export function buildRegistry(decls: PrivacyDeclarations[] = allDeclarations): Registry {
  return {
    purposes: decls.flatMap((d) => d.purposes ?? []),
    fields: decls.flatMap((d) => d.fields),
    notPersonal: decls.flatMap((d) => d.notPersonal),
    cookies: decls.flatMap((d) => d.cookies ?? []),
  };
}

/** The processors a vendor like the reference one uses; the vendor edits these in the settings. */
export const defaultProcessors: Processor[] = [
  { id: 'accounting', name: 'KashFlow', service: 'Online accounting; emails invoices on the vendor\'s behalf', country: 'GB', role: 'processor', contractRef: 'KashFlow terms of service and data processing agreement', erasure: 'manual' },
  { id: 'helpdesk', name: 'LiveAgent', service: 'Online helpdesk; emails replies and automated responses on the vendor\'s behalf', country: 'SK', role: 'processor', contractRef: 'LiveAgent data processing agreement', erasure: 'manual' },
  { id: 'mailing', name: 'Mailchimp', service: 'Mailing list provider; emails the newsletter on the vendor\'s behalf', country: 'US', role: 'processor', contractRef: 'Intuit Mailchimp data processing addendum', transferSafeguard: 'EU–US Data Privacy Framework and UK extension; standard contractual clauses', erasure: 'api' },
  { id: 'payments', name: 'Stripe', service: 'Card payments through Stripe Checkout; receives the order contact email and the amount', country: 'US', role: 'processor', contractRef: 'Stripe services agreement and data processing agreement', transferSafeguard: 'EU–US Data Privacy Framework and UK extension; standard contractual clauses', erasure: 'manual' },
];

/** Finds the problems in a registry that do not need a database: bases without their reason, unknown purposes or recipients. */
export function registryProblems(reg: Registry, processors: Processor[] = defaultProcessors): string[] {
  const problems: string[] = [];
  const purposeIds = new Set(reg.purposes.map((p) => p.id));
  const processorIds = new Set(processors.map((p) => p.id));
  for (const p of reg.purposes) {
    if (p.lawfulBasis === 'legitimate_interests' && !p.legitimateInterest) problems.push(`purpose ${p.id}: legitimate_interests without the interest`);
    if (p.lawfulBasis === 'consent' && !p.consent?.recordKind) problems.push(`purpose ${p.id}: consent without a record kind`);
    if (p.lawfulBasis === 'legal_obligation' && !p.legalObligation) problems.push(`purpose ${p.id}: legal_obligation without the law`);
  }
  for (const f of reg.fields) {
    const where = 'table' in f.location ? `${f.location.table}.${f.location.column}` : `log ${f.location.log}.${f.location.field}`;
    for (const id of f.purposes) if (!purposeIds.has(id)) problems.push(`${where}: unknown purpose ${id}`);
    for (const id of f.recipients) if (!processorIds.has(id)) problems.push(`${where}: unknown recipient ${id}`);
    if (!/^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$/.test(f.retention.period)) problems.push(`${where}: retention period ${f.retention.period} is not ISO 8601`);
  }
  const seen = new Set<string>();
  for (const loc of [...reg.fields.map((f) => f.location), ...reg.notPersonal]) {
    if (!('table' in loc)) continue;
    const key = `${loc.table}.${loc.column}`;
    if (seen.has(key)) problems.push(`${key}: declared twice`);
    seen.add(key);
  }
  return problems;
}
