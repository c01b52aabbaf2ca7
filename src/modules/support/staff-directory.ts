import type { Db } from '../../kernel/db/database.js';

/**
 * The staff who work tickets. The accounts module's door offers look-ups by id and email but no list
 * yet, so this one read of its `staff` table lives here, in one place, until accounts exports a list.
 */
export interface SupportAgent { id: string; name: string; email: string; role: string }

const WORKS_TICKETS = ['owner', 'admin', 'support'];

export async function supportAgents(db: Db): Promise<SupportAgent[]> {
  const rows = await db.selectFrom('staff').select(['id', 'name', 'email', 'role']).where('disabled_at', 'is', null).orderBy('name').execute();
  return rows.filter((r) => WORKS_TICKETS.includes(r.role));
}

export async function agentById(db: Db, id: string): Promise<SupportAgent | undefined> {
  return (await supportAgents(db)).find((a) => a.id === id);
}
