import { sql } from 'kysely';
import type { Kernel } from '../../kernel/context.js';
import { newId } from '../../kernel/crypto/tokens.js';
import { likePattern } from './tickets.repository.js';
import { ArticleNotFound, InvalidInput, SlugTaken } from './support.errors.js';
import { cleanText } from './tickets.service.js';

export function slugify(s: string): string {
  return s.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 80);
}

function checkSlug(raw: unknown, fallbackFrom: string): string {
  const s = typeof raw === 'string' && raw.trim() ? raw.trim().toLowerCase() : slugify(fallbackFrom);
  if (!/^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$/.test(s)) throw Object.assign(new InvalidInput('The address (slug) may hold lower-case letters, digits and dashes, like "reset-password".'), { field: 'slug' });
  return s;
}

/** The knowledge base: categories and articles, with a LIKE search that reads the same on both dialects. */
export class KbService {
  constructor(private readonly k: Kernel) {}

  categories() {
    return this.k.db.selectFrom('support_kb_categories').selectAll().orderBy('position').orderBy('name').execute();
  }

  articles(opts: { categoryId?: string; includeDrafts?: boolean; limit?: number } = {}) {
    let q = this.k.db.selectFrom('support_kb_articles').select(['id', 'slug', 'title', 'category_id', 'published', 'updated_at', 'body']);
    if (!opts.includeDrafts) q = q.where('published', '=', 1);
    if (opts.categoryId) q = q.where('category_id', '=', opts.categoryId);
    return q.orderBy('title').limit(opts.limit ?? 500).execute();
  }

  async search(text: string) {
    const pattern = likePattern(text.trim().slice(0, 200));
    return this.k.db.selectFrom('support_kb_articles').select(['id', 'slug', 'title', 'body', 'category_id', 'updated_at']).where('published', '=', 1)
      .where((eb) => eb.or([sql<boolean>`lower(title) like ${pattern} escape '\\'`, sql<boolean>`lower(body) like ${pattern} escape '\\'`]))
      // Title matches first, then the most recently updated.
      .orderBy(sql`case when lower(title) like ${pattern} escape '\\' then 0 else 1 end`).orderBy('updated_at', 'desc').limit(50).execute();
  }

  async article(slug: string, includeDrafts = false) {
    const a = await this.k.db.selectFrom('support_kb_articles').selectAll().where('slug', '=', slug).executeTakeFirst();
    if (!a || (!a.published && !includeDrafts)) throw new ArticleNotFound();
    return a;
  }

  async saveArticle(id: string | null, input: Record<string, unknown>, staffId: string): Promise<string> {
    const title = cleanText(input.title, 'title', 'a title', 200);
    const body = cleanText(input.body, 'body', 'the article text', 200_000);
    const slug = checkSlug(input.slug, title);
    const categoryId = typeof input.category === 'string' && input.category ? input.category : null;
    if (categoryId && !(await this.k.db.selectFrom('support_kb_categories').select('id').where('id', '=', categoryId).executeTakeFirst())) {
      throw Object.assign(new InvalidInput('Choose one of the categories.'), { field: 'category' });
    }
    const clash = await this.k.db.selectFrom('support_kb_articles').select('id').where('slug', '=', slug).executeTakeFirst();
    if (clash && clash.id !== id) throw Object.assign(new SlugTaken(), { field: 'slug' });
    const now = this.k.clock.now();
    const values = { slug, title, body, category_id: categoryId, published: input.published === '1' ? 1 : 0, updated_at: now };
    if (id) {
      await this.k.db.updateTable('support_kb_articles').set(values).where('id', '=', id).execute();
      return id;
    }
    const newIdValue = newId();
    await this.k.db.insertInto('support_kb_articles').values({ id: newIdValue, ...values, created_by: staffId, created_at: now }).execute();
    return newIdValue;
  }

  async deleteArticle(id: string): Promise<void> {
    await this.k.db.deleteFrom('support_kb_articles').where('id', '=', id).execute();
  }

  async addCategory(input: Record<string, unknown>): Promise<void> {
    const name = cleanText(input.name, 'name', 'a name', 100);
    const slug = checkSlug(input.slug, name);
    if (await this.k.db.selectFrom('support_kb_categories').select('id').where('slug', '=', slug).executeTakeFirst()) throw Object.assign(new SlugTaken(), { field: 'slug' });
    const last = await this.k.db.selectFrom('support_kb_categories').select((eb) => eb.fn.max('position').as('p')).executeTakeFirst();
    await this.k.db.insertInto('support_kb_categories').values({ id: newId(), slug, name, position: Number(last?.p ?? 0) + 1 }).execute();
  }

  async deleteCategory(id: string): Promise<void> {
    await this.k.db.transaction().execute(async (trx) => {
      await trx.updateTable('support_kb_articles').set({ category_id: null }).where('category_id', '=', id).execute();
      await trx.deleteFrom('support_kb_categories').where('id', '=', id).execute();
    });
  }
}
