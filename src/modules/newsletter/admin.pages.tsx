import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kernel } from '../../kernel/context.js';
import { formBody, page } from '../../kernel/http/page.js';
import { Csrf, ErrorSummary, Field } from '../../kernel/views/layout.js';
import { requireStaff } from '../accounts/index.js';
import { LISTS, LIST_IDS } from './lists.js';
import { recentCampaigns } from './campaigns.service.js';
import { NEWSLETTER_SETTING, loadNewsletterSettings, sendingIdentity, validateSettings } from './newsletter.settings.js';
import { TextArea, fmtTime, newsMessage } from './views.js';

const MANAGERS = ['owner', 'admin'] as const;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const SELECTOR = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** The newsletter's home in the admin, and its settings (sending rate, addresses, retention, DKIM). */
export function registerAdminHomePages(app: FastifyInstance, k: Kernel): void {
  app.get('/admin/newsletter', { preHandler: requireStaff() }, async (request, reply) => {
    const counts = await k.db.selectFrom('newsletter_subscriptions').select(['list_id', 'status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy(['list_id', 'status']).execute();
    const n = (l: string, s: string) => Number(counts.find((c) => c.list_id === l && c.status === s)?.n ?? 0);
    const suppressed = Number((await k.db.selectFrom('newsletter_suppressions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    const campaigns = (await recentCampaigns(k.db)).slice(0, 5);
    return page(k.settings, request, reply, { title: 'Newsletter', variant: 'admin' }, (
      <>
        <h1>Newsletter and blog</h1>
        <p>
          <a class="button" href="/admin/newsletter/posts">Blog posts</a> <a class="button" href="/admin/newsletter/campaigns">Campaigns</a>{' '}
          <a class="button secondary" href="/admin/newsletter/subscribers">Subscribers</a> <a class="button secondary" href="/admin/newsletter/suppressions">Suppression list</a>{' '}
          <a class="button secondary" href="/admin/newsletter/settings">Settings</a>
        </p>
        <div class="grid">
          <section class="card">
            <h2>Lists</h2>
            <div class="table-wrap"><table>
              <thead><tr><th>List</th><th class="num">Subscribed</th><th class="num">Awaiting confirmation</th><th class="num">Unsubscribed</th></tr></thead>
              <tbody>{LIST_IDS.map((l) => <tr><td>{LISTS[l].name}</td><td class="num">{n(l, 'subscribed')}</td><td class="num">{n(l, 'pending')}</td><td class="num">{n(l, 'unsubscribed')}</td></tr>)}</tbody>
            </table></div>
            <p class="muted">{suppressed} address(es) on the suppression list.</p>
          </section>
          <section class="card">
            <h2>Latest campaigns</h2>
            {campaigns.length === 0 ? <p class="muted">None yet.</p> : (
              <ul>{campaigns.map((c) => <li><a href={`/admin/newsletter/campaigns/${c.id}`}>{c.subject}</a> · {c.status}{c.started_at ? ` · ${fmtTime(c.started_at)}` : ''}</li>)}</ul>
            )}
          </section>
        </div>
      </>
    ));
  });

  const settingsPage = async (request: FastifyRequest, reply: FastifyReply, opts: { flash?: string; error?: string; values?: Record<string, string | undefined> } = {}) => {
    const s = await loadNewsletterSettings(k);
    const identity = await sendingIdentity(k, s);
    const v = opts.values ?? { ratePerMinute: String(s.ratePerMinute), unconfirmedDays: String(s.unconfirmedDays), fromAddress: s.fromAddress, mailDomain: s.mailDomain };
    const dkim = await k.mail.dkimStatus();
    return page(k.settings, request, reply, { title: 'Newsletter settings', variant: 'admin', flash: opts.flash, status: opts.error ? 400 : 200 }, (
      <>
        <p><a href="/admin/newsletter">Newsletter</a></p>
        <h1>Newsletter settings</h1>
        {opts.error ? <ErrorSummary errors={{ _form: opts.error }} /> : null}
        <div class="grid">
          <form method="post" action="/admin/newsletter/settings" class="card">
            <h2>Sending</h2>
            <Csrf token={request.csrfToken()} />
            <Field label="Messages per minute" name="ratePerMinute" type="number" inputmode="numeric" value={v.ratePerMinute} required hint="How fast campaigns hand mail to your SMTP server; ask your provider for its limit." />
            <Field label="Keep unconfirmed sign-ups for (days)" name="unconfirmedDays" type="number" inputmode="numeric" value={v.unconfirmedDays} required />
            <Field label="From address" name="fromAddress" value={v.fromAddress} hint={`Empty: the usual sender (${identity.from}).`} />
            <Field label="Bounce and unsubscribe domain" name="mailDomain" value={v.mailDomain}
              hint={`Bounces come back to bounces+…@${identity.domain}, mailto unsubscribes to unsub+…@${identity.domain}; point this domain's MX at Keyward's SMTP intake.`} />
            <button type="submit">Save</button>
          </form>
          <section class="card">
            <h2>DKIM signing</h2>
            {dkim ? (
              <>
                <p><span class="badge ok">on</span> Signing as <strong>{dkim.domainName}</strong> with selector <strong>{dkim.keySelector}</strong>. Publish this TXT record at <code>{dkim.keySelector}._domainkey.{dkim.domainName}</code>:</p>
                <pre class="mono pre-wrap">{dkim.dnsRecord}</pre>
                <form method="post" action="/admin/newsletter/settings/dkim/remove"><Csrf token={request.csrfToken()} /><button type="submit" class="danger">Stop signing</button></form>
              </>
            ) : <p><span class="badge warn">off</span> Mail goes out unsigned. Mailbox providers expect DKIM (and SPF and DMARC) from bulk senders.</p>}
            <form method="post" action="/admin/newsletter/settings/dkim">
              <Csrf token={request.csrfToken()} />
              <Field label="Signing domain" name="domainName" value={dkim?.domainName ?? identity.domain} required />
              <Field label="Selector" name="keySelector" value={dkim?.keySelector ?? 'keyward'} required />
              <TextArea label="Private key (PEM, RSA)" name="privateKey" rows={5} mono hint="Leave empty to generate a new 2048-bit key here. The key is stored encrypted." />
              <button type="submit">{dkim ? 'Replace the key' : 'Turn on DKIM'}</button>
            </form>
          </section>
        </div>
      </>
    ));
  };

  app.get('/admin/newsletter/settings', { preHandler: requireStaff(...MANAGERS) }, async (request, reply) => settingsPage(request, reply));

  app.post('/admin/newsletter/settings', { preHandler: requireStaff(...MANAGERS), schema: { body: formBody({ ratePerMinute: 10, unconfirmedDays: 10, fromAddress: 300, mailDomain: 300 }) } }, async (request, reply) => {
    const body = request.body as Record<string, string | undefined>;
    try {
      await k.settings.set(NEWSLETTER_SETTING, validateSettings(body), request.auth!.subjectId);
    } catch (err) {
      return settingsPage(request, reply, { error: newsMessage(err), values: body });
    }
    await k.audit.record({ actorKind: 'staff', actorId: request.auth!.subjectId, action: 'newsletter.settings_changed', ip: request.ip });
    return settingsPage(request, reply, { flash: 'Settings saved.' });
  });

  app.post('/admin/newsletter/settings/dkim', { preHandler: requireStaff(...MANAGERS), schema: { body: formBody({ domainName: 300, keySelector: 100, privateKey: 20_000 }) } }, async (request, reply) => {
    const body = request.body as Record<string, string | undefined>;
    const domainName = (body.domainName ?? '').trim().toLowerCase();
    const keySelector = (body.keySelector ?? '').trim().toLowerCase();
    if (!DOMAIN.test(domainName)) return settingsPage(request, reply, { error: 'The signing domain must be a domain name such as example.com.' });
    if (!SELECTOR.test(keySelector)) return settingsPage(request, reply, { error: 'The selector may hold letters, digits and hyphens, e.g. keyward or news2026.' });
    const pem = body.privateKey?.trim() || crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    try {
      await k.mail.setDkim({ domainName, keySelector, privateKeyPem: pem }, request.auth!.subjectId);
    } catch {
      return settingsPage(request, reply, { error: 'That is not an RSA private key in PEM form (-----BEGIN PRIVATE KEY----- …).' });
    }
    await k.audit.record({ actorKind: 'staff', actorId: request.auth!.subjectId, action: 'mail.dkim_key_set', detail: { domainName, keySelector, generated: !body.privateKey?.trim() }, ip: request.ip });
    return settingsPage(request, reply, { flash: 'DKIM key saved. Publish the DNS record shown before relying on it.' });
  });

  app.post('/admin/newsletter/settings/dkim/remove', { preHandler: requireStaff(...MANAGERS), schema: { body: formBody({}) } }, async (request, reply) => {
    await k.mail.clearDkim();
    await k.audit.record({ actorKind: 'staff', actorId: request.auth!.subjectId, action: 'mail.dkim_key_removed', ip: request.ip });
    return settingsPage(request, reply, { flash: 'DKIM signing is off.' });
  });
}
