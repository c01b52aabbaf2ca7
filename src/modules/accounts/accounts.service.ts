import type { Kernel } from '../../kernel/context.js';
import { newId } from '../../kernel/crypto/tokens.js';
import type { SubjectKind } from './accounts.tables.js';
import { EmailNotVerified, InvalidCredentials, InvalidInput, LockedOut } from './accounts.errors.js';
import { checkPasswordStrength, dummyHash, hashPassword, verifyPassword } from './passwords.js';
import { clearFailures, takeAttempt } from './lockout.js';
import { consumeAccountToken, issueAccountToken, peekAccountToken } from './account-tokens.js';
import { endAllSessions, revokeAllRememberTokens } from './sessions.js';
import { sendAccountMail } from './account-mail.js';
import * as repo from './accounts.repository.js';
import type { AddressRules } from './profile.service.js';

const VERIFY_TTL_MS = 48 * 3600_000;
const RESET_TTL_MS = 30 * 60_000;

export function normaliseEmail(email: unknown): string {
  if (typeof email !== 'string') throw new InvalidInput('Enter an email address.');
  const e = email.trim().toLowerCase();
  if (e.length > 254 || !/^[^\s@<>()",;]+@[^\s@<>()",;]+\.[^\s@<>()",;.]{2,}$/.test(e)) throw new InvalidInput('Enter a valid email address, like name@example.com.');
  return e;
}

export interface LoginResult { kind: SubjectKind; subjectId: string; totpRequired: boolean }

/**
 * Customer and staff sign-in, registration, verification and password reset. Every path that could tell
 * an outsider whether an address has an account gives the same answer, in the same time.
 */
export interface AccountsHooks {
  /** A customer proved their address (confirmation link or password reset): e.g. enrol in security advisories. */
  customerConfirmed?: (customerId: string) => Promise<void>;
  /** Countries and VAT-number rules for the profile's invoice address (the shop's, so both forms agree). */
  addressRules?: AddressRules;
}

export class AccountsService {
  constructor(private readonly k: Kernel, private readonly hooks: AccountsHooks = {}) {
    k.jobs.register('accounts.password-reset', (p: { kind: SubjectKind; email: string }) => this.sendResetLink(p.kind, p.email));
    k.jobs.register('accounts.registration', (p: { customerId: string | null; email: string }) => this.sendRegistrationMail(p.customerId, p.email));
    void dummyHash();
  }

  async login(kind: SubjectKind, emailRaw: unknown, password: unknown, ip: string | null): Promise<LoginResult> {
    const email = typeof emailRaw === 'string' ? emailRaw.trim().toLowerCase().slice(0, 254) : '';
    const now = this.k.clock.now();
    const waitMs = await takeAttempt(this.k.db, kind, email, now);
    if (waitMs > 0) throw new LockedOut(Math.ceil(waitMs / 60_000));
    const pw = typeof password === 'string' ? password.slice(0, 1024) : '';
    const subject = kind === 'customer' ? await repo.customerByEmail(this.k.db, email) : await repo.staffByEmail(this.k.db, email);
    const active = subject && !('closed_at' in subject ? subject.closed_at : subject.disabled_at);
    const ok = await verifyPassword(active ? subject.password_hash : null, pw);
    if (!ok || !subject) {
      // Already counted by takeAttempt.
      await this.k.audit.record({ actorKind: 'anonymous', action: `${kind}.login_failed`, target: subject?.id ?? null, ip });
      throw new InvalidCredentials();
    }
    await clearFailures(this.k.db, kind, email);
    if (kind === 'customer' && 'email_verified_at' in subject && !subject.email_verified_at) {
      await this.k.jobs.enqueue('accounts.registration', { customerId: subject.id, email });
      throw new EmailNotVerified();
    }
    const totpRequired = kind === 'staff' && 'totp_enabled' in subject && subject.totp_enabled === 1;
    if (!totpRequired) await this.recordLogin(kind, subject.id, ip);
    return { kind, subjectId: subject.id, totpRequired };
  }

  /** The sign-in's audit entry; the last sign-in time is written by startSession, which every sign-in calls. */
  async recordLogin(kind: SubjectKind, subjectId: string, ip: string | null): Promise<void> {
    await this.k.audit.record({ actorKind: kind, actorId: subjectId, action: `${kind}.login`, ip });
  }

  /** Registration always answers "check your email"; the email differs when the address already has an account. */
  /**
   * The new account's id, or null when the address already had one (the caller must not treat that as
   * this person's account: the page answers alike, so nobody learns which addresses have accounts).
   */
  async register(input: { name?: unknown; email?: unknown; password?: unknown }): Promise<string | null> {
    const email = normaliseEmail(input.email);
    const name = typeof input.name === 'string' ? input.name.trim() : '';
    if (!name || name.length > 200) throw new InvalidInput('Enter your name (at most 200 characters).');
    checkPasswordStrength(input.password as string, email);
    const existing = await repo.customerByEmail(this.k.db, email);
    if (existing) {
      await this.k.jobs.enqueue('accounts.registration', { customerId: null, email });
      return null;
    }
    const hash = await hashPassword(input.password as string);
    const now = this.k.clock.now();
    const id = newId();
    try {
      await this.k.db.insertInto('customers').values({
        id, email, name, company: null, phone: null, address_line1: null, address_line2: null, city: null, region: null,
        postcode: null, country: null, vat_number: null, password_hash: hash, email_verified_at: null,
        created_at: now, updated_at: now, last_login_at: null, closed_at: null,
      }).execute();
    } catch {
      // A concurrent registration of the same address won the race: answer exactly as for an existing one.
      await this.k.jobs.enqueue('accounts.registration', { customerId: null, email });
      return null;
    }
    await this.k.jobs.enqueue('accounts.registration', { customerId: id, email });
    return id;
  }

  private async sendRegistrationMail(customerId: string | null, email: string): Promise<void> {
    const base = this.k.config.publicUrl;
    const customer = await repo.customerByEmail(this.k.db, email);
    if (!customer) return;
    if (customerId && !customer.email_verified_at) {
      const token = await issueAccountToken(this.k.db, 'verify_email', 'customer', customer.id, VERIFY_TTL_MS, this.k.clock.now());
      await sendAccountMail(this.k, email, 'Confirm your email address', 'Confirm your email address',
        [`Hello ${customer.name},`, 'Please confirm that this is your email address to finish creating your account. The link works for 48 hours.'],
        { label: 'Confirm my email address', url: `${base}/account/verify/${token}` },
        'You (or someone using your address) created an account on our website. If it was not you, ignore this email.');
    } else {
      await sendAccountMail(this.k, email, 'You already have an account', 'You already have an account',
        ['Someone tried to create an account with this email address, which already has one. If it was you, sign in, or reset your password if you have forgotten it.'],
        { label: 'Reset my password', url: `${base}/account/password/forgot` },
        'Someone entered this address on our registration form. If it was not you, you can ignore this email: your account is unchanged.');
    }
  }

  async verifyEmail(token: string): Promise<string> {
    const now = this.k.clock.now();
    const row = await consumeAccountToken(this.k.db, 'verify_email', token, now);
    await this.k.db.updateTable('customers').set({ email_verified_at: now, updated_at: now })
      .where('id', '=', row.subject_id!).where('email_verified_at', 'is', null).execute();
    await this.k.audit.record({ actorKind: 'customer', actorId: row.subject_id, action: 'customer.email_verified' });
    await this.hooks.customerConfirmed?.(row.subject_id!);
    return row.subject_id!;
  }

  /** The request path only queues a job, whatever the address: same answer, same time. */
  async requestPasswordReset(kind: SubjectKind, emailRaw: unknown): Promise<void> {
    let email: string;
    try { email = normaliseEmail(emailRaw); } catch { return; }
    await this.k.jobs.enqueue('accounts.password-reset', { kind, email }, { maxAttempts: 3 });
  }

  private async sendResetLink(kind: SubjectKind, email: string): Promise<void> {
    const subject = kind === 'customer' ? await repo.customerByEmail(this.k.db, email) : await repo.staffByEmail(this.k.db, email);
    if (!subject) return;
    const token = await issueAccountToken(this.k.db, 'password_reset', kind, subject.id, RESET_TTL_MS, this.k.clock.now());
    const path = kind === 'customer' ? '/account' : '/admin';
    await sendAccountMail(this.k, email, 'Reset your password', 'Reset your password',
      ['We received a request to reset your password. The link below works once, for 30 minutes.'],
      { label: 'Choose a new password', url: `${this.k.config.publicUrl}${path}/password/reset/${token}` },
      'Someone asked to reset the password of the account with this address. If it was not you, ignore this email: your password is unchanged.');
  }

  /** Whether a reset link can still be used (to show its form, or say at once that it has expired). */
  async resetLinkUsable(kind: SubjectKind, token: string): Promise<boolean> {
    try {
      return (await peekAccountToken(this.k.db, 'password_reset', token, this.k.clock.now())).subject_kind === kind;
    } catch (err) {
      if ((err as { code?: string }).code === 'ACC_INVALID_TOKEN') return false;
      throw err;
    }
  }

  async resetPassword(kind: SubjectKind, token: string, password: unknown): Promise<string> {
    const now = this.k.clock.now();
    const peek = await peekAccountToken(this.k.db, 'password_reset', token, now);
    if (peek.subject_kind !== kind) throw new InvalidInput('This link is for a different kind of account.');
    const subject = kind === 'customer' ? await repo.customerById(this.k.db, peek.subject_id!) : await repo.staffById(this.k.db, peek.subject_id!);
    checkPasswordStrength(password as string, subject?.email);
    const hash = await hashPassword(password as string);
    const row = await consumeAccountToken(this.k.db, 'password_reset', token, now);
    await this.setPasswordHash(kind, row.subject_id!, hash);
    // Failed sign-ins by others must not keep the owner of the mailbox out once they chose a new password.
    if (subject) await clearFailures(this.k.db, kind, subject.email);
    // A reset link proves control of the mailbox, so a customer who never confirmed it is now confirmed.
    if (kind === 'customer') {
      const r = await this.k.db.updateTable('customers').set({ email_verified_at: now }).where('id', '=', row.subject_id!).where('email_verified_at', 'is', null).executeTakeFirst();
      if (Number(r.numUpdatedRows) === 1) await this.hooks.customerConfirmed?.(row.subject_id!);
    }
    await this.k.audit.record({ actorKind: kind, actorId: row.subject_id, action: `${kind}.password_reset` });
    return row.subject_id!;
  }

  async changePassword(kind: SubjectKind, subjectId: string, current: unknown, next: unknown, keepSessionIdHash?: string): Promise<void> {
    const subject = kind === 'customer' ? await repo.customerById(this.k.db, subjectId) : await repo.staffById(this.k.db, subjectId);
    if (!subject || !(await verifyPassword(subject.password_hash, String(current ?? '')))) throw new InvalidCredentials();
    checkPasswordStrength(next as string, subject.email);
    await this.setPasswordHash(kind, subjectId, await hashPassword(next as string), keepSessionIdHash);
    await this.k.audit.record({ actorKind: kind, actorId: subjectId, action: `${kind}.password_changed` });
  }

  /** A new password ends every session and remembered device (except, optionally, the one making the change). */
  private async setPasswordHash(kind: SubjectKind, subjectId: string, hash: string, keepSessionIdHash?: string): Promise<void> {
    await this.k.db.transaction().execute(async (trx) => {
      if (kind === 'customer') await trx.updateTable('customers').set({ password_hash: hash, updated_at: this.k.clock.now() }).where('id', '=', subjectId).execute();
      else await trx.updateTable('staff').set({ password_hash: hash }).where('id', '=', subjectId).execute();
      await endAllSessions(trx, kind, subjectId, keepSessionIdHash);
      await revokeAllRememberTokens(trx, kind, subjectId);
    });
  }
}
