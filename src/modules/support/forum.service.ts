import type { Kernel } from '../../kernel/context.js';
import type { RequestAuth } from '../../kernel/http/request-auth.js';
import { newId } from '../../kernel/crypto/tokens.js';
import { ForumNotFound, InvalidInput, NotAllowed, SlugTaken, ThreadLocked } from './support.errors.js';
import { slugify } from './kb.service.js';
import { cleanText } from './tickets.service.js';

/**
 * Staff who look after the forum: see hidden posts, post in locked topics, mark answers, moderate.
 * The roles the admin's forum page is for (admin/access.ts); sales has no part in the forum.
 */
export function moderates(auth: RequestAuth | null | undefined): boolean {
  return auth?.kind === 'staff' && auth.role !== 'sales';
}

export const TOPICS_PER_PAGE = 50;

/**
 * The community forum. Signed-in customers start threads and reply; the thread's author (or staff)
 * marks the answer that solved it; staff moderate by hiding posts and threads and locking threads.
 * Posts show a short name ("Ada L."), not the full name or email of the account.
 */
export function displayName(fullName: string): string {
  const parts = fullName.trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) return 'Customer';
  // Whole characters as people see them: cutting by UTF-16 unit split an emoji or an accented letter in two.
  const first = graphemes(parts[0]!).slice(0, 40).join('');
  return parts.length === 1 ? first : `${first} ${graphemes(parts[parts.length - 1]!)[0]!.toUpperCase()}.`;
}

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const graphemes = (s: string): string[] => Array.from(segmenter.segment(s), (g) => g.segment);

export class ForumService {
  constructor(private readonly k: Kernel) {}

  categories() {
    return this.k.db.selectFrom('support_forum_categories').selectAll().orderBy('position').orderBy('name').execute();
  }

  async category(slug: string) {
    const c = await this.k.db.selectFrom('support_forum_categories').selectAll().where('slug', '=', slug).executeTakeFirst();
    if (!c) throw new ForumNotFound();
    return c;
  }

  /** A page of a category's topics, latest first: TOPICS_PER_PAGE of them, and one more when a next page exists. */
  threads(categoryId: string, staff: boolean, page = 1) {
    let q = this.k.db.selectFrom('support_forum_threads as t')
      // An accepted answer that staff hid answers nothing for the public: the list says "Answered" only for a visible one.
      .leftJoin('support_forum_posts as ap', 'ap.id', 't.accepted_post_id')
      .selectAll('t').select((eb) => eb.fn.coalesce('ap.hidden', eb.val(1)).as('accepted_hidden'))
      .where('t.category_id', '=', categoryId);
    if (!staff) q = q.where('t.hidden', '=', 0);
    return q.orderBy('t.last_post_at', 'desc').orderBy('t.id').limit(TOPICS_PER_PAGE + 1).offset((page - 1) * TOPICS_PER_PAGE).execute();
  }

  async thread(id: string, staff: boolean) {
    const t = await this.k.db.selectFrom('support_forum_threads').selectAll().where('id', '=', id).executeTakeFirst();
    if (!t || (t.hidden && !staff)) throw new ForumNotFound();
    let q = this.k.db.selectFrom('support_forum_posts').selectAll().where('thread_id', '=', id);
    if (!staff) q = q.where('hidden', '=', 0);
    return { thread: t, posts: await q.orderBy('created_at').orderBy('id').execute() };
  }

  private author(auth: RequestAuth) {
    if (auth.kind === 'customer') return { author_customer_id: auth.subjectId, author_staff_id: null, author_name: displayName(auth.name) };
    return { author_customer_id: null, author_staff_id: auth.subjectId, author_name: `${displayName(auth.name)} (staff)` };
  }

  async startThread(categoryId: string, auth: RequestAuth, input: Record<string, unknown>): Promise<string> {
    const title = cleanText(input.title, 'title', 'a title', 200);
    const body = cleanText(input.body, 'body', 'your question', 20_000);
    const now = this.k.clock.now();
    const id = newId();
    const who = this.author(auth);
    await this.k.db.transaction().execute(async (trx) => {
      await trx.insertInto('support_forum_threads').values({
        id, category_id: categoryId, title, author_customer_id: who.author_customer_id, author_name: who.author_name,
        accepted_post_id: null, locked: 0, hidden: 0, created_at: now, last_post_at: now,
      }).execute();
      await trx.insertInto('support_forum_posts').values({ id: newId(), thread_id: id, ...who, body, hidden: 0, created_at: now }).execute();
    });
    return id;
  }

  async reply(threadId: string, auth: RequestAuth, input: Record<string, unknown>): Promise<void> {
    const { thread } = await this.thread(threadId, moderates(auth));
    if (thread.locked && !moderates(auth)) throw new ThreadLocked();
    const body = cleanText(input.body, 'body', 'your reply', 20_000);
    // Strictly after the last post, so a thread has one order even within a millisecond.
    const now = Math.max(this.k.clock.now(), thread.last_post_at + 1);
    await this.k.db.transaction().execute(async (trx) => {
      await trx.insertInto('support_forum_posts').values({ id: newId(), thread_id: threadId, ...this.author(auth), body, hidden: 0, created_at: now }).execute();
      await trx.updateTable('support_forum_threads').set({ last_post_at: now }).where('id', '=', threadId).execute();
    });
  }

  /** The thread's author or staff mark (or, with no post, unmark) the accepted answer. */
  async accept(threadId: string, postId: string | null, auth: RequestAuth): Promise<void> {
    const { thread, posts } = await this.thread(threadId, moderates(auth));
    const mayAccept = moderates(auth) || (auth.kind === 'customer' && thread.author_customer_id === auth.subjectId);
    if (!mayAccept) throw new NotAllowed();
    if (postId && (!posts.some((p) => p.id === postId) || posts[0]?.id === postId)) throw new InvalidInput('Choose one of the replies.');
    await this.k.db.updateTable('support_forum_threads').set({ accepted_post_id: postId }).where('id', '=', threadId).execute();
  }

  async moderateThread(threadId: string, action: string, staffId: string): Promise<void> {
    const set = action === 'lock' ? { locked: 1 } : action === 'unlock' ? { locked: 0 } : action === 'hide' ? { hidden: 1 } : action === 'unhide' ? { hidden: 0 } : null;
    if (!set) throw new InvalidInput('Unknown moderation action.');
    await this.k.db.updateTable('support_forum_threads').set(set).where('id', '=', threadId).execute();
    await this.k.audit.record({ actorKind: 'staff', actorId: staffId, action: `support.forum.thread.${action}`, target: threadId });
  }

  async moderatePost(postId: string, action: string, staffId: string): Promise<string> {
    const p = await this.k.db.selectFrom('support_forum_posts').select(['thread_id']).where('id', '=', postId).executeTakeFirst();
    if (!p) throw new ForumNotFound();
    if (action !== 'hide' && action !== 'unhide') throw new InvalidInput('Unknown moderation action.');
    await this.k.db.updateTable('support_forum_posts').set({ hidden: action === 'hide' ? 1 : 0 }).where('id', '=', postId).execute();
    await this.k.audit.record({ actorKind: 'staff', actorId: staffId, action: `support.forum.post.${action}`, target: postId });
    return p.thread_id;
  }

  async addCategory(input: Record<string, unknown>): Promise<void> {
    const name = cleanText(input.name, 'name', 'a name', 100);
    const description = typeof input.description === 'string' ? input.description.trim().slice(0, 300) : '';
    const slug = typeof input.slug === 'string' && input.slug.trim() ? input.slug.trim().toLowerCase() : slugify(name);
    if (!/^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$/.test(slug) || slug === 't') throw Object.assign(new InvalidInput('The address (slug) may hold lower-case letters, digits and dashes.'), { field: 'slug' });
    if (await this.k.db.selectFrom('support_forum_categories').select('id').where('slug', '=', slug).executeTakeFirst()) throw new SlugTaken();
    const last = await this.k.db.selectFrom('support_forum_categories').select((eb) => eb.fn.max('position').as('p')).executeTakeFirst();
    await this.k.db.insertInto('support_forum_categories').values({ id: newId(), slug, name, description, position: Number(last?.p ?? 0) + 1 }).execute();
  }

  async deleteCategory(id: string): Promise<void> {
    const used = await this.k.db.selectFrom('support_forum_threads').select('id').where('category_id', '=', id).executeTakeFirst();
    if (used) throw new InvalidInput('Only an empty category can be deleted; hide its threads or move on.');
    await this.k.db.deleteFrom('support_forum_categories').where('id', '=', id).execute();
  }
}
