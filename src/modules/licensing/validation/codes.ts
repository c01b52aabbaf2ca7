// The call-home codes, in the order the contract checks them, and the rules that decide whether a
// condition makes the licence invalid or is only tolerated (spec/callhome.md, "Codes").

export const CODES = [
  'NOT_FOUND',
  'PRODUCT_MISMATCH',
  'REVOKED',
  'SUSPENDED',
  'EXPIRED',
  'MACHINE_BLOCKED',
  'TOO_MANY_MACHINES',
  'TOO_MANY_USERS',
  'VERSION_NOT_COVERED',
  'VALID',
] as const;

export type Code = (typeof CODES)[number];
/** A condition the checks can find; VALID is the absence of any. */
export type Condition = Exclude<Code, 'VALID'>;

const ORDER: Readonly<Record<Code, number>> = Object.fromEntries(CODES.map((c, i) => [c, i])) as Record<
  Code,
  number
>;

/** Position in the contract's check order; lower is checked first. */
export function codeOrder(code: Code): number {
  return ORDER[code];
}

/**
 * Codes decided before MACHINE_BLOCKED say nothing about the machine: such a call never takes a seat
 * and only refreshes last-seen of a machine the licence already knows.
 */
export function isDecidedBeforeMachine(code: Code): boolean {
  return ORDER[code] < ORDER.MACHINE_BLOCKED;
}

/** A condition found by the checks, and whether it invalidates the licence or is tolerated. */
export interface Finding {
  readonly code: Condition;
  readonly invalidates: boolean;
}

export interface Verdict {
  readonly code: Code;
  readonly valid: boolean;
  /** Every condition found, in check order; empty exactly when the code is VALID. */
  readonly flags: Condition[];
}

/** `code` is the first invalidating condition, else the first tolerated one, else VALID. */
export function verdict(findings: readonly Finding[]): Verdict {
  const sorted = [...findings].sort((a, b) => ORDER[a.code] - ORDER[b.code]);
  const firstInvalid = sorted.find((f) => f.invalidates);
  const code: Code = firstInvalid?.code ?? sorted[0]?.code ?? 'VALID';
  return { code, valid: firstInvalid === undefined, flags: sorted.map((f) => f.code) };
}

// ---- the two conditions whose validity depends on policy -------------------------------------------

/** TOO_MANY_MACHINES blocks only under `enforcement: "deny"`; under "flag" it is reported, not enforced. */
export function machinesInvalidate(enforcement: 'flag' | 'deny'): boolean {
  return enforcement === 'deny';
}

/**
 * TOO_MANY_USERS (usersInUse > maxUsers) is tolerated while usersInUse ≤ maxUsers × userOverage.
 *
 * Computed exactly: in floating point 100 × 1.15 is 114.99999999999999, which would refuse the 115th
 * user a vendor meant to allow. The overage is taken at its shortest decimal form (what staff typed)
 * and the product is compared in integers.
 */
export function usersWithinOverage(usersInUse: number, maxUsers: number, userOverage: number): boolean {
  if (userOverage === Number.POSITIVE_INFINITY) return true;
  // Both counts are integers in practice (parse-request and the admin API see to it); should one not
  // be, BigInt would throw, so fall back to plain arithmetic rather than fail the call.
  if (!Number.isSafeInteger(usersInUse) || !Number.isSafeInteger(maxUsers)) {
    return usersInUse <= maxUsers * userOverage;
  }
  const decimal = exactDecimal(userOverage);
  if (decimal === null) return usersInUse <= maxUsers; // NaN or negative: no tolerance beyond maxUsers
  // usersInUse ≤ maxUsers × digits / 10^scale  ⇔  usersInUse × 10^scale ≤ maxUsers × digits
  return BigInt(usersInUse) * 10n ** BigInt(decimal.scale) <= BigInt(maxUsers) * decimal.digits;
}

/** A finite non-negative number as digits / 10^scale, from its shortest round-trip decimal form. */
function exactDecimal(x: number): { digits: bigint; scale: number } | null {
  const m = /^([0-9]+)(?:\.([0-9]+))?(?:e([+-][0-9]+))?$/.exec(String(x));
  if (!m) return null;
  const fraction = m[2] ?? '';
  const scale = fraction.length - Number(m[3] ?? '0');
  const digits = BigInt(m[1] + fraction);
  return scale >= 0 ? { digits, scale } : { digits: digits * 10n ** BigInt(-scale), scale: 0 };
}

// ---- human-readable details ------------------------------------------------------------------------

// Static sentences: they are signed into every answer and shown to end users, so they carry no
// numbers or names that could leak more than the structured fields already say.
const DETAILS: Readonly<Record<Code, string>> = {
  NOT_FOUND: 'No licence has this key. Check the key for typing errors.',
  PRODUCT_MISMATCH: 'This licence key is for a different product.',
  REVOKED: 'This licence has been revoked by the vendor.',
  SUSPENDED: 'This licence is suspended. Please contact the vendor.',
  EXPIRED: 'This licence has expired. Renew it to continue.',
  MACHINE_BLOCKED: 'The vendor has blocked this computer from using this licence.',
  TOO_MANY_MACHINES: 'This licence is already active on as many computers as it allows.',
  TOO_MANY_USERS: 'More users are in use than this licence allows.',
  VERSION_NOT_COVERED: 'This version was released after the licence’s updates and support ended.',
  VALID: 'The licence is valid.',
};

const TOLERATED_DETAILS: Partial<Readonly<Record<Condition, string>>> = {
  TOO_MANY_MACHINES:
    'The licence is valid, but it is already active on as many computers as it allows; this computer was recorded over the limit.',
  TOO_MANY_USERS:
    'The licence is valid, but more users are in use than it allows; this is tolerated for now. Please upgrade the licence.',
};

/** The sentence for an answer: tolerated conditions get a sentence that says the licence still works. */
export function detailFor(code: Code, valid: boolean): string {
  if (valid && code !== 'VALID') return TOLERATED_DETAILS[code] ?? DETAILS.VALID;
  return DETAILS[code];
}
