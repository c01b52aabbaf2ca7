import { hash, verify } from '@node-rs/argon2';
import { WeakPassword } from './accounts.errors.js';

// OWASP's argon2id baseline: m=19 MiB, t=2, p=1 (about 20 ms here).
// algorithm 2 is Argon2id (the package's const enum cannot be imported under isolatedModules).
const OPTIONS = { algorithm: 2 as const, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export const MIN_PASSWORD = 10;
export const MAX_PASSWORD = 256;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

export async function verifyPassword(stored: string | null, password: string): Promise<boolean> {
  // An account without a password (made at checkout, say) still costs one hash, so timing tells nothing.
  if (!stored) { await verify(await dummyHash(), password).catch(() => false); return false; }
  try { return await verify(stored, password); } catch { return false; }
}

let dummy: Promise<string> | null = null;
/** A real hash to verify against when the email is unknown, so both answers take the same time. */
export function dummyHash(): Promise<string> {
  dummy ??= hash('keyward-dummy-password-for-timing', OPTIONS);
  return dummy;
}

export function checkPasswordStrength(password: string, email?: string): void {
  if (typeof password !== 'string' || [...password].length < MIN_PASSWORD) throw new WeakPassword(`Use at least ${MIN_PASSWORD} characters.`);
  if (password.length > MAX_PASSWORD) throw new WeakPassword(`Use at most ${MAX_PASSWORD} characters.`);
  if (email && password.toLowerCase().includes(email.toLowerCase().split('@')[0]!) && email.split('@')[0]!.length >= 4) {
    throw new WeakPassword('Choose a password that does not contain your email address.');
  }
  if (/^(.)\1+$/.test(password) || /^(0123456789|1234567890|password|qwerty)/i.test(password)) {
    throw new WeakPassword('That password is too easy to guess.');
  }
}
