import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kernel } from '../../kernel/context.js';
import { formBody, page } from '../../kernel/http/page.js';
import { Csrf, ErrorSummary, Field } from '../../kernel/views/layout.js';
import { requireCustomer } from './auth.hooks.js';
import { AccountNav } from './account-nav.js';
import type { ProfileService } from './profile.service.js';
import * as repo from './accounts.repository.js';

type Customer = NonNullable<Awaited<ReturnType<typeof repo.customerById>>>;

const addressOf = (c: Customer, countries: Record<string, string>) =>
  [c.address_line1, c.address_line2, c.city, [c.region, c.postcode].filter(Boolean).join(' '), c.country ? countries[c.country] ?? c.country : null].filter(Boolean).join('\n');

/** My account: the overview and the profile (name, company, telephone, invoice address, VAT number). */
export function registerAccountPages(app: FastifyInstance, k: Kernel, profile: ProfileService): void {
  app.get('/account', { preHandler: requireCustomer() }, async (request, reply) => {
    const c = (await repo.customerById(k.db, request.auth!.subjectId))!;
    const address = addressOf(c, profile.countries);
    return page(k.settings, request, reply, { title: 'My account' }, (
      <>
        <h1>My account</h1>
        <AccountNav current="/account" />
        <div class="grid account-grid">
          <section class="card">
            <h2>Your details</h2>
            <dl>
              <dt>Name</dt><dd>{c.name}</dd>
              <dt>Email</dt><dd>{c.email}</dd>
              {c.company ? <><dt>Company</dt><dd>{c.company}</dd></> : null}
              <dt>Invoice address</dt><dd class="pre-wrap">{address || <span class="muted">Not given yet</span>}</dd>
              {c.vat_number ? <><dt>VAT number</dt><dd>{c.vat_number}</dd></> : null}
            </dl>
            <p><a href="/account/profile">Change your details</a></p>
          </section>
          <section class="card">
            <h2>What you can do here</h2>
            <ul class="account-summary">
              <li><a href="/account/licences">Licences</a>: keys, the computers using them, offline licence files.</li>
              <li><a href="/account/orders">Orders and invoices</a>: download invoices and credit notes as PDF.</li>
              <li><a href="/account/subscriptions">Subscriptions</a>: renew now or cancel at the end of the period.</li>
              <li><a href="/account/security">Password and devices</a>: change your password, sign out other devices.</li>
              <li><a href="/account/email">Email preferences</a>: newsletter and security advisories.</li>
              <li><a href="/account/privacy">Your data</a>: export everything we hold, or ask us to close your account.</li>
            </ul>
          </section>
        </div>
      </>
    ));
  });

  const form = async (request: FastifyRequest, reply: FastifyReply, opts: { values?: Record<string, string | undefined>; errors?: Record<string, string>; flash?: string } = {}) => {
    const c = (await repo.customerById(k.db, request.auth!.subjectId))!;
    const v = opts.values ?? {
      name: c.name, company: c.company ?? '', phone: c.phone ?? '', line1: c.address_line1 ?? '', line2: c.address_line2 ?? '', city: c.city ?? '',
      region: c.region ?? '', postcode: c.postcode ?? '', country: c.country ?? '', vat_number: c.vat_number ?? '',
    };
    const errors = opts.errors ?? {};
    return page(k.settings, request, reply, { title: 'Your details', flash: opts.flash, status: Object.keys(errors).length ? 400 : 200 }, (
      <>
        <h1>Your details</h1>
        <AccountNav current="/account/profile" />
        <form method="post" action="/account/profile" class="card narrow wide-form" novalidate>
          <Csrf token={request.csrfToken()} />
          <ErrorSummary errors={errors} />
          <p class="hint">Changes apply to your future orders and invoices. Invoices already issued keep the details they were issued with.</p>
          <Field label="Name" name="name" value={v.name} required autocomplete="name" error={errors.name} />
          <Field label="Company" name="company" value={v.company} autocomplete="organization" error={errors.company} />
          <Field label="Telephone" name="phone" type="tel" value={v.phone} autocomplete="tel" error={errors.phone} />
          <fieldset class="field">
            <legend>Invoice address</legend>
            <Field label="Address" name="line1" value={v.line1} autocomplete="address-line1" error={errors.line1} />
            <Field label="Address line 2" name="line2" value={v.line2} autocomplete="address-line2" error={errors.line2} />
            <Field label="Town or city" name="city" value={v.city} autocomplete="address-level2" error={errors.city} />
            <Field label="County, state or region" name="region" value={v.region} autocomplete="address-level1" error={errors.region} />
            <Field label="Postcode" name="postcode" value={v.postcode} autocomplete="postal-code" error={errors.postcode} />
            <div class={errors.country ? 'field has-error' : 'field'}>
              <label for="f-country">Country<span class="optional"> (needed with an address or VAT number)</span></label>
              <select id="f-country" name="country" autoComplete="country" aria-invalid={errors.country ? 'true' : undefined} aria-describedby={errors.country ? 'f-country-error' : undefined}>
                <option value="">Choose…</option>
                {Object.entries(profile.countries).sort((a, b) => a[1].localeCompare(b[1])).map(([code, name]) => <option value={code} selected={code === v.country}>{name}</option>)}
              </select>
              {errors.country ? <p class="error" id="f-country-error">{errors.country}</p> : null}
            </div>
          </fieldset>
          <Field label="VAT number" name="vat_number" value={v.vat_number} error={errors.vat_number} hint="EU businesses: with a valid VAT number you are not charged VAT (reverse charge)." />
          <p class="muted">Your email address is {c.email}. To change it, please contact support.</p>
          <button type="submit">Save details</button>
        </form>
      </>
    ));
  };

  app.get('/account/profile', { preHandler: requireCustomer() }, async (request, reply) => form(request, reply));

  app.post('/account/profile', {
    preHandler: requireCustomer(),
    schema: { body: formBody({ name: 400, company: 400, phone: 80, line1: 400, line2: 400, city: 200, region: 200, postcode: 40, country: 8, vat_number: 60 }) },
  }, async (request, reply) => {
    const body = request.body as Record<string, string | undefined>;
    try {
      const { changed } = await profile.update(request.auth!.subjectId, body, request.ip);
      return form(request, reply, { flash: changed.length ? 'Your details have been saved. They will be used for your future orders and invoices.' : 'Nothing to change: your details are as they were.' });
    } catch (err) {
      const e = err as { code?: string; message: string; field?: string };
      if (e.code !== 'ACC_INVALID_INPUT') throw err;
      return form(request, reply, { values: body, errors: { [e.field ?? '_form']: e.message } });
    }
  });
}
