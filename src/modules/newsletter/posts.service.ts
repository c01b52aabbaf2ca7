import type { Kernel } from '../../kernel/context.js';
import type { Db } from '../../kernel/db/database.js';
import { newId } from '../../kernel/crypto/tokens.js';
import type { NewsletterPostsTable, PostKind } from './newsletter.tables.js';
import { InvalidInput, PostNotFound, SlugTaken } from './newsletter.errors.js';
import { excerpt } from './markdown.js';

export const POST_KINDS: Record<PostKind, string> = { release: 'Release news', status: 'Status update', tip: 'Tip', advisory: 'Security advisory' };

export interface PostInput { title?: string; slug?: string; kind?: string; summary?: string; body?: string }

export function slugify(title: string): string {
  return title.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 80).replace(/-+$/, '');
}

function validate(input: PostInput): Pick<NewsletterPostsTable, 'title' | 'slug' | 'kind' | 'summary' | 'body_md'> {
  const title = (input.title ?? '').replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
  if (!title || title.length > 200) throw new InvalidInput('Enter a title (at most 200 characters).');
  const slug = (input.slug ?? '').trim().toLowerCase() || slugify(title);
  if (!/^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$/.test(slug)) throw new InvalidInput('The address (slug) may hold lower-case letters, digits and hyphens, up to 80 characters, e.g. release-8-1.');
  const kind = input.kind ?? 'release';
  if (!Object.hasOwn(POST_KINDS, kind)) throw new InvalidInput(`Kind must be one of: ${Object.keys(POST_KINDS).join(', ')}.`);
  const body = (input.body ?? '').replace(/\r\n?/g, '\n');
  if (!body.trim()) throw new InvalidInput('Write the post (Markdown).');
  if (body.length > 100_000) throw new InvalidInput('The post is too long (at most 100,000 characters).');
  const summary = (input.summary ?? '').replace(/\s+/g, ' ').trim();
  if (summary.length > 500) throw new InvalidInput('The summary can be at most 500 characters.');
  return { title, slug, kind: kind as PostKind, summary: summary || excerpt(body), body_md: body };
}

export const postById = (db: Db, id: string) => db.selectFrom('newsletter_posts').selectAll().where('id', '=', id).executeTakeFirst();

export function publishedPosts(db: Db, limit: number, offset = 0) {
  return db.selectFrom('newsletter_posts').selectAll().where('status', '=', 'published')
    .orderBy('published_at', 'desc').orderBy('id').limit(limit).offset(offset).execute();
}

export function allPosts(db: Db) {
  return db.selectFrom('newsletter_posts').selectAll().orderBy('updated_at', 'desc').limit(500).execute();
}

export function publishedBySlug(db: Db, slug: string) {
  return db.selectFrom('newsletter_posts').selectAll().where('slug', '=', slug).where('status', '=', 'published').executeTakeFirst();
}

/** Which lists each post has already gone to (a post is never sent to the same list twice). */
export async function postSends(db: Db, postIds: string[]) {
  if (postIds.length === 0) return [];
  return db.selectFrom('newsletter_post_sends').selectAll().where('post_id', 'in', postIds).execute();
}

/** Blog posts written in the admin (Markdown), published on /blog and in the feeds. */
export class PostService {
  constructor(private readonly k: Kernel) {}

  private async slugFree(slug: string, exceptId?: string): Promise<void> {
    const other = await this.k.db.selectFrom('newsletter_posts').select('id').where('slug', '=', slug).executeTakeFirst();
    if (other && other.id !== exceptId) throw new SlugTaken();
  }

  async create(input: PostInput, staffId: string): Promise<string> {
    const v = validate(input);
    await this.slugFree(v.slug);
    const id = newId();
    const now = this.k.clock.now();
    await this.k.db.insertInto('newsletter_posts').values({ id, ...v, status: 'draft', published_at: null, created_at: now, updated_at: now, created_by: staffId, revision: 1 })
      .onConflict((oc) => oc.column('slug').doNothing()).execute();
    if (!(await postById(this.k.db, id))) throw new SlugTaken();
    await this.k.audit.record({ actorKind: 'staff', actorId: staffId, action: 'newsletter.post_created', target: id });
    return id;
  }

  async update(id: string, input: PostInput, staffId: string): Promise<void> {
    const post = await postById(this.k.db, id);
    if (!post) throw new PostNotFound();
    const v = validate(input);
    await this.slugFree(v.slug, id);
    await this.k.db.updateTable('newsletter_posts').set((eb) => ({ ...v, updated_at: this.k.clock.now(), revision: eb('revision', '+', 1) })).where('id', '=', id).execute();
    await this.k.audit.record({ actorKind: 'staff', actorId: staffId, action: 'newsletter.post_edited', target: id, detail: { revision: post.revision + 1 } });
  }

  async setPublished(id: string, published: boolean, staffId: string): Promise<void> {
    const post = await postById(this.k.db, id);
    if (!post) throw new PostNotFound();
    const now = this.k.clock.now();
    // The first publication date stays, so feeds do not show an old post as new when it is re-published.
    await this.k.db.updateTable('newsletter_posts').set({ status: published ? 'published' : 'draft', published_at: post.published_at ?? (published ? now : null), updated_at: now })
      .where('id', '=', id).execute();
    await this.k.audit.record({ actorKind: 'staff', actorId: staffId, action: published ? 'newsletter.post_published' : 'newsletter.post_unpublished', target: id });
  }
}
