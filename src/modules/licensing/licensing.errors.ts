// Licensing's errors. The call-home surface answers with the contract's own codes (BAD_REQUEST,
// BODY_TOO_LARGE, RATE_LIMITED, NOT_FOUND); the admin API uses these LIC_ codes for 404 and 409, and
// BAD_REQUEST (kernel/http/errors.ts `badRequest`) for invalid bodies, as the contract asks.

import createError from '@fastify/error';
import { isUniqueViolation } from '../../kernel/db/dialect.js';

export const ProductNotFound = createError<'LIC_PRODUCT_NOT_FOUND', 404, [string]>('LIC_PRODUCT_NOT_FOUND', 'No product has the code %s.', 404);
export const LicenceNotFound = createError('LIC_LICENCE_NOT_FOUND', 'No licence has this key.', 404);
export const AddonNotFound = createError<'LIC_ADDON_NOT_FOUND', 404, [string]>('LIC_ADDON_NOT_FOUND', '%s', 404);
export const MachineNotFound = createError('LIC_MACHINE_NOT_FOUND', 'This licence has no machine with this computer ID.', 404);
export const Duplicate = createError<'LIC_DUPLICATE', 409, [string]>('LIC_DUPLICATE', '%s', 409);
export const LicenceFileRefused = createError<'LIC_LICENCE_FILE_REFUSED', 409, [string]>('LIC_LICENCE_FILE_REFUSED', '%s', 409);
export const FileTooLarge = createError<'BODY_TOO_LARGE', 413, [string]>('BODY_TOO_LARGE', '%s', 413);
/** The public latest-manifest 404: a plain NOT_FOUND like the kernel's, since installed programs read it. */
export const NoRelease = createError<'NOT_FOUND', 404, [string]>('NOT_FOUND', '%s', 404);
/** My account: a customer released as many machines from one licence this month as the setting allows. */
export const ReleaseLimitReached = createError<'LIC_RELEASE_LIMIT', 429, [string]>('LIC_RELEASE_LIMIT', '%s', 429);
export const InvalidComputerId = createError('LIC_INVALID_COMPUTER_ID', 'A computer ID is 64 characters, 0–9 and a–f. Copy it from the program\'s licence screen.', 400);

/**
 * For `.catch()` on an insert whose duplicate check ran first: a concurrent create that passed the same
 * check wins the unique index, and this one is answered as the duplicate it is.
 */
export function duplicateOnUniqueViolation(message: string): (err: unknown) => never {
  return (err) => {
    throw isUniqueViolation(err) ? new Duplicate(message) : err;
  };
}
