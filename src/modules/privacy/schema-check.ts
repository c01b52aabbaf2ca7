import type { Db } from '../../kernel/db/database.js';
import type { Registry } from './registry.js';

/**
 * Holds the registry against the live database: every column of every table must be declared either
 * personal or not personal, and every declaration must name a column that exists.
 */
export async function schemaDeclarationProblems(db: Db, reg: Registry, schema?: string): Promise<string[]> {
  const tables = (await db.introspection.getTables({ withInternalKyselyTables: true })).filter((t) => !schema || t.schema === schema);
  const live = new Set<string>();
  for (const t of tables) for (const c of t.columns) live.add(`${t.name}.${c.name}`);
  const declared = new Set<string>();
  for (const f of reg.fields) if ('table' in f.location) declared.add(`${f.location.table}.${f.location.column}`);
  for (const n of reg.notPersonal) declared.add(`${n.table}.${n.column}`);
  const problems: string[] = [];
  for (const col of [...live].sort()) if (!declared.has(col)) problems.push(`undeclared column ${col}: declare it in the owning module's privacy.ts as personal or not personal`);
  for (const col of [...declared].sort()) if (!live.has(col)) problems.push(`declared column ${col} does not exist`);
  return problems;
}
