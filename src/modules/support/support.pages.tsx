import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kernel } from '../../kernel/context.js';
import { formBody, LONG_FORM_BODY_LIMIT, page } from '../../kernel/http/page.js';
import { Csrf, ErrorSummary, Field } from '../../kernel/views/layout.js';
import { loadSupportSettings } from './support.settings.js';
import { checkStamp, formStamp, HONEYPOT } from './spam.js';
import { filesOf } from './uploads.js';
import { FileField, TextArea } from './views.js';
import type { PortalService } from './portal.service.js';
import { FormTooFast } from './support.errors.js';

type Values = Record<string, string | undefined>;

/** The public help centre: the start page and the contact form (no JavaScript, no cookie, no third party). */
export function registerSupportPages(app: FastifyInstance, k: Kernel, portal: PortalService): void {
  app.get('/support', async (request, reply) => {
    const address = (await loadSupportSettings(k)).address;
    return page(k.settings, request, reply, { title: 'Support' }, (
    <>
      <h1>How can we help?</h1>
      <form method="get" action="/support/kb" class="card search-box" role="search">
        <label for="f-q">Search the knowledge base</label>
        <div class="search-row"><input id="f-q" name="q" type="search" maxLength={200} /><button type="submit">Search</button></div>
      </form>
      <div class="grid">
        <section class="card"><h2>Knowledge base</h2><p>Answers to common questions, set-up guides and troubleshooting.</p><p><a href="/support/kb">Browse articles</a></p></section>
        <section class="card"><h2>Community forum</h2><p>Ask other users and our team; share tips.</p><p><a href="/support/forum">Open the forum</a></p></section>
        <section class="card"><h2>Contact support</h2><p>Send us a request and we will answer by email. You can also write to <a href={`mailto:${address}`}>{address}</a>.</p><p><a class="button" href="/support/contact">Contact us</a></p></section>
        {request.auth?.kind === 'customer' ? <section class="card"><h2>Your requests</h2><p>See and answer the requests you have sent us.</p><p><a href="/account/tickets">My support requests</a></p></section> : null}
      </div>
    </>
    ));
  });

  const form = async (request: FastifyRequest, reply: FastifyReply, v: Values = {}, errors: Record<string, string> = {}, status = 200) => {
    const s = await loadSupportSettings(k);
    const customer = request.auth?.kind === 'customer' ? request.auth : null;
    return page(k.settings, request, reply, { title: 'Contact support', status }, (
      <div class="card narrow wide-form">
        <h1>Contact support</h1>
        <ErrorSummary errors={errors} />
        <form method="post" action="/support/contact" enctype="multipart/form-data" novalidate>
          <Csrf token={request.csrfToken()} />
          <input type="hidden" name="stamp" value={formStamp(k)} />
          {customer
            ? <p class="muted">We will answer <strong>{customer.email}</strong>, the address of your account.</p>
            : (
              <>
                <Field label="Your email address" name="email" type="email" value={v.email} required autocomplete="email" error={errors.email} maxLength={254} />
                <Field label="Your name" name="name" value={v.name} autocomplete="name" maxLength={200} />
              </>
            )}
          <div class="hp" aria-hidden="true">
            <label for="f-website">Leave this empty</label>
            <input id="f-website" name={HONEYPOT} type="text" tabIndex={-1} autoComplete="off" value="" />
          </div>
          <Field label="Subject" name="subject" value={v.subject} required maxLength={200} error={errors.subject} />
          <TextArea label="How can we help?" name="message" value={v.message} required rows={10} error={errors.message} hint="Tell us what you tried and what happened; include the version number if you know it." />
          <FileField maxMb={s.attachmentMaxMb} error={errors.files} />
          <button type="submit">Send request</button>
        </form>
        <p class="muted">We use your email address{customer ? '' : ', your name if you give it,'} and what you write only to answer your request; closed requests are anonymised after {s.retentionDays} days. See our <a href="/privacy">privacy notice</a>.</p>
      </div>
    ));
  };

  app.get('/support/contact', async (request, reply) => form(request, reply));

  app.post('/support/contact', {
    bodyLimit: LONG_FORM_BODY_LIMIT,
    schema: { body: formBody({ email: 400, name: 400, subject: 400, message: 60_000, stamp: 100, [HONEYPOT]: 400 }) },
    config: { csrf: 'anon', rateLimit: { max: async () => (await loadSupportSettings(k)).contactPerHour, timeWindow: 3600_000 } },
  }, async (request, reply) => {
    const body = (request.body ?? {}) as Values;
    // A filled honeypot is a robot: it is thanked like a person, and nothing is stored or sent.
    if (body[HONEYPOT]) return thanks(request, reply, null);
    const s = await loadSupportSettings(k);
    const stamp = checkStamp(k, body.stamp, s.minFillSeconds);
    if (stamp !== 'ok') return form(request, reply, body, { _form: stamp === 'too_fast' ? new FormTooFast().message : 'This form has expired. Please send it again.' }, 400);
    const { files, tooLarge } = filesOf(request);
    if (tooLarge.length) return form(request, reply, body, { files: `Too large (each file may be at most ${s.attachmentMaxMb} MB): ${tooLarge.join(', ')}. Send large files as a link instead.` }, 400);
    try {
      const ticket = await portal.contact(body, files, request.auth);
      return thanks(request, reply, ticket.number);
    } catch (err) {
      const e = err as { code?: string; message: string; field?: string };
      if (!e.code?.startsWith('SUP_')) throw err;
      return form(request, reply, body, { [e.field ?? (e.code === 'SUP_ATTACHMENT_TOO_LARGE' || e.code === 'SUP_TOO_MANY_ATTACHMENTS' ? 'files' : '_form')]: e.message }, 400);
    }
  });

  const thanks = (request: FastifyRequest, reply: FastifyReply, number: number | null) => page(k.settings, request, reply, { title: 'Request received' }, (
    <div class="card narrow">
      <h1>Thank you</h1>
      <p>We have received your request{number ? <> and given it the number <strong>#{number}</strong></> : null}. We will answer by email; replies to our emails reach the same request.</p>
      {number && request.auth?.kind === 'customer' ? <p><a href={`/account/tickets/${number}`}>See your request</a></p> : <p><a href="/support/kb">Browse the knowledge base</a> while you wait.</p>}
    </div>
  ));
}
