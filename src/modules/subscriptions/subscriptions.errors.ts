import createError from '@fastify/error';

export const SubscriptionNotFound = createError('SUB_NOT_FOUND', 'No such subscription.', 404);
export const NoRenewalPlan = createError('SUB_NO_RENEWAL_PLAN', 'This subscription cannot be renewed online: nothing in the shop renews it. Please contact us.', 409);
export const NoCurrentTerm = createError('SUB_NO_CURRENT_TERM', 'Upgrades and add-ons are priced to the end of the current support term, and this licence has none running. Renew support first.', 409);
export const UnknownUpgrade = createError('SUB_UNKNOWN_UPGRADE', 'That upgrade or add-on is not available for this licence.', 400);
export const NoBillingDetails = createError('SUB_NO_BILLING_DETAILS', 'We have no billing details for you yet: please order through the shop.', 409);
export const InvalidSubscriptionInput = createError<'SUB_INVALID_INPUT', 400, [string]>('SUB_INVALID_INPUT', '%s', 400);
