// Settings (owner only, by the access table): seller and VAT number, bank details, SMTP, tax rates,
// call-home policy, signing keys and retention periods. Each section is its own form; a bad field is
// shown again with its message beside it; every save and every key rotation is in the audit log.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kernel } from '../../kernel/context.js';
import { formBody, page } from '../../kernel/http/page.js';
import { Csrf, ErrorSummary, Field } from '../../kernel/views/layout.js';
import { listPublicKeys, rotateSigningKey } from '../../kernel/crypto/signing.js';
import { SMTP_SETTING } from '../../kernel/mail/mailer.js';
import { BRAND_SETTING, loadBrand } from '../../kernel/views/brand.js';
import { CONTROLLER_SETTING, PROCESSORS_SETTING, defaultProcessors, loadController, loadProcessors } from '../privacy/index.js';

/** What each processor id stands for (the declarations' recipients). */
const PROCESSOR_ROLE: Record<string, string> = { accounting: 'Accounting', helpdesk: 'Helpdesk', mailing: 'Mailing list and email delivery', payments: 'Card payments' };
import { requireStaff } from '../accounts/index.js';
import { BANK_SETTING, SELLER_SETTING, loadBank, loadSeller } from '../billing/index.js';
import { LICENSING_SETTINGS_KEY, POLICY_DEFAULTS, POLICY_DEFAULTS_KEY, currentPolicyDefaults, type LicensingModule } from '../licensing/index.js';
import { SUPPORT_SETTING, type SupportSettings } from '../support/index.js';
import { validateBank, validateBrand, validateController, validateLimits, validateProcessors, validatePolicyDefaults, validateRetention, validateSeller, validateSmtp, type Form, type Result } from './settings.validate.js';

type Section = 'brand' | 'controller' | 'processors' | 'seller' | 'bank' | 'smtp' | 'limits' | 'keys' | 'retention' | 'policy';
interface Shown { section?: Section; errors?: Record<string, string>; values?: Form; flash?: string; status?: number }

const fmt = (iso: string | null) => (iso ? iso.slice(0, 16).replace('T', ' ') + ' UTC' : '—');

function TextArea({ label, name, value, error }: { label: string; name: string; value: string; error?: string }) {
  const id = `f-${name}`;
  return (
    <div class={error ? 'field has-error' : 'field'}>
      <label for={id}>{label}</label>
      <textarea id={id} name={name} rows={3} maxLength={1000} aria-invalid={error ? 'true' : undefined} aria-describedby={error ? `${id}-error` : undefined}>{value}</textarea>
      {error ? <p class="error" id={`${id}-error`}>{error}</p> : null}
    </div>
  );
}

/** Hides the password in an SMTP URL. */
function maskUrl(url: string | undefined): string {
  if (!url) return 'not set';
  try {
    const u = new URL(url);
    if (u.password) u.password = '•••';
    return u.toString();
  } catch { return 'set (unreadable)'; }
}

export function registerSettingsPages(app: FastifyInstance, k: Kernel, licensing: LicensingModule): void {
  const OWNER = requireStaff('owner');

  const show = async (request: FastifyRequest, reply: FastifyReply, s: Shown = {}) => {
    const [brand, controller, processors, seller, bank, smtp, limits, keys, support, policy] = await Promise.all([
      loadBrand(k.settings), loadController(k.settings), loadProcessors(k.settings), loadSeller(k.settings), loadBank(k.settings), k.settings.get<{ url?: string; from?: string } | null>(SMTP_SETTING, null),
      licensing.settings(), listPublicKeys(k.db), k.settings.get<Partial<SupportSettings>>(SUPPORT_SETTING, {}), currentPolicyDefaults(k.settings),
    ]);
    const err = (sec: Section) => (s.section === sec ? s.errors ?? {} : {});
    const val = (sec: Section, name: string, stored: string | number | undefined) => (s.section === sec && s.values ? s.values[name] ?? '' : String(stored ?? ''));
    const csrf = <Csrf token={request.csrfToken()} />;
    return page(k.settings, request, reply, { title: 'Settings', variant: 'admin', flash: s.flash, status: s.status ?? 200 }, (
      <>
        <h1>Settings</h1>
        <nav class="card toc" aria-label="Sections"><ul>
          <li><a href="#brand">Name and branding</a></li><li><a href="#controller">Privacy notice contact</a></li><li><a href="#processors">Who receives data</a></li><li><a href="#seller">Seller and VAT number</a></li><li><a href="#bank">Bank details</a></li><li><a href="#smtp">Outgoing mail (SMTP)</a></li>
          <li><a href="/admin/tax-rates">Tax rates</a></li><li><a href="#limits">Call-home policy</a></li><li><a href="#policy">Licence policy defaults</a></li><li><a href="#keys">Signing keys</a></li><li><a href="#retention">Retention periods</a></li><li><a href="/admin/settings/team">Team</a></li>
        </ul></nav>
        {s.errors ? <ErrorSummary errors={s.errors} /> : null}

        <section class="card" id="brand"><h2>Name and branding</h2>
          <p class="muted">How your business appears on every page and email: the header, the footer and the address at the foot of each email (the law asks for a postal address on marketing mail).</p>
          <form method="post" action="/admin/settings/brand">{csrf}
            <Field label="Name" name="brand_name" required value={val('brand', 'brand_name', brand.name)} error={err('brand').brand_name} />
            <Field label="Tagline" name="tagline" value={val('brand', 'tagline', brand.tagline)} error={err('brand').tagline} />
            <Field label="Support email address" name="support_email" type="email" required value={val('brand', 'support_email', brand.supportEmail)} error={err('brand').support_email} hint="Customers are told to write here; mail to it becomes helpdesk tickets unless Tickets → Settings names another address." />
            <TextArea label="Postal address" name="brand_address" value={val('brand', 'brand_address', brand.address)} error={err('brand').brand_address} />
            <Field label="Link and button colour" name="primary_color" value={val('brand', 'primary_color', brand.primaryColor)} error={err('brand').primary_color} hint="A hex colour such as #1d4ed8." />
            <Field label="Footer text" name="footer_text" value={val('brand', 'footer_text', brand.footerText)} error={err('brand').footer_text} />
            <div class="field"><label><input type="checkbox" name="show_powered_by" value="1" checked={s.section === 'brand' && s.values ? s.values.show_powered_by === '1' : brand.showPoweredBy} /> Show "powered by Keyward" in the public footer</label></div>
            <button type="submit">Save name and branding</button>
          </form>
        </section>

        <section class="card" id="controller"><h2>Privacy notice contact</h2>
          <p class="muted">Who <a href="/privacy">the privacy notice</a> names as responsible for personal data, how to reach them, and where people may complain.</p>
          <form method="post" action="/admin/settings/controller">{csrf}
            <Field label="Name (the controller)" name="controller_name" required value={val('controller', 'controller_name', controller.name)} error={err('controller').controller_name} />
            <TextArea label="Address" name="controller_address" value={val('controller', 'controller_address', controller.address)} error={err('controller').controller_address} />
            <Field label="Privacy contact email" name="controller_email" type="email" required value={val('controller', 'controller_email', controller.email)} error={err('controller').controller_email} />
            <Field label="Telephone" name="controller_phone" value={val('controller', 'controller_phone', controller.phone)} error={err('controller').controller_phone} />
            <Field label="Supervisory authority" name="authority_name" required value={val('controller', 'authority_name', controller.supervisoryAuthority.name)} error={err('controller').authority_name} />
            <Field label="Its complaint page" name="authority_url" required value={val('controller', 'authority_url', controller.supervisoryAuthority.url)} error={err('controller').authority_url} />
            <button type="submit">Save privacy contact</button>
          </form>
        </section>

        <section class="card" id="processors"><h2>Who receives personal data</h2>
          <p class="muted">The companies whose services handle your customers' data, named in the privacy notice and the record of processing. Describe the ones you really use.</p>
          <form method="post" action="/admin/settings/processors">{csrf}
            {processors.map((p) => (
              <fieldset class="group">
                <legend>{PROCESSOR_ROLE[p.id] ?? p.id}</legend>
                <Field label="Company" name={`${p.id}_name`} required value={val('processors', `${p.id}_name`, p.name)} error={err('processors')[`${p.id}_name`]} />
                <Field label="Service" name={`${p.id}_service`} required value={val('processors', `${p.id}_service`, p.service)} error={err('processors')[`${p.id}_service`]} />
                <Field label="Country (two letters)" name={`${p.id}_country`} required value={val('processors', `${p.id}_country`, p.country)} error={err('processors')[`${p.id}_country`]} />
                <Field label="Contract" name={`${p.id}_contract`} required value={val('processors', `${p.id}_contract`, p.contractRef)} error={err('processors')[`${p.id}_contract`]} />
                <Field label="Safeguard for a transfer outside the UK and EEA" name={`${p.id}_safeguard`} value={val('processors', `${p.id}_safeguard`, p.transferSafeguard)} error={err('processors')[`${p.id}_safeguard`]} />
              </fieldset>
            ))}
            <button type="submit">Save who receives data</button>
          </form>
        </section>

        <section class="card" id="seller"><h2>Seller and VAT number</h2>
          <p class="muted">Printed on every invoice issued from now on; invoices already issued never change.</p>
          <form method="post" action="/admin/settings/seller">{csrf}
            <Field label="Legal name" name="name" required value={val('seller', 'name', seller.name)} error={err('seller').name} />
            <TextArea label="Address" name="address" value={val('seller', 'address', seller.address)} error={err('seller').address} />
            <Field label="VAT number" name="vat_number" value={val('seller', 'vat_number', seller.vatNumber)} error={err('seller').vat_number} hint="GB followed by 9 digits, e.g. GB123456789." />
            <Field label="Company number" name="company_number" value={val('seller', 'company_number', seller.companyNumber)} error={err('seller').company_number} />
            <button type="submit">Save seller details</button>
          </form>
        </section>

        <section class="card" id="bank"><h2>Bank details</h2>
          <p class="muted">Printed on pro forma invoices for payment by bank transfer.</p>
          <form method="post" action="/admin/settings/bank">{csrf}
            <Field label="Account name" name="account_name" required value={val('bank', 'account_name', bank.accountName)} error={err('bank').account_name} />
            <Field label="Bank" name="bank_name" required value={val('bank', 'bank_name', bank.bankName)} error={err('bank').bank_name} />
            <Field label="Sort code" name="sort_code" value={val('bank', 'sort_code', bank.sortCode)} error={err('bank').sort_code} inputmode="numeric" />
            <Field label="Account number" name="account_number" value={val('bank', 'account_number', bank.accountNumber)} error={err('bank').account_number} inputmode="numeric" />
            <Field label="IBAN" name="iban" value={val('bank', 'iban', bank.iban)} error={err('bank').iban} />
            <Field label="BIC" name="bic" value={val('bank', 'bic', bank.bic)} error={err('bank').bic} />
            <Field label="Payment term (days)" name="payment_terms_days" required inputmode="numeric" value={val('bank', 'payment_terms_days', bank.paymentTermsDays)} error={err('bank').payment_terms_days} />
            <button type="submit">Save bank details</button>
          </form>
        </section>

        <section class="card" id="smtp"><h2>Outgoing mail (SMTP)</h2>
          <p class="muted">Now: {maskUrl(smtp?.url ?? k.config.smtpUrl)}{smtp?.url ? '' : k.config.smtpUrl ? ' (from SMTP_URL)' : ' — mail is held in the outbox.'}</p>
          <form method="post" action="/admin/settings/smtp">{csrf}
            <Field label="SMTP URL" name="url" type="password" value="" error={err('smtp').url} hint="smtp://user:password@host:587 or smtps://…:465. Leave empty to keep the stored one." />
            <Field label="Sender" name="from" required value={val('smtp', 'from', smtp?.from ?? '')} error={err('smtp').from} hint="Example Ltd <sales@example.com>" />
            <button type="submit">Save mail settings</button>
          </form>
        </section>

        <section class="card" id="limits"><h2>Call-home policy</h2>
          <p class="muted">How often installed programs may call. Every node picks up a change within seconds.</p>
          <form method="post" action="/admin/settings/limits">{csrf}
            <Field label="Calls per licence per window" name="per_licence" required inputmode="numeric" value={val('limits', 'per_licence', limits.perLicence)} error={err('limits').per_licence} />
            <Field label="Calls per network address per window" name="per_ip" required inputmode="numeric" value={val('limits', 'per_ip', limits.perIp)} error={err('limits').per_ip} />
            <Field label="Window (seconds)" name="window_seconds" required inputmode="numeric" value={val('limits', 'window_seconds', limits.windowSeconds)} error={err('limits').window_seconds} />
            <button type="submit">Save call-home policy</button>
          </form>
        </section>

        <section class="card" id="policy"><h2>Licence policy defaults</h2>
          <p class="muted">For every licence without its own value (a licence's own policy, set through the admin API, always wins). Installed programs get the change on their next call; every node within seconds. The contract's defaults: flag, 1.0, {POLICY_DEFAULTS.machineInactiveDays}, {POLICY_DEFAULTS.offlineGraceDays}, {POLICY_DEFAULTS.offlineFileDays} days, {POLICY_DEFAULTS.checkIntervalSeconds} seconds.</p>
          <form method="post" action="/admin/settings/policy">{csrf}
            <div class={err('policy').enforcement ? 'field has-error' : 'field'}>
              <label for="f-enforcement">A computer over the licence's machine limit</label>
              <select id="f-enforcement" name="enforcement" aria-invalid={err('policy').enforcement ? 'true' : undefined} aria-describedby={err('policy').enforcement ? 'f-enforcement-error' : undefined}>
                <option value="flag" selected={val('policy', 'enforcement', policy.enforcement) === 'flag'}>is flagged but keeps working (flag)</option>
                <option value="deny" selected={val('policy', 'enforcement', policy.enforcement) === 'deny'}>is refused (deny)</option>
              </select>
              {err('policy').enforcement ? <p class="error" id="f-enforcement-error">{err('policy').enforcement}</p> : null}
            </div>
            <Field label="User overage tolerated (× licensed users)" name="user_overage" required inputmode="decimal" value={val('policy', 'user_overage', policy.userOverage)} error={err('policy').user_overage} hint="1 = no overage; 1.2 = 20% over the licensed users still works." />
            <Field label="Days before an unused computer frees its seat" name="machine_inactive_days" required inputmode="numeric" value={val('policy', 'machine_inactive_days', policy.machineInactiveDays)} error={err('policy').machine_inactive_days} />
            <Field label="Offline grace period (days)" name="offline_grace_days" required inputmode="numeric" value={val('policy', 'offline_grace_days', policy.offlineGraceDays)} error={err('policy').offline_grace_days} />
            <Field label="Offline licence files valid for (days)" name="offline_file_days" required inputmode="numeric" value={val('policy', 'offline_file_days', policy.offlineFileDays)} error={err('policy').offline_file_days} />
            <Field label="Programs check in every (seconds)" name="check_interval_seconds" required inputmode="numeric" value={val('policy', 'check_interval_seconds', policy.checkIntervalSeconds)} error={err('policy').check_interval_seconds} />
            <button type="submit">Save policy defaults</button>
          </form>
        </section>

        <section class="card" id="keys"><h2>Signing keys</h2>
          <p class="muted">Call-home answers and offline licence files are signed with the active key. Rotating adds a new active key; the old one stays published as retired, so files it signed still verify.</p>
          <div class="table-wrap"><table>
            <thead><tr><th>Key id</th><th>Status</th><th>Created</th><th>Public key</th></tr></thead>
            <tbody>{keys.map((key) => <tr><td class="mono">{key.kid}</td><td><span class={`badge ${key.status === 'active' ? 'ok' : ''}`}>{key.status}</span></td><td>{fmt(key.createdAt)}</td><td class="mono truncate">{key.publicKey}</td></tr>)}</tbody>
          </table></div>
          <form method="post" action="/admin/settings/keys/rotate">{csrf}
            <div class={err('keys').confirm ? 'field has-error' : 'field'}>
              <label class="checkbox"><input type="checkbox" name="confirm" value="1" id="f-confirm" aria-invalid={err('keys').confirm ? 'true' : undefined} /> I understand that programs pinned to the current key only must be given the new one.</label>
              {err('keys').confirm ? <p class="error" id="f-confirm-error">{err('keys').confirm}</p> : null}
            </div>
            <button type="submit" class="danger">Rotate the signing key</button>
          </form>
        </section>

        <section class="card" id="retention"><h2>Retention periods</h2>
          <form method="post" action="/admin/settings/retention">{csrf}
            <Field label="Call-home addresses: days before an address is cut to its network" name="ip_days" required inputmode="numeric" value={val('retention', 'ip_days', limits.ipRetentionDays)} error={err('retention').ip_days} />
            <Field label="Closed support tickets: days before they are anonymised" name="ticket_days" required inputmode="numeric" value={val('retention', 'ticket_days', support.retentionDays ?? 730)} error={err('retention').ticket_days} />
            <button type="submit">Save retention periods</button>
          </form>
        </section>
      </>
    ));
  };

  const audit = (request: FastifyRequest, section: string, fields: string[], detail: Record<string, unknown> = {}) =>
    k.audit.record({ actorKind: 'staff', actorId: request.auth!.subjectId, action: 'admin.settings_changed', target: section, detail: { fields, ...detail }, ip: request.ip });

  /** Validates, stores and audits one section; on bad input shows the form again with the messages. */
  const save = <T,>(section: Section, fields: Record<string, number>, validate: (f: Form) => Result<T>, store: (v: T, by: string) => Promise<void>, done: string) => {
    app.post(`/admin/settings/${section}`, { preHandler: OWNER, schema: { body: formBody(fields) } }, async (request, reply) => {
      const form = request.body as Form;
      const r = validate(form);
      if (!r.ok) return show(request, reply, { section, errors: r.errors, values: form, status: 400 });
      await store(r.value, request.auth!.subjectId);
      await audit(request, section, Object.keys(fields).filter((f) => (form[f] ?? '') !== ''));
      return show(request, reply, { flash: done });
    });
  };

  app.get('/admin/settings', { preHandler: OWNER }, async (request, reply) => show(request, reply));

  save('brand', { brand_name: 200, tagline: 400, support_email: 300, brand_address: 600, primary_color: 20, footer_text: 600, show_powered_by: 4 }, validateBrand,
    (v, by) => k.settings.set(BRAND_SETTING, v, by), 'Name and branding saved.');
  save('controller', { controller_name: 300, controller_address: 800, controller_email: 300, controller_phone: 60, authority_name: 300, authority_url: 600 }, validateController,
    (v, by) => k.settings.set(CONTROLLER_SETTING, v, by), 'Privacy contact saved: the privacy notice shows it now.');
  const processorIds = defaultProcessors.map((p) => p.id);
  save('processors', Object.fromEntries(processorIds.flatMap((id) => ['name', 'service', 'country', 'contract', 'safeguard'].map((f) => [`${id}_${f}`, 1000]))),
    (f) => validateProcessors(f, processorIds), (v, by) => k.settings.set(PROCESSORS_SETTING, v, by), 'Saved: the privacy notice and the record of processing name them now.');
  save('seller', { name: 300, address: 1200, vat_number: 40, company_number: 40 }, validateSeller,
    (v, by) => k.settings.set(SELLER_SETTING, v, by), 'Seller details saved. They apply to invoices issued from now on.');
  save('bank', { account_name: 300, bank_name: 300, sort_code: 40, account_number: 40, iban: 60, bic: 40, payment_terms_days: 10 }, validateBank,
    (v, by) => k.settings.set(BANK_SETTING, v, by), 'Bank details saved.');
  save('smtp', { url: 600, from: 400 }, validateSmtp, async (v, by) => {
    const prev = await k.settings.get<{ url?: string; from?: string } | null>(SMTP_SETTING, null);
    await k.settings.set(SMTP_SETTING, { ...(prev ?? {}), ...v }, by);
  }, 'Mail settings saved.');
  save('limits', { per_licence: 12, per_ip: 12, window_seconds: 12 }, validateLimits, async (v, by) => {
    const prev = await k.settings.get<Record<string, unknown>>(LICENSING_SETTINGS_KEY, {});
    await k.settings.set(LICENSING_SETTINGS_KEY, { ...prev, ...v }, by);
  }, 'Call-home policy saved.');
  save('policy', { enforcement: 10, user_overage: 20, machine_inactive_days: 12, offline_grace_days: 12, offline_file_days: 12, check_interval_seconds: 12 }, validatePolicyDefaults,
    (v, by) => k.settings.set(POLICY_DEFAULTS_KEY, v, by), 'Policy defaults saved. Licences without their own policy follow them from their next call.');
  save('retention', { ip_days: 12, ticket_days: 12 }, validateRetention, async (v, by) => {
    const lic = await k.settings.get<Record<string, unknown>>(LICENSING_SETTINGS_KEY, {});
    const sup = await k.settings.get<Record<string, unknown>>(SUPPORT_SETTING, {});
    await k.settings.set(LICENSING_SETTINGS_KEY, { ...lic, ipRetentionDays: v.ipRetentionDays }, by);
    await k.settings.set(SUPPORT_SETTING, { ...sup, retentionDays: v.ticketRetentionDays }, by);
  }, 'Retention periods saved.');

  // The same rotation as `bin/keyward keys rotate`; this node switches at once, the others within two seconds.
  app.post('/admin/settings/keys/rotate', { preHandler: OWNER, schema: { body: formBody({ confirm: 2 }) } }, async (request, reply) => {
    if ((request.body as Form).confirm !== '1') {
      return show(request, reply, { section: 'keys', errors: { confirm: 'Tick the box to confirm that you want a new signing key.' }, status: 400 });
    }
    const kid = await rotateSigningKey(k.db, k.secrets, k.clock.now());
    await licensing.reloadSigningKey();
    await k.audit.record({ actorKind: 'staff', actorId: request.auth!.subjectId, action: 'admin.signing_key_rotated', target: kid, ip: request.ip });
    return show(request, reply, { flash: `New active signing key: ${kid}. The previous key is listed as retired.` });
  });
}
