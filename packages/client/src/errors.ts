/**
 * Every way a call home can fail, as a stable code a program can switch on.
 * Messages are for logs; programs should branch on `code`.
 */
export type ClientErrorCode =
  /** Unknown key id, wrong algorithm, missing header or a signature that does not match the body. */
  | 'SIGNATURE_INVALID'
  /** The signed answer echoes another nonce, or one already accepted: a replayed answer. */
  | 'NONCE_MISMATCH'
  /** The answer's `ts` is further from this machine's clock than the allowed skew. */
  | 'CLOCK_SKEW'
  /** The server said 429, or its Retry-After has not passed yet (see `retryAt`). */
  | 'RATE_LIMITED'
  /** No HTTP answer at all: DNS, refused connection, timeout. */
  | 'NETWORK_ERROR'
  /** A signed answer that is not what the protocol promises (bad JSON, missing fields, odd status). */
  | 'INVALID_ANSWER'
  /** A signed error answer from the server (400, 413…); `serverCode` and `field` say which. */
  | 'SERVER_ERROR'
  /** A licence file that does not decode or whose signature does not verify. */
  | 'LICENCE_FILE_INVALID'
  | 'LICENCE_FILE_EXPIRED'
  | 'LICENCE_FILE_WRONG_COMPUTER';

export interface ClientErrorDetails {
  /** For RATE_LIMITED: the client will not call again before this time. */
  retryAt?: Date;
  /** HTTP status, when an answer arrived. */
  status?: number;
  /** `error.code` of a signed server error answer, e.g. BAD_REQUEST. */
  serverCode?: string;
  /** `error.field` of a signed BAD_REQUEST answer. */
  field?: string;
  cause?: unknown;
}

export class KeywardClientError extends Error {
  readonly code: ClientErrorCode;
  readonly retryAt?: Date;
  readonly status?: number;
  readonly serverCode?: string;
  readonly field?: string;

  constructor(code: ClientErrorCode, message: string, details: ClientErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'KeywardClientError';
    this.code = code;
    this.retryAt = details.retryAt;
    this.status = details.status;
    this.serverCode = details.serverCode;
    this.field = details.field;
  }
}

/** Why a fetch() failed: it says only "fetch failed", and the reason (ECONNREFUSED, a DNS failure, a timeout) is its cause. */
export function fetchFailure(error: unknown): string {
  const reason = (error as { cause?: { code?: string; message?: string } } | null)?.cause;
  return reason?.code ?? reason?.message ?? (error as Error | null)?.message ?? String(error);
}
