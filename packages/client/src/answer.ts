/** Types of the signed call-home answer (spec/callhome.md, "Answer"); fields may be added, never removed. */

export type AnswerCode =
  | 'VALID'
  | 'NOT_FOUND'
  | 'PRODUCT_MISMATCH'
  | 'REVOKED'
  | 'SUSPENDED'
  | 'EXPIRED'
  | 'MACHINE_BLOCKED'
  | 'TOO_MANY_MACHINES'
  | 'TOO_MANY_USERS'
  | 'VERSION_NOT_COVERED';

export interface Download {
  url: string;
  sha256: string;
  size: number;
  expiresAt: string;
}

export interface LicenceDetails {
  product: string;
  status: 'active' | 'suspended' | 'revoked' | 'expired';
  maxUsers: number | null;
  maxMachines: number | null;
  expiresAt: string | null;
  maintenanceUntil: string | null;
  addons: Array<{ code: string; until: string | null; active: boolean }>;
}

export interface UpdateOffer {
  available: boolean;
  version?: string;
  channel?: string;
  releasedAt?: string;
  security?: boolean;
  entitled?: boolean;
  notes?: string;
  download?: Download;
}

export interface ContentOffer extends Partial<Download> {
  available: boolean;
  version?: string;
  reason?: 'NOT_ENTITLED';
}

export interface CallhomeAnswer {
  ts: string;
  nonce: string;
  valid: boolean;
  /** A known code, or a newer one this client does not know yet (the contract may add codes). */
  code: AnswerCode | (string & {});
  detail: string;
  flags: string[];
  licence?: LicenceDetails;
  machines?: { active: number; max: number | null };
  update?: UpdateOffer;
  content?: Record<string, ContentOffer>;
  /** Always sent by /callhome; a licence-file refusal may leave it out, and then the client's default applies. */
  nextCheckSeconds?: number;
  /** Present only when `valid`: the program may run without reaching the server until then. */
  offlineUntil?: string;
}

/** The JSON of a signed `400`, `413` or `429`. */
export interface ErrorAnswer {
  error: { code: string; message: string; field?: string };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks the fields this client relies on. A signed body could still be a different endpoint's
 * answer (a signed error, a `latest` manifest) pasted in by someone, so the shape is checked too.
 */
export function asCallhomeAnswer(value: unknown): CallhomeAnswer | undefined {
  if (!isRecord(value)) return undefined;
  const ok =
    typeof value.ts === 'string' &&
    typeof value.nonce === 'string' &&
    typeof value.valid === 'boolean' &&
    typeof value.code === 'string' &&
    (value.nextCheckSeconds === undefined || typeof value.nextCheckSeconds === 'number') &&
    (value.offlineUntil === undefined || typeof value.offlineUntil === 'string');
  return ok ? (value as unknown as CallhomeAnswer) : undefined;
}

export function asErrorAnswer(value: unknown): ErrorAnswer | undefined {
  if (!isRecord(value) || !isRecord(value.error) || typeof value.error.code !== 'string') return undefined;
  return value as unknown as ErrorAnswer;
}

/** Parses JSON without throwing: a garbled body is an invalid answer, not a crash. */
export function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return undefined;
  }
}
