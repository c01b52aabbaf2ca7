import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { testKernel, type TestKernel } from '../../kernel/testing/db.js';
import { backupDatabase, restoreDatabase } from '../../kernel/db/backup.js';
import { createKernel } from '../../kernel/context.js';
import { silentLog, testConfig } from '../../kernel/testing/db.js';
import { ManualClock } from '../../kernel/clock.js';
import { migrateToLatest } from '../../kernel/db/migrate.js';
import { allMigrations } from '../../migrations.js';
import { afterRestore } from '../../restore-hooks.js';
import { buildRegistry } from './registry.js';
import { subjectDataProviders } from './providers.js';
import { buildArchive, eraseSubject, journalFile, subjectAccess, subjectHash } from './subject-rights.js';
import { allCells, plantEverywhere, tablesNeedingProvider, unclaimedTables, type PlantSubject, type Planted } from './testing.js';
import { isSuppressed } from '../newsletter/suppression.js';

const reg = buildRegistry();
const person: PlantSubject = { email: 'planted.person@example.com', customerId: 'cust-planted', licenceId: 'lic-planted', key: 'a' };
const other: PlantSubject = { email: 'someone.else@example.com', customerId: 'cust-other', licenceId: 'lic-other', key: 'b' };

/** Every number and string anywhere in a JSON value. */
function leaves(v: unknown, out = { strings: [] as string[], numbers: new Set<number>() }) {
  if (typeof v === 'string') out.strings.push(v);
  else if (typeof v === 'number') out.numbers.add(v);
  else if (Array.isArray(v)) for (const x of v) leaves(x, out);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) leaves(x, out);
  return out;
}

const retained = (p: Planted) => typeof p.field.onErasure === 'object';

let t: TestKernel;
before(async () => { t = await testKernel(); });
after(async () => { await t.close(); });

describe('subject-data providers cover the registry', () => {
  test('every table with personal data about customers, subscribers or support users is claimed by exactly one provider', () => {
    assert.deepEqual(unclaimedTables(reg, subjectDataProviders), []);
    const claims = subjectDataProviders.flatMap((p) => p.tables);
    assert.equal(new Set(claims).size, claims.length, 'a table is claimed twice');
    const declared = new Set(reg.fields.flatMap((f) => ('table' in f.location ? [f.location.table] : [])));
    for (const table of claims) assert.ok(declared.has(table), `${table} is claimed but has no personal field`);
  });

  test('a new table with a personal column and no provider is caught', () => {
    const r = buildRegistry();
    r.fields.push({ ...r.fields.find((f) => 'table' in f.location && f.location.table === 'customers')!, location: { table: 'reseller_contacts', column: 'email' } });
    assert.deepEqual(unclaimedTables(r, subjectDataProviders), ['reseller_contacts']);
  });
});

describe('subject access and erasure with data planted in every table', () => {
  let planted: Planted[] & { tables?: string[] } = [];
  let plantedOther: Planted[] = [];

  test('planting reaches every table that needs a provider', async () => {
    planted = await plantEverywhere(t.k, reg, person, t.k.dbh.schema);
    plantedOther = await plantEverywhere(t.k, reg, other, t.k.dbh.schema);
    const tables = new Set(planted.tables);
    for (const table of tablesNeedingProvider(reg)) assert.ok(tables.has(table), `nothing planted in ${table}`);
  });

  test('the export holds every planted value of every column declared for access, with purposes, recipients and retention', async () => {
    const started = performance.now();
    const archive = await subjectAccess(t.k, '  Planted.Person@Example.com ', { kind: 'staff', id: 'staff-1' });
    assert.ok(performance.now() - started < 5000, 'the export is ready within seconds');
    const { strings, numbers } = leaves(archive.sections.map((s) => s.records));
    const text = strings.join('\n');
    const missing = planted.filter((p) => p.field.access).filter((p) => (typeof p.value === 'number' ? !numbers.has(p.value) : !text.includes(p.value)));
    assert.deepEqual(missing.map((p) => `${p.table}.${p.column}`), [], 'planted values missing from the export');
    // Nothing of the other person.
    const leaked = plantedOther.filter((p) => p.field.access && typeof p.value === 'string' && text.includes(p.value));
    assert.deepEqual(leaked.map((p) => `${p.table}.${p.column}`), [], 'another person\'s data in the export');
    // Each section describes its columns from the declarations.
    const inv = archive.sections.find((s) => s.table === 'invoices')!;
    assert.ok(inv.fields.buyer_name!.purposes.some((p) => p.id === 'billing'));
    assert.equal(inv.fields.buyer_name!.retention.period, 'P6Y');
    assert.ok(inv.fields.buyer_name!.recipients.some((r) => r.id === 'accounting' && r.name === 'KashFlow'));
    // Columns not declared for access (password hash, token hashes) are not in it.
    assert.ok(!archive.sections.find((s) => s.table === 'customers')!.fields.password_hash);
    // JSON round trip: the archive is machine-readable.
    assert.deepEqual(JSON.parse(JSON.stringify(archive)).subject, { email: 'planted.person@example.com' });
    // Logged, without the address.
    const log = await t.k.db.selectFrom('audit_log').selectAll().where('action', '=', 'privacy.subject_access').execute();
    assert.equal(log.length, 1);
    assert.equal(log[0]!.actor_id, 'staff-1');
    assert.doesNotMatch(log[0]!.detail, /planted/);
    const req = await t.k.db.selectFrom('privacy_requests').selectAll().where('kind', '=', 'access').executeTakeFirstOrThrow();
    assert.equal(req.subject_hash, subjectHash(t.k, person.email));
  });

  test('an export for a malformed address is refused with a stable code', async () => {
    await assert.rejects(subjectAccess(t.k, 'not an email', { kind: 'staff', id: 'x' }), (e: { code?: string }) => e.code === 'PRIV_BAD_EMAIL');
  });

  test('erasure leaves no planted personal value anywhere except what a legal duty keeps, and leaves others alone', async () => {
    // A live session and remember-me token: erasure must end them.
    const result = await eraseSubject(t.k, person.email, { kind: 'staff', id: 'staff-1' });
    const cells = await allCells(t.k, t.k.dbh.schema);
    const textCells = cells.filter((c) => typeof c.value === 'string') as Array<{ table: string; column: string; value: string }>;
    const remaining: string[] = [];
    for (const p of planted.filter((x) => !retained(x))) {
      if (typeof p.value === 'number') {
        if (cells.some((c) => c.table === p.table && c.column === p.column && Number(c.value) === p.value)) remaining.push(`${p.table}.${p.column}=${p.value}`);
      } else {
        const hit = textCells.find((c) => c.value.includes(p.value as string));
        if (hit) remaining.push(`${p.table}.${p.column} still in ${hit.table}.${hit.column}`);
      }
    }
    assert.deepEqual(remaining, [], 'personal values left after erasure');
    if (t.k.dbh.sqlite) {
      // Nor in the file's free pages or the write-ahead log (secure_delete, then the erasure's checkpoint).
      const file = t.k.dbh.sqlite.name;
      const bytes = Buffer.concat([file, `${file}-wal`].filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f)));
      const inFiles = planted.filter((x) => !retained(x) && typeof x.value === 'string' && bytes.includes(x.value as string));
      assert.deepEqual(inFiles.map((p) => `${p.table}.${p.column}`), [], 'personal values left in the database files');
    }
    // The address itself survives only in the consent ledger (proof of consent, legal obligation).
    const withEmail = textCells.filter((c) => c.value.toLowerCase().includes(person.email)).map((c) => `${c.table}.${c.column}`);
    assert.deepEqual([...new Set(withEmail)], ['newsletter_consent_events.email']);
    // Legal-duty keeps are still there and the confirmation says so.
    const kept = planted.filter(retained).filter((p) => p.table === 'invoices');
    for (const p of kept) assert.ok(cells.some((c) => c.table === p.table && c.column === p.column && c.value === p.value), `${p.table}.${p.column} should be kept`);
    assert.ok(result.kept.some((s) => /invoice.*six years/i.test(s)), result.kept.join('\n'));
    // Sessions ended, address suppressed, processors told.
    assert.equal((await t.k.db.selectFrom('sessions').select('id_hash').where('subject_id', '=', person.customerId).execute()).length, 0);
    assert.equal((await t.k.db.selectFrom('remember_tokens').select('selector').where('subject_id', '=', person.customerId).execute()).length, 0);
    assert.equal(await isSuppressed(t.k, person.email), true);
    assert.deepEqual(result.processors.map((p) => p.id).sort(), ['accounting', 'helpdesk', 'mailing', 'payments']);
    const jobs = await t.k.db.selectFrom('jobs').selectAll().where('name', '=', 'privacy.processor-erasure').execute();
    assert.equal(jobs.length, 4);
    for (const j of jobs) assert.doesNotMatch(j.payload, /planted/);
    // The other person's data is untouched.
    const lost = plantedOther.filter((p) => typeof p.value === 'string' && !textCells.some((c) => c.value === p.value));
    assert.deepEqual(lost.map((p) => `${p.table}.${p.column}`), [], 'erasure removed another person\'s data');
    // Journal: table and file, hash only.
    assert.ok(await t.k.db.selectFrom('privacy_erasure_journal').select('subject_hash').where('subject_hash', '=', subjectHash(t.k, person.email)).executeTakeFirst());
    assert.doesNotMatch(fs.readFileSync(journalFile(t.k), 'utf8'), /planted/);
  });

  test('erasing again changes nothing and does not fail', async () => {
    const r = await eraseSubject(t.k, person.email, { kind: 'staff', id: 'staff-1' });
    assert.equal(r.counts.customers ?? 0, 0);
    const archive = await buildArchive(t.k, person.email);
    assert.deepEqual(archive.sections.map((s) => s.table).filter((x) => !['invoices', 'orders', 'order_lines', 'payments', 'licences', 'newsletter_consent_events', 'newsletter_suppressions', 'audit_log'].includes(x)), []);
  });
});

describe('copies of emails to others that quote the person', () => {
  test('are in the export and go with the erasure; mail quoting someone else stays', async () => {
    const email = 'Quoted.Person@Example.org';
    const row = (id: string, subject: string, text: string, html: string | null) => ({
      id, to_addr: 'owner@vendor.example', from_addr: 'shop@vendor.example', subject, text_body: text, html_body: html,
      headers: '{}', attachments: '[]', category: 'support', status: 'sent' as const, attempts: 1, last_error: null,
      message_id: `<${id}@vendor.example>`, created_at: t.k.clock.now(), sent_at: t.k.clock.now(), envelope_from: null,
      claimed_by: null, claimed_at: null,
    });
    await t.k.db.insertInto('mail_outbox').values([
      row('quote-text', '[#1001] New ticket', 'From quoted.person@example.org: my phone is 07700 900123', null),
      row('quote-html', '[#1002] New ticket', 'See the HTML part.', '<p>From <a href="mailto:QUOTED.PERSON@EXAMPLE.ORG">them</a></p>'),
      row('quote-subject', 'Order problem: quoted.person@example.org', 'An order needs a look.', null),
      row('lookalike', '[#1003] New ticket', 'From quotedXperson@example.org and quoted.person@example.org.uk.other', null),
      row('other', '[#1004] New ticket', 'From someone.else@example.org: hello', null),
    ] as never).execute();
    // The export shows the declared columns (no ids): the subjects tell the copies apart.
    const exported = (await buildArchive(t.k, email)).sections.find((x) => x.table === 'mail_outbox')?.records.map((r) => r.subject).sort();
    assert.deepEqual(exported, ['Order problem: quoted.person@example.org', '[#1001] New ticket', '[#1002] New ticket', '[#1003] New ticket']);
    await eraseSubject(t.k, email, { kind: 'staff', id: 'staff-1' });
    const left = (await t.k.db.selectFrom('mail_outbox').select('id').where('id', 'in', ['quote-text', 'quote-html', 'quote-subject', 'lookalike', 'other']).execute()).map((r) => r.id);
    assert.deepEqual(left, ['other']);
  });
});

describe('erasure journal across a restore from backup', () => {
  test('backup, erase, restore: the journal is re-applied and the data is gone again', async () => {
    // The kernel testKernel() makes is closed for the restore; the restored database gets a new one.
    const { config, cleanup } = await testConfig();
    const clock = new ManualClock();
    let k = createKernel(config, { clock, log: silentLog });
    await migrateToLatest(k.db, allMigrations, k.dbh.schema);
    const t2 = { k, config };
    try {
      const subj: PlantSubject = { email: 'restored.person@example.com', customerId: 'cust-restored', licenceId: 'lic-restored', key: 'r' };
      const planted = await plantEverywhere(t2.k, reg, subj, t2.k.dbh.schema);
      const backup = path.join(t2.config.dataDir, 'backups', 'before-erasure.bak');
      await backupDatabase(t2.k.dbh, t2.config.database, backup);
      await eraseSubject(t2.k, subj.email, { kind: 'staff', id: 'staff-1' });
      assert.equal(await t2.k.db.selectFrom('customers').select('id').where('id', '=', subj.customerId).executeTakeFirst(), undefined);

      // Restore as the CLI does: stop, restore over the database, open it again, run the hook.
      await k.close();
      await restoreDatabase(config.database, backup);
      k = createKernel(config, { clock, log: silentLog });
      assert.ok(await k.db.selectFrom('customers').select('id').where('id', '=', subj.customerId).executeTakeFirst(), 'the backup brought the person back');
      assert.equal(await afterRestore(k), 1);
      assert.equal(await k.db.selectFrom('customers').select('id').where('id', '=', subj.customerId).executeTakeFirst(), undefined);
      const text = (await allCells(k, k.dbh.schema)).filter((c) => typeof c.value === 'string').map((c) => c.value as string);
      const back = planted.filter((p) => !retained(p) && typeof p.value === 'string' && text.some((v) => v.includes(p.value as string)));
      assert.deepEqual(back.map((p) => `${p.table}.${p.column}`), []);
      assert.ok(await k.db.selectFrom('privacy_erasure_journal').select('subject_hash').where('subject_hash', '=', subjectHash(k, subj.email)).executeTakeFirst(), 'journal row restored from the file');
      // Nothing left to re-apply the second time.
      assert.equal(await afterRestore(k), 0);
    } finally {
      await k.close();
      await cleanup();
    }
  });
});
