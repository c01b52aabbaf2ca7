import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Kernel } from '../../kernel/context.js';
import { DONE_PARAM, doneFlash, formBody, page } from '../../kernel/http/page.js';
import { Csrf, ErrorSummary, Field } from '../../kernel/views/layout.js';
import { requireStaff } from '../accounts/index.js';
import { CURRENCIES, PLAN_KINDS, type Currency } from './catalog.tables.js';
import type { CatalogService } from './catalog.service.js';
import { loadCatalogue } from './catalog.repository.js';

const STAFF = ['owner', 'admin', 'sales'] as const;

/** What a change that went through says on the page it returns to (`?done=`; anything else says nothing). */
const DONE = {
  'product-added': 'Product added. Add its tiers, editions and plans below.',
  product: 'Product saved.',
  tier: 'Tier added.',
  edition: 'Edition added.',
  'plan-added': 'Plan added.',
  plan: 'Plan saved.',
  'coupon-added': 'Coupon added.',
  coupon: 'Coupon saved.',
} as const;
const money = (n: number | undefined) => (n === undefined ? '' : `${Math.floor(n / 100)}.${String(n % 100).padStart(2, '0')}`);
const isCatErr = (e: unknown): e is { code: string; message: string } => typeof (e as { code?: unknown })?.code === 'string' && (e as { code: string }).code.startsWith('CAT_');

/** Admin → Catalogue: products, editions, user tiers, plans with prices per currency, coupons. */
export function registerCatalogAdminPages(app: FastifyInstance, k: Kernel, catalog: CatalogService): void {
  const list = async (request: FastifyRequest, reply: FastifyReply, error?: string, flash?: string) => {
    const [entries, coupons] = await Promise.all([loadCatalogue(k.db, { activeOnly: false }), k.db.selectFrom('catalog_coupons').selectAll().orderBy('code').execute()]);
    const csrf = request.csrfToken();
    return page(k.settings, request, reply, { title: 'Catalogue', variant: 'admin', status: error ? 400 : 200, flash }, (
      <>
        <h1>Catalogue</h1>
        {error ? <ErrorSummary errors={{ _form: error }} /> : null}
        <div class="table-wrap"><table>
          <thead><tr><th>Product</th><th>Code</th><th class="num">Plans</th><th>Status</th></tr></thead>
          <tbody>{entries.map((e) => <tr><td><a href={`/admin/catalog/${e.product.id}`}>{e.product.name}</a></td><td><code class="mono">{e.product.code}</code></td><td class="num">{e.plans.length}</td><td>{e.product.active ? <span class="badge ok">on sale</span> : <span class="badge">hidden</span>}</td></tr>)}</tbody>
        </table></div>
        <div class="grid">
          <section class="card">
            <h2>Add a product</h2>
            <form method="post" action="/admin/catalog/products"><Csrf token={csrf} />
              <Field label="Name" name="name" required />
              <Field label="Code" name="code" required hint="The product code licences are issued for, e.g. mailserver." />
              <Field label="Description" name="description" />
              <button type="submit">Add product</button>
            </form>
          </section>
          <section class="card">
            <h2>Coupons</h2>
            <ul>{coupons.map((c) => <li><code class="mono">{c.code}</code> {c.percent_off}% off {c.valid_until ? `until ${new Date(Number(c.valid_until) - 1).toISOString().slice(0, 10)}` : ''} {c.active ? '' : '(off)'}
              <form method="post" action={`/admin/catalog/coupons/${c.id}`} class="inline"><Csrf token={csrf} /><input type="hidden" name="active" value={c.active ? '0' : '1'} /> <button type="submit" class="link">{c.active ? 'Turn off' : 'Turn on'}</button></form></li>)}</ul>
            <form method="post" action="/admin/catalog/coupons"><Csrf token={csrf} />
              <Field label="Code" name="code" required />
              <Field label="Percent off" name="percent_off" required inputmode="numeric" />
              <Field label="Last day (YYYY-MM-DD)" name="valid_until" />
              <button type="submit">Add coupon</button>
            </form>
          </section>
        </div>
      </>
    ));
  };

  const product = async (request: FastifyRequest, reply: FastifyReply, id: string, error?: string, flash?: string) => {
    const e = (await loadCatalogue(k.db, { activeOnly: false })).find((x) => x.product.id === id);
    if (!e) return page(k.settings, request, reply, { title: 'Not found', variant: 'admin', status: 404 }, <p>No such product.</p>);
    const csrf = request.csrfToken();
    const tierLabel = (tid: string | null) => e.tiers.find((t) => t.id === tid)?.label ?? '—';
    return page(k.settings, request, reply, { title: e.product.name, variant: 'admin', status: error ? 400 : 200, flash }, (
      <>
        <h1>{e.product.name} <code class="mono">{e.product.code}</code></h1>
        {error ? <ErrorSummary errors={{ _form: error }} /> : null}
        <section class="card">
          <h2>Plans and prices</h2>
          <div class="table-wrap"><table>
            <thead><tr><th>SKU and kind</th><th>Tier</th><th>Name</th>{CURRENCIES.map((c) => <th class="num">{c}</th>)}<th>On sale</th><th></th></tr></thead>
            <tbody>{e.plans.map((p) => (
              <tr>
                <td class="nowrap"><code class="mono">{p.plan.sku}</code><br /><span class="muted">{p.plan.kind}</span></td>
                <td>{p.plan.kind === 'upgrade' ? `${tierLabel(p.plan.from_tier_id)} → ${tierLabel(p.plan.tier_id)}` : p.plan.kind === 'addon' ? p.plan.addon_code : tierLabel(p.plan.tier_id)}</td>
                {/* A form cannot span cells: each field sits under its heading and names the row's form. */}
                <td><input form={`plan-${p.plan.id}`} type="text" name="name" value={p.plan.name} aria-label={`Name of ${p.plan.sku}`} class="plan-name" /></td>
                {CURRENCIES.map((c) => <td class="num"><input form={`plan-${p.plan.id}`} type="text" name={`price_${c}`} value={money(p.prices[c as Currency])} aria-label={`${c} price of ${p.plan.sku}`} class="price" inputMode="decimal" /></td>)}
                <td><label class="checkbox"><input form={`plan-${p.plan.id}`} type="checkbox" name="active" value="1" checked={!!p.plan.active} /><span class="sr-only"> {p.plan.sku} on sale</span></label></td>
                <td><form id={`plan-${p.plan.id}`} method="post" action={`/admin/catalog/plans/${p.plan.id}`}><Csrf token={csrf} /><button type="submit" class="secondary">Save</button></form></td>
              </tr>
            ))}</tbody>
          </table></div>
        </section>
        <div class="grid">
          <section class="card">
            <h2>Product</h2>
            <form method="post" action={`/admin/catalog/${id}`}><Csrf token={csrf} />
              <Field label="Name" name="name" value={e.product.name} required />
              <Field label="Description" name="description" value={e.product.description} />
              <div class="field"><label class="checkbox"><input type="checkbox" name="active" value="1" checked={!!e.product.active} /> On sale</label></div>
              <button type="submit">Save</button>
            </form>
            <h2>User tiers</h2>
            <ul>{e.tiers.map((t) => <li>{t.label} ({t.max_users ?? 'unlimited'})</li>)}</ul>
            <form method="post" action={`/admin/catalog/${id}/tiers`}><Csrf token={csrf} />
              <Field label="Users" name="max_users" hint="A number, or empty for unlimited." />
              <Field label="Label" name="label" required />
              <Field label="Order (higher is bigger)" name="rank" required inputmode="numeric" />
              <button type="submit" class="secondary">Add tier</button>
            </form>
            <h2>Editions</h2>
            <ul>{e.editions.map((ed) => <li>{ed.name} <code class="mono">{ed.code}</code></li>)}</ul>
            <form method="post" action={`/admin/catalog/${id}/editions`}><Csrf token={csrf} />
              <Field label="Name" name="name" required /><Field label="Code" name="code" required />
              <button type="submit" class="secondary">Add edition</button>
            </form>
          </section>
          <section class="card">
            <h2>Add a plan</h2>
            <form method="post" action={`/admin/catalog/${id}/plans`}><Csrf token={csrf} />
              <div class="field"><label for="f-kind">Kind</label><select id="f-kind" name="kind">{PLAN_KINDS.map((x) => <option>{x}</option>)}</select></div>
              <Field label="Name" name="name" required />
              <Field label="SKU" name="sku" required />
              <div class="field"><label for="f-edition_id">Edition</label><select id="f-edition_id" name="edition_id"><option value="">—</option>{e.editions.map((ed) => <option value={ed.id}>{ed.name}</option>)}</select></div>
              <div class="field"><label for="f-tier_id">Tier (bought, or upgraded to)</label><select id="f-tier_id" name="tier_id"><option value="">—</option>{e.tiers.map((t) => <option value={t.id}>{t.label}</option>)}</select></div>
              <div class="field"><label for="f-from_tier_id">Upgrade from tier</label><select id="f-from_tier_id" name="from_tier_id"><option value="">—</option>{e.tiers.map((t) => <option value={t.id}>{t.label}</option>)}</select></div>
              <Field label="Add-on code (add-ons only)" name="addon_code" />
              {CURRENCIES.map((c) => <Field label={`Price in ${c}, before VAT`} name={`price_${c}`} inputmode="decimal" />)}
              <button type="submit">Add plan</button>
            </form>
          </section>
        </div>
      </>
    ));
  };

  const pre = { preHandler: requireStaff(...STAFF) };
  const idp = { params: Type.Object({ id: Type.String({ maxLength: 64 }) }) };
  /** Runs a change; on success back to `to`, which then says what was done (`done`, one of DONE's keys). */
  const run = async (request: FastifyRequest, reply: FastifyReply, fn: () => Promise<unknown>, back: (error?: string) => Promise<unknown>, to: string, done: keyof typeof DONE) => {
    try { await fn(); } catch (err) { if (!isCatErr(err)) throw err; return back(err.message); }
    return reply.redirect(`${to}?done=${done}`, 303);
  };
  const doneQuery = { querystring: Type.Object({ done: DONE_PARAM }) };
  const flashOf = (request: FastifyRequest) => doneFlash(request, DONE);
  const by = (request: FastifyRequest) => request.auth!.subjectId;
  const body = (request: FastifyRequest) => request.body as Record<string, string | undefined>;
  const id = (request: FastifyRequest) => (request.params as { id: string }).id;
  const priceFields = Object.fromEntries(CURRENCIES.map((c) => [`price_${c}`, 20]));

  app.get('/admin/catalog', { ...pre, schema: doneQuery }, async (request, reply) => list(request, reply, undefined, flashOf(request)));
  app.get('/admin/catalog/:id', { ...pre, schema: { ...idp, ...doneQuery } }, async (request, reply) => product(request, reply, id(request), undefined, flashOf(request)));
  app.post('/admin/catalog/products', { ...pre, schema: { body: formBody({ name: 300, code: 100, description: 2000 }) } }, async (request, reply) => {
    try {
      return reply.redirect(`/admin/catalog/${await catalog.addProduct(body(request), by(request))}?done=product-added`, 303);
    } catch (err) {
      if (!isCatErr(err)) throw err;
      return list(request, reply, err.message);
    }
  });
  app.post('/admin/catalog/:id', { ...pre, schema: { ...idp, body: formBody({ name: 300, description: 2000, active: 2 }) } }, async (request, reply) =>
    run(request, reply, () => catalog.updateProduct(id(request), body(request), by(request)), (e) => product(request, reply, id(request), e), `/admin/catalog/${id(request)}`, 'product'));
  app.post('/admin/catalog/:id/tiers', { ...pre, schema: { ...idp, body: formBody({ max_users: 20, label: 60, rank: 10 }) } }, async (request, reply) =>
    run(request, reply, () => catalog.addTier(id(request), body(request)), (e) => product(request, reply, id(request), e), `/admin/catalog/${id(request)}`, 'tier'));
  app.post('/admin/catalog/:id/editions', { ...pre, schema: { ...idp, body: formBody({ name: 200, code: 64 }) } }, async (request, reply) =>
    run(request, reply, () => catalog.addEdition(id(request), body(request)), (e) => product(request, reply, id(request), e), `/admin/catalog/${id(request)}`, 'edition'));
  app.post('/admin/catalog/:id/plans', { ...pre, schema: { ...idp, body: formBody({ kind: 20, name: 300, sku: 64, edition_id: 64, tier_id: 64, from_tier_id: 64, addon_code: 64, sort: 10, ...priceFields }) } }, async (request, reply) =>
    run(request, reply, () => catalog.addPlan(id(request), body(request), by(request)), (e) => product(request, reply, id(request), e), `/admin/catalog/${id(request)}`, 'plan-added'));
  app.post('/admin/catalog/plans/:id', { ...pre, schema: { ...idp, body: formBody({ name: 300, active: 2, ...priceFields }) } }, async (request, reply) => {
    const plan = await k.db.selectFrom('catalog_plans').select('product_id').where('id', '=', id(request)).executeTakeFirst();
    const back = plan ? `/admin/catalog/${plan.product_id}` : '/admin/catalog';
    return run(request, reply, () => catalog.updatePlan(id(request), body(request), by(request)), (e) => (plan ? product(request, reply, plan.product_id, e) : list(request, reply, e)), back, 'plan');
  });
  app.post('/admin/catalog/coupons', { ...pre, schema: { body: formBody({ code: 40, percent_off: 10, valid_until: 20 }) } }, async (request, reply) =>
    run(request, reply, () => catalog.addCoupon(body(request), by(request)), (e) => list(request, reply, e), '/admin/catalog', 'coupon-added'));
  app.post('/admin/catalog/coupons/:id', { ...pre, schema: { ...idp, body: formBody({ active: 2 }) } }, async (request, reply) =>
    run(request, reply, () => catalog.setCouponActive(id(request), body(request).active === '1'), (e) => list(request, reply, e), '/admin/catalog', 'coupon'));
}
