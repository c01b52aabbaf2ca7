import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Kernel } from '../../kernel/context.js';
import { page } from '../../kernel/http/page.js';
import type { KbService } from './kb.service.js';
import { excerpt, RichText } from './richtext.js';
import { fmtTime } from './views.js';

// Any short text: a slug that is no article or category is not found (404), not a malformed request.
const slugParams = Type.Object({ slug: Type.String({ maxLength: 200 }) });

/** The public knowledge base: categories, articles and search. */
export function registerKbPages(app: FastifyInstance, k: Kernel, kb: KbService): void {
  const SearchForm = ({ q }: { q?: string }) => (
    <form method="get" action="/support/kb" class="card search-box" role="search">
      <label for="f-q">Search the knowledge base</label>
      <div class="search-row"><input id="f-q" name="q" type="search" value={q ?? ''} maxLength={200} /><button type="submit">Search</button></div>
    </form>
  );

  app.get('/support/kb', { schema: { querystring: Type.Object({ q: Type.Optional(Type.String({ maxLength: 200 })) }) } }, async (request, reply) => {
    const q = ((request.query as { q?: string }).q ?? '').trim();
    const categories = await kb.categories();
    if (q) {
      const hits = await kb.search(q);
      return page(k.settings, request, reply, { title: `Search: ${q}` }, (
        <>
          <p class="muted"><a href="/support">Support</a> › <a href="/support/kb">Knowledge base</a></p>
          <h1>Results for “{q}”</h1>
          <SearchForm q={q} />
          {hits.length === 0
            ? <div class="card"><p>No article matches. Try other words, ask in the <a href="/support/forum">forum</a>, or <a href="/support/contact">contact support</a>.</p></div>
            : <ul class="result-list">{hits.map((a) => <li class="card"><h2><a href={`/support/kb/${a.slug}`}>{a.title}</a></h2><p class="muted">{excerpt(a.body)}</p></li>)}</ul>}
        </>
      ));
    }
    const articles = await kb.articles();
    const loose = articles.filter((a) => !a.category_id || !categories.some((c) => c.id === a.category_id));
    return page(k.settings, request, reply, { title: 'Knowledge base' }, (
      <>
        <p class="muted"><a href="/support">Support</a> › Knowledge base</p>
        <h1>Knowledge base</h1>
        <SearchForm />
        <div class="grid">
          {categories.map((c) => {
            const own = articles.filter((a) => a.category_id === c.id);
            return (
              <section class="card"><h2><a href={`/support/kb/category/${c.slug}`}>{c.name}</a></h2>
                {own.length ? <ul>{own.slice(0, 8).map((a) => <li><a href={`/support/kb/${a.slug}`}>{a.title}</a></li>)}</ul> : <p class="muted">No articles yet.</p>}
                {own.length > 8 ? <p><a href={`/support/kb/category/${c.slug}`}>All {own.length} articles</a></p> : null}
              </section>
            );
          })}
          {loose.length ? <section class="card"><h2>Other articles</h2><ul>{loose.map((a) => <li><a href={`/support/kb/${a.slug}`}>{a.title}</a></li>)}</ul></section> : null}
          {articles.length === 0 ? <section class="card"><p>There are no articles yet. <a href="/support/contact">Contact support</a> instead.</p></section> : null}
        </div>
      </>
    ));
  });

  app.get('/support/kb/category/:slug', { schema: { params: slugParams } }, async (request, reply) => {
    const c = (await kb.categories()).find((x) => x.slug === (request.params as { slug: string }).slug);
    if (!c) return page(k.settings, request, reply, { title: 'Not found', status: 404 }, <div class="card narrow"><h1>No such category</h1><p><a href="/support/kb">Knowledge base</a></p></div>);
    const articles = await kb.articles({ categoryId: c.id });
    return page(k.settings, request, reply, { title: c.name }, (
      <>
        <p class="muted"><a href="/support">Support</a> › <a href="/support/kb">Knowledge base</a> › {c.name}</p>
        <h1>{c.name}</h1>
        <ul class="result-list">{articles.map((a) => <li class="card"><h2><a href={`/support/kb/${a.slug}`}>{a.title}</a></h2><p class="muted">{excerpt(a.body)}</p></li>)}</ul>
        {articles.length === 0 ? <p class="muted">No articles in this category yet.</p> : null}
      </>
    ));
  });

  app.get('/support/kb/:slug', { schema: { params: slugParams } }, async (request, reply) => {
    const staff = request.auth?.kind === 'staff';
    const a = await kb.article((request.params as { slug: string }).slug, staff);
    const c = a.category_id ? (await kb.categories()).find((x) => x.id === a.category_id) : undefined;
    return page(k.settings, request, reply, { title: a.title }, (
      <>
        <p class="muted"><a href="/support">Support</a> › <a href="/support/kb">Knowledge base</a>{c ? <> › <a href={`/support/kb/category/${c.slug}`}>{c.name}</a></> : null}</p>
        <article class="card">
          <h1>{a.title}{a.published ? null : <> <span class="badge warn">Draft</span></>}</h1>
          <RichText text={a.body} />
          <p class="muted">Updated {fmtTime(a.updated_at).slice(0, 10)}{staff ? <> · <a href={`/admin/kb/${a.id}`}>Edit</a></> : null}</p>
        </article>
        <p>Not what you needed? <a href="/support/forum">Ask in the forum</a> or <a href="/support/contact">contact support</a>.</p>
      </>
    ));
  });
}
