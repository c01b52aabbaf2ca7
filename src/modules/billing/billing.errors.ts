import createError from '@fastify/error';

export const InvoiceNotFound = createError('BIL_NOT_FOUND', 'No such invoice.', 404);
export const SellerNotConfigured = createError('BIL_SELLER_NOT_CONFIGURED', 'The owner must set the seller\'s name, address and VAT number in Admin → Settings before invoices can be issued.', 409);
export const NoExchangeRate = createError<'BIL_NO_EXCHANGE_RATE', 409, [string]>('BIL_NO_EXCHANGE_RATE', 'Set the sterling exchange rate for %s in Admin → Billing settings: VAT invoices show VAT in sterling.', 409);
export const InvalidBillingInput = createError<'BIL_INVALID_INPUT', 400, [string]>('BIL_INVALID_INPUT', '%s', 400);
export const PdfUnavailable = createError('BIL_PDF_UNAVAILABLE', 'Invoice PDFs need the pdfkit package (npm install pdfkit).', 503);
