import createError from '@fastify/error';

export const PrivacyBadEmail = createError('PRIV_BAD_EMAIL', 'Enter a valid email address, like name@example.com.', 400);
export const PrivacyNotConfirmed = createError('PRIV_NOT_CONFIRMED', 'Tick the box to confirm that the account and its data should be erased.', 400);
export const PrivacyNoPermissionRecord = createError('PRIV_NO_PERMISSION', 'Permission to publish this comment has not been given.', 409);
export const PrivacyCommentInvalid = createError('PRIV_COMMENT_INVALID', '%s', 400);
export const PrivacyNotFound = createError('PRIV_NOT_FOUND', 'Not found.', 404);
export const PrivacyWrongPassword = createError('PRIV_WRONG_PASSWORD', 'That is not your current password.', 400);
