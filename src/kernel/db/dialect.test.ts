import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CompiledQuery } from 'kysely';
import { testKernel, type TestKernel, TEST_DIALECT } from '../testing/db.js';
import { valuesRows } from './dialect.js';

// valuesRows writes placeholders as text, so these run its output on the real database of the pass.
let t: TestKernel;
before(async () => { t = await testKernel(); });
after(async () => { await t.close(); });

type Row = { column1: string; column2: number | null; column3: number };

async function selectValues(rows: [string, number | null, number][]): Promise<Row[]> {
  const text = `select column1, column2, column3 from (values ${valuesRows(t.k.flags, ['text', 'integer', 'bigint'], rows.length)}) as v order by column1`;
  const result = await t.k.db.executeQuery<Row>(CompiledQuery.raw(text, rows.flat()));
  return result.rows.map((r) => ({ column1: r.column1, column2: r.column2 === null ? null : Number(r.column2), column3: Number(r.column3) }));
}

test(`valuesRows: every row reads back the parameters given, in order and typed (${TEST_DIALECT})`, async () => {
  const rows: [string, number | null, number][] = [
    ['a', 1, 1_765_000_000_000],
    ['b', null, 0],
    // Values are bound, never spliced into the text.
    ["c'); drop table settings; --", 42, -5],
  ];
  assert.deepEqual(await selectValues(rows), rows.map(([column1, column2, column3]) => ({ column1, column2, column3 })));
  // Rejects if the quoted text had run as SQL.
  await t.k.db.selectFrom('settings').select('key').execute();
});

test('valuesRows: a batch of 500 rows (the bookkeeping chunk) binds all 1,500 parameters', async () => {
  const rows = Array.from({ length: 500 }, (_, i): [string, number | null, number] => [`k${String(i).padStart(3, '0')}`, i, i * 1_000_000_007]);
  const got = await selectValues(rows);
  assert.equal(got.length, 500);
  assert.deepEqual(got[499], { column1: 'k499', column2: 499, column3: 499 * 1_000_000_007 });
});

test('valuesRows: PostgreSQL placeholders are numbered across rows and cast; SQLite ones are bare', () => {
  assert.equal(valuesRows({ kind: 'postgres', supportsSkipLocked: true, multiNode: true }, ['text', 'bigint'], 2),
    '(cast($1 as text), cast($2 as bigint)), (cast($3 as text), cast($4 as bigint))');
  assert.equal(valuesRows({ kind: 'sqlite', supportsSkipLocked: false, multiNode: false }, ['text', 'bigint'], 2), '(?, ?), (?, ?)');
  assert.equal(valuesRows({ kind: 'sqlite', supportsSkipLocked: false, multiNode: false }, ['text'], 0), '');
});
