import createError from '@fastify/error';

export const NotAReseller = createError('RSL_NOT_A_RESELLER', 'This account is not an active reseller account. Ask us to set one up.', 403);
export const ResellerNotFound = createError('RSL_NOT_FOUND', 'No such reseller or sale.', 404);
export const InvalidResellerInput = createError<'RSL_INVALID_INPUT', 400, [string]>('RSL_INVALID_INPUT', '%s', 400);
