import fs from 'node:fs';
import path from 'node:path';
import type { Kernel } from '../../kernel/context.js';
import { newId } from '../../kernel/crypto/tokens.js';
import type { PersonalField } from '../../kernel/privacy/types.js';
import type { DataSubject, SubjectDataProvider } from '../../kernel/privacy/subject-data.js';
import { truncateIp } from '../../kernel/privacy/subject-data.js';
import { erasedPseudonym } from '../../kernel/privacy/kernel.subject-data.js';
import { buildRegistry, type Registry } from './registry.js';
import { subjectDataProviders } from './providers.js';
import { loadProcessors } from './privacy.settings.js';
import { PrivacyBadEmail } from './privacy.errors.js';
import { emptyWal } from '../../kernel/db/wal-checkpoint.js';

export const PROCESSOR_ERASURE_JOB = 'privacy.processor-erasure';

export function normaliseSubjectEmail(raw: unknown): string {
  if (typeof raw !== 'string') throw new PrivacyBadEmail();
  const e = raw.trim().toLowerCase();
  if (e.length > 254 || !/^[^\s@<>()",;]+@[^\s@<>()",;]+\.[^\s@<>()",;.]{2,}$/.test(e)) throw new PrivacyBadEmail();
  return e;
}

/** Keyed one-way fingerprint of an address: what the request log and the erasure journal keep. */
export const subjectHash = (k: Kernel, email: string) => k.secrets.hmac('privacy-subject', email.trim().toLowerCase()).toString('hex');

/** Finds the person's accounts and licences from their address (also through orders, which keep the customer id). */
export async function resolveSubject(k: Kernel, email: string): Promise<DataSubject> {
  const ids = new Set<string>();
  for (const r of await k.db.selectFrom('customers').select('id').where('email', '=', email).execute()) ids.add(r.id);
  for (const r of await k.db.selectFrom('orders').select('customer_id').where('email', '=', email).execute()) ids.add(r.customer_id);
  const customerIds = [...ids];
  const lic = await k.db.selectFrom('licences').select('id').where((eb) => eb.or([
    eb('customer_email', '=', email), ...(customerIds.length ? [eb('customer_id', 'in', customerIds)] : []),
  ])).execute();
  return { email, customerIds, licenceIds: lic.map((l) => l.id) };
}

const fieldsByTable = (reg: Registry) => {
  const m = new Map<string, Map<string, PersonalField>>();
  for (const f of reg.fields) {
    if (!('table' in f.location)) continue;
    const t = m.get(f.location.table) ?? new Map<string, PersonalField>();
    t.set(f.location.column, f);
    m.set(f.location.table, t);
  }
  return m;
};

export interface ArchiveField {
  label: string; category: string; portable: boolean;
  purposes: Array<{ id: string; description: string; lawfulBasis: string }>;
  recipients: Array<{ id: string; name: string; country: string }>;
  retention: { period: string; from: string; rationale: string };
  onErasure: PersonalField['onErasure'];
}
export interface ArchiveSection { module: string; table: string; fields: Record<string, ArchiveField>; records: Array<Record<string, unknown>> }
export interface SubjectArchive {
  format: 'keyward-subject-access/1';
  generatedAt: string;
  subject: { email: string };
  sections: ArchiveSection[];
}

/**
 * Builds the subject-access archive: every provider's rows, reduced to the columns declared personal with
 * `access`, and each column described from its declaration (purposes, recipients, retention).
 */
export async function buildArchive(k: Kernel, email: string, opts: { providers?: SubjectDataProvider[]; registry?: Registry } = {}): Promise<SubjectArchive> {
  const reg = opts.registry ?? buildRegistry();
  const byTable = fieldsByTable(reg);
  const purposes = new Map(reg.purposes.map((p) => [p.id, p]));
  const procs = new Map((await loadProcessors(k.settings)).map((p) => [p.id, p]));
  const s = await resolveSubject(k, email);
  const sections: ArchiveSection[] = [];
  for (const provider of opts.providers ?? subjectDataProviders) {
    for (const part of await provider.export(k, s)) {
      if (!part.rows.length) continue;
      const decl = byTable.get(part.table);
      if (!decl) continue;
      const shown = [...decl].filter(([, f]) => f.access);
      if (!shown.length) continue;
      const fields: Record<string, ArchiveField> = {};
      for (const [column, f] of shown) {
        fields[column] = {
          label: f.label, category: f.category, portable: f.portable, onErasure: f.onErasure,
          purposes: f.purposes.map((id) => ({ id, description: purposes.get(id)?.description ?? id, lawfulBasis: purposes.get(id)?.lawfulBasis ?? 'unknown' })),
          recipients: f.recipients.map((id) => ({ id, name: procs.get(id)?.name ?? id, country: procs.get(id)?.country ?? '' })),
          retention: f.retention,
        };
      }
      const records = part.rows.map((row) => Object.fromEntries(shown.map(([column]) => [column, jsonish(row[column])])));
      sections.push({ module: provider.module, table: part.table, fields, records });
    }
  }
  return { format: 'keyward-subject-access/1', generatedAt: new Date(k.clock.now()).toISOString(), subject: { email }, sections };
}

/** JSON text columns are shown as data, not as strings of JSON. */
function jsonish(v: unknown): unknown {
  if (typeof v === 'string' && /^[[{]/.test(v)) { try { return JSON.parse(v); } catch { return v; } }
  if (typeof v === 'bigint') return Number(v);
  return v ?? null;
}

export interface Requester { kind: 'staff' | 'customer' | 'system'; id: string | null; ip?: string | null }

/** Subject access: the archive, with the request logged (request table and audit log, never the address). */
export async function subjectAccess(k: Kernel, rawEmail: string, by: Requester): Promise<SubjectArchive> {
  const email = normaliseSubjectEmail(rawEmail);
  const archive = await buildArchive(k, email);
  const id = newId();
  const summary = { sections: archive.sections.map((s) => ({ table: s.table, records: s.records.length })) };
  await k.db.transaction().execute(async (trx) => {
    await trx.insertInto('privacy_requests').values({ id, kind: 'access', subject_hash: subjectHash(k, email), requested_by_kind: by.kind, requested_by_id: by.id, summary: JSON.stringify(summary), created_at: k.clock.now() }).execute();
    await k.audit.record({ actorKind: by.kind, actorId: by.id, action: 'privacy.subject_access', target: id, detail: { records: summary.sections.reduce((n, s) => n + s.records, 0) }, ip: by.ip ?? null }, trx);
  });
  return archive;
}

// ---------------------------------------------------------------------------------------------------------
// Erasure and its journal

/** The journal file lives beside the database, not in it, so restoring an older database does not lose it. */
export const journalFile = (k: Kernel) => path.join(k.config.dataDir, 'privacy', 'erasure-journal.jsonl');

function appendJournalFile(k: Kernel, hash: string, at: number): void {
  const f = journalFile(k);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  const fd = fs.openSync(f, 'a', 0o600);
  try { fs.writeSync(fd, `${JSON.stringify({ h: hash, at })}\n`); fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
}

export function readJournalFile(k: Kernel): Array<{ h: string; at: number }> {
  const f = journalFile(k);
  if (!fs.existsSync(f)) return [];
  return fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).flatMap((line) => {
    try { const e = JSON.parse(line) as { h: unknown; at: unknown }; return typeof e.h === 'string' && typeof e.at === 'number' ? [{ h: e.h, at: e.at }] : []; } catch { return []; }
  });
}

export interface ErasureResult {
  requestId: string;
  counts: Record<string, number>;
  kept: string[];
  processors: Array<{ id: string; name: string; method: 'api' | 'manual' }>;
}

/**
 * Erasure: journal first (so a crash or a restore re-applies it), then every provider, then the
 * processors that received the person's data are told (a job per processor; manual ones are listed for
 * staff). Safe to run twice.
 */
export async function eraseSubject(k: Kernel, rawEmail: string, by: Requester, opts: { reapply?: boolean } = {}): Promise<ErasureResult> {
  const email = normaliseSubjectEmail(rawEmail);
  const hash = subjectHash(k, email);
  const now = k.clock.now();
  if (!opts.reapply) appendJournalFile(k, hash, now);
  await k.db.insertInto('privacy_erasure_journal').values({ subject_hash: hash, erased_at: now, reapplied_at: null })
    .onConflict((oc) => oc.column('subject_hash').doUpdateSet(opts.reapply ? { reapplied_at: now } : { erased_at: now })).execute();

  // Which processors received something: the recipients of every declared column the person has rows in.
  const reg = buildRegistry();
  const archive = await buildArchive(k, email, { registry: reg });
  const recipientIds = new Set<string>();
  const byTable = fieldsByTable(reg);
  for (const sec of archive.sections) for (const f of byTable.get(sec.table)?.values() ?? []) for (const r of f.recipients) recipientIds.add(r);

  const s = await resolveSubject(k, email);
  const counts: Record<string, number> = {};
  const kept: string[] = [];
  for (const provider of subjectDataProviders) {
    const out = await provider.erase(k, s, { by: by.kind === 'staff' ? by.id : null });
    for (const [t, n] of Object.entries(out.counts)) counts[t] = (counts[t] ?? 0) + n;
    kept.push(...out.kept);
  }

  const requestId = newId();
  const procs = (await loadProcessors(k.settings)).filter((p) => recipientIds.has(p.id));
  // A person closing their own account: the records of the erasure itself must not name them again.
  const self = by.kind === 'customer' && by.id !== null && s.customerIds.includes(by.id);
  const byId = self ? erasedPseudonym(k, by.id!) : by.id;
  const byIp = self ? truncateIp(by.ip ?? null) : by.ip ?? null;
  await k.db.transaction().execute(async (trx) => {
    await trx.insertInto('privacy_requests').values({
      id: requestId, kind: 'erasure', subject_hash: hash, requested_by_kind: by.kind, requested_by_id: byId,
      summary: JSON.stringify({ counts, kept, processors: procs.map((p) => p.id), reapply: !!opts.reapply }), created_at: now,
    }).execute();
    for (const p of procs) {
      const noticeId = newId();
      await trx.insertInto('privacy_processor_notices').values({ id: noticeId, request_id: requestId, processor_id: p.id, method: p.erasure, status: 'to_do', created_at: now, done_at: null }).execute();
      // The address is sealed: the job row must not be a readable copy of what was just erased.
      await k.jobs.enqueue(PROCESSOR_ERASURE_JOB, { noticeId, processorId: p.id, sealedEmail: k.secrets.seal('privacy-processor-erasure', email) }, { trx, idempotencyKey: `privacy-erasure:${requestId}:${p.id}` });
    }
    await k.audit.record({ actorKind: by.kind, actorId: byId, action: opts.reapply ? 'privacy.erasure_reapplied' : 'privacy.erasure', target: requestId, detail: { counts }, ip: byIp }, trx);
  });
  // secure_delete zeroed the erased values in the database file; the write-ahead log still holds the
  // pages as they were until a checkpoint. Best effort: a reader that stays in a transaction keeps the
  // log until the next checkpoint (SQLite's own, at 1000 pages).
  await emptyWal(k.dbh);
  return { requestId, counts, kept: [...new Set(kept)], processors: procs.map((p) => ({ id: p.id, name: p.name, method: p.erasure })) };
}

/**
 * After a restore from backup: every journal entry (file and table) is matched against the addresses now in
 * the database (every column declared as an email identity), and each match is erased again.
 * Returns how many people were erased again.
 */
export async function reapplyErasureJournal(k: Kernel): Promise<number> {
  const entries = new Map<string, number>();
  for (const e of readJournalFile(k)) entries.set(e.h, e.at);
  for (const e of await k.db.selectFrom('privacy_erasure_journal').select(['subject_hash', 'erased_at']).execute()) if (!entries.has(e.subject_hash)) entries.set(e.subject_hash, e.erased_at);
  if (!entries.size) return 0;
  const emails = new Set<string>();
  for (const f of buildRegistry().fields) {
    // Addresses kept for a legal duty (the consent ledger) stay after an erasure: they do not mean the person is back.
    if (!('table' in f.location) || f.identity !== 'email' || f.category !== 'user.contact.email' || typeof f.onErasure === 'object') continue;
    const { table, column } = f.location;
    const rows = await k.db.selectFrom(table as 'customers').select(`${column} as v` as 'email').distinct().execute() as unknown as Array<{ v: unknown }>;
    for (const r of rows) if (typeof r.v === 'string' && r.v.includes('@')) emails.add(r.v.trim().toLowerCase());
  }
  let n = 0;
  for (const email of emails) {
    if (!entries.has(subjectHash(k, email))) continue;
    await eraseSubject(k, email, { kind: 'system', id: null }, { reapply: true });
    n++;
  }
  // Entries only the file knew (the database predates them) go back into the table.
  for (const [h, at] of entries) {
    await k.db.insertInto('privacy_erasure_journal').values({ subject_hash: h, erased_at: at, reapplied_at: k.clock.now() }).onConflict((oc) => oc.column('subject_hash').doNothing()).execute();
  }
  return n;
}

/** The processor job: API processors would be called here; none is configured, so every notice stays for staff. */
export type ProcessorEraser = (processorId: string, email: string) => Promise<void>;
export const processorErasers = new Map<string, ProcessorEraser>();

export function registerPrivacyJobs(k: Kernel): void {
  k.jobs.register(PROCESSOR_ERASURE_JOB, async (payload) => {
    const p = payload as { noticeId: string; processorId: string; sealedEmail: string };
    const notice = await k.db.selectFrom('privacy_processor_notices').selectAll().where('id', '=', p.noticeId).executeTakeFirst();
    if (!notice || notice.status === 'done') return;
    const eraser = processorErasers.get(p.processorId);
    if (!eraser) return; // manual: listed on /admin/privacy until staff mark it done
    await eraser(p.processorId, k.secrets.open('privacy-processor-erasure', p.sealedEmail).toString('utf8'));
    await k.db.updateTable('privacy_processor_notices').set({ status: 'done', done_at: k.clock.now() }).where('id', '=', p.noticeId).execute();
  });
}
