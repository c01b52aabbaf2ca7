import createError from '@fastify/error';

export const InvalidCredentials = createError('ACC_INVALID_CREDENTIALS', 'The email address or password is not right.', 401);
export const LockedOut = createError<'ACC_LOCKED', 429, [number]>('ACC_LOCKED', 'Too many failed attempts. Try again in %s minute(s), or reset your password.', 429);
export const EmailNotVerified = createError('ACC_EMAIL_NOT_VERIFIED', 'Please confirm your email address first: we have sent you a new link.', 403);
export const WeakPassword = createError<'ACC_WEAK_PASSWORD', 400, [string]>('ACC_WEAK_PASSWORD', '%s', 400);
export const InvalidToken = createError('ACC_INVALID_TOKEN', 'This link has expired or has already been used. Ask for a new one.', 400);
export const InvalidTotp = createError('ACC_INVALID_TOTP', 'That code is not right. Enter the 6-digit code your authenticator app shows now.', 401);
export const Unauthorized = createError('ACC_UNAUTHORIZED', 'A valid API key is required (Authorization: Bearer …).', 401);
export const NotAllowed = createError('ACC_FORBIDDEN', 'Your role does not allow this.', 403);
export const EmailTaken = createError('ACC_EMAIL_TAKEN', 'A staff account with this email already exists.', 409);
export const InvalidInput = createError<'ACC_INVALID_INPUT', 400, [string]>('ACC_INVALID_INPUT', '%s', 400);
export const TooManyKeyFailures = createError('RATE_LIMITED', 'Too many requests with invalid API keys from this address; wait a minute.', 429);
