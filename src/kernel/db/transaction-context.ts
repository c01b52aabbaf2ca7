// Which transaction the running code is inside, so that a read that forgot to take it is caught.
//
// On SQLite Kysely has one connection, and a transaction holds it until it ends: a query made through
// the pool (`k.db`) from inside the transaction's callback waits for that connection, which is never
// given back, and the process hangs with SQLite's write lock held. That happened with a settings read
// whose cache had just expired (an invitation sent more than two seconds after the team page was read).
// Every transaction run through `k.db.transaction()` now records itself here; the SQLite driver refuses
// a pool query made within one (an error says what to fix, instead of a hang), and the settings read
// through the open transaction when they are not given one.

import { AsyncLocalStorage } from 'node:async_hooks';
import { Kysely, type TransactionBuilder, type Transaction } from 'kysely';

interface OpenTransaction<DB> {
  trx: Transaction<DB>;
  /** False once the transaction has ended: work it started but did not wait for may use the pool. */
  open: boolean;
}

const current = new AsyncLocalStorage<OpenTransaction<unknown>>();

/** The transaction the running code is inside, while it is open. */
export function openTransaction<DB>(): Transaction<DB> | undefined {
  const t = current.getStore();
  return t?.open ? (t.trx as Transaction<DB>) : undefined;
}

/** Kysely whose transactions record themselves (see above). */
export class TrackedKysely<DB> extends Kysely<DB> {
  override transaction(): TransactionBuilder<DB> {
    return tracked(super.transaction());
  }
}

function tracked<DB>(builder: TransactionBuilder<DB>): TransactionBuilder<DB> {
  return new Proxy(builder, {
    get(target, prop, receiver) {
      if (prop === 'execute') {
        return <T>(callback: (trx: Transaction<DB>) => Promise<T>) => target.execute(async (trx) => {
          const state: OpenTransaction<DB> = { trx, open: true };
          try {
            return await current.run(state as OpenTransaction<unknown>, () => callback(trx));
          } finally {
            state.open = false;
          }
        });
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      // setIsolationLevel and setAccessMode return a new builder: keep it tracked.
      if (typeof value === 'function') {
        return (...args: unknown[]) => {
          const out = (value as (...a: unknown[]) => unknown).apply(target, args);
          return out && typeof out === 'object' && 'execute' in out ? tracked(out as TransactionBuilder<DB>) : out;
        };
      }
      return value;
    },
  });
}
