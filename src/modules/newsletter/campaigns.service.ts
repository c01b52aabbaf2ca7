import { sql } from 'kysely';
import type { Kernel } from '../../kernel/context.js';
import type { Db } from '../../kernel/db/database.js';
import { lockForUpdate } from '../../kernel/db/dialect.js';
import { newId } from '../../kernel/crypto/tokens.js';
import { loadBrand } from '../../kernel/views/brand.js';
import type { ListId, NewsletterCampaignsTable, NewsletterPostsTable } from './newsletter.tables.js';
import { LISTS, isListId } from './lists.js';
import { CampaignNotDraft, CampaignNotFound, CampaignState, InvalidInput, PostAlreadySent, Suppressed } from './newsletter.errors.js';
import { markdownToHtml, markdownToText } from './markdown.js';
import { composeListMail } from './list-mail.js';
import { isSuppressed } from './suppression.js';
import { NOBODY } from './tokens.js';
import { loadNewsletterSettings, sendingIdentity } from './newsletter.settings.js';
import { normaliseEmail } from './subscriptions.service.js';

export const SEND_BATCH_JOB = 'newsletter.send-batch';
const batchKey = (campaignId: string, seq: number) => `newsletter:${campaignId}:batch:${seq}`;

export interface CampaignInput { listId?: string; subject?: string; intro?: string; postIds?: string[] }

export const campaignById = (db: Db, id: string) => db.selectFrom('newsletter_campaigns').selectAll().where('id', '=', id).executeTakeFirst();

export function campaignPosts(db: Db, campaignId: string) {
  return db.selectFrom('newsletter_campaign_posts as cp').innerJoin('newsletter_posts as p', 'p.id', 'cp.post_id')
    .selectAll('p').where('cp.campaign_id', '=', campaignId).orderBy('cp.position').execute();
}

export function recentCampaigns(db: Db) {
  return db.selectFrom('newsletter_campaigns').selectAll().orderBy('created_at', 'desc').limit(100).execute();
}

/** The campaign's content: the written introduction, then each selected post in full with a link to it. */
export function renderCampaignBody(publicUrl: string, intro: string, posts: NewsletterPostsTable[]): { html: string; text: string } {
  const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
  const opts = { baseUrl: publicUrl };
  const html: string[] = [];
  const text: string[] = [];
  if (intro.trim()) { html.push(markdownToHtml(intro, opts)); text.push(markdownToText(intro, opts)); }
  for (const p of posts) {
    const url = `${publicUrl}/blog/${p.slug}`;
    html.push(`<h2><a href="${esc(url)}">${esc(p.title)}</a></h2>\n${markdownToHtml(p.body_md, { ...opts, headingOffset: 2 })}\n<p><a href="${esc(url)}">Read this on our blog</a></p>`);
    text.push(`${p.title}\n${'-'.repeat(Math.min(p.title.length, 72))}\n\n${markdownToText(p.body_md, { ...opts, headingOffset: 2 })}\n\nRead this on our blog: ${url}`);
  }
  return { html: html.join('\n<hr>\n'), text: text.join('\n\n* * *\n\n') };
}

/** Campaigns: built from blog posts (or written), previewed, tested, then sent in rate-limited batches. */
export class CampaignService {
  constructor(private readonly k: Kernel) {}

  private async validate(input: CampaignInput): Promise<{ listId: ListId; subject: string; intro: string; postIds: string[] }> {
    if (!isListId(input.listId)) throw new InvalidInput('Choose a list.');
    const subject = (input.subject ?? '').replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
    if (!subject || subject.length > 200) throw new InvalidInput('Enter a subject (at most 200 characters).');
    const intro = (input.intro ?? '').replace(/\r\n?/g, '\n');
    if (intro.length > 50_000) throw new InvalidInput('The introduction is too long (at most 50,000 characters).');
    const postIds = [...new Set(input.postIds ?? [])];
    if (postIds.length > 20) throw new InvalidInput('Choose at most 20 posts.');
    if (!intro.trim() && postIds.length === 0) throw new InvalidInput('Choose at least one post, or write the message.');
    if (postIds.length) {
      const found = await this.k.db.selectFrom('newsletter_posts').select('id').where('id', 'in', postIds).execute();
      if (found.length !== postIds.length) throw new InvalidInput('One of the chosen posts no longer exists.');
    }
    return { listId: input.listId, subject, intro, postIds };
  }

  private async writePosts(trx: Db, campaignId: string, postIds: string[]): Promise<void> {
    await trx.deleteFrom('newsletter_campaign_posts').where('campaign_id', '=', campaignId).execute();
    for (const [position, postId] of postIds.entries()) await trx.insertInto('newsletter_campaign_posts').values({ campaign_id: campaignId, post_id: postId, position }).execute();
  }

  async create(input: CampaignInput, staffId: string): Promise<string> {
    const v = await this.validate(input);
    const id = newId();
    const now = this.k.clock.now();
    await this.k.db.transaction().execute(async (trx) => {
      await trx.insertInto('newsletter_campaigns').values({
        id, list_id: v.listId, subject: v.subject, intro_md: v.intro, status: 'draft', created_by: staffId, created_at: now, updated_at: now,
        started_at: null, finished_at: null, batch_seq: 0, total: 0, body_html: null, body_text: null,
      }).execute();
      await this.writePosts(trx, id, v.postIds);
    });
    return id;
  }

  async update(id: string, input: CampaignInput): Promise<void> {
    const v = await this.validate(input);
    await this.k.db.transaction().execute(async (trx) => {
      const r = await trx.updateTable('newsletter_campaigns').set({ list_id: v.listId, subject: v.subject, intro_md: v.intro, updated_at: this.k.clock.now() })
        .where('id', '=', id).where('status', '=', 'draft').executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) throw (await campaignById(trx, id)) ? new CampaignNotDraft() : new CampaignNotFound();
      await this.writePosts(trx, id, v.postIds);
    });
  }

  /** The body as it would go out now (a draft), or as it went out (frozen when sending started). */
  async body(c: NewsletterCampaignsTable): Promise<{ html: string; text: string }> {
    if (c.body_html !== null && c.body_text !== null) return { html: c.body_html, text: c.body_text };
    return renderCampaignBody(this.k.config.publicUrl, c.intro_md, await campaignPosts(this.k.db, c.id));
  }

  /** One message to a staff address, built exactly like the real ones; unsubscribing from it changes nothing. */
  async sendTest(id: string, to: unknown, staffId: string): Promise<string> {
    const email = normaliseEmail(to);
    const c = await campaignById(this.k.db, id);
    if (!c) throw new CampaignNotFound();
    if (await isSuppressed(this.k, email)) throw new Suppressed();
    const settings = await loadNewsletterSettings(this.k);
    const identity = await sendingIdentity(this.k, settings);
    const mail = composeListMail(this.k, {
      subscriberId: NOBODY, email, list: LISTS[c.list_id], subject: `[Test] ${c.subject}`, body: await this.body(c),
      brand: await loadBrand(this.k.settings), identity,
    });
    const outboxId = await this.k.mail.send({ ...mail, category: 'newsletter.test' });
    await this.k.audit.record({ actorKind: 'staff', actorId: staffId, action: 'newsletter.campaign_test_sent', target: id });
    return outboxId;
  }

  /**
   * Starts sending: claims the posts for this list (a post goes to a list once, ever), freezes the content,
   * takes the audience as it stands (one pending send row per subscriber) and queues the first batch,
   * all in one transaction.
   */
  async start(id: string, staffId: string, ip: string | null): Promise<number> {
    const k = this.k;
    const now = k.clock.now();
    return k.db.transaction().execute(async (trx) => {
      const c = await lockForUpdate(trx.selectFrom('newsletter_campaigns').selectAll().where('id', '=', id), k.flags).executeTakeFirst();
      if (!c) throw new CampaignNotFound();
      if (c.status !== 'draft') throw new CampaignNotDraft();
      const posts = await campaignPosts(trx, id);
      const unpublished = posts.find((p) => p.status !== 'published');
      if (unpublished) throw new InvalidInput(`Publish "${unpublished.title}" first: the email links to it on the blog.`);
      for (const p of posts) {
        const r = await trx.insertInto('newsletter_post_sends').values({ post_id: p.id, list_id: c.list_id, campaign_id: id, post_revision: p.revision, at: now })
          .onConflict((oc) => oc.columns(['post_id', 'list_id']).doNothing()).executeTakeFirst();
        if (Number(r.numInsertedOrUpdatedRows ?? 0) !== 1) throw new PostAlreadySent(p.title);
      }
      const body = renderCampaignBody(k.config.publicUrl, c.intro_md, posts);
      await trx.insertInto('newsletter_campaign_sends')
        .columns(['idempotency_key', 'campaign_id', 'subscriber_id', 'status', 'created_at', 'updated_at'])
        .expression((eb) => eb.selectFrom('newsletter_subscriptions').select([
          sql<string>`cast(${id} as text) || ':' || subscriber_id`.as('idempotency_key'),
          sql<string>`cast(${id} as text)`.as('campaign_id'),
          'subscriber_id',
          sql<string>`'pending'`.as('status'),
          sql<number>`cast(${now} as bigint)`.as('created_at'),
          sql<number>`cast(${now} as bigint)`.as('updated_at'),
        ]).where('list_id', '=', c.list_id).where('status', '=', 'subscribed'))
        .execute();
      const total = Number((await trx.selectFrom('newsletter_campaign_sends').select((eb) => eb.fn.countAll<number>().as('n')).where('campaign_id', '=', id).executeTakeFirstOrThrow()).n);
      await trx.updateTable('newsletter_campaigns').set({ status: 'sending', started_at: now, updated_at: now, total, body_html: body.html, body_text: body.text })
        .where('id', '=', id).execute();
      await k.jobs.enqueue(SEND_BATCH_JOB, { campaignId: id, seq: c.batch_seq }, { trx, idempotencyKey: batchKey(id, c.batch_seq) });
      await k.audit.record({ actorKind: 'staff', actorId: staffId, action: 'newsletter.campaign_started', target: id, detail: { list: c.list_id, total }, ip }, trx);
      return total;
    });
  }

  /** Pausing bumps the batch counter, so a batch already queued finds itself stale and does nothing. */
  async pause(id: string, staffId: string): Promise<void> {
    const r = await this.k.db.updateTable('newsletter_campaigns').set((eb) => ({ status: 'paused', batch_seq: eb('batch_seq', '+', 1), updated_at: this.k.clock.now() }))
      .where('id', '=', id).where('status', '=', 'sending').executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) throw new CampaignState('Only a campaign that is sending can be paused.');
    await this.k.audit.record({ actorKind: 'staff', actorId: staffId, action: 'newsletter.campaign_paused', target: id });
  }

  async resume(id: string, staffId: string): Promise<void> {
    await this.k.db.transaction().execute(async (trx) => {
      const c = await lockForUpdate(trx.selectFrom('newsletter_campaigns').selectAll().where('id', '=', id), this.k.flags).executeTakeFirst();
      if (!c || c.status !== 'paused') throw new CampaignState('Only a paused campaign can be resumed.');
      await trx.updateTable('newsletter_campaigns').set({ status: 'sending', updated_at: this.k.clock.now() }).where('id', '=', id).execute();
      await this.k.jobs.enqueue(SEND_BATCH_JOB, { campaignId: id, seq: c.batch_seq }, { trx, idempotencyKey: batchKey(id, c.batch_seq) });
      await this.k.audit.record({ actorKind: 'staff', actorId: staffId, action: 'newsletter.campaign_resumed', target: id }, trx);
    });
  }

  /** Counts for the status page: where each recipient's message is, and what came back. */
  async progress(id: string) {
    const db = this.k.db;
    const bySend = await db.selectFrom('newsletter_campaign_sends').select(['status', 'skip_reason', (eb) => eb.fn.countAll<number>().as('n')])
      .where('campaign_id', '=', id).groupBy(['status', 'skip_reason']).execute();
    const byOutbox = await db.selectFrom('newsletter_campaign_sends as s').innerJoin('mail_outbox as o', 'o.id', 's.outbox_id')
      .select(['o.status', (eb) => eb.fn.countAll<number>().as('n')]).where('s.campaign_id', '=', id).groupBy('o.status').execute();
    const byBounce = await db.selectFrom('newsletter_campaign_sends').select(['bounce', (eb) => eb.fn.countAll<number>().as('n')])
      .where('campaign_id', '=', id).where('bounce', 'is not', null).groupBy('bounce').execute();
    const sum = (rows: Array<{ n: number }>) => rows.reduce((a, r) => a + Number(r.n), 0);
    const skipped = (reason: string) => sum(bySend.filter((r) => r.status === 'skipped' && r.skip_reason === reason));
    return {
      pending: sum(bySend.filter((r) => r.status === 'pending')),
      handedToOutbox: sum(bySend.filter((r) => r.status === 'queued')),
      delivered: sum(byOutbox.filter((r) => r.status === 'sent')),
      waiting: sum(byOutbox.filter((r) => r.status === 'queued' || r.status === 'held' || r.status === 'sending')),
      /** Handed to the mail server when its sender stopped, answer unknown: held, never re-sent by itself. */
      uncertain: sum(byOutbox.filter((r) => r.status === 'uncertain')),
      failed: sum(byOutbox.filter((r) => r.status === 'failed')),
      skippedSuppressed: skipped('suppressed'), skippedUnsubscribed: skipped('unsubscribed'), skippedGone: skipped('gone'),
      hardBounces: sum(byBounce.filter((r) => r.bounce === 'hard')),
      softBounces: sum(byBounce.filter((r) => r.bounce === 'soft')),
      complaints: sum(byBounce.filter((r) => r.bounce === 'complaint')),
    };
  }
}
