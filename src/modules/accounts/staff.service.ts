import * as OTPAuth from 'otpauth';
import type { Kernel } from '../../kernel/context.js';
import type { Db } from '../../kernel/db/database.js';
import { newId, sha256Hex, generateApiKey, apiKeyLooksValid } from '../../kernel/crypto/tokens.js';
import type { StaffRole } from './accounts.tables.js';
import { EmailTaken, InvalidInput, InvalidTotp } from './accounts.errors.js';
import { checkPasswordStrength, hashPassword } from './passwords.js';
import { consumeAccountToken, issueAccountToken, peekAccountToken } from './account-tokens.js';
import { normaliseEmail } from './accounts.service.js';
import * as repo from './accounts.repository.js';
import { lockForUpdate } from '../../kernel/db/dialect.js';

export const STAFF_ROLES: StaffRole[] = ['owner', 'admin', 'support', 'sales'];

export function parseStaffRole(role: unknown): StaffRole {
  if (!STAFF_ROLES.includes(role as StaffRole)) throw new InvalidInput(`Choose a role (${STAFF_ROLES.join(', ')}).`);
  return role as StaffRole;
}

/**
 * A new staff member's address, name and role, checked in this order (the first problem is the one
 * reported): the address, the name, the role, then `more` (the password, when one is given), then that
 * no staff account has the address yet. Shared by the first-run owner and the owner's invitations.
 */
export async function newStaffIdentity(
  db: Db, input: { email?: unknown; name?: unknown; role?: unknown }, more: (email: string) => void = () => {},
): Promise<{ email: string; name: string; role: StaffRole }> {
  const email = normaliseEmail(input.email);
  const name = typeof input.name === 'string' ? input.name.trim() : '';
  if (!name || name.length > 200) throw new InvalidInput('Enter a name (at most 200 characters).');
  const role = parseStaffRole(input.role);
  more(email);
  if (await repo.staffByEmail(db, email)) throw new EmailTaken();
  return { email, name, role };
}
const SETUP_TTL_MS = 24 * 3600_000;
const TOTP_SEAL = 'totp-secret';

/** Staff accounts, the first-run setup link, TOTP two-factor and staff API keys. */
export class StaffService {
  constructor(private readonly k: Kernel) {}

  async createStaff(input: { email?: unknown; name?: unknown; role?: unknown; password?: unknown }, by: string | null): Promise<string> {
    const { email, name, role } = await newStaffIdentity(this.k.db, input, (e) => checkPasswordStrength(input.password as string, e));
    const id = newId();
    await this.k.db.insertInto('staff').values({
      id, email, name, role, password_hash: await hashPassword(input.password as string),
      totp_secret_sealed: null, totp_enabled: 0, totp_last_step: null, created_at: this.k.clock.now(), last_login_at: null, disabled_at: null,
    }).execute();
    await this.k.audit.record({ actorKind: by ? 'staff' : 'system', actorId: by, action: 'staff.created', target: id, detail: { role: input.role } });
    return id;
  }

  /**
   * While no staff account exists, every start prints a one-time link to create the owner. The token is
   * stored hashed; a new start issues a new link (the old one keeps working until it expires or is used).
   */
  async firstRunLink(): Promise<string | null> {
    if ((await repo.staffCount(this.k.db)) > 0) return null;
    const token = await issueAccountToken(this.k.db, 'staff_setup', 'staff', null, SETUP_TTL_MS, this.k.clock.now());
    return `${this.k.config.publicUrl}/setup/${token}`;
  }

  async checkSetupToken(token: string): Promise<void> {
    await peekAccountToken(this.k.db, 'staff_setup', token, this.k.clock.now());
    if ((await repo.staffCount(this.k.db)) > 0) throw new InvalidInput('Keyward has already been set up. Sign in instead.');
  }

  async completeSetup(token: string, input: { email?: unknown; name?: unknown; password?: unknown }): Promise<string> {
    await this.checkSetupToken(token);
    // Validate before using the token, so a typo does not burn the link.
    const { email, name } = await newStaffIdentity(this.k.db, { ...input, role: 'owner' }, (e) => checkPasswordStrength(input.password as string, e));
    const hash = await hashPassword(input.password as string);
    const id = newId();
    const now = this.k.clock.now();
    await this.k.db.transaction().execute(async (trx) => {
      // Two nodes started together print two links, and both may be used at once. Every setup link is
      // locked here in one order (PostgreSQL; SQLite's write transactions run one at a time), and all
      // are spent: the second setup waits for the first, then finds its own link used.
      await lockForUpdate(trx.selectFrom('account_tokens').select('token_hash').where('purpose', '=', 'staff_setup').orderBy('token_hash'), this.k.dbh.flags).execute();
      await consumeAccountToken(trx, 'staff_setup', token, now);
      if ((await repo.staffCount(trx)) > 0) throw new InvalidInput('Keyward has already been set up. Sign in instead.');
      await trx.updateTable('account_tokens').set({ used_at: now }).where('purpose', '=', 'staff_setup').where('used_at', 'is', null).execute();
      await trx.insertInto('staff').values({
        id, email, name, role: 'owner', password_hash: hash,
        totp_secret_sealed: null, totp_enabled: 0, totp_last_step: null, created_at: now, last_login_at: null, disabled_at: null,
      }).execute();
      await this.k.audit.record({ actorKind: 'system', actorId: null, action: 'staff.created', target: id, detail: { role: 'owner' } }, trx);
    });
    return id;
  }

  // ---- TOTP (RFC 6238: 6 digits, 30 s, SHA-1, as every authenticator app expects) ----

  private totp(secretBase32: string, label: string) {
    return new OTPAuth.TOTP({ issuer: 'Keyward', label, algorithm: 'SHA1', digits: 6, period: 30, secret: OTPAuth.Secret.fromBase32(secretBase32) });
  }

  /** Starts enrolment: a fresh secret is stored sealed but not yet enabled; returns what the app needs. */
  async beginTotp(staffId: string): Promise<{ secret: string; uri: string }> {
    const staff = await repo.staffById(this.k.db, staffId);
    if (!staff) throw new InvalidInput('No such staff account.');
    const secret = new OTPAuth.Secret({ size: 20 }).base32;
    await this.k.db.updateTable('staff').set({ totp_secret_sealed: this.k.secrets.seal(TOTP_SEAL, secret), totp_enabled: 0 }).where('id', '=', staffId).execute();
    return { secret, uri: this.totp(secret, staff.email).toString() };
  }

  async confirmTotp(staffId: string, code: unknown): Promise<void> {
    await this.verifyTotp(staffId, code, true);
    await this.k.db.updateTable('staff').set({ totp_enabled: 1 }).where('id', '=', staffId).execute();
    await this.k.audit.record({ actorKind: 'staff', actorId: staffId, action: 'staff.totp_enabled' });
  }

  /** Accepts the current code or its neighbours (clock drift), each time step at most once (no replay). */
  async verifyTotp(staffId: string, code: unknown, enrolling = false): Promise<void> {
    const staff = await repo.staffById(this.k.db, staffId);
    if (!staff?.totp_secret_sealed || (!enrolling && !staff.totp_enabled)) throw new InvalidTotp();
    if (typeof code !== 'string' || !/^\d{6}$/.test(code.replace(/\s/g, ''))) throw new InvalidTotp();
    const secret = this.k.secrets.open(TOTP_SEAL, staff.totp_secret_sealed).toString();
    const now = this.k.clock.now();
    const delta = this.totp(secret, staff.email).validate({ token: code.replace(/\s/g, ''), timestamp: now, window: 1 });
    if (delta === null) throw new InvalidTotp();
    const step = Math.floor(now / 30_000) + delta;
    const r = await this.k.db.updateTable('staff').set({ totp_last_step: step }).where('id', '=', staffId)
      .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)])).executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) throw new InvalidTotp();
  }

  // ---- API keys ----

  async createApiKey(name: string, by: string | null): Promise<{ id: string; key: string }> {
    if (!name.trim() || name.length > 100) throw new InvalidInput('Give the key a name of at most 100 characters.');
    const key = generateApiKey();
    const id = newId();
    await this.k.db.insertInto('api_keys').values({
      id, name: name.trim(), key_hash: sha256Hex(key), last4: key.slice(-4), created_by: by, created_at: this.k.clock.now(), last_used_at: null, revoked_at: null,
    }).execute();
    await this.k.audit.record({ actorKind: by ? 'staff' : 'system', actorId: by, action: 'apikey.created', target: id, detail: { name } });
    return { id, key };
  }

  /** Checks format and checksum first, so garbage never reaches the database. */
  async authenticateApiKey(key: string): Promise<{ id: string; name: string } | null> {
    if (!apiKeyLooksValid(key)) return null;
    const row = await this.k.db.selectFrom('api_keys').select(['id', 'name', 'revoked_at', 'last_used_at']).where('key_hash', '=', sha256Hex(key)).executeTakeFirst();
    if (!row || row.revoked_at) return null;
    const now = this.k.clock.now();
    if (!row.last_used_at || now - row.last_used_at > 60_000) {
      await this.k.db.updateTable('api_keys').set({ last_used_at: now }).where('id', '=', row.id).execute();
    }
    return { id: row.id, name: row.name };
  }

  async revokeApiKey(id: string, by: string | null): Promise<void> {
    await this.k.db.updateTable('api_keys').set({ revoked_at: this.k.clock.now() }).where('id', '=', id).execute();
    await this.k.audit.record({ actorKind: by ? 'staff' : 'system', actorId: by, action: 'apikey.revoked', target: id });
  }

  listApiKeys() {
    return this.k.db.selectFrom('api_keys').select(['id', 'name', 'last4', 'created_at', 'last_used_at', 'revoked_at']).orderBy('created_at', 'desc').execute();
  }
}
