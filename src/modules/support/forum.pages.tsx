import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Kernel } from '../../kernel/context.js';
import { formBody, LONG_FORM_BODY_LIMIT, page, pageNumber, PAGE_QUERY } from '../../kernel/http/page.js';
import { Csrf, ErrorSummary, Field, Pager } from '../../kernel/views/layout.js';
import { moderates, TOPICS_PER_PAGE, type ForumService } from './forum.service.js';
import { RichText } from './richtext.js';
import { NotAllowed } from './support.errors.js';
import { fmtTime, TextArea } from './views.js';

// Any short text: a slug that is no article or category is not found (404), not a malformed request.
const slugParams = Type.Object({ slug: Type.String({ maxLength: 200 }) });
const idParams = Type.Object({ id: Type.String({ pattern: '^[0-9a-f-]{36}$' }) });
type Values = Record<string, string | undefined>;

/** The community forum: read by anyone; signed-in customers post; staff moderate in place. */
export function registerForumPages(app: FastifyInstance, k: Kernel, forum: ForumService): void {
  const isModerator = (r: FastifyRequest) => moderates(r.auth);
  const signIn = (r: FastifyRequest) => <p><a href={`/account/login?next=${encodeURIComponent(r.url)}`}>Sign in</a> to post (or <a href="/account/register">create an account</a>).</p>;
  const postRate = { max: 30, timeWindow: 3600_000 };

  app.get('/support/forum', async (request, reply) => {
    const cats = await forum.categories();
    return page(k.settings, request, reply, { title: 'Forum' }, (
      <>
        <p class="muted"><a href="/support">Support</a> › Forum</p>
        <h1>Community forum</h1>
        {cats.length === 0 ? <div class="card"><p>The forum has no categories yet.</p></div> : (
          <div class="grid">{cats.map((c) => <section class="card"><h2><a href={`/support/forum/${c.slug}`}>{c.name}</a></h2><p class="muted">{c.description}</p></section>)}</div>
        )}
      </>
    ));
  });

  const categoryPage = async (request: FastifyRequest, reply: FastifyReply, slug: string, v: Values = {}, error?: Record<string, string>, n = 1) => {
    const c = await forum.category(slug);
    const threads = await forum.threads(c.id, isModerator(request), n);
    return page(k.settings, request, reply, { title: c.name, status: error ? 400 : 200 }, (
      <>
        <p class="muted"><a href="/support">Support</a> › <a href="/support/forum">Forum</a> › {c.name}</p>
        <h1>{c.name}</h1>
        {c.description ? <p class="muted">{c.description}</p> : null}
        <div class="table-wrap"><table>
          <thead><tr><th>Topic</th><th>Started by</th><th>Last post</th></tr></thead>
          <tbody>
            {threads.slice(0, TOPICS_PER_PAGE).map((t) => (
              <tr><td><a href={`/support/forum/t/${t.id}`}>{t.title}</a>{t.accepted_post_id && (!Number(t.accepted_hidden) || isModerator(request)) ? <> <span class="badge ok">Answered</span></> : null}{t.locked ? <> <span class="badge">Locked</span></> : null}{t.hidden ? <> <span class="badge bad">Hidden</span></> : null}</td>
                <td>{t.author_name}</td><td>{fmtTime(t.last_post_at)}</td></tr>
            ))}
            {threads.length === 0 ? <tr><td colSpan={3} class="muted">{n > 1 ? <>No topics on this page. <a href={`/support/forum/${c.slug}`}>See the latest</a>.</> : 'No topics yet: start the first one.'}</td></tr> : null}
          </tbody>
        </table></div>
        <Pager base={`/support/forum/${c.slug}`} page={n} hasMore={threads.length > TOPICS_PER_PAGE} what="topics" />
        <section class="card">
          <h2>Start a topic</h2>
          {request.auth ? (
            <form method="post" action={`/support/forum/${c.slug}/threads`}>
              <Csrf token={request.csrfToken()} />
              {error ? <ErrorSummary errors={error} /> : null}
              <Field label="Title" name="title" value={v.title} required maxLength={200} error={error?.title} />
              <TextArea label="Your question" name="body" value={v.body} required error={error?.body} hint="Blank lines start paragraphs; lines starting with “- ” make a list; ``` fences code; **bold**, *italic*, `code` and [a link](https://…) work within lines." />
              <p class="muted">Your post is public and shows your first name and initial.</p>
              <button type="submit">Post topic</button>
            </form>
          ) : signIn(request)}
        </section>
      </>
    ));
  };

  app.get('/support/forum/:slug', { schema: { params: slugParams, querystring: PAGE_QUERY } }, async (request, reply) =>
    categoryPage(request, reply, (request.params as { slug: string }).slug, {}, undefined, pageNumber((request.query as { page?: string }).page)));
  app.post('/support/forum/:slug/threads', { bodyLimit: LONG_FORM_BODY_LIMIT, schema: { params: slugParams, body: formBody({ title: 400, body: 100_000 }) }, config: { rateLimit: postRate } }, async (request, reply) => {
    const { slug } = request.params as { slug: string };
    if (!request.auth) return reply.redirect(`/account/login?next=${encodeURIComponent(`/support/forum/${slug}`)}`, 303);
    const c = await forum.category(slug);
    const v = (request.body ?? {}) as Values;
    try {
      const id = await forum.startThread(c.id, request.auth, v);
      return reply.redirect(`/support/forum/t/${id}`, 303);
    } catch (err) {
      const e = err as { code?: string; message: string; field?: string };
      if (!e.code?.startsWith('SUP_')) throw err;
      return categoryPage(request, reply, slug, v, { [e.field ?? '_form']: e.message });
    }
  });

  const threadPage = async (request: FastifyRequest, reply: FastifyReply, id: string, v: Values = {}, error?: string) => {
    const staff = isModerator(request);
    const { thread, posts } = await forum.thread(id, staff);
    const cats = await forum.categories();
    const c = cats.find((x) => x.id === thread.category_id);
    const mayAccept = staff || (request.auth?.kind === 'customer' && request.auth.subjectId === thread.author_customer_id);
    const accepted = posts.find((p) => p.id === thread.accepted_post_id);
    const csrf = request.auth ? request.csrfToken() : '';
    return page(k.settings, request, reply, { title: thread.title, status: error ? 400 : 200 }, (
      <>
        <p class="muted"><a href="/support">Support</a> › <a href="/support/forum">Forum</a>{c ? <> › <a href={`/support/forum/${c.slug}`}>{c.name}</a></> : null}</p>
        <h1>{thread.title}{thread.locked ? <> <span class="badge">Locked</span></> : null}{thread.hidden ? <> <span class="badge bad">Hidden</span></> : null}</h1>
        {staff ? (
          <div class="mod-bar">
            {[thread.locked ? 'unlock' : 'lock', thread.hidden ? 'unhide' : 'hide'].map((a) => (
              <form method="post" action={`/support/forum/t/${thread.id}/moderate`} class="inline"><Csrf token={csrf} /><input type="hidden" name="action" value={a} /><button type="submit" class="secondary">{a[0]!.toUpperCase() + a.slice(1)} topic</button></form>
            ))}
          </div>
        ) : null}
        {accepted ? <p class="flash">Answered: see the <a href={`#p-${accepted.id}`}>accepted answer by {accepted.author_name}</a>.</p> : null}
        <ol class="forum-posts">
          {posts.map((p, i) => (
            <li class={`card${p.id === thread.accepted_post_id ? ' accepted' : ''}${p.hidden ? ' hidden-post' : ''}`} id={`p-${p.id}`}>
              <p class="muted"><strong>{p.author_name}</strong> · {fmtTime(p.created_at)}{p.id === thread.accepted_post_id ? <> · <span class="badge ok">Accepted answer</span></> : null}{p.hidden ? <> · <span class="badge bad">Hidden</span></> : null}</p>
              <RichText text={p.body} />
              <div class="post-actions">
                {mayAccept && i > 0 ? (
                  <form method="post" action={`/support/forum/t/${thread.id}/accept`} class="inline"><Csrf token={csrf} /><input type="hidden" name="post" value={p.id === thread.accepted_post_id ? '' : p.id} />
                    <button type="submit" class="link">{p.id === thread.accepted_post_id ? 'Unmark answer' : 'Mark as the answer'}</button></form>
                ) : null}
                {staff ? (
                  <form method="post" action={`/support/forum/p/${p.id}/moderate`} class="inline"><Csrf token={csrf} /><input type="hidden" name="action" value={p.hidden ? 'unhide' : 'hide'} />
                    <button type="submit" class="link">{p.hidden ? 'Show post' : 'Hide post'}</button></form>
                ) : null}
              </div>
            </li>
          ))}
        </ol>
        <section class="card">
          <h2>Reply</h2>
          {thread.locked && !staff ? <p class="muted">This topic is locked.</p> : request.auth ? (
            <form method="post" action={`/support/forum/t/${thread.id}/reply`}>
              <Csrf token={csrf} />
              <TextArea label="Your reply" name="body" value={v.body} required error={error} />
              <button type="submit">Post reply</button>
            </form>
          ) : signIn(request)}
        </section>
      </>
    ));
  };

  app.get('/support/forum/t/:id', { schema: { params: idParams } }, async (request, reply) => threadPage(request, reply, (request.params as { id: string }).id));

  app.post('/support/forum/t/:id/reply', { bodyLimit: LONG_FORM_BODY_LIMIT, schema: { params: idParams, body: formBody({ body: 100_000 }) }, config: { rateLimit: postRate } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    if (!request.auth) return reply.redirect(`/account/login?next=${encodeURIComponent(`/support/forum/t/${id}`)}`, 303);
    const v = (request.body ?? {}) as Values;
    try {
      await forum.reply(id, request.auth, v);
    } catch (err) {
      const e = err as { code?: string; message: string };
      if (!e.code?.startsWith('SUP_') || e.code === 'SUP_FORUM_NOT_FOUND') throw err;
      return threadPage(request, reply, id, v, e.message);
    }
    return reply.redirect(`/support/forum/t/${id}`, 303);
  });

  app.post('/support/forum/t/:id/accept', { schema: { params: idParams, body: formBody({ post: 40 }) } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    if (!request.auth) return reply.redirect(`/account/login?next=${encodeURIComponent(`/support/forum/t/${id}`)}`, 303);
    await forum.accept(id, (request.body as Values).post || null, request.auth);
    return reply.redirect(`/support/forum/t/${id}`, 303);
  });

  // Signed out: sign in first. Signed in as sales: a plain refusal (sending them to sign in again explained nothing).
  const staffOnly = async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.auth?.kind !== 'staff') return reply.redirect(`/admin/login?next=${encodeURIComponent('/support/forum')}`, 303);
    if (!moderates(request.auth)) throw new NotAllowed();
  };
  app.post('/support/forum/t/:id/moderate', { preHandler: staffOnly, schema: { params: idParams, body: formBody({ action: 10 }) } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    await forum.moderateThread(id, (request.body as Values).action ?? '', request.auth!.subjectId);
    return reply.redirect(`/support/forum/t/${id}`, 303);
  });
  app.post('/support/forum/p/:id/moderate', { preHandler: staffOnly, schema: { params: idParams, body: formBody({ action: 10 }) } }, async (request, reply) => {
    const threadId = await forum.moderatePost((request.params as { id: string }).id, (request.body as Values).action ?? '', request.auth!.subjectId);
    return reply.redirect(`/support/forum/t/${threadId}#main`, 303);
  });
}
