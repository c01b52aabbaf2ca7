// One search box across the back office. Each kind of record is looked up the way its indexes allow:
// exact numbers, and prefixes of emails, references, ids and computer IDs, and a full
// licence key through its hash (keys are stored hashed and sealed, so a fragment of a key cannot be
// searched: a staff member searches by the customer's email or the licence id instead).

import { sql } from 'kysely';
import type { Kernel } from '../../kernel/context.js';
import type { StaffRole } from '../accounts/index.js';
import { allows } from './access.js';

export interface Hit { kind: string; label: string; detail: string; href: string }

const LIMIT = 20;
/**
 * `column LIKE 'prefix%'` with the prefix's wildcards escaped. Not a range scan on purpose: PostgreSQL's
 * default collations order punctuation in ways that make `>= prefix AND < next` miss emails.
 */
const startsWith = (column: string, prefix: string) =>
  sql<boolean>`${sql.ref(column)} like ${prefix.replace(/[!%_]/g, '!$&') + '%'} escape '!'`;

export async function search(k: Kernel, raw: string, role: StaffRole, licenceIdForKey: (key: string) => Promise<string | null>): Promise<Hit[]> {
  const q = raw.trim().slice(0, 200);
  if (q.length < 2) return [];
  const lower = q.toLowerCase();
  const can = (path: string) => allows(role, 'GET', path);
  const digits = /^#?\d{1,12}$/.test(q) ? Number(q.replace('#', '')) : null;
  const hits: Hit[] = [];
  const db = k.db;
  const jobs: Promise<void>[] = [];

  if (can('/admin/customers')) {
    jobs.push((async () => {
      const rows = await db.selectFrom('customers').select(['id', 'email', 'name', 'company'])
        .where((eb) => eb.or([startsWith('email', lower), eb('id', '=', q)]))
        .orderBy('email').limit(LIMIT).execute();
      for (const r of rows) hits.push({ kind: 'Customer', label: r.name, detail: [r.email, r.company].filter(Boolean).join(' · '), href: `/admin/customers/${r.id}` });
    })());
  }
  if (can('/admin/orders')) {
    jobs.push((async () => {
      const upperQ = q.toUpperCase();
      const rows = await db.selectFrom('orders').select(['id', 'reference', 'email', 'status'])
        .where((eb) => eb.or([startsWith('reference', upperQ), eb('id', '=', q)]))
        .orderBy('reference').limit(LIMIT).execute();
      for (const r of rows) hits.push({ kind: 'Order', label: r.reference, detail: `${r.email} · ${r.status}`, href: `/admin/orders/${r.id}` });
    })());
  }
  if (can('/admin/invoices') && digits !== null) {
    jobs.push((async () => {
      const rows = await db.selectFrom('invoices').select(['id', 'number', 'kind', 'buyer_email', 'currency', 'total_gross']).where('number', '=', digits).execute();
      for (const r of rows) hits.push({ kind: r.kind === 'credit_note' ? 'Credit note' : 'Invoice', label: String(r.number), detail: `${r.buyer_email} · ${(Number(r.total_gross) / 100).toFixed(2)} ${r.currency}`, href: `/admin/invoices/${r.id}/pdf` });
    })());
  }
  if (can('/admin/licences')) {
    jobs.push((async () => {
      const byKey = /^[A-Za-z0-9-]{16,}$/.test(q) ? await licenceIdForKey(q) : null;
      const rows = await db.selectFrom('licences as l').innerJoin('products as p', 'p.id', 'l.product_id')
        .select(['l.id', 'p.code', 'l.customer_email', 'l.status'])
        .where((eb) => eb.or([
          startsWith('l.id', q),
          startsWith('l.customer_email', lower),
          ...(byKey ? [eb('l.id', '=', byKey)] : []),
        ]))
        .limit(LIMIT).execute();
      for (const r of rows) hits.push({ kind: 'Licence', label: `${r.code} ${r.id.slice(0, 8)}`, detail: [r.customer_email, r.status].filter(Boolean).join(' · '), href: `/admin/licences/${r.id}` });
    })());
  }
  if (can('/admin/machines') && /^[0-9a-f]{4,64}$/i.test(q)) {
    jobs.push((async () => {
      const rows = await db.selectFrom('machines').select(['licence_id', 'computer_id', 'status', 'last_version'])
        .where(startsWith('computer_id', lower)).limit(LIMIT).execute();
      for (const r of rows) hits.push({ kind: 'Machine', label: r.computer_id.slice(0, 16) + '…', detail: `${r.status} · ${r.last_version ?? 'no version yet'}`, href: `/admin/licences/${r.licence_id}#machines` });
    })());
  }
  if (can('/admin/tickets')) {
    jobs.push((async () => {
      const ids = digits !== null
        ? (await db.selectFrom('support_tickets').select('number').where('number', '=', digits).execute()).map((r) => Number(r.number))
        : [];
      const byEmail = q.includes('@')
        ? await db.selectFrom('support_participants as sp').innerJoin('support_tickets as t', 't.id', 'sp.ticket_id')
          .select(['t.number']).where('sp.email', '=', lower).orderBy('t.number', 'desc').limit(LIMIT).execute()
        : [];
      const numbers = [...new Set([...ids, ...byEmail.map((r) => Number(r.number))])];
      if (!numbers.length) return;
      const rows = await db.selectFrom('support_tickets').select(['number', 'subject', 'status']).where('number', 'in', numbers).execute();
      for (const r of rows) hits.push({ kind: 'Ticket', label: `#${r.number}`, detail: `${r.subject} · ${r.status}`, href: `/admin/tickets/${r.number}` });
    })());
  }
  await Promise.all(jobs);
  return hits;
}
