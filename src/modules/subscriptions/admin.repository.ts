// Read models for the admin pages, assembled across orders, billing, licensing and subscriptions.
import type { Db } from '../../kernel/db/database.js';
import { formatDate, formatMoney } from '../billing/index.js';
import type { LicenceSummary } from '../orders/index.js';
import { describeItem } from './subscriptions.service.js';
import { statusAt } from './rules.js';

export interface MonthRevenue { month: string; invoices: number; creditNotes: number; net: number }

const monthOf = (t: number) => new Date(t).toISOString().slice(0, 7);

/** The last `count` calendar months (UTC) up to `now`'s, oldest first, each with its net sterling revenue. */
export async function revenueByMonth(db: Db, now: number, count: number): Promise<MonthRevenue[]> {
  const d = new Date(now);
  const first = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - (count - 1), 1);
  const months: MonthRevenue[] = [];
  for (let i = 0; i < count; i++) months.push({ month: monthOf(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - (count - 1) + i, 1)), invoices: 0, creditNotes: 0, net: 0 });
  const docs = await db.selectFrom('invoices').select(['kind', 'issue_date', 'total_net_gbp']).where('issue_date', '>=', first).where('issue_date', '<=', now).execute();
  for (const doc of docs) {
    const m = months.find((x) => x.month === monthOf(Number(doc.issue_date)));
    if (!m) continue;
    if (doc.kind === 'credit_note') { m.creditNotes++; m.net -= Number(doc.total_net_gbp); } else { m.invoices++; m.net += Number(doc.total_net_gbp); }
  }
  return months;
}

export interface TimelineEvent { at: number; kind: 'Order' | 'Invoice' | 'Credit note' | 'Licence' | 'Subscription'; text: string; href: string | null }

/** Everything that happened to one customer, newest first. */
export async function customerTimeline(db: Db, customerId: string, licences: LicenceSummary[], graceDays: number, now: number): Promise<TimelineEvent[]> {
  const [orders, docs, subs, issued] = await Promise.all([
    db.selectFrom('orders').select(['id', 'reference', 'status', 'created_at', 'total_gross', 'currency']).where('customer_id', '=', customerId).execute(),
    db.selectFrom('invoices').select(['id', 'kind', 'number', 'issue_date', 'total_gross', 'currency', 'order_reference']).where('customer_id', '=', customerId).execute(),
    db.selectFrom('subscriptions').selectAll().where('customer_id', '=', customerId).execute(),
    licences.length ? db.selectFrom('licences').select(['id', 'created_at']).where('id', 'in', licences.map((l) => l.licenceId)).execute() : Promise.resolve([]),
  ]);
  const events: TimelineEvent[] = [
    ...orders.map((o) => ({ at: Number(o.created_at), kind: 'Order' as const, text: `${o.reference}: ${formatMoney(Number(o.total_gross), o.currency)}, ${o.status.replace('_', ' ')}`, href: `/admin/orders/${o.id}` })),
    ...docs.map((i) => ({ at: Number(i.issue_date), kind: i.kind === 'credit_note' ? 'Credit note' as const : 'Invoice' as const, text: `${i.number} (order ${i.order_reference}): ${formatMoney(Number(i.total_gross), i.currency)}`, href: null })),
    ...licences.map((l) => ({
      at: Number(issued.find((x) => x.id === l.licenceId)?.created_at ?? 0), kind: 'Licence' as const,
      text: `${l.productCode} ${l.label}, ${l.maxUsers === null ? 'unlimited' : l.maxUsers} users${l.maintenanceUntil ? `, maintenance to ${formatDate(l.maintenanceUntil)}` : ''}`, href: null,
    })),
    ...subs.map((s) => ({
      at: Number(s.period_start), kind: 'Subscription' as const,
      text: `${describeItem(s)}: ${formatDate(Number(s.period_start))} to ${formatDate(Number(s.period_end))} (${statusAt({ periodEnd: Number(s.period_end), cancelAtPeriodEnd: s.cancel_at_period_end === 1 }, now, graceDays).replace(/_/g, ' ')})`, href: null,
    })),
  ];
  return events.sort((a, b) => b.at - a.at || a.kind.localeCompare(b.kind));
}
