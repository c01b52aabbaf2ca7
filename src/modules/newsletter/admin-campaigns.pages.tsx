import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Kernel } from '../../kernel/context.js';
import { formBody, page } from '../../kernel/http/page.js';
import { Csrf, ErrorSummary, Field } from '../../kernel/views/layout.js';
import { loadBrand } from '../../kernel/views/brand.js';
import { requireStaff } from '../accounts/index.js';
import type { NewsletterCampaignsTable } from './newsletter.tables.js';
import { LISTS, LIST_IDS, isListId } from './lists.js';
import { campaignById, campaignPosts, recentCampaigns, type CampaignInput, type CampaignService } from './campaigns.service.js';
import { POST_KINDS, postSends } from './posts.service.js';
import { composeListMail } from './list-mail.js';
import { NOBODY } from './tokens.js';
import { loadNewsletterSettings, sendingIdentity } from './newsletter.settings.js';
import { EDITORS } from './admin-posts.pages.js';
import { CampaignNotDraft } from './newsletter.errors.js';
import { Checkbox, SafeHtml, Select, TextArea, fmtTime, newsMessage } from './views.js';

const idParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const campaignForm = Type.Object({
  _csrf: Type.Optional(Type.String({ maxLength: 400 })),
  list: Type.Optional(Type.String({ maxLength: 20 })),
  subject: Type.Optional(Type.String({ maxLength: 300 })),
  intro: Type.Optional(Type.String({ maxLength: 50_000 })),
  posts: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Array(Type.String({ maxLength: 64 }), { maxItems: 50 })])),
}, { additionalProperties: false });

const STATUS_BADGE: Record<string, string> = { draft: 'warn', sending: 'warn', paused: 'bad', sent: 'ok' };

const inputFrom = (b: Record<string, unknown>): CampaignInput => ({
  listId: b.list as string | undefined, subject: b.subject as string | undefined, intro: b.intro as string | undefined,
  postIds: b.posts === undefined ? [] : ([] as string[]).concat(b.posts as string | string[]),
});

/** Campaigns in the admin: build from posts, preview, send a test, send, and follow the progress. */
export function registerAdminCampaignPages(app: FastifyInstance, k: Kernel, campaigns: CampaignService): void {
  const guard = { preHandler: requireStaff(...EDITORS) };
  const back = <p><a href="/admin/newsletter/campaigns">Campaigns</a></p>;

  app.get('/admin/newsletter/campaigns', guard, async (request, reply) => {
    const rows = await recentCampaigns(k.db);
    return page(k.settings, request, reply, { title: 'Campaigns', variant: 'admin' }, (
      <>
        <p><a href="/admin/newsletter">Newsletter</a></p>
        <h1>Campaigns</h1>
        <p><a class="button" href="/admin/newsletter/campaigns/new">New campaign</a></p>
        <div class="table-wrap"><table>
          <thead><tr><th>Subject</th><th>List</th><th>Status</th><th class="num">Recipients</th><th>Started</th></tr></thead>
          <tbody>{rows.map((c) => (
            <tr><td><a href={`/admin/newsletter/campaigns/${c.id}`}>{c.subject}</a></td><td>{LISTS[c.list_id].name}</td>
              <td><span class={`badge ${STATUS_BADGE[c.status]}`}>{c.status}</span></td><td class="num">{c.status === 'draft' ? '—' : c.total}</td><td>{fmtTime(c.started_at)}</td></tr>
          ))}</tbody>
        </table></div>
        {rows.length === 0 ? <p class="muted">No campaigns yet.</p> : null}
      </>
    ));
  });

  /** Published posts not yet sent to the list, plus the ones already chosen. */
  const choosablePosts = async (listId: string, chosen: string[]) => {
    const posts = await k.db.selectFrom('newsletter_posts').selectAll().where((eb) => eb.or([eb('status', '=', 'published'), ...(chosen.length ? [eb('id', 'in', chosen)] : [])]))
      .orderBy('published_at', 'desc').limit(100).execute();
    const sent = await postSends(k.db, posts.map((p) => p.id));
    return posts.map((p) => ({ post: p, sentHere: sent.some((s) => s.post_id === p.id && s.list_id === listId) }));
  };

  const draftPage = async (request: FastifyRequest, reply: FastifyReply, c: NewsletterCampaignsTable | null, v: CampaignInput, opts: { error?: string; flash?: string } = {}) => {
    const listId = isListId(v.listId) ? v.listId : 'newsletter';
    const chosen = v.postIds ?? [];
    const options = await choosablePosts(listId, chosen);
    const body = c ? await campaigns.body(c) : null;
    const audience = c ? Number((await k.db.selectFrom('newsletter_subscriptions').select((eb) => eb.fn.countAll<number>().as('n')).where('list_id', '=', c.list_id).where('status', '=', 'subscribed').executeTakeFirstOrThrow()).n) : 0;
    const settings = await loadNewsletterSettings(k);
    return page(k.settings, request, reply, { title: c ? c.subject : 'New campaign', variant: 'admin', status: opts.error ? 400 : 200, flash: opts.flash }, (
      <>
        {back}
        <h1>{c ? 'Campaign draft' : 'New campaign'}</h1>
        {opts.error ? <ErrorSummary errors={{ _form: opts.error }} /> : null}
        <div class="grid">
          <form method="post" action={c ? `/admin/newsletter/campaigns/${c.id}` : '/admin/newsletter/campaigns'} class="card">
            <Csrf token={request.csrfToken()} />
            <Select label="List" name="list" value={listId} options={LIST_IDS.map((l) => [l, `${LISTS[l].name} (${LISTS[l].kind === 'marketing' ? 'consent' : 'customers, opt-out'})`])} />
            <Field label="Subject" name="subject" value={v.subject} required maxLength={200} />
            <TextArea label="Message" name="intro" value={v.intro} rows={8} hint="Markdown. Written before the chosen posts; a campaign may also be only this." />
            <fieldset class="email-prefs">
              <legend>Blog posts to include (published, not yet sent to this list)</legend>
              {options.length === 0 ? <p class="muted">No published posts. <a href="/admin/newsletter/posts/new">Write one</a>.</p> : null}
              {options.map(({ post, sentHere }) => (
                <Checkbox name="posts" value={post.id} checked={chosen.includes(post.id)} disabled={sentHere && !chosen.includes(post.id)}
                  label={`${post.title} (${POST_KINDS[post.kind]}${post.status !== 'published' ? ', draft' : ''}${sentHere ? ', already sent to this list' : ''})`} />
              ))}
            </fieldset>
            <button type="submit">Save draft</button>
          </form>
          {c && body ? (
            <section class="card">
              <h2>Preview</h2>
              <p class="muted">Subject: <strong>{c.subject}</strong> · to the {LISTS[c.list_id].name.toLowerCase()} · <a href={`/admin/newsletter/campaigns/${c.id}/preview.html`}>open the email as recipients see it</a></p>
              <SafeHtml class="blog-body" html={body.html} />
              <details><summary>Plain-text part</summary><pre class="mono pre-wrap">{body.text}</pre></details>
            </section>
          ) : null}
        </div>
        {c ? (
          <div class="grid">
            <form method="post" action={`/admin/newsletter/campaigns/${c.id}/test`} class="card">
              <h2>Send a test</h2>
              <Csrf token={request.csrfToken()} />
              <Field label="Send to" name="to" type="email" value={request.auth!.email} required autocomplete="email" />
              <button type="submit" class="secondary">Send a test</button>
            </form>
            <form method="post" action={`/admin/newsletter/campaigns/${c.id}/send`} class="card">
              <h2>Send</h2>
              <Csrf token={request.csrfToken()} />
              <p>{audience} subscriber(s) on the {LISTS[c.list_id].name.toLowerCase()} now; at {settings.ratePerMinute} a minute this takes about {Math.max(1, Math.ceil(audience / settings.ratePerMinute))} minute(s). Suppressed addresses are skipped.</p>
              <Checkbox name="confirm" value="yes" label="I have checked the preview and the test message." />
              <p><button type="submit">Send to the list</button></p>
            </form>
          </div>
        ) : null}
      </>
    ));
  };

  const statusPage = async (request: FastifyRequest, reply: FastifyReply, c: NewsletterCampaignsTable, opts: { error?: string; flash?: string }) => {
    const p = await campaigns.progress(c.id);
    const posts = await campaignPosts(k.db, c.id);
    // A refresh without script (CSP forbids inline scripts): the browser reloads while the send runs.
    if (c.status === 'sending') reply.header('refresh', '10');
    const row = (label: string, n: number) => <tr><th scope="row">{label}</th><td class="num">{n}</td></tr>;
    const complaintRate = p.handedToOutbox ? (100 * p.complaints) / p.handedToOutbox : 0;
    return page(k.settings, request, reply, { title: c.subject, variant: 'admin', flash: opts.flash, status: opts.error ? 409 : 200 }, (
      <>
        {back}
        <h1>{c.subject}</h1>
        {opts.error ? <ErrorSummary errors={{ _form: opts.error }} /> : null}
        <p class="muted"><span class={`badge ${STATUS_BADGE[c.status]}`}>{c.status}</span> · {LISTS[c.list_id].name} · started {fmtTime(c.started_at)}{c.finished_at ? ` · all handed to the outbox ${fmtTime(c.finished_at)}` : ''}</p>
        <div class="grid">
          <section class="card">
            <h2>Progress</h2>
            <div class="table-wrap"><table><tbody>
              {row('Recipients when sending started', c.total)}
              {row('Waiting their turn', p.pending)}
              {row('Handed to the outbox', p.handedToOutbox)}
              {row('Delivered to the mail server', p.delivered)}
              {row('In the outbox (queued, retrying or being sent)', p.waiting)}
              {row('Delivery uncertain (held for a decision)', p.uncertain)}
              {row('Skipped: suppressed', p.skippedSuppressed)}
              {row('Skipped: unsubscribed meanwhile', p.skippedUnsubscribed)}
              {row('Skipped: erased meanwhile', p.skippedGone)}
              {row('Hard bounces', p.hardBounces)}
              {row('Soft bounces', p.softBounces)}
              {row('Complaints', p.complaints)}
            </tbody></table></div>
            {p.uncertain ? <p>A sending process stopped while handing {p.uncertain === 1 ? 'one message' : `${p.uncertain} messages`} to the mail server: {p.uncertain === 1 ? 'it is' : 'they are'} not sent again automatically. <a href="/admin/mail#uncertain">Decide in the mail outbox</a>.</p> : null}
            <p class={complaintRate >= 0.3 ? 'error' : 'muted'}>Complaint rate {complaintRate.toFixed(2)}% (mailbox providers expect under 0.3%).</p>
            <p><a href={`/admin/newsletter/campaigns/${c.id}`}>Refresh</a></p>
          </section>
          <section class="card">
            <h2>Content</h2>
            <p>Posts: {posts.map((x) => x.title).join(', ') || 'none (written message)'}</p>
            <p><a href={`/admin/newsletter/campaigns/${c.id}/preview.html`}>The email as it was sent</a></p>
            {c.status === 'sending' || c.status === 'paused' ? (
              <form method="post" action={`/admin/newsletter/campaigns/${c.id}/${c.status === 'sending' ? 'pause' : 'resume'}`}>
                <Csrf token={request.csrfToken()} />
                <button type="submit" class={c.status === 'sending' ? 'secondary' : ''}>{c.status === 'sending' ? 'Pause sending' : 'Resume sending'}</button>
              </form>
            ) : null}
          </section>
        </div>
      </>
    ));
  };

  const notFound = (request: FastifyRequest, reply: FastifyReply) =>
    page(k.settings, request, reply, { title: 'Not found', variant: 'admin', status: 404 }, <div class="card"><h1>Not found</h1><p>There is no such campaign.</p>{back}</div>);

  const show = async (request: FastifyRequest, reply: FastifyReply, id: string, opts: { error?: string; flash?: string } = {}) => {
    const c = await campaignById(k.db, id);
    if (!c) return notFound(request, reply);
    if (c.status !== 'draft') return statusPage(request, reply, c, opts);
    const postIds = (await campaignPosts(k.db, id)).map((p) => p.id);
    return draftPage(request, reply, c, { listId: c.list_id, subject: c.subject, intro: c.intro_md, postIds }, opts);
  };

  app.get('/admin/newsletter/campaigns/new', guard, async (request, reply) => draftPage(request, reply, null, { listId: 'newsletter' }));

  app.post('/admin/newsletter/campaigns', { ...guard, schema: { body: campaignForm } }, async (request, reply) => {
    const v = inputFrom(request.body as Record<string, unknown>);
    try {
      const id = await campaigns.create(v, request.auth!.subjectId);
      return reply.redirect(`/admin/newsletter/campaigns/${id}`, 303);
    } catch (err) {
      return draftPage(request, reply, null, v, { error: newsMessage(err) });
    }
  });

  app.get('/admin/newsletter/campaigns/:id', { ...guard, schema: { params: idParams } }, async (request, reply) => show(request, reply, (request.params as { id: string }).id));

  app.post('/admin/newsletter/campaigns/:id', { ...guard, schema: { params: idParams, body: campaignForm } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const v = inputFrom(request.body as Record<string, unknown>);
    const c = await campaignById(k.db, id);
    if (!c) return notFound(request, reply);
    if (c.status !== 'draft') return show(request, reply, id, { error: new CampaignNotDraft().message });
    try {
      await campaigns.update(id, v);
    } catch (err) {
      return draftPage(request, reply, c, v, { error: newsMessage(err) });
    }
    return show(request, reply, id, { flash: 'Draft saved.' });
  });

  app.get('/admin/newsletter/campaigns/:id/preview.html', { ...guard, schema: { params: idParams } }, async (request, reply) => {
    const c = await campaignById(k.db, (request.params as { id: string }).id);
    if (!c) return notFound(request, reply);
    const identity = await sendingIdentity(k, await loadNewsletterSettings(k));
    const mail = composeListMail(k, { subscriberId: NOBODY, email: request.auth!.email, list: LISTS[c.list_id], subject: c.subject, body: await campaigns.body(c), brand: await loadBrand(k.settings), identity });
    // The email's own inline styles, in a sandbox: this page is the email, not part of the site.
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store')
      .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox; frame-ancestors 'none'").send(mail.html);
  });

  app.post('/admin/newsletter/campaigns/:id/test', { ...guard, schema: { params: idParams, body: formBody({ to: 300 }) } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const to = (request.body as { to?: string }).to;
    try {
      await campaigns.sendTest(id, to, request.auth!.subjectId);
    } catch (err) {
      return show(request, reply, id, { error: newsMessage(err) });
    }
    return show(request, reply, id, { flash: `A test message is on its way to ${to}.` });
  });

  app.post('/admin/newsletter/campaigns/:id/send', { ...guard, schema: { params: idParams, body: formBody({ confirm: 5 }) } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    if ((request.body as { confirm?: string }).confirm !== 'yes') return show(request, reply, id, { error: 'Tick the box to confirm you have checked the preview and the test.' });
    try {
      await campaigns.start(id, request.auth!.subjectId, request.ip);
    } catch (err) {
      return show(request, reply, id, { error: newsMessage(err) });
    }
    return reply.redirect(`/admin/newsletter/campaigns/${id}`, 303);
  });

  for (const action of ['pause', 'resume'] as const) {
    app.post(`/admin/newsletter/campaigns/:id/${action}`, { ...guard, schema: { params: idParams, body: formBody({}) } }, async (request, reply) => {
      const { id } = request.params as { id: string };
      try {
        await (action === 'pause' ? campaigns.pause(id, request.auth!.subjectId) : campaigns.resume(id, request.auth!.subjectId));
      } catch (err) {
        return show(request, reply, id, { error: newsMessage(err) });
      }
      return reply.redirect(`/admin/newsletter/campaigns/${id}`, 303);
    });
  }
}
