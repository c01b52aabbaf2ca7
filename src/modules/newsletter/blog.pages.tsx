import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Kernel } from '../../kernel/context.js';
import { page, pageNumber, PAGE_QUERY } from '../../kernel/http/page.js';
import { loadBrand } from '../../kernel/views/brand.js';
import { markdownToHtml } from './markdown.js';
import { POST_KINDS, publishedBySlug, publishedPosts } from './posts.service.js';
import { atomFeed, rssFeed } from './feeds.js';
import { signupWording } from './consent.js';
import { SafeHtml, SignupForm, fmtDate } from './views.js';
import { Pager } from '../../kernel/views/layout.js';

const PER_PAGE = 10;
const FEED_SIZE = 20;

/** The public blog: post list, post pages, and RSS and Atom feeds. */
export function registerBlogPages(app: FastifyInstance, k: Kernel): void {
  app.get('/blog', { schema: { querystring: PAGE_QUERY } }, async (request, reply) => {
    const n = pageNumber((request.query as { page?: string }).page);
    const posts = await publishedPosts(k.db, PER_PAGE + 1, (n - 1) * PER_PAGE);
    const brand = await loadBrand(k.settings);
    return page(k.settings, request, reply, { title: 'Blog' }, (
      <>
        <h1>Blog</h1>
        <p class="muted">Release news, status updates and tips from {brand.name}. Follow by <a href="/blog/rss.xml">RSS</a> or <a href="/blog/atom.xml">Atom</a>, or get selected posts by email.</p>
        <div class="blog-layout">
          <div>
            {posts.length === 0 ? <p class="card">{n > 1 ? <>No posts on this page. <a href="/blog">See the newest posts</a>.</> : 'Nothing has been posted yet.'}</p> : null}
            {posts.slice(0, PER_PAGE).map((p) => (
              <article class="card">
                <p class="muted blog-meta"><span class="badge">{POST_KINDS[p.kind]}</span> <time dateTime={new Date(p.published_at ?? p.created_at).toISOString()}>{fmtDate(p.published_at)}</time></p>
                <h2><a href={`/blog/${p.slug}`}>{p.title}</a></h2>
                <p>{p.summary}</p>
                <p><a href={`/blog/${p.slug}`}>Read “{p.title}”</a></p>
              </article>
            ))}
            <Pager base="/blog" page={n} hasMore={posts.length > PER_PAGE} what="posts" />
          </div>
          <aside class="card" aria-labelledby="signup-heading">
            <h2 id="signup-heading">Get the newsletter</h2>
            <SignupForm csrf={request.csrfToken()} wording={signupWording(brand)} from="/blog" />
          </aside>
        </div>
      </>
    ));
  });

  app.get('/blog/rss.xml', async (_request, reply) => {
    const { info, posts } = await feedData(k);
    return reply.type('application/rss+xml; charset=utf-8').header('cache-control', 'public, max-age=300').send(rssFeed(info, posts));
  });

  app.get('/blog/atom.xml', async (_request, reply) => {
    const { info, posts } = await feedData(k);
    return reply.type('application/atom+xml; charset=utf-8').header('cache-control', 'public, max-age=300').send(atomFeed(info, posts));
  });

  app.get('/blog/:slug', { schema: { params: Type.Object({ slug: Type.String({ maxLength: 100 }) }) } }, async (request, reply) => {
    const post = await publishedBySlug(k.db, (request.params as { slug: string }).slug);
    if (!post) {
      return page(k.settings, request, reply, { title: 'Post not found', status: 404 }, (
        <div class="card narrow"><h1>Post not found</h1><p>There is no post at this address.</p><p><a href="/blog">All posts</a></p></div>
      ));
    }
    const brand = await loadBrand(k.settings);
    return page(k.settings, request, reply, { title: post.title }, (
      <div class="blog-layout">
        <article class="card">
          <p class="muted blog-meta"><span class="badge">{POST_KINDS[post.kind]}</span> <time dateTime={new Date(post.published_at ?? post.created_at).toISOString()}>{fmtDate(post.published_at)}</time></p>
          <h1>{post.title}</h1>
          <SafeHtml class="blog-body" html={markdownToHtml(post.body_md, { headingOffset: 1 })} />
          <p><a href="/blog">All posts</a></p>
        </article>
        <aside class="card" aria-labelledby="signup-heading">
          <h2 id="signup-heading">Get the newsletter</h2>
          <SignupForm csrf={request.csrfToken()} wording={signupWording(brand)} from={`/blog/${post.slug}`} />
        </aside>
      </div>
    ));
  });
}

async function feedData(k: Kernel) {
  const brand = await loadBrand(k.settings);
  const posts = await publishedPosts(k.db, FEED_SIZE);
  const updatedAt = posts.reduce((m, p) => Math.max(m, p.updated_at), 0) || k.clock.now();
  return { info: { title: `${brand.name} blog`, description: `Release news, status updates and tips from ${brand.name}.`, publicUrl: k.config.publicUrl, updatedAt }, posts };
}
