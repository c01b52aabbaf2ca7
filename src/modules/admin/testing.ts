// Factories for the admin's tests: rows written straight into the other modules' tables, the way the
// shop and call-home would leave them, so the dashboard and search have something to read.

import type { Kernel } from '../../kernel/context.js';
import { newId, sha256Hex } from '../../kernel/crypto/tokens.js';
import crypto from 'node:crypto';

export async function buildProduct(k: Kernel, code = 'mailserver'): Promise<string> {
  const id = newId();
  await k.db.insertInto('products').values({ id, code, name: code, created_at: k.clock.now() }).execute();
  return id;
}

/**
 * A licence row. Pass `keyHash` (the licensing module's `callhome.keyHash`) when the test looks the key up
 * again (licence pages, release); otherwise the hash is a placeholder no key matches.
 */
export async function buildLicence(k: Kernel, productId: string, o: Partial<{ id: string; key: string; keyHash: (key: string) => string; maxUsers: number | null; maxMachines: number | null; maintenanceUntil: number | null; status: 'active' | 'suspended'; customerId: string | null; customerEmail: string | null }> = {}): Promise<{ id: string; key: string }> {
  const id = o.id ?? newId();
  // Hex digits only: they survive the key normalisation (O→0, I/L→1) unchanged.
  const key = o.key ?? crypto.randomBytes(13).toString('hex').toUpperCase().slice(0, 25).replace(/(.{5})(?!$)/g, '$1-');
  await k.db.insertInto('licences').values({
    id, product_id: productId, key_hash: o.keyHash ? o.keyHash(key) : sha256Hex(`admin-test:${id}`), key_sealed: k.secrets.seal('licence-key', key),
    customer_id: o.customerId ?? null, customer_email: o.customerEmail ?? null, order_id: null, status: o.status ?? 'active',
    max_users: o.maxUsers === undefined ? 10 : o.maxUsers, max_machines: o.maxMachines === undefined ? 1 : o.maxMachines,
    expires_at: null, maintenance_until: o.maintenanceUntil ?? null, policy: '{}', created_at: k.clock.now(), updated_at: k.clock.now(),
  }).execute();
  return { id, key };
}

export async function buildCallhomeDay(k: Kernel, day: number, licenceId: string, version: string, calls: number, users: number | null): Promise<void> {
  await k.db.insertInto('callhome_daily').values({ day, licence_id: licenceId, version, calls, max_users_in_use: users }).execute();
}

export async function buildMachine(k: Kernel, licenceId: string, computerId: string, lastSeen: number, o: Partial<{ version: string; users: number }> = {}): Promise<void> {
  await k.db.insertInto('machines').values({
    licence_id: licenceId, computer_id: computerId, status: 'active', first_seen: lastSeen, last_seen: lastSeen,
    last_version: o.version ?? '1.0.0', last_users_in_use: o.users ?? 1, last_ip: null,
  }).execute();
}

export async function buildInvoice(k: Kernel, o: { number: number; currency: string; gross: number; issuedAt: number; kind?: 'invoice' | 'credit_note'; customerId?: string; email?: string }): Promise<string> {
  const id = newId();
  await k.db.insertInto('invoices').values({
    id, number: o.number, kind: o.kind ?? 'invoice', order_id: newId(), customer_id: o.customerId ?? newId(), refund_id: null,
    credited_invoice_id: null, credited_invoice_number: null, credited_invoice_date: null,
    issue_date: o.issuedAt, tax_point: o.issuedAt, currency: o.currency as never, seller_name: 'Vendor Ltd', seller_address: '1 Road',
    seller_vat_number: 'GB123456789', seller_company_number: null, buyer_name: 'Buyer', buyer_company: null, buyer_address: '2 Lane',
    buyer_country: 'GB', buyer_vat_number: null, buyer_email: o.email ?? 'buyer@example.com', order_reference: `R${o.number}`,
    tax_treatment: 'uk_vat' as never, notice: null, total_net: o.gross, total_tax: 0, total_gross: o.gross, rate_totals: '[]',
    gbp_rate_micros: 1_000_000, total_net_gbp: o.gross, total_tax_gbp: 0, payment_note: null, created_at: o.issuedAt,
  }).execute();
  return id;
}
