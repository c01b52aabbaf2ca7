import createError from '@fastify/error';

export const UnknownPlan = createError('CAT_UNKNOWN_PLAN', 'That product is not in the catalogue (or is no longer sold).', 400);
export const NoPrice = createError<'CAT_NO_PRICE', 400, [string, string]>('CAT_NO_PRICE', '%s has no price in %s.', 400);
export const InvalidCatalogInput = createError<'CAT_INVALID_INPUT', 400, [string]>('CAT_INVALID_INPUT', '%s', 400);
export const UnknownCoupon = createError('CAT_UNKNOWN_COUPON', 'That coupon code is not valid.', 400);
export const NotFound = createError('CAT_NOT_FOUND', 'No such catalogue entry.', 404);
