import type { Kernel } from '../../kernel/context.js';
import type { PersonalField } from '../../kernel/privacy/types.js';
import { sha256Hex } from '../../kernel/crypto/tokens.js';
import { suppressionHash } from '../newsletter/tokens.js';
import type { Registry } from './registry.js';
import type { SubjectDataProvider } from '../../kernel/privacy/subject-data.js';

/**
 * Planting data for the subject-access and erasure tests, generic over the registry: every column of a
 * table is filled (links to the person from the overrides below or by column name, everything else with a
 * unique marker), and the markers put into declared personal columns are returned so a test can look for
 * each one in an export or after an erasure. A new table is planted with no work if its link columns are
 * called `customer_id`, `email` or `licence_id`; otherwise add a line to PLANT_LINKS.
 */
export interface PlantSubject { email: string; customerId: string; licenceId: string; key: string }

export interface Planted { table: string; column: string; value: string | number; field: PersonalField }

type Links = (s: PlantSubject, k: Kernel) => Record<string, unknown>;

/** Per-table links and values with a meaning (statuses, JSON); table order matters for parents. */
export const PLANT_LINKS: Record<string, Links> = {
  products: (s) => ({ id: `prod-${s.key}`, code: `P${s.key}` }),
  mail_outbox: (s) => ({ to_addr: s.email, status: 'sent', headers: '{}' }),
  audit_log: (s) => ({ actor_id: s.customerId, actor_kind: 'customer', detail: '{}' }),
  jobs: (s) => ({ payload: JSON.stringify({ to: s.email }), status: 'pending', run_at: 9e15, idempotency_key: null }),
  rate_limits: (s) => ({ key: `login:${s.email}` }),
  customers: (s) => ({ id: s.customerId, email: s.email }),
  sessions: (s) => ({ subject_kind: 'customer', subject_id: s.customerId }),
  remember_tokens: (s) => ({ subject_kind: 'customer', subject_id: s.customerId }),
  account_tokens: (s) => ({ subject_kind: 'customer', subject_id: s.customerId }),
  licences: (s) => ({ id: s.licenceId, product_id: `prod-${s.key}`, customer_id: s.customerId, customer_email: s.email, status: 'active', policy: '{}' }),
  machines: (s) => ({ licence_id: s.licenceId, status: 'active' }),
  callhome_daily: (s) => ({ licence_id: s.licenceId }),
  licence_networks: (s) => ({ licence_id: s.licenceId }),
  newsletter_subscribers: (s) => ({ id: `sub-${s.key}`, email: s.email, customer_id: s.customerId }),
  newsletter_subscriptions: (s) => ({ subscriber_id: `sub-${s.key}`, list_id: 'newsletter', status: 'subscribed', confirm_token_hash: null }),
  newsletter_consent_events: (s) => ({ email: s.email, subscriber_id: `sub-${s.key}`, list_id: 'newsletter', action: 'subscribe', source: 'form' }),
  newsletter_suppressions: (s, k) => ({ email_hash: suppressionHash(k.secrets, s.email), reason: 'complaint' }),
  newsletter_campaigns: (s) => ({ id: `camp-${s.key}`, list_id: 'newsletter', status: 'finished' }),
  newsletter_campaign_sends: (s) => ({ campaign_id: `camp-${s.key}`, subscriber_id: `sub-${s.key}`, status: 'sent' }),
  baskets: (s) => ({ id: `basket-${s.key}` }),
  basket_lines: (s) => ({ basket_id: `basket-${s.key}`, target_licence_id: s.licenceId }),
  orders: (s) => ({ id: `order-${s.key}`, customer_id: s.customerId, email: s.email, status: 'paid', channel: 'web', currency: 'GBP', placed_by_staff_id: null, reseller_id: null }),
  order_lines: (s) => ({ order_id: `order-${s.key}` }),
  payments: (s) => ({ order_id: `order-${s.key}` }),
  invoices: (s) => ({ order_id: `order-${s.key}`, customer_id: s.customerId, kind: 'invoice', refund_id: null, credited_invoice_id: null }),
  support_users: (s) => ({ id: `su-${s.key}`, email: s.email }),
  support_tickets: (s) => ({ id: `ticket-${s.key}`, status: 'open', merged_into_id: null, anonymised_at: null, closed_at: null }),
  support_participants: (s) => ({ ticket_id: `ticket-${s.key}`, email: s.email, role: 'requester', customer_id: s.customerId, support_user_id: `su-${s.key}` }),
  support_messages: (s) => ({ id: `msg-${s.key}`, ticket_id: `ticket-${s.key}`, kind: 'customer', author_email: s.email }),
  support_attachments: (s) => ({ ticket_id: `ticket-${s.key}`, message_id: `msg-${s.key}`, stored_path: `none/${s.key}` }),
  support_inbound: (s) => ({ ticket_id: `ticket-${s.key}`, envelope_from: s.email, raw_path: null }),
  support_autoreplies: (s) => ({ sender_hash: sha256Hex(`support-ack:${s.email}`) }),
  support_forum_threads: (s) => ({ id: `thread-${s.key}`, author_customer_id: s.customerId, accepted_post_id: null }),
  support_forum_posts: (s) => ({ thread_id: `thread-${s.key}`, author_customer_id: s.customerId, author_staff_id: null }),
  privacy_testimonials: (s) => ({ customer_id: s.customerId, email: s.email }),
  privacy_requests: (s) => ({ requested_by_kind: 'customer', requested_by_id: s.customerId, summary: '{}' }),
  subscriptions: (s) => ({ id: `subscr-${s.key}`, customer_id: s.customerId, licence_id: s.licenceId, item: 'support', renewal_mode: 'invoice', last_order_id: `order-${s.key}` }),
  subscription_reminders: (s) => ({ subscription_id: `subscr-${s.key}` }),
  resellers: (s) => ({ customer_id: s.customerId, status: 'active', currency: 'GBP', updated_by: null }),
  reseller_prices: (s) => ({ reseller_id: s.customerId, currency: 'GBP' }),
  reseller_sales: (s) => ({ order_id: `order-${s.key}`, reseller_id: s.customerId, end_email: s.email }),
  licence_self_releases: (s) => ({ licence_id: s.licenceId }),
};

/** Tables that must hold planted data: a personal column about someone other than staff that an export shows or an erasure changes. */
export function tablesNeedingProvider(reg: Registry): string[] {
  const out = new Set<string>();
  for (const f of reg.fields) {
    if (!('table' in f.location)) continue;
    if (!f.subjects.some((s) => s !== 'staff')) continue;
    if (f.access || typeof f.onErasure === 'string') out.add(f.location.table);
  }
  return [...out].sort();
}

export function unclaimedTables(reg: Registry, providers: SubjectDataProvider[]): string[] {
  const claimed = new Set(providers.flatMap((p) => p.tables));
  return tablesNeedingProvider(reg).filter((t) => !claimed.has(t));
}

let counter = 0;
const isNumberType = (t: string) => /int|numeric|real|double|float/i.test(t);

/** Plants one row per table needing a provider (and their parents) for `s`; returns every marker in a personal column. */
export async function plantEverywhere(k: Kernel, reg: Registry, s: PlantSubject, schema?: string): Promise<Planted[] & { tables?: string[] }> {
  const tables = new Map((await k.db.introspection.getTables()).filter((t) => !schema || t.schema === schema).map((t) => [t.name, t]));
  const personal = new Map<string, PersonalField>();
  for (const f of reg.fields) if ('table' in f.location) personal.set(`${f.location.table}.${f.location.column}`, f);
  const needed = tablesNeedingProvider(reg);
  const order = [...Object.keys(PLANT_LINKS).filter((t) => needed.includes(t) || !reg.fields.some((f) => 'table' in f.location && f.location.table === t)), ...needed.filter((t) => !(t in PLANT_LINKS))];
  const planted: Planted[] & { tables?: string[] } = [];
  planted.tables = [];
  for (const table of order) {
    const meta = tables.get(table);
    if (!meta) throw new Error(`plantEverywhere: no table ${table}`);
    const links = PLANT_LINKS[table]?.(s, k) ?? {};
    const row: Record<string, unknown> = {};
    for (const c of meta.columns) {
      if (c.name in links) { row[c.name] = links[c.name]; continue; }
      if (!PLANT_LINKS[table]) {
        if (c.name === 'customer_id') { row[c.name] = s.customerId; continue; }
        if (c.name === 'email') { row[c.name] = s.email; continue; }
        if (c.name === 'licence_id') { row[c.name] = s.licenceId; continue; }
      }
      const f = personal.get(`${table}.${c.name}`);
      const n = ++counter;
      let v: string | number;
      if (isNumberType(c.dataType)) v = 1_000_000 + n * 17;
      else if (f && f.category === 'user.device.ip_address') v = `203.0.${100 + Math.floor(n / 150) % 100}.${100 + (n % 150)}`;
      else v = `plant${String(n).padStart(5, '0')}${s.key}z`;
      row[c.name] = v;
      if (f) planted.push({ table, column: c.name, value: v, field: f });
    }
    await k.db.insertInto(table as 'customers').values(row as never).execute();
    planted.tables.push(table);
  }
  return planted;
}

/** Every text and number cell of every table, for "is this value still anywhere?". */
export async function allCells(k: Kernel, schema?: string): Promise<Array<{ table: string; column: string; value: unknown }>> {
  const out: Array<{ table: string; column: string; value: unknown }> = [];
  for (const t of (await k.db.introspection.getTables()).filter((x) => !schema || x.schema === schema)) {
    const rows = await k.db.selectFrom(t.name as 'customers').selectAll().execute() as Array<Record<string, unknown>>;
    for (const r of rows) for (const [column, value] of Object.entries(r)) out.push({ table: t.name, column, value });
  }
  return out;
}
