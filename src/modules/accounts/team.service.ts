// The owner's team: inviting staff, changing their role, switching an account off and on. An invited
// member chooses their own password through a link (the staff password-reset page), so no password is
// ever typed by someone else or sent by email. The last active owner can neither be demoted nor disabled:
// the settings and signing keys would be nobody's.

import { randomBytes } from 'node:crypto';
import type { Kernel } from '../../kernel/context.js';
import { newId } from '../../kernel/crypto/tokens.js';
import type { StaffRole } from './accounts.tables.js';
import { EmailTaken, InvalidInput } from './accounts.errors.js';
import { isUniqueViolation } from '../../kernel/db/dialect.js';
import { hashPassword } from './passwords.js';
import { issueAccountToken } from './account-tokens.js';
import { sendAccountMail } from './account-mail.js';
import { endAllSessions, revokeAllRememberTokens } from './sessions.js';
import { newStaffIdentity, parseStaffRole } from './staff.service.js';

/** How long an invitation link works: long enough for someone away for a week. */
export const INVITE_TTL_MS = 7 * 24 * 3600_000;

export const ROLE_NAME: Record<StaffRole, string> = { owner: 'Owner', admin: 'Admin', support: 'Support', sales: 'Sales' };

const ROLE_SCOPE: Record<StaffRole, string> = {
  owner: 'everything, and alone the settings and signing keys',
  admin: 'everything but the settings',
  support: 'tickets, customers, licences',
  sales: 'orders, invoices, catalogue',
};

/** A role with what it may do, e.g. "Support (tickets, customers, licences)". */
export const roleLabel = (role: StaffRole) => `${ROLE_NAME[role]} (${ROLE_SCOPE[role]})`;

export interface TeamMember {
  id: string; email: string; name: string; role: StaffRole; twoFactor: boolean;
  createdAt: number; lastLoginAt: number | null; disabled: boolean;
}

export class TeamService {
  constructor(private readonly k: Kernel) {}

  async list(): Promise<TeamMember[]> {
    const rows = await this.k.db.selectFrom('staff').select(['id', 'email', 'name', 'role', 'totp_enabled', 'created_at', 'last_login_at', 'disabled_at'])
      .orderBy('created_at').execute();
    return rows.map((r) => ({
      id: r.id, email: r.email, name: r.name, role: r.role, twoFactor: r.totp_enabled === 1,
      createdAt: Number(r.created_at), lastLoginAt: r.last_login_at === null ? null : Number(r.last_login_at), disabled: r.disabled_at !== null,
    }));
  }

  /** Adds a member with no usable password and emails them a link to choose one. */
  async invite(input: { email?: unknown; name?: unknown; role?: unknown }, by: string): Promise<string> {
    const { email, name, role } = await newStaffIdentity(this.k.db, input);
    const now = this.k.clock.now();
    const id = newId();
    // A hash of 256 random bits nobody keeps: no password works until the member chooses one.
    const unusable = await hashPassword(randomBytes(32).toString('base64url'));
    await this.k.db.transaction().execute(async (trx) => {
      // Checked above, but two invitations of one address at once both pass the check: the second is refused here.
      await trx.insertInto('staff').values({
        id, email, name, role, password_hash: unusable, totp_secret_sealed: null, totp_enabled: 0, totp_last_step: null,
        created_at: now, last_login_at: null, disabled_at: null,
      }).execute();
      const token = await issueAccountToken(trx, 'password_reset', 'staff', id, INVITE_TTL_MS, now);
      await sendAccountMail(this.k, email, 'You have been added to the team', 'Choose your password',
        [`You have been added to the back office as ${ROLE_NAME[role].toLowerCase()}. Choose your password with the link below; it works once, for seven days.`],
        { label: 'Choose your password', url: `${this.k.config.publicUrl}/admin/password/reset/${token}` },
        'You receive this email because the owner of the back office added your address to its team.', trx);
      await this.k.audit.record({ actorKind: 'staff', actorId: by, action: 'staff.invited', target: id, detail: { role } }, trx);
    }).catch((err: unknown) => { throw isUniqueViolation(err) ? new EmailTaken() : err; });
    return id;
  }

  async changeRole(id: string, roleRaw: unknown, by: string): Promise<void> {
    const role = parseStaffRole(roleRaw);
    await this.k.db.transaction().execute(async (trx) => {
      const member = await trx.selectFrom('staff').select(['role', 'disabled_at']).where('id', '=', id).executeTakeFirst();
      if (!member) throw new InvalidInput('No such team member.');
      if (member.role === role) return;
      if (member.role === 'owner' && member.disabled_at === null && (await otherOwnersWhoSignedIn(trx, id)) === 0) throw new InvalidInput(LAST_OWNER);
      await trx.updateTable('staff').set({ role }).where('id', '=', id).execute();
      await this.k.audit.record({ actorKind: 'staff', actorId: by, action: 'staff.role_changed', target: id, detail: { from: member.role, to: role } }, trx);
    });
  }

  /** Switches an account off (its sessions and remembered devices end at once) or back on. */
  async setDisabled(id: string, disabled: boolean, by: string): Promise<void> {
    if (disabled && id === by) throw new InvalidInput('You cannot switch off your own account.');
    await this.k.db.transaction().execute(async (trx) => {
      const member = await trx.selectFrom('staff').select(['role', 'disabled_at']).where('id', '=', id).executeTakeFirst();
      if (!member) throw new InvalidInput('No such team member.');
      if ((member.disabled_at !== null) === disabled) return;
      if (disabled && member.role === 'owner' && (await otherOwnersWhoSignedIn(trx, id)) === 0) throw new InvalidInput(LAST_OWNER);
      await trx.updateTable('staff').set({ disabled_at: disabled ? this.k.clock.now() : null }).where('id', '=', id).execute();
      if (disabled) {
        await endAllSessions(trx, 'staff', id);
        await revokeAllRememberTokens(trx, 'staff', id);
      }
      await this.k.audit.record({ actorKind: 'staff', actorId: by, action: disabled ? 'staff.disabled' : 'staff.enabled', target: id }, trx);
    });
  }
}

const LAST_OWNER = 'This is the only active owner who has signed in: make someone else owner first (an invited owner counts once they have signed in).';

/**
 * Active owners other than `id` who have signed in at least once. An invitation nobody has taken up yet
 * is no owner: if it expires, or its email never arrives, nobody could manage the team or the settings.
 */
async function otherOwnersWhoSignedIn(db: import('../../kernel/db/database.js').Db, id: string): Promise<number> {
  const r = await db.selectFrom('staff').select((eb) => eb.fn.countAll<number>().as('n'))
    .where('role', '=', 'owner').where('disabled_at', 'is', null).where('last_login_at', 'is not', null).where('id', '<>', id)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}
