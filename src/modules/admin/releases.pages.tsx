// Releases, add-ons and content packs in the back office: the same licensing CatalogService as the admin
// API (files stored once under the data directory, named by their SHA-256; the service writes the audit
// entry with who and when, and the access table's net adds the admin.change entry). Reading is for every
// role; publishing is product management, for owners and admins (access.ts).
//
// Upload forms post multipart/form-data. The installer streams to disk while the body is read, which is
// before the CSRF check (that needs the body): so a post that is not from a signed-in staff member on this
// site is refused before a byte is stored, and a stored file that ends up used by no release or content
// pack (refused token, bad field, duplicate) is removed again before the answer is sent.

import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import multipart, { type MultipartFile } from '@fastify/multipart';
import { installMultipartErrors } from '../../kernel/http/multipart-errors.js';
import { Type } from 'typebox';
import type { Kernel } from '../../kernel/context.js';
import { CsrfFailed } from '../../kernel/http/errors.js';
import { sameOrigin } from '../../kernel/http/csrf.js';
import { formBody, LONG_FORM_BODY_LIMIT, page } from '../../kernel/http/page.js';
import { Csrf, ErrorSummary, Field } from '../../kernel/views/layout.js';
import { requireStaff, type StaffRole } from '../accounts/index.js';
import { CODE_PATTERN, parseAdminDate, storeFile, type LicensingModule, type StoredFile } from '../licensing/index.js';
import { allows } from './access.js';

/** Largest installer or content pack accepted (as the admin API). */
const MAX_UPLOAD_BYTES = 4 * 1024 ** 3;
const STAFF = requireStaff();
const MANAGE = requireStaff('owner', 'admin');

const day = (t: number) => new Date(Number(t)).toISOString().slice(0, 10);
const size = (n: number | null) => (n === null ? '' : n >= 1024 ** 2 ? `${(n / 1024 ** 2).toFixed(1)} MB` : n >= 1024 ? `${(n / 1024).toFixed(1)} kB` : `${n} B`);
const codeParams = (name: string) => Type.Object({ [name]: Type.String({ minLength: 1, maxLength: 200 }) });

interface Upload { file: StoredFile | null; used: boolean; problem: string | null }
const uploads = new WeakMap<FastifyRequest, Upload>();
const uploadOf = (request: FastifyRequest): Upload => uploads.get(request) ?? { file: null, used: false, problem: null };

type Errors = Record<string, string>;
type Values = Record<string, string>;

/** A service error as a message beside its field, or null when it is not the user's to fix. */
function fieldError(err: unknown, fallbackField: string): Errors | null {
  const e = err as { statusCode?: number; field?: string; message?: string; code?: string };
  if (e.statusCode === 400 || e.statusCode === 409 || e.statusCode === 413) return { [e.field ?? fallbackField]: e.message ?? 'Not accepted.' };
  return null;
}

function FileField({ label, error, hint, required }: { label: string; error?: string; hint: string; required?: boolean }) {
  return (
    <div class={error ? 'field has-error' : 'field'}>
      <label for="f-file">{label}{required ? '' : <span class="optional"> (optional)</span>}</label>
      <p class="hint" id="f-file-hint">{hint}</p>
      <input id="f-file" name="file" type="file" required={required} aria-invalid={error ? 'true' : undefined} aria-describedby={error ? 'f-file-hint f-file-error' : 'f-file-hint'} />
      {error ? <p class="error" id="f-file-error">{error}</p> : null}
    </div>
  );
}

export function registerReleasePages(app: FastifyInstance, k: Kernel, licensing: LicensingModule): void {
  const dataDir = k.config.dataDir;
  const catalog = licensing.catalog;

  /** Removes a stored upload that no release or content pack points at (the same bytes may be in use). */
  const discardIfUnused = async (file: StoredFile) => {
    const [rel, pack] = await Promise.all([
      k.db.selectFrom('releases').select('id').where('file_path', '=', file.path).executeTakeFirst(),
      k.db.selectFrom('content_packs').select('id').where('file_path', '=', file.path).executeTakeFirst(),
    ]);
    if (!rel && !pack) fs.rmSync(path.join(dataDir, file.path), { force: true });
  };

  // Its own context: the multipart parser serves these routes only. Not awaited: Fastify loads it in order.
  void app.register(async (scope) => {
    // Before the body (and its file) is read: staff only, and only from this site. The full CSRF token
    // check still runs after parsing; what it refuses is cleaned up in onResponse.
    scope.addHook('preValidation', async (request) => {
      if (request.method !== 'POST' || !request.isMultipart()) return;
      if (request.auth?.kind !== 'staff' || !sameOrigin(request, k.config.publicUrl)) throw new CsrfFailed();
    });
    installMultipartErrors(scope);
    await scope.register(multipart, {
      attachFieldsToBody: 'keyValues',
      throwFileSizeLimit: false,
      limits: { fileSize: MAX_UPLOAD_BYTES, files: 1, fields: 20, fieldSize: 64 * 1024, parts: 25 },
      async onFile(this: FastifyRequest, part: MultipartFile) {
        const u = uploadOf(this);
        uploads.set(this, u);
        if (part.fieldname !== 'file' || u.file) {
          part.file.resume();
          u.problem = 'Send one file, in the file field.';
          return;
        }
        if (!part.filename) { part.file.resume(); return; } // an empty file input
        u.file = await storeFile(dataDir, part.file, part.filename);
        if (part.file.truncated) {
          await discardIfUnused(u.file);
          u.file = null;
          u.problem = 'The file is larger than the server accepts (4 GB).';
        }
      },
    });
    // onSend, not onResponse: an unused upload is gone before the answer (the form again, a 403) leaves.
    scope.addHook('onSend', async (request, _reply, payload) => {
      const u = uploads.get(request);
      if (u?.file && !u.used) {
        const file = u.file;
        u.file = null;
        await discardIfUnused(file).catch((err) => request.log.error({ err }, 'could not remove an unused upload'));
      }
      return payload;
    });

    const notFound = (request: FastifyRequest, reply: FastifyReply, what: string) =>
      page(k.settings, request, reply, { title: 'Not found', variant: 'admin', status: 404 }, <div class="card"><h1>Not found</h1><p>No such {what}.</p></div>);
    const canManage = (request: FastifyRequest, url: string) => allows(request.auth!.role as StaffRole, 'POST', url);

    // ---- Releases ---------------------------------------------------------------------------------

    scope.get('/admin/releases', { preHandler: STAFF }, async (request, reply) => {
      const products = await k.db.selectFrom('products as p').leftJoin('releases as r', 'r.product_id', 'p.id')
        .select(['p.code', 'p.name', (eb) => eb.fn.count<number>('r.id').as('releases'), (eb) => eb.fn.max('r.released_at').as('last')])
        .groupBy(['p.id', 'p.code', 'p.name']).orderBy('p.code').execute();
      return page(k.settings, request, reply, { title: 'Releases', variant: 'admin' }, (
        <>
          <h1>Releases</h1>
          <p class="muted">Releases per product, on the stable and beta channels. Installed programs are offered the newest release of their channel when they call home. <a href="/admin/addons">Add-ons and content packs</a></p>
          {products.length ? <div class="table-wrap"><table>
            <thead><tr><th>Product</th><th>Code</th><th class="num">Releases</th><th>Latest release date</th></tr></thead>
            <tbody>{products.map((p) => <tr><td><a href={`/admin/releases/${encodeURIComponent(p.code)}`}>{p.name}</a></td><td class="mono">{p.code}</td><td class="num">{Number(p.releases)}</td><td>{p.last ? day(Number(p.last)) : '—'}</td></tr>)}</tbody>
          </table></div> : <p>No licensed product yet: products are created with the licensing admin API or by the shop.</p>}
        </>
      ));
    });

    const productOf = (code: string) => k.db.selectFrom('products').select(['id', 'code', 'name']).where('code', '=', code).executeTakeFirst();

    const releasesPage = async (request: FastifyRequest, reply: FastifyReply, code: string, s: { errors?: Errors; values?: Values; flash?: string; status?: number } = {}) => {
      const product = await productOf(code);
      if (!product) return notFound(request, reply, 'product');
      const rows = await k.db.selectFrom('releases').select(['id', 'version', 'channel', 'released_at', 'security', 'notes', 'file_name', 'file_size', 'file_sha256'])
        .where('product_id', '=', product.id).orderBy('released_at', 'desc').orderBy('created_at', 'desc').limit(200).execute();
      const now = k.clock.now();
      const action = `/admin/releases/${encodeURIComponent(product.code)}`;
      const errors = s.errors ?? {};
      const v = s.values ?? {};
      return page(k.settings, request, reply, { title: `Releases of ${product.name}`, variant: 'admin', flash: s.flash, status: s.status ?? 200 }, (
        <>
          <p><a href="/admin/releases">All products</a></p>
          <h1>Releases of {product.name} <span class="mono muted">{product.code}</span></h1>
          {(['stable', 'beta'] as const).map((channel) => {
            const list = rows.filter((r) => r.channel === channel);
            return (
              <section class="card" id={`channel-${channel}`}><h2>{channel === 'stable' ? 'Stable' : 'Beta'} channel</h2>
                {list.length ? <div class="table-wrap"><table>
                  <thead><tr><th>Version</th><th>Release date</th><th>Security</th><th>Installer</th><th>Notes</th></tr></thead>
                  <tbody>{list.map((r) => (
                    <tr><td class="mono">{r.version}</td>
                      <td>{day(Number(r.released_at))}{Number(r.released_at) > now ? <span class="badge warn">scheduled</span> : null}</td>
                      <td>{Number(r.security) ? <span class="badge bad">security</span> : ''}</td>
                      <td>{r.file_name ? <>{r.file_name} · {size(r.file_size === null ? null : Number(r.file_size))}<br /><span class="mono muted" title={r.file_sha256 ?? ''}>SHA-256 {r.file_sha256?.slice(0, 16)}…</span></> : <span class="muted">none</span>}</td>
                      <td>{r.notes ? (r.notes.length > 120 ? r.notes.slice(0, 120) + '…' : r.notes) : ''}</td></tr>
                  ))}</tbody>
                </table></div> : <p>No release on this channel yet.</p>}
              </section>
            );
          })}
          {canManage(request, action) ? (
            <section class="card" id="new-release"><h2>Publish a release</h2>
              <p class="muted">Published at once (or on the release date): it cannot be edited afterwards. Releases are not withdrawn from this page.</p>
              {Object.keys(errors).length ? <ErrorSummary errors={errors} /> : null}
              <form method="post" action={action} enctype="multipart/form-data" novalidate><Csrf token={request.csrfToken()} />
                <Field label="Version" name="version" required value={v.version ?? ''} error={errors.version} hint="SemVer, e.g. 8.6.1 or 8.7.0-beta.1." maxLength={100} />
                <div class={errors.channel ? 'field has-error' : 'field'}>
                  <label for="f-channel">Channel</label>
                  <select id="f-channel" name="channel" aria-invalid={errors.channel ? 'true' : undefined} aria-describedby={errors.channel ? 'f-channel-error' : undefined}>
                    <option value="stable" selected={(v.channel ?? 'stable') === 'stable'}>stable</option>
                    <option value="beta" selected={v.channel === 'beta'}>beta</option>
                  </select>
                  {errors.channel ? <p class="error" id="f-channel-error">{errors.channel}</p> : null}
                </div>
                <Field label="Release date" name="released_at" type="date" value={v.released_at ?? ''} error={errors.released_at} hint="UTC. Leave empty for now; a later date schedules the release." />
                <div class="field"><label class="checkbox"><input type="checkbox" name="security" value="1" checked={v.security === '1'} /> Security release (programs tell their users to update)</label></div>
                <div class={errors.notes ? 'field has-error' : 'field'}>
                  <label for="f-notes">Release notes<span class="optional"> (optional)</span></label>
                  <textarea id="f-notes" name="notes" rows={4} maxLength={20000} aria-invalid={errors.notes ? 'true' : undefined} aria-describedby={errors.notes ? 'f-notes-error' : undefined}>{v.notes ?? ''}</textarea>
                  {errors.notes ? <p class="error" id="f-notes-error">{errors.notes}</p> : null}
                </div>
                <FileField label="Installer" error={errors.file} hint="Stored with its SHA-256; programs on this channel download it through a signed link. Choose it again if the form is shown with an error." />
                <button type="submit">Publish release</button>
              </form>
            </section>
          ) : null}
        </>
      ));
    };

    scope.get('/admin/releases/:product', {
      preHandler: STAFF, schema: { params: codeParams('product'), querystring: Type.Object({ published: Type.Optional(Type.String({ maxLength: 100 })) }) },
    }, async (request, reply) => {
      const published = (request.query as { published?: string }).published;
      return releasesPage(request, reply, (request.params as { product: string }).product, { flash: published ? `Release ${published} published.` : undefined });
    });

    scope.post('/admin/releases/:product', {
      preHandler: MANAGE, bodyLimit: LONG_FORM_BODY_LIMIT, schema: { params: codeParams('product'), body: formBody({ version: 100, channel: 10, released_at: 40, security: 5, notes: 20_000 }) },
    }, async (request, reply) => {
      const code = (request.params as { product: string }).product;
      const body = (request.body ?? {}) as Values;
      const u = uploadOf(request);
      const values: Values = { version: (body.version ?? '').trim(), channel: body.channel ?? 'stable', released_at: (body.released_at ?? '').trim(), security: body.security === '1' ? '1' : '', notes: body.notes ?? '' };
      const errors: Errors = {};
      if (!(await productOf(code))) return notFound(request, reply, 'product');
      if (values.version === '') errors.version = 'Enter the version, e.g. 8.6.1.';
      if (values.channel !== 'stable' && values.channel !== 'beta') errors.channel = 'Choose the stable or the beta channel.';
      let releasedAt: number | undefined;
      if (values.released_at !== '') {
        try { releasedAt = parseAdminDate(values.released_at, 'released_at') ?? undefined; } catch { errors.released_at = 'Enter a date such as 2026-12-01.'; }
      }
      if (u.problem) errors.file = u.problem;
      if (Object.keys(errors).length === 0) {
        try {
          await catalog.createRelease(code, {
            version: values.version, channel: values.channel as 'stable' | 'beta', security: values.security === '1',
            notes: values.notes.trim() === '' ? null : values.notes, ...(releasedAt !== undefined ? { releasedAt } : {}),
          }, u.file, { kind: 'staff', id: request.auth!.subjectId, ip: request.ip });
          u.used = true;
          return reply.redirect(`/admin/releases/${encodeURIComponent(code)}?published=${encodeURIComponent(values.version)}`, 303);
        } catch (err) {
          const e = fieldError(err, 'version');
          if (!e) throw err;
          Object.assign(errors, e);
        }
      }
      return releasesPage(request, reply, code, { errors, values, status: 400 });
    });

    // ---- Add-ons and content packs ------------------------------------------------------------------

    const addonsPage = async (request: FastifyRequest, reply: FastifyReply, s: { errors?: Errors; values?: Values; flash?: string; status?: number } = {}) => {
      const [rows, products] = await Promise.all([
        k.db.selectFrom('addons as a').innerJoin('products as p', 'p.id', 'a.product_id').leftJoin('content_packs as c', 'c.addon_id', 'a.id')
          .select(['a.code', 'a.name', 'p.code as product', (eb) => eb.fn.count<number>('c.id').as('packs'), (eb) => eb.fn.max('c.created_at').as('last')])
          .groupBy(['a.id', 'a.code', 'a.name', 'p.code']).orderBy('a.code').execute(),
        k.db.selectFrom('products').select(['code', 'name']).orderBy('code').execute(),
      ]);
      const errors = s.errors ?? {};
      const v = s.values ?? {};
      return page(k.settings, request, reply, { title: 'Add-ons', variant: 'admin', flash: s.flash, status: s.status ?? 200 }, (
        <>
          <h1>Add-ons and content packs</h1>
          <p class="muted">Add-ons are granted per licence; programs with an add-on active are offered its newest content pack when they call home. <a href="/admin/releases">Releases</a></p>
          {rows.length ? <div class="table-wrap"><table>
            <thead><tr><th>Add-on</th><th>Code</th><th>Product</th><th class="num">Content packs</th><th>Last upload</th></tr></thead>
            <tbody>{rows.map((r) => <tr><td><a href={`/admin/addons/${encodeURIComponent(r.code)}`}>{r.name}</a></td><td class="mono">{r.code}</td><td class="mono">{r.product}</td><td class="num">{Number(r.packs)}</td><td>{r.last ? day(Number(r.last)) : '—'}</td></tr>)}</tbody>
          </table></div> : <p>No add-on yet.</p>}
          {canManage(request, '/admin/addons') ? (
            <section class="card" id="new-addon"><h2>New add-on</h2>
              {Object.keys(errors).length ? <ErrorSummary errors={errors} /> : null}
              <form method="post" action="/admin/addons" novalidate><Csrf token={request.csrfToken()} />
                <Field label="Code" name="code" required value={v.code ?? ''} error={errors.code} hint="What programs and licences use, e.g. mailserver-spam: letters, digits, dot, dash and underscore; never changed." maxLength={64} />
                <Field label="Name" name="name" required value={v.name ?? ''} error={errors.name} maxLength={200} />
                <div class={errors.product ? 'field has-error' : 'field'}>
                  <label for="f-product">Product</label>
                  <select id="f-product" name="product" aria-invalid={errors.product ? 'true' : undefined} aria-describedby={errors.product ? 'f-product-error' : undefined}>
                    <option value="">Choose…</option>
                    {products.map((p) => <option value={p.code} selected={v.product === p.code}>{p.name} ({p.code})</option>)}
                  </select>
                  {errors.product ? <p class="error" id="f-product-error">{errors.product}</p> : null}
                </div>
                <button type="submit">Create add-on</button>
              </form>
            </section>
          ) : null}
        </>
      ));
    };

    scope.get('/admin/addons', { preHandler: STAFF, schema: { querystring: Type.Object({ created: Type.Optional(Type.String({ maxLength: 64 })) }) } }, async (request, reply) => {
      const created = (request.query as { created?: string }).created;
      return addonsPage(request, reply, { flash: created ? `Add-on ${created} created.` : undefined });
    });

    scope.post('/admin/addons', { preHandler: MANAGE, schema: { body: formBody({ code: 200, name: 400, product: 200 }) } }, async (request, reply) => {
      const body = (request.body ?? {}) as Values;
      const values: Values = { code: (body.code ?? '').trim(), name: (body.name ?? '').trim(), product: body.product ?? '' };
      const errors: Errors = {};
      if (!new RegExp(CODE_PATTERN).test(values.code)) errors.code = 'Enter a code of 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit.';
      if (values.name === '' || values.name.length > 200) errors.name = 'Enter a name of at most 200 characters.';
      if (values.product === '') errors.product = 'Choose the product the add-on belongs to.';
      if (Object.keys(errors).length === 0) {
        try {
          await catalog.createAddon(values as { code: string; name: string; product: string }, { kind: 'staff', id: request.auth!.subjectId, ip: request.ip });
          return reply.redirect(`/admin/addons?created=${encodeURIComponent(values.code)}`, 303);
        } catch (err) {
          const status = (err as { statusCode?: number }).statusCode;
          if (status === 404) errors.product = 'That product does not exist.';
          else if (status === 409) errors.code = (err as Error).message;
          else throw err;
        }
      }
      return addonsPage(request, reply, { errors, values, status: 400 });
    });

    const addonOf = (code: string) => k.db.selectFrom('addons as a').innerJoin('products as p', 'p.id', 'a.product_id')
      .select(['a.id', 'a.code', 'a.name', 'p.code as product']).where('a.code', '=', code).executeTakeFirst();

    const contentPage = async (request: FastifyRequest, reply: FastifyReply, code: string, s: { errors?: Errors; values?: Values; flash?: string; status?: number } = {}) => {
      const addon = await addonOf(code);
      if (!addon) return notFound(request, reply, 'add-on');
      const packs = await k.db.selectFrom('content_packs').select(['version', 'file_name', 'file_size', 'file_sha256', 'created_at'])
        .where('addon_id', '=', addon.id).orderBy('created_at', 'desc').limit(200).execute();
      const action = `/admin/addons/${encodeURIComponent(addon.code)}/content`;
      const errors = s.errors ?? {};
      return page(k.settings, request, reply, { title: `Add-on ${addon.name}`, variant: 'admin', flash: s.flash, status: s.status ?? 200 }, (
        <>
          <p><a href="/admin/addons">All add-ons</a></p>
          <h1>{addon.name} <span class="mono muted">{addon.code}</span></h1>
          <p class="muted">An add-on of <a href={`/admin/releases/${encodeURIComponent(addon.product)}`}>{addon.product}</a>. Licences with it active are offered the highest content version.</p>
          <section class="card" id="content"><h2>Content packs</h2>
            {packs.length ? <div class="table-wrap"><table>
              <thead><tr><th>Version</th><th>File</th><th class="num">Size</th><th>SHA-256</th><th>Uploaded</th></tr></thead>
              <tbody>{packs.map((p) => <tr><td class="mono">{p.version}</td><td>{p.file_name}</td><td class="num">{size(Number(p.file_size))}</td><td class="mono" title={p.file_sha256}>{p.file_sha256.slice(0, 16)}…</td><td>{day(Number(p.created_at))}</td></tr>)}</tbody>
            </table></div> : <p>No content uploaded yet.</p>}
          </section>
          {canManage(request, action) ? (
            <section class="card" id="upload"><h2>Upload a content version</h2>
              {Object.keys(errors).length ? <ErrorSummary errors={errors} /> : null}
              <form method="post" action={action} enctype="multipart/form-data" novalidate><Csrf token={request.csrfToken()} />
                <Field label="Content version" name="version" required value={s.values?.version ?? ''} error={errors.version} hint="Dot-separated numbers, e.g. 2026.11.25.1. Programs are offered the highest version." maxLength={100} />
                <FileField label="Content file" required error={errors.file} hint="Stored with its SHA-256. Choose it again if the form is shown with an error." />
                <button type="submit">Upload content</button>
              </form>
            </section>
          ) : null}
        </>
      ));
    };

    scope.get('/admin/addons/:code', {
      preHandler: STAFF, schema: { params: codeParams('code'), querystring: Type.Object({ uploaded: Type.Optional(Type.String({ maxLength: 100 })) }) },
    }, async (request, reply) => {
      const uploaded = (request.query as { uploaded?: string }).uploaded;
      return contentPage(request, reply, (request.params as { code: string }).code, { flash: uploaded ? `Content version ${uploaded} uploaded.` : undefined });
    });

    scope.post('/admin/addons/:code/content', { preHandler: MANAGE, schema: { params: codeParams('code'), body: formBody({ version: 100 }) } }, async (request, reply) => {
      const code = (request.params as { code: string }).code;
      const version = (((request.body ?? {}) as Values).version ?? '').trim();
      const u = uploadOf(request);
      if (!(await addonOf(code))) return notFound(request, reply, 'add-on');
      const errors: Errors = {};
      if (version === '') errors.version = 'Enter the content version, e.g. 2026.11.25.1.';
      if (u.problem) errors.file = u.problem;
      else if (!u.file) errors.file = 'Choose the content file to upload.';
      if (Object.keys(errors).length === 0) {
        try {
          await catalog.createContentPack(code, version, u.file!, { kind: 'staff', id: request.auth!.subjectId, ip: request.ip });
          u.used = true;
          return reply.redirect(`/admin/addons/${encodeURIComponent(code)}?uploaded=${encodeURIComponent(version)}`, 303);
        } catch (err) {
          const e = fieldError(err, 'version');
          if (!e) throw err;
          Object.assign(errors, e);
        }
      }
      return contentPage(request, reply, code, { errors, values: { version }, status: 400 });
    });
  });
}
