import createError from '@fastify/error';

export const InvalidVatNumber = createError<'ORD_INVALID_VAT_NUMBER', 400, [string]>('ORD_INVALID_VAT_NUMBER', 'That is not a VAT number in the format used in %s. Check it, or leave it empty if you are not VAT-registered.', 400);
export const VatEvidenceMissing = createError<'ORD_VAT_EVIDENCE', 400, [string, string]>('ORD_VAT_EVIDENCE', 'For VAT we need a second sign that you are in %s: enter your telephone number with its country code (%s …), or contact us to order by phone.', 400);
export const InvalidCountry = createError<'ORD_INVALID_COUNTRY', 400, [string?]>('ORD_INVALID_COUNTRY', 'Choose your country from the list.', 400);
export const InvalidQuantity = createError('ORD_INVALID_QUANTITY', 'Quantities are whole numbers from 1 to 100.', 400);
export const EmptyBasket = createError('ORD_EMPTY_BASKET', 'Your basket is empty.', 400);
export const InvalidOrderInput = createError<'ORD_INVALID_INPUT', 400, [string]>('ORD_INVALID_INPUT', '%s', 400);
export const InvalidCurrency = createError('ORD_INVALID_CURRENCY', 'Choose GBP, EUR or USD.', 400);
export const BasketChanged = createError('ORD_BASKET_CHANGED', 'Your basket changed while you were checking out. Please review it and try again.', 409);
export const IdempotencyMismatch = createError('ORD_IDEMPOTENCY_MISMATCH', 'This checkout form was already used for a different order. Reload the checkout page.', 409);
export const BadTransition = createError<'ORD_BAD_TRANSITION', 409, [string, string]>('ORD_BAD_TRANSITION', 'An order that is %s cannot become %s.', 409);
export const OrderNotFound = createError('ORD_NOT_FOUND', 'No such order.', 404);
export const LicenceNotActive = createError('ORD_LICENCE_NOT_ACTIVE', 'This licence is suspended or revoked, so it cannot be renewed or upgraded. Please contact us.', 409);
export const LicenceNotYours = createError('ORD_LICENCE_NOT_YOURS', 'Choose one of your own licences of this product, on the tier the upgrade starts from.', 400);
export const RefundTooLarge = createError('ORD_REFUND_TOO_LARGE', 'That is more than is left to refund on this order.', 400);
export const PaymentProviderFailed = createError<'ORD_PAYMENT_PROVIDER', 502, [string]>('ORD_PAYMENT_PROVIDER', 'The payment provider could not be reached (%s). Nothing was charged; please try again.', 502);
export const PaymentMethodUnavailable = createError('ORD_PAYMENT_METHOD', 'That payment method is not available.', 400);
export const WebhookRejected = createError<'ORD_WEBHOOK_REJECTED', 400, [string]>('ORD_WEBHOOK_REJECTED', 'Webhook rejected: %s', 400);
