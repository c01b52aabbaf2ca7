import type { FastifyInstance } from 'fastify';
import type { Kernel } from '../../kernel/context.js';
import { ExportService } from './export.service.js';
import { registerPushJob } from './webhook.js';
import { registerAccountingPages } from './accounting.pages.js';
import type { DueDaysLookup } from './ledger.js';

export { ExportService, parseRange, loadExportSettings, EXPORT_SETTING } from './export.service.js';
export { saveWebhook, loadWebhook, verifySignature, signBody, documentPayload, PUSH_JOB, SIGNATURE_HEADER, WEBHOOK_SETTING } from './webhook.js';
export { assertShareable, assertPayloadKeys, shareableColumns, allSources, DOCUMENT_SOURCES, PAYLOAD_KEYS } from './shared.js';
export { FORMAT_LABELS, type FormatId } from './formats.js';
export type { DueDaysLookup } from './ledger.js';

export interface AccountingModule {
  exports: ExportService;
  /** Admin → Accounting (inside the pages context). */
  registerPages(app: FastifyInstance): void;
}

/**
 * The accounting export: the ledger of issued documents and payments as importer files, and the
 * optional signed webhook. `dueDays` tells it the payment terms of invoices on account (resellers).
 */
export function createAccountingModule(k: Kernel, opts: { dueDays?: DueDaysLookup; fetch?: typeof fetch } = {}): AccountingModule {
  const exports = new ExportService(k, opts.dueDays);
  registerPushJob(k, opts.dueDays, opts.fetch);
  return { exports, registerPages: (app) => registerAccountingPages(app, k, exports) };
}
