import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Kernel } from '../../kernel/context.js';
import { formBody, LONG_FORM_BODY_LIMIT, page } from '../../kernel/http/page.js';
import { Csrf, ErrorSummary, Field } from '../../kernel/views/layout.js';
import { ADMIN_TABS, STAFF } from './admin-tickets.pages.js';
import type { ForumService } from './forum.service.js';
import type { KbService } from './kb.service.js';
import { fmtTime, Tabs, TextArea } from './views.js';

const idParams = Type.Object({ id: Type.String({ pattern: '^[0-9a-f-]{36}$' }) });
type Values = Record<string, string | undefined>;
const isSupErr = (err: unknown): err is { code: string; message: string; field?: string } => !!(err as { code?: string }).code?.startsWith('SUP_');

/** Staff pages for the knowledge base (articles, categories) and the forum's categories. */
export function registerAdminContentPages(app: FastifyInstance, k: Kernel, kb: KbService, forum: ForumService): void {
  const kbIndex = async (request: FastifyRequest, reply: FastifyReply, catError?: string) => {
    const [articles, cats] = await Promise.all([kb.articles({ includeDrafts: true }), kb.categories()]);
    const catName = new Map(cats.map((c) => [c.id, c.name]));
    return page(k.settings, request, reply, { title: 'Knowledge base', variant: 'admin', status: catError ? 400 : 200 }, (
      <>
        <h1>Knowledge base</h1>
        <Tabs items={ADMIN_TABS} current="/admin/kb" />
        <p><a class="button" href="/admin/kb/new">New article</a></p>
        <div class="table-wrap"><table>
          <thead><tr><th>Title</th><th>Category</th><th>State</th><th>Updated</th></tr></thead>
          <tbody>{articles.map((a) => (
            <tr><td><a href={`/admin/kb/${a.id}`}>{a.title}</a></td><td>{a.category_id ? catName.get(a.category_id) ?? '—' : '—'}</td>
              <td>{a.published ? <span class="badge ok">Published</span> : <span class="badge warn">Draft</span>}</td><td>{fmtTime(a.updated_at)}</td></tr>
          ))}{articles.length === 0 ? <tr><td colSpan={4} class="muted">No articles yet.</td></tr> : null}</tbody>
        </table></div>
        <section class="card">
          <h2>Categories</h2>
          <ul class="plain">{cats.map((c) => (
            <li>{c.name} <span class="muted">/{c.slug}</span> <form method="post" action={`/admin/kb/categories/${c.id}/delete`} class="inline"><Csrf token={request.csrfToken()} /><button type="submit" class="link">Delete</button></form></li>
          ))}</ul>
          {catError ? <ErrorSummary errors={{ _form: catError }} /> : null}
          <form method="post" action="/admin/kb/categories" class="inline-form">
            <Csrf token={request.csrfToken()} />
            <Field label="New category" name="name" required maxLength={100} />
            <button type="submit" class="secondary">Add category</button>
          </form>
        </section>
      </>
    ));
  };

  app.get('/admin/kb', { preHandler: STAFF }, async (request, reply) => kbIndex(request, reply));
  app.post('/admin/kb/categories', { preHandler: STAFF, schema: { body: formBody({ name: 200, slug: 100 }) } }, async (request, reply) => {
    try { await kb.addCategory(request.body as Values); } catch (err) { if (!isSupErr(err)) throw err; return kbIndex(request, reply, err.message); }
    return reply.redirect('/admin/kb', 303);
  });
  app.post('/admin/kb/categories/:id/delete', { preHandler: STAFF, schema: { params: idParams, body: formBody({}) } }, async (request, reply) => {
    await kb.deleteCategory((request.params as { id: string }).id);
    return reply.redirect('/admin/kb', 303);
  });

  const editor = async (request: FastifyRequest, reply: FastifyReply, id: string | null, v: Values, errors: Record<string, string> = {}, status = 400) => {
    const cats = await kb.categories();
    const bad = Object.keys(errors).length > 0;
    return page(k.settings, request, reply, { title: id ? 'Edit article' : 'New article', variant: 'admin', status: bad ? status : 200 }, (
      <>
        <p class="muted"><a href="/admin/kb">Knowledge base</a> › {id ? 'Edit' : 'New'}</p>
        <h1>{id ? 'Edit article' : 'New article'}</h1>
        <div class="card">
          <ErrorSummary errors={errors} />
          <form method="post" action={id ? `/admin/kb/${id}` : '/admin/kb/new'}>
            <Csrf token={request.csrfToken()} />
            <Field label="Title" name="title" value={v.title} required maxLength={200} error={errors.title} />
            <Field label="Address (slug)" name="slug" value={v.slug} maxLength={80} error={errors.slug} hint="Leave empty to make one from the title." />
            <div class={errors.category ? 'field has-error' : 'field'}><label for="f-category">Category</label>
              <select id="f-category" name="category"><option value="">None</option>{cats.map((c) => <option value={c.id} selected={v.category === c.id}>{c.name}</option>)}</select></div>
            <TextArea label="Text" name="body" value={v.body} required rows={18} error={errors.body} hint="Blank lines start paragraphs; “## ” starts a heading; “- ” lines make a list; ``` fences code; **bold**, *italic*, `code` and [a link](https://…) work within lines." />
            <div class="field"><label class="checkbox"><input type="checkbox" name="published" value="1" checked={v.published === '1'} /> Published (visible to everyone)</label></div>
            <button type="submit">Save article</button>
          </form>
          {id ? <form method="post" action={`/admin/kb/${id}/delete`} class="inline"><Csrf token={request.csrfToken()} /><button type="submit" class="danger">Delete article</button></form> : null}
        </div>
      </>
    ));
  };

  const save = async (request: FastifyRequest, reply: FastifyReply, id: string | null) => {
    const v = (request.body ?? {}) as Values;
    try {
      const saved = await kb.saveArticle(id, v, request.auth!.subjectId);
      return reply.redirect(`/admin/kb/${saved}?saved=1`, 303);
    } catch (err) {
      if (!isSupErr(err)) throw err;
      return editor(request, reply, id, v, { [err.field ?? '_form']: err.message }, (err as { statusCode?: number }).statusCode ?? 400);
    }
  };
  const articleBody = formBody({ title: 400, slug: 200, category: 40, body: 200_000, published: 5 });
  app.get('/admin/kb/new', { preHandler: STAFF }, async (request, reply) => editor(request, reply, null, { published: '1' }));
  app.post('/admin/kb/new', { preHandler: STAFF, schema: { body: articleBody }, bodyLimit: LONG_FORM_BODY_LIMIT }, async (request, reply) => save(request, reply, null));
  app.get('/admin/kb/:id', { preHandler: STAFF, schema: { params: idParams } }, async (request, reply) => {
    const a = await k.db.selectFrom('support_kb_articles').selectAll().where('id', '=', (request.params as { id: string }).id).executeTakeFirst();
    if (!a) return reply.redirect('/admin/kb', 303);
    return editor(request, reply, a.id, { title: a.title, slug: a.slug, category: a.category_id ?? '', body: a.body, published: a.published ? '1' : '' });
  });
  app.post('/admin/kb/:id', { preHandler: STAFF, schema: { params: idParams, body: articleBody }, bodyLimit: LONG_FORM_BODY_LIMIT }, async (request, reply) => save(request, reply, (request.params as { id: string }).id));
  app.post('/admin/kb/:id/delete', { preHandler: STAFF, schema: { params: idParams, body: formBody({}) } }, async (request, reply) => {
    await kb.deleteArticle((request.params as { id: string }).id);
    return reply.redirect('/admin/kb', 303);
  });

  const forumIndex = async (request: FastifyRequest, reply: FastifyReply, error?: string) => {
    const cats = await forum.categories();
    return page(k.settings, request, reply, { title: 'Forum', variant: 'admin', status: error ? 400 : 200 }, (
      <>
        <h1>Forum</h1>
        <Tabs items={ADMIN_TABS} current="/admin/forum" />
        <p class="muted">Moderate on the forum itself while signed in as staff: each topic and post shows hide, show and lock buttons.</p>
        <div class="table-wrap"><table>
          <thead><tr><th>Category</th><th>Address</th><th>Description</th><th></th></tr></thead>
          <tbody>{cats.map((c) => (
            <tr><td><a href={`/support/forum/${c.slug}`}>{c.name}</a></td><td>/support/forum/{c.slug}</td><td>{c.description}</td>
              <td><form method="post" action={`/admin/forum/categories/${c.id}/delete`} class="inline"><Csrf token={request.csrfToken()} /><button type="submit" class="link">Delete</button></form></td></tr>
          ))}{cats.length === 0 ? <tr><td colSpan={4} class="muted">No categories yet.</td></tr> : null}</tbody>
        </table></div>
        <section class="card narrow">
          <h2>New category</h2>
          {error ? <ErrorSummary errors={{ _form: error }} /> : null}
          <form method="post" action="/admin/forum/categories">
            <Csrf token={request.csrfToken()} />
            <Field label="Name" name="name" required maxLength={100} />
            <Field label="Description" name="description" maxLength={300} />
            <button type="submit">Add category</button>
          </form>
        </section>
      </>
    ));
  };
  app.get('/admin/forum', { preHandler: STAFF }, async (request, reply) => forumIndex(request, reply));
  app.post('/admin/forum/categories', { preHandler: STAFF, schema: { body: formBody({ name: 200, description: 600, slug: 100 }) } }, async (request, reply) => {
    try { await forum.addCategory(request.body as Values); } catch (err) { if (!isSupErr(err)) throw err; return forumIndex(request, reply, err.message); }
    return reply.redirect('/admin/forum', 303);
  });
  app.post('/admin/forum/categories/:id/delete', { preHandler: STAFF, schema: { params: idParams, body: formBody({}) } }, async (request, reply) => {
    try { await forum.deleteCategory((request.params as { id: string }).id); } catch (err) { if (!isSupErr(err)) throw err; return forumIndex(request, reply, err.message); }
    return reply.redirect('/admin/forum', 303);
  });
}
