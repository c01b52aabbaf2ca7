import type { Db } from '../../kernel/db/database.js';

export function customerByEmail(db: Db, email: string) {
  return db.selectFrom('customers').selectAll().where('email', '=', email).executeTakeFirst();
}

export function customerById(db: Db, id: string) {
  return db.selectFrom('customers').selectAll().where('id', '=', id).executeTakeFirst();
}

export function staffByEmail(db: Db, email: string) {
  return db.selectFrom('staff').selectAll().where('email', '=', email).executeTakeFirst();
}

export function staffById(db: Db, id: string) {
  return db.selectFrom('staff').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function staffCount(db: Db): Promise<number> {
  const r = await db.selectFrom('staff').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}
