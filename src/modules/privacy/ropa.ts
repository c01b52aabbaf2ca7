import type { Processor } from '../../kernel/privacy/types.js';
import type { Registry } from './registry.js';
import { BASIS_LABEL, retentionInWords } from './notice.js';

/** The record of processing activities (GDPR Art. 30): one row per purpose. */
export interface RopaRow { purpose: string; basis: string; subjects: string; categories: string; recipients: string; retention: string }

export function ropaRows(reg: Registry, processors: Processor[]): RopaRow[] {
  const names = new Map(processors.map((p) => [p.id, `${p.name} (${p.country}${p.transferSafeguard ? `; ${p.transferSafeguard}` : ''})`]));
  return reg.purposes.map((p) => {
    const fields = reg.fields.filter((f) => f.purposes.includes(p.id));
    const u = (xs: string[]) => [...new Set(xs)].join('; ');
    return {
      purpose: `${p.id}: ${p.description}`,
      basis: `${BASIS_LABEL[p.lawfulBasis]}${p.legitimateInterest ? ` — ${p.legitimateInterest}` : ''}${p.legalObligation ? ` — ${p.legalObligation}` : ''}${p.consent ? ` — record: ${p.consent.recordKind}` : ''}`,
      subjects: u(fields.flatMap((f) => f.subjects)),
      categories: u(fields.map((f) => `${f.label} (${f.category})`)),
      recipients: u(fields.flatMap((f) => f.recipients.map((r) => names.get(r) ?? r))) || 'none',
      retention: u(fields.map((f) => `${f.label}: ${retentionInWords(f.retention)}`)),
    };
  });
}

const cell = (s: string) => (/[",\n\r]/.test(s) || /^[=+\-@\t]/.test(s) ? `"${(/^[=+\-@\t]/.test(s) ? `'${s}` : s).replace(/"/g, '""')}"` : s);

/** CSV with formula-injection guarding (cells starting with = + - @ are quoted and prefixed). */
export function ropaCsv(reg: Registry, processors: Processor[]): string {
  const header = ['Purpose', 'Lawful basis', 'Data subjects', 'Categories of personal data', 'Recipients', 'Retention'];
  const rows = ropaRows(reg, processors).map((r) => [r.purpose, r.basis, r.subjects, r.categories, r.recipients, r.retention]);
  return [header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}
