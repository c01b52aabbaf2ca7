import type { Db } from '../db/database.js';
import { newId } from '../crypto/tokens.js';
import type { Clock } from '../clock.js';

export interface AuditEntry {
  actorKind: 'staff' | 'customer' | 'system' | 'api_key' | 'anonymous';
  actorId?: string | null;
  action: string;
  target?: string | null;
  /** Never put secrets or personal data beyond ids here: the log is kept for years. */
  detail?: Record<string, unknown>;
  ip?: string | null;
}

/** Append-only log of staff and security events. There is no update or delete path in the code. */
export class Audit {
  constructor(private readonly db: Db, private readonly clock: Clock) {}

  async record(entry: AuditEntry, trx: Db = this.db): Promise<void> {
    await trx.insertInto('audit_log').values({
      id: newId(), at: this.clock.now(), actor_kind: entry.actorKind, actor_id: entry.actorId ?? null,
      action: entry.action, target: entry.target ?? null, detail: JSON.stringify(entry.detail ?? {}), ip: entry.ip ?? null,
    }).execute();
  }

  async recent(limit = 100, offset = 0) {
    return this.db.selectFrom('audit_log').selectAll().orderBy('at', 'desc').limit(limit).offset(offset).execute();
  }
}
