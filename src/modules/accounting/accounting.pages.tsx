import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Kernel } from '../../kernel/context.js';
import { formBody, page } from '../../kernel/http/page.js';
import { Csrf, ErrorSummary, Field } from '../../kernel/views/layout.js';
import { requireStaff } from '../accounts/index.js';
import { FORMAT_LABELS, TAX_KEYS, TAX_KEY_LABELS, XERO_MAX_INVOICES, parseCountryCodes, ymd, type ExportSettings, type FormatId } from './formats.js';

const codesText = (m: Record<string, string> | undefined) => Object.entries(m ?? {}).map(([c, v]) => `${c} = ${v}`).join('\n');

function CodesArea({ label, name, value }: { label: string; name: string; value: string }) {
  return (
    <div class="field">
      <label for={`f-${name}`}>{label}<span class="optional"> (optional)</span></label>
      <textarea id={`f-${name}`} name={name} rows={4}>{value}</textarea>
    </div>
  );
}
import { EXPORT_SETTING, FORMAT_FILES, loadExportSettings, parseRange, type ExportService } from './export.service.js';
import { countDocuments } from './ledger.js';
import { loadWebhook, saveWebhook, PUSH_JOB } from './webhook.js';
import { InvalidAccountingInput } from './accounting.errors.js';

const FORMATS = Object.keys(FORMAT_LABELS) as FormatId[];
const STAFF = requireStaff('owner', 'admin');

/** Admin → Accounting: downloads by date range (streamed), the mapping to the accounting system, and the webhook. */
export function registerAccountingPages(app: FastifyInstance, k: Kernel, exports: ExportService): void {
  const home = async (request: FastifyRequest, reply: FastifyReply, o: { error?: string; flash?: string; secret?: string | null } = {}) => {
    const q = request.query as { from?: string; to?: string };
    const now = new Date(k.clock.now());
    const from = q.from ?? ymd(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    const to = q.to ?? ymd(k.clock.now());
    let count: number | null = null;
    let rangeError: string | undefined;
    try { count = await countDocuments(k.db, parseRange(from, to)); } catch (err) { rangeError = (err as Error).message; }
    const [s, w, pushes] = await Promise.all([
      loadExportSettings(k), loadWebhook(k),
      k.db.selectFrom('jobs').select(['id', 'status', 'attempts', 'last_error', 'created_at', 'payload']).where('name', '=', PUSH_JOB).orderBy('created_at', 'desc').limit(20).execute(),
    ]);
    const parts = count === null ? 1 : Math.max(1, Math.ceil(count / XERO_MAX_INVOICES));
    const link = (f: FormatId, part?: number) => `/admin/accounting/export?format=${f}&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}${part ? `&part=${part}` : ''}`;
    const errors: Record<string, string> = {};
    if (o.error) errors._form = o.error;
    if (rangeError) errors.from = rangeError;
    return page(k.settings, request, reply, { title: 'Accounting', variant: 'admin', status: o.error || rangeError ? 400 : 200, flash: o.flash }, (
      <>
        <h1>Accounting</h1>
        <ErrorSummary errors={errors} />
        {o.secret ? <div class="card"><h2>New webhook signing secret</h2><p>Copy it into your accounting endpoint now; it is not shown again.</p><p><code>{o.secret}</code></p></div> : null}
        <section class="card">
          <h2>Download invoices, credit notes and payments</h2>
          <form method="get" action="/admin/accounting">
            <Field label="From (YYYY-MM-DD)" name="from" value={from} required />
            <Field label="To, inclusive (YYYY-MM-DD)" name="to" value={to} required />
            <button type="submit">Show downloads</button>
          </form>
          {count !== null ? (
            <>
              <p>{count} {count === 1 ? 'document' : 'documents'} issued in this range.</p>
              <ul>
                {FORMATS.filter((f) => f !== 'xero').map((f) => <li><a href={link(f)}>{FORMAT_LABELS[f]}</a></li>)}
                <li>{FORMAT_LABELS.xero}: {Array.from({ length: parts }, (_, i) => <><a href={link('xero', i + 1)}>{parts > 1 ? `part ${i + 1}` : 'download'}</a>{' '}</>)}
                  {parts > 1 ? <span class="muted"> (Xero takes {XERO_MAX_INVOICES} invoices a file)</span> : null}</li>
              </ul>
            </>
          ) : null}
        </section>
        <form method="post" action="/admin/accounting/settings" class="card">
          <Csrf token={request.csrfToken()} />
          <h2>Accounts and tax codes</h2>
          <p class="muted">Ask your accountant which codes to use.</p>
          <Field label="Sales account code (Xero)" name="sales_account_code" value={s.salesAccountCode} required />
          <Field label="Sales code (KashFlow)" name="kashflow_sales_code" value={s.kashflowSalesCode} required />
          <Field label="QuickBooks date format (DD/MM/YYYY or MM/DD/YYYY)" name="quickbooks_date_format" value={s.quickbooksDateFormat} required />
          {TAX_KEYS.map((t) => <Field label={`Xero tax type: ${TAX_KEY_LABELS[t]}`} name={`xero_${t}`} value={s.xeroTaxTypes[t]} required />)}
          {TAX_KEYS.map((t) => <Field label={`QuickBooks tax code: ${TAX_KEY_LABELS[t]}`} name={`qbo_${t}`} value={s.quickbooksTaxCodes[t]} required />)}
          <p class="muted">EU consumers pay their own country's VAT, at its rate: set up one tax rate per country in Xero or QuickBooks and name them here, one line per country, e.g. <code>DE = DE VAT 19% (OSS)</code>. A country not listed uses the one-stop-shop code above.</p>
          <CodesArea label="Xero tax types per country (one-stop shop)" name="xero_oss" value={codesText(s.xeroOssTaxTypes)} />
          <CodesArea label="QuickBooks tax codes per country (one-stop shop)" name="qbo_oss" value={codesText(s.quickbooksOssTaxCodes)} />
          <button type="submit">Save codes</button>
        </form>
        <form method="post" action="/admin/accounting/webhook" class="card">
          <Csrf token={request.csrfToken()} />
          <h2>Webhook</h2>
          <p class="muted">Each issued invoice and credit note is posted as JSON to this address, signed in the <code>Keyward-Signature</code> header (<code>t=&lt;unix time&gt;,v1=&lt;HMAC-SHA256 of "t.body"&gt;</code>); failed deliveries are retried.</p>
          <Field label="Endpoint address" name="url" value={w.url} hint="https://…" />
          <p><label><input type="checkbox" name="enabled" value="1" checked={w.enabled} /> Send issued documents to this address</label></p>
          <p><label><input type="checkbox" name="new_secret" value="1" /> Make a new signing secret{w.hasSecret ? '' : ' (one is made on first save)'}</label></p>
          <button type="submit">Save webhook</button>
        </form>
        <section class="card">
          <h2>Recent deliveries</h2>
          {pushes.length === 0 ? <p class="muted">None yet.</p> : (
            <div class="table-wrap"><table>
              <thead><tr><th>Queued</th><th>Document</th><th>Status</th><th class="num">Attempts</th><th>Last error</th></tr></thead>
              <tbody>{pushes.map((p) => <tr><td>{new Date(Number(p.created_at)).toISOString().slice(0, 16).replace('T', ' ')}</td><td>{(JSON.parse(p.payload) as { documentId?: string }).documentId ?? ''}</td><td>{p.status}</td><td class="num">{p.attempts}</td><td>{p.last_error ?? ''}</td></tr>)}</tbody>
            </table></div>
          )}
        </section>
      </>
    ));
  };

  app.get('/admin/accounting', {
    preHandler: STAFF,
    schema: { querystring: Type.Object({ from: Type.Optional(Type.String({ maxLength: 20 })), to: Type.Optional(Type.String({ maxLength: 20 })) }, { additionalProperties: false }) },
  }, async (request, reply) => home(request, reply));

  app.get('/admin/accounting/export', {
    preHandler: STAFF,
    schema: {
      querystring: Type.Object({
        format: Type.Union(FORMATS.map((f) => Type.Literal(f))), from: Type.String({ maxLength: 20 }), to: Type.String({ maxLength: 20 }),
        part: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,5}$' })),
      }, { additionalProperties: false }),
    },
  }, async (request, reply) => {
    const q = request.query as { format: FormatId; from: string; to: string; part?: string };
    const range = parseRange(q.from, q.to);
    const part = q.part ? Number(q.part) : undefined;
    if (part && q.format === 'xero' && part > await exports.xeroParts(range)) throw new InvalidAccountingInput('There is no such part for this range.');
    await k.audit.record({ actorKind: 'staff', actorId: request.auth!.subjectId, action: 'accounting.exported', detail: { format: q.format, from: q.from, to: q.to, part: part ?? null } });
    const f = FORMAT_FILES[q.format];
    const name = `keyward-${q.format}-${q.from}-to-${q.to}${part ? `-part${part}` : ''}.${f.ext}`;
    return reply.type(f.type).header('content-disposition', `attachment; filename="${name}"`).header('cache-control', 'no-store')
      .send(Readable.from(exports.stream(q.format, range, { part })));
  });

  app.post('/admin/accounting/settings', {
    preHandler: STAFF,
    schema: { body: formBody({ sales_account_code: 40, kashflow_sales_code: 40, quickbooks_date_format: 12, xero_oss: 4000, qbo_oss: 4000, ...Object.fromEntries(TAX_KEYS.flatMap((t) => [[`xero_${t}`, 60], [`qbo_${t}`, 60]])) }) },
  }, async (request, reply) => {
    const b = request.body as Record<string, string | undefined>;
    const v = (key: string, label: string) => {
      const s = (b[key] ?? '').trim();
      if (!s) throw new InvalidAccountingInput(`Enter ${label}.`);
      if (/[\r\n]/.test(s)) throw new InvalidAccountingInput(`${label} must be on one line.`);
      return s;
    };
    try {
      const fmt = v('quickbooks_date_format', 'the QuickBooks date format');
      if (fmt !== 'DD/MM/YYYY' && fmt !== 'MM/DD/YYYY') throw new InvalidAccountingInput('The QuickBooks date format is DD/MM/YYYY or MM/DD/YYYY.');
      const oss = (key: string, label: string) => {
        const r = parseCountryCodes(b[key] ?? '');
        if (!r.ok) throw new InvalidAccountingInput(`${label}: "${r.line.slice(0, 80)}" is not a line like DE = DE VAT 19% (OSS).`);
        return r.value;
      };
      const next: ExportSettings = {
        xeroOssTaxTypes: oss('xero_oss', 'Xero tax types per country'), quickbooksOssTaxCodes: oss('qbo_oss', 'QuickBooks tax codes per country'),
        salesAccountCode: v('sales_account_code', 'the sales account code'), kashflowSalesCode: v('kashflow_sales_code', 'the KashFlow sales code'), quickbooksDateFormat: fmt,
        xeroTaxTypes: Object.fromEntries(TAX_KEYS.map((t) => [t, v(`xero_${t}`, `the Xero tax type for ${TAX_KEY_LABELS[t]}`)])) as ExportSettings['xeroTaxTypes'],
        quickbooksTaxCodes: Object.fromEntries(TAX_KEYS.map((t) => [t, v(`qbo_${t}`, `the QuickBooks tax code for ${TAX_KEY_LABELS[t]}`)])) as ExportSettings['quickbooksTaxCodes'],
      };
      await k.settings.set(EXPORT_SETTING, next, request.auth!.subjectId);
    } catch (err) {
      if ((err as { code?: string }).code !== 'ACT_INVALID_INPUT') throw err;
      return home(request, reply, { error: (err as Error).message });
    }
    await k.audit.record({ actorKind: 'staff', actorId: request.auth!.subjectId, action: 'accounting.settings_changed' });
    return home(request, reply, { flash: 'Saved.' });
  });

  app.post('/admin/accounting/webhook', { preHandler: STAFF, schema: { body: formBody({ url: 500, enabled: 2, new_secret: 2 }) } }, async (request, reply) => {
    const b = request.body as Record<string, string | undefined>;
    let secret: string | null;
    try {
      ({ secret } = await saveWebhook(k, { url: b.url ?? '', enabled: b.enabled === '1', newSecret: b.new_secret === '1' }, request.auth!.subjectId));
    } catch (err) {
      if ((err as { code?: string }).code !== 'ACT_INVALID_INPUT') throw err;
      return home(request, reply, { error: (err as Error).message });
    }
    await k.audit.record({ actorKind: 'staff', actorId: request.auth!.subjectId, action: 'accounting.webhook_changed', detail: { enabled: b.enabled === '1', newSecret: Boolean(secret) } });
    return home(request, reply, { flash: 'Saved.', secret });
  });
}
