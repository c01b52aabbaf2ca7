import './billing.tables.js';

export { BillingService, type InvoiceDraft, type IssuedDocument } from './billing.service.js';
export { renderPdf, formatDate, type PrintableDocument } from './pdf.js';
export { printableFromInvoice } from './documents.js';
export { computeTotals, formatMoney, formatRate, toGbp, divRoundHalfUp, type Totals, type LineInput } from './money.js';
export { loadBrandIn, loadSeller, loadBank, loadExchangeRates, SELLER_SETTING, RATES_SETTING, BANK_SETTING } from './billing.settings.js';
export * as billingRepository from './billing.repository.js';
export { billingPrivacy } from './privacy.js';
export { registerBillingAdminPages } from './billing.pages.js';
export { migrations as billingMigrations } from './migrations/index.js';
export { billingSubjectData } from './privacy-data.js';
