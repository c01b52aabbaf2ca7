import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Kernel } from '../../kernel/context.js';
import { formBody, page, safeNext } from '../../kernel/http/page.js';
import { sha256Hex } from '../../kernel/crypto/tokens.js';
import { loadBrand, type Brand } from '../../kernel/views/brand.js';
import { Csrf, ErrorSummary } from '../../kernel/views/layout.js';
import { AccountNav, requireCustomer } from '../accounts/index.js';
import type { ListId } from './newsletter.tables.js';
import { LISTS, LIST_IDS } from './lists.js';
import { WordingChanged } from './newsletter.errors.js';
import { confirmWording, oneClickWording, preferenceLine, preferenceWording, signupWording, unsubscribePageWording } from './consent.js';
import { parseUnsubscribeToken } from './tokens.js';
import { subscriberByEmail, subscriberById, subscriptionsOf, type SubscriptionService } from './subscriptions.service.js';
import { Checkbox, SignupForm, consentContext, newsMessage } from './views.js';

const tokenParams = Type.Object({ token: Type.String({ maxLength: 100 }) });

function PreferencesForm(props: { action: string; csrf: string; brand: Brand; current: Partial<Record<ListId, boolean>> }) {
  return (
    <form method="post" action={props.action}>
      <Csrf token={props.csrf} />
      <input type="hidden" name="w" value={sha256Hex(preferenceWording(props.brand))} />
      <fieldset class="email-prefs">
        <legend>Emails we send</legend>
        {LIST_IDS.map((l) => (
          <div class="field">
            <Checkbox name={`list_${l}`} checked={!!props.current[l]} label={LISTS[l].name} />
            <p class="hint">{preferenceLine(props.brand, LISTS[l])}</p>
          </div>
        ))}
      </fieldset>
      <p class="muted">Emails about your orders, licences and invoices are part of the service and always sent.</p>
      <button type="submit">Save my choices</button>
    </form>
  );
}

const wantedFrom = (body: Record<string, string | undefined>) => Object.fromEntries(LIST_IDS.map((l) => [l, body[`list_${l}`] === '1'])) as Record<ListId, boolean>;

/** Public sign-up with double opt-in, one-click unsubscribe, the preference page and My account → Email. */
export function registerSubscribePages(app: FastifyInstance, k: Kernel, subs: SubscriptionService): void {
  const signupPage = async (request: FastifyRequest, reply: FastifyReply, v: { email?: string; name?: string; from?: string; error?: string } = {}, status = 200) => {
    const brand = await loadBrand(k.settings);
    return page(k.settings, request, reply, { title: 'Newsletter', status }, (
      <div class="card narrow">
        <h1>Get our newsletter</h1>
        {v.error ? <ErrorSummary errors={{ email: v.error }} /> : null}
        <SignupForm csrf={request.csrfToken()} wording={signupWording(brand)} from={v.from ?? '/newsletter'} email={v.email} name={v.name} error={v.error} />
      </div>
    ));
  };

  app.get('/newsletter', async (request, reply) => signupPage(request, reply));

  app.post('/newsletter', {
    schema: { body: formBody({ email: 300, name: 300, w: 100, from: 300 }) },
    config: { csrf: 'anon', rateLimit: { max: k.config.loginRatePerMinute, timeWindow: 60_000 } },
  }, async (request, reply) => {
    const body = request.body as Record<string, string | undefined>;
    const from = safeNext(body.from, '/newsletter');
    try {
      await subs.requestSignup({ email: body.email, name: body.name, wordingSha256: body.w }, consentContext(request, 'form', 'web_form', k.config.publicUrl + from));
    } catch (err) {
      return signupPage(request, reply, { email: body.email, name: body.name, from, error: newsMessage(err) }, err instanceof WordingChanged ? 409 : 400);
    }
    return page(k.settings, request, reply, { title: 'Check your email' }, (
      <div class="card narrow">
        <h1>Check your email</h1>
        <p>If <strong>{body.email}</strong> can receive our newsletter, we have sent it a link. Open it and press the button to confirm; until then you are not subscribed.</p>
        <p class="muted">Nothing arrived? Look in your spam folder, or sign up again in ten minutes.</p>
      </div>
    ));
  });

  const expired = (request: FastifyRequest, reply: FastifyReply, message: string) => page(k.settings, request, reply, { title: 'Link not valid', status: 400 }, (
    <div class="card narrow"><h1>This link cannot be used</h1><p>{message}</p><p><a class="button" href="/newsletter">Sign up again</a></p></div>
  ));

  // A GET never confirms: mail scanners open links; only the button (a POST) does.
  app.get('/newsletter/confirm/:token', { schema: { params: tokenParams } }, async (request, reply) => {
    const { token } = request.params as { token: string };
    let email: string;
    try {
      ({ email } = await subs.peekConfirm(token));
    } catch (err) {
      return expired(request, reply, newsMessage(err));
    }
    const brand = await loadBrand(k.settings);
    return page(k.settings, request, reply, { title: 'Confirm your subscription' }, (
      <div class="card narrow">
        <h1>Confirm your subscription</h1>
        <p>For <strong>{email}</strong>:</p>
        <p>{confirmWording(brand)}</p>
        <form method="post" action={`/newsletter/confirm/${token}`}>
          <Csrf token={request.csrfToken()} />
          <button type="submit">Confirm my subscription</button>
        </form>
      </div>
    ));
  });

  app.post('/newsletter/confirm/:token', { schema: { params: tokenParams, body: formBody({}) }, config: { csrf: 'signin' } }, async (request, reply) => {
    const { token } = request.params as { token: string };
    let email: string;
    try {
      ({ email } = await subs.confirm(token, consentContext(request, 'email', 'confirm_button', `${k.config.publicUrl}/newsletter/confirm`)));
    } catch (err) {
      return expired(request, reply, newsMessage(err));
    }
    return page(k.settings, request, reply, { title: 'Subscribed' }, (
      <div class="card narrow"><h1>Thank you</h1><p><strong>{email}</strong> is now subscribed to our newsletter. Every issue has a link to unsubscribe.</p><p><a href="/blog">Read the blog</a></p></div>
    ));
  });

  const badToken = (request: FastifyRequest, reply: FastifyReply) => page(k.settings, request, reply, { title: 'Link not valid', status: 400 }, (
    <div class="card narrow"><h1>This link is not valid</h1><p>Copy the whole address from the email. If it still does not work, write to us and we will unsubscribe you by hand.</p></div>
  ));

  app.get('/u/:token', { schema: { params: tokenParams } }, async (request, reply) => {
    const { token } = request.params as { token: string };
    const t = parseUnsubscribeToken(k.secrets, token);
    if (!t) return badToken(request, reply);
    const s = await subscriberById(k.db, t.subscriberId);
    const status = s ? (await subscriptionsOf(k.db, s.id)).find((x) => x.list_id === t.listId)?.status : undefined;
    const brand = await loadBrand(k.settings);
    const list = LISTS[t.listId];
    return page(k.settings, request, reply, { title: 'Unsubscribe' }, (
      <div class="card narrow">
        <h1>Unsubscribe</h1>
        {s && status && status !== 'unsubscribed' ? (
          <>
            <p>{unsubscribePageWording(brand, list)}</p>
            <p>Address: <strong>{s.email}</strong></p>
            <form method="post" action={`/u/${token}`}>
              <input type="hidden" name="via" value="page" />
              <button type="submit">Unsubscribe from the {list.name.toLowerCase()}</button>
            </form>
          </>
        ) : <p>This address is not on our {list.name.toLowerCase()} list: there is nothing to do.</p>}
        {s ? <p><a href={`/email/preferences/${token}`}>Choose which emails you get instead</a></p> : null}
      </div>
    ));
  });

  // RFC 8058 one-click: mailbox providers POST here from anywhere (multipart or urlencoded). The token in
  // the address is the authority, so there is no CSRF token; the answer is 200, never a redirect.
  app.register(async (u) => {
    const raw = (_req: unknown, body: string | Buffer, done: (err: Error | null, body?: unknown) => void) => done(null, { raw: String(body) });
    u.addContentTypeParser('multipart/form-data', { parseAs: 'string', bodyLimit: 16_384 }, raw);
    u.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 16_384 }, raw);
    u.post('/u/:token', { schema: { params: tokenParams }, config: { csrf: 'skip' }, bodyLimit: 16_384 }, async (request, reply) => {
      const { token } = request.params as { token: string };
      const t = parseUnsubscribeToken(k.secrets, token);
      if (!t) return badToken(request, reply);
      const body = request.body as Record<string, unknown> | string | undefined;
      const oneClick = typeof body === 'object' && body !== null
        ? body['List-Unsubscribe'] === 'One-Click' || /List-Unsubscribe[\s\S]{0,80}One-Click/.test(String(body.raw ?? ''))
        : /List-Unsubscribe=One-Click/.test(String(body ?? ''));
      const brand = await loadBrand(k.settings);
      const list = LISTS[t.listId];
      if (await subscriberById(k.db, t.subscriberId)) {
        await subs.unsubscribe(t.subscriberId, t.listId, oneClick ? oneClickWording(list) : unsubscribePageWording(brand, list),
          consentContext(request, 'email', oneClick ? 'one_click_post' : 'unsubscribe_button', oneClick ? null : `${k.config.publicUrl}/u`));
      }
      return page(k.settings, request, reply, { title: 'Unsubscribed' }, (
        <div class="card narrow">
          <h1>You are unsubscribed</h1>
          <p>We will send no more of our {list.name.toLowerCase()} to this address.</p>
          <p><a href={`/email/preferences/${token}`}>Changed your mind? Choose which emails you get</a></p>
        </div>
      ));
    });
  });

  const prefsPage = async (request: FastifyRequest, reply: FastifyReply, token: string, flash?: string, error?: string) => {
    const t = parseUnsubscribeToken(k.secrets, token);
    if (!t) return badToken(request, reply);
    const s = await subscriberById(k.db, t.subscriberId);
    const brand = await loadBrand(k.settings);
    const current = s ? Object.fromEntries((await subscriptionsOf(k.db, s.id)).map((x) => [x.list_id, x.status === 'subscribed'])) : {};
    return page(k.settings, request, reply, { title: 'Email preferences', flash, status: error ? 400 : 200 }, (
      <div class="card narrow">
        <h1>Email preferences</h1>
        {error ? <ErrorSummary errors={{ _form: error }} /> : null}
        {s ? (
          <>
            <p>For <strong>{s.email}</strong>.</p>
            <PreferencesForm action={`/email/preferences/${token}`} csrf={request.csrfToken()} brand={brand} current={current} />
          </>
        ) : <p>We hold no email preferences for this address: it is on none of our lists.</p>}
      </div>
    ));
  };

  app.get('/email/preferences/:token', { schema: { params: tokenParams } }, async (request, reply) => prefsPage(request, reply, (request.params as { token: string }).token));

  app.post('/email/preferences/:token', {
    schema: { params: tokenParams, body: formBody({ w: 100, list_newsletter: 5, list_advisories: 5 }) }, config: { csrf: 'signin' },
  }, async (request, reply) => {
    const { token } = request.params as { token: string };
    const body = request.body as Record<string, string | undefined>;
    const t = parseUnsubscribeToken(k.secrets, token);
    if (!t) return badToken(request, reply);
    const brand = await loadBrand(k.settings);
    try {
      if (body.w !== sha256Hex(preferenceWording(brand))) throw new WordingChanged();
      if (await subscriberById(k.db, t.subscriberId)) {
        await subs.setPreferences({ subscriberId: t.subscriberId }, wantedFrom(body), (l) => preferenceLine(brand, LISTS[l]),
          consentContext(request, 'email', 'preference_page', `${k.config.publicUrl}/email/preferences`));
      }
    } catch (err) {
      return prefsPage(request, reply, token, undefined, newsMessage(err));
    }
    return prefsPage(request, reply, token, 'Your choices are saved.');
  });

  const accountPage = async (request: FastifyRequest, reply: FastifyReply, flash?: string, error?: string) => {
    const brand = await loadBrand(k.settings);
    const s = await subscriberByEmail(k.db, request.auth!.email.toLowerCase());
    const current = s ? Object.fromEntries((await subscriptionsOf(k.db, s.id)).map((x) => [x.list_id, x.status === 'subscribed'])) : {};
    return page(k.settings, request, reply, { title: 'Email preferences', flash, status: error ? 400 : 200 }, (
      <>
        <h1>Email preferences</h1>
        <AccountNav current="/account/email" />
        <div class="card narrow">
          {error ? <ErrorSummary errors={{ _form: error }} /> : null}
          <p>For <strong>{request.auth!.email}</strong>.</p>
          <PreferencesForm action="/account/email" csrf={request.csrfToken()} brand={brand} current={current} />
        </div>
      </>
    ));
  };

  app.get('/account/email', { preHandler: requireCustomer() }, async (request, reply) => accountPage(request, reply));

  app.post('/account/email', { preHandler: requireCustomer(), schema: { body: formBody({ w: 100, list_newsletter: 5, list_advisories: 5 }) } }, async (request, reply) => {
    const body = request.body as Record<string, string | undefined>;
    const brand = await loadBrand(k.settings);
    try {
      if (body.w !== sha256Hex(preferenceWording(brand))) throw new WordingChanged();
      await subs.setPreferences({ email: request.auth!.email.toLowerCase(), customerId: request.auth!.subjectId }, wantedFrom(body), (l) => preferenceLine(brand, LISTS[l]),
        consentContext(request, 'account_page', 'account_page', `${k.config.publicUrl}/account/email`));
    } catch (err) {
      return accountPage(request, reply, undefined, newsMessage(err));
    }
    return accountPage(request, reply, 'Your choices are saved.');
  });
}
