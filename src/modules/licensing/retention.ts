// The call-home IP retention job: a machine's last IP older than the retention period (default 30
// days, setting `licensing.callhome.ipRetentionDays`) is cut to its network, and the networks kept
// for the abuse signals are deleted after the same period. Idempotent: a cut address is left alone.

import type { Kernel } from '../../kernel/context.js';
import { DAY_MS } from '../../kernel/clock.js';
import { emptyWal } from '../../kernel/db/wal-checkpoint.js';
import { ipNetwork, isNetwork } from './callhome/networks.js';

const BATCH = 500;

export async function truncateOldIps(k: Kernel, retentionDays: number): Promise<{ truncated: number; networksDeleted: number }> {
  const cutoff = k.clock.now() - retentionDays * DAY_MS;
  let truncated = 0;
  for (;;) {
    // Both dialects: a cut address contains '/', a full one never does.
    const rows = await k.db.selectFrom('machines').select(['licence_id', 'computer_id', 'last_ip'])
      .where('last_seen', '<', cutoff).where('last_ip', 'is not', null).where('last_ip', 'not like', '%/%')
      .limit(BATCH).execute();
    if (rows.length === 0) break;
    await k.db.transaction().execute(async (trx) => {
      for (const r of rows) {
        // An address that does not parse is dropped rather than kept whole.
        const network = r.last_ip !== null && !isNetwork(r.last_ip) ? ipNetwork(r.last_ip) : null;
        await trx.updateTable('machines').set({ last_ip: network })
          .where('licence_id', '=', r.licence_id).where('computer_id', '=', r.computer_id)
          .where('last_seen', '<', cutoff).execute();
      }
    });
    truncated += rows.length;
    if (rows.length < BATCH) break;
  }
  const del = await k.db.deleteFrom('licence_networks').where('last_seen', '<', cutoff).executeTakeFirst();
  const networksDeleted = Number(del.numDeletedRows);
  // On SQLite the write-ahead log still holds the pages as they were before; copying it into the file
  // and truncating it leaves the cut addresses nowhere (secure_delete zeroes them in the file itself).
  // Best effort: a reader that stays in its transaction keeps the log until the next run.
  if (truncated > 0 || networksDeleted > 0) await emptyWal(k.dbh);
  return { truncated, networksDeleted };
}
