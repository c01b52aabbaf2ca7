import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Kernel } from '../../kernel/context.js';
import { formBody, LONG_FORM_BODY_LIMIT, page } from '../../kernel/http/page.js';
import { Csrf, ErrorSummary, Field } from '../../kernel/views/layout.js';
import { requireStaff } from '../accounts/index.js';
import type { NewsletterPostsTable } from './newsletter.tables.js';
import { LISTS } from './lists.js';
import { markdownToHtml } from './markdown.js';
import { POST_KINDS, allPosts, postById, postSends, type PostInput, type PostService } from './posts.service.js';
import { SafeHtml, Select, TextArea, fmtDate, fmtTime, newsMessage } from './views.js';

export const EDITORS = ['owner', 'admin', 'sales'] as const;
const idParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const postForm = formBody({ title: 300, slug: 120, kind: 20, summary: 600, body: 100_000 });

const MARKDOWN_HINT = 'Markdown: # Heading, **bold**, *italic*, [link](https://…), - lists, 1. numbered lists, `code`, ``` code blocks ```, > quotes. HTML is shown as text.';

/** Blog posts in the admin: list, write, edit with a preview, publish. */
export function registerAdminPostPages(app: FastifyInstance, k: Kernel, posts: PostService): void {
  const guard = { preHandler: requireStaff(...EDITORS) };

  app.get('/admin/newsletter/posts', guard, async (request, reply) => {
    const rows = await allPosts(k.db);
    const sent = await postSends(k.db, rows.map((r) => r.id));
    return page(k.settings, request, reply, { title: 'Blog posts', variant: 'admin' }, (
      <>
        <p><a href="/admin/newsletter">Newsletter</a></p>
        <h1>Blog posts</h1>
        <p><a class="button" href="/admin/newsletter/posts/new">Write a post</a></p>
        <div class="table-wrap"><table>
          <thead><tr><th>Title</th><th>Kind</th><th>Status</th><th>Sent to</th><th>Updated</th></tr></thead>
          <tbody>{rows.map((p) => (
            <tr>
              <td><a href={`/admin/newsletter/posts/${p.id}`}>{p.title}</a></td>
              <td>{POST_KINDS[p.kind]}</td>
              <td><span class={`badge ${p.status === 'published' ? 'ok' : 'warn'}`}>{p.status}</span></td>
              <td>{sent.filter((s) => s.post_id === p.id).map((s) => LISTS[s.list_id].name).join(', ') || '—'}</td>
              <td>{fmtTime(p.updated_at)}</td>
            </tr>
          ))}</tbody>
        </table></div>
        {rows.length === 0 ? <p class="muted">No posts yet.</p> : null}
      </>
    ));
  });

  const editor = async (request: FastifyRequest, reply: FastifyReply, post: NewsletterPostsTable | null, v: PostInput, opts: { error?: string; flash?: string } = {}) => {
    const sent = post ? await postSends(k.db, [post.id]) : [];
    const action = post ? `/admin/newsletter/posts/${post.id}` : '/admin/newsletter/posts';
    return page(k.settings, request, reply, { title: post ? `Edit: ${post.title}` : 'Write a post', variant: 'admin', status: opts.error ? 400 : 200, flash: opts.flash }, (
      <>
        <p><a href="/admin/newsletter/posts">Blog posts</a></p>
        <h1>{post ? 'Edit post' : 'Write a post'}</h1>
        {opts.error ? <ErrorSummary errors={{ _form: opts.error }} /> : null}
        {post ? (
          <p class="muted">
            <span class={`badge ${post.status === 'published' ? 'ok' : 'warn'}`}>{post.status}</span> revision {post.revision}
            {post.status === 'published' ? <> · <a href={`/blog/${post.slug}`}>view on the blog</a> · published {fmtDate(post.published_at)}</> : null}
            {sent.length ? <> · sent to {sent.map((s) => LISTS[s.list_id].name).join(', ')}: editing changes the blog only, it is never sent again</> : null}
          </p>
        ) : null}
        <div class="grid">
          <form method="post" action={action} class="card">
            <Csrf token={request.csrfToken()} />
            <Field label="Title" name="title" value={v.title} required maxLength={200} />
            <Field label="Address (slug)" name="slug" value={v.slug} maxLength={80} hint="Lower-case letters, digits and hyphens; made from the title when left empty." />
            <Select label="Kind" name="kind" value={v.kind} options={Object.entries(POST_KINDS)} />
            <TextArea label="Summary" name="summary" value={v.summary} rows={2} maxLength={500} hint="Shown in the post list and feeds; the first paragraph is used when empty." />
            <TextArea label="Post" name="body" value={v.body} rows={18} required mono hint={MARKDOWN_HINT} />
            <button type="submit">{post ? 'Save changes' : 'Save draft'}</button>
          </form>
          <section class="card">
            <h2>Preview</h2>
            {v.body ? <SafeHtml class="blog-body" html={markdownToHtml(v.body, { headingOffset: 1 })} /> : <p class="muted">Save to see the preview.</p>}
          </section>
        </div>
        {post ? (
          <form method="post" action={`/admin/newsletter/posts/${post.id}/${post.status === 'published' ? 'unpublish' : 'publish'}`}>
            <Csrf token={request.csrfToken()} />
            <button type="submit" class={post.status === 'published' ? 'secondary' : ''}>{post.status === 'published' ? 'Unpublish' : 'Publish on the blog'}</button>
          </form>
        ) : null}
      </>
    ));
  };

  const fromRow = (p: NewsletterPostsTable): PostInput => ({ title: p.title, slug: p.slug, kind: p.kind, summary: p.summary, body: p.body_md });

  app.get('/admin/newsletter/posts/new', guard, async (request, reply) => editor(request, reply, null, { kind: 'release' }));

  app.post('/admin/newsletter/posts', { ...guard, bodyLimit: LONG_FORM_BODY_LIMIT, schema: { body: postForm } }, async (request, reply) => {
    const body = request.body as PostInput;
    try {
      const id = await posts.create(body, request.auth!.subjectId);
      return reply.redirect(`/admin/newsletter/posts/${id}`, 303);
    } catch (err) {
      return editor(request, reply, null, body, { error: newsMessage(err) });
    }
  });

  app.get('/admin/newsletter/posts/:id', { ...guard, schema: { params: idParams } }, async (request, reply) => {
    const post = await postById(k.db, (request.params as { id: string }).id);
    if (!post) return notFound(request, reply);
    return editor(request, reply, post, fromRow(post));
  });

  app.post('/admin/newsletter/posts/:id', { ...guard, bodyLimit: LONG_FORM_BODY_LIMIT, schema: { params: idParams, body: postForm } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const body = request.body as PostInput;
    const post = await postById(k.db, id);
    if (!post) return notFound(request, reply);
    try {
      await posts.update(id, body, request.auth!.subjectId);
    } catch (err) {
      return editor(request, reply, post, body, { error: newsMessage(err) });
    }
    const saved = (await postById(k.db, id))!;
    return editor(request, reply, saved, fromRow(saved), { flash: 'Saved.' });
  });

  for (const action of ['publish', 'unpublish'] as const) {
    app.post(`/admin/newsletter/posts/:id/${action}`, { ...guard, schema: { params: idParams, body: formBody({}) } }, async (request, reply) => {
      const { id } = request.params as { id: string };
      if (!(await postById(k.db, id))) return notFound(request, reply);
      await posts.setPublished(id, action === 'publish', request.auth!.subjectId);
      return reply.redirect(`/admin/newsletter/posts/${id}`, 303);
    });
  }

  const notFound = (request: FastifyRequest, reply: FastifyReply) =>
    page(k.settings, request, reply, { title: 'Not found', variant: 'admin', status: 404 }, <div class="card"><h1>Not found</h1><p>There is no such post.</p><p><a href="/admin/newsletter/posts">All posts</a></p></div>);
}
