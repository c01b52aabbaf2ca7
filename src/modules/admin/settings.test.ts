import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { TestBrowser } from '../../kernel/testing/http.js';
import { loadBank, loadSeller } from '../billing/index.js';
import { loadBrand } from '../../kernel/views/brand.js';
import { ibanValid, validateBank, validateSeller, validateSmtp } from './settings.validate.js';

let t: TestApp;
let owner: TestBrowser;
let ownerId: string;

async function staff(role: string): Promise<[TestBrowser, string]> {
  const email = `${role}@vendor.example`;
  const id = await t.modules.accounts.staff.createStaff({ email, name: role, role, password: 'correct horse battery 9' }, null);
  const b = new TestBrowser(t.app);
  await b.get('/admin/login');
  assert.equal((await b.post('/admin/login', { email, password: 'correct horse battery 9' })).statusCode, 303);
  return [b, id];
}

before(async () => {
  t = await testApp();
  [owner, ownerId] = await staff('owner');
});
after(async () => { await t.close(); });

const SELLER = { name: 'Vendor Ltd', address: '1 High Street\nLeeds LS1 1AA', vat_number: 'gb 123 456 789', company_number: '01234567' };

describe('settings validation (pure)', () => {
  test('each bad field gets its own message', () => {
    const r = validateSeller({ name: '', address: 'x', vat_number: 'FR123', company_number: '!' });
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.deepEqual(Object.keys(r.errors).sort(), ['company_number', 'name', 'vat_number']);
    assert.match(r.errors.vat_number!, /GB123456789/);
    const ok = validateSeller(SELLER);
    assert.deepEqual(ok, { ok: true, value: { name: 'Vendor Ltd', address: '1 High Street\nLeeds LS1 1AA', vatNumber: 'GB123456789', companyNumber: '01234567' } });
  });

  test('IBAN check digits, sort codes, payment terms', () => {
    assert.equal(ibanValid('GB29NWBK60161331926819'), true);
    assert.equal(ibanValid('GB29NWBK60161331926818'), false);
    const r = validateBank({ account_name: 'Vendor', bank_name: 'Bank', sort_code: '123456', account_number: '1234567', iban: 'GB29NWBK60161331926818', bic: 'nwbkgb2l', payment_terms_days: '121' });
    assert.equal(r.ok, false);
    if (!r.ok) assert.deepEqual(Object.keys(r.errors).sort(), ['account_number', 'iban', 'payment_terms_days']);
    const ok = validateBank({ account_name: 'Vendor', bank_name: 'Bank', sort_code: '12 34 56', account_number: '12345678', iban: '', bic: '', payment_terms_days: '30' });
    assert.equal(ok.ok && ok.value.sortCode, '12-34-56');
    const none = validateBank({ account_name: 'Vendor', bank_name: 'Bank', payment_terms_days: '30' });
    assert.equal(!none.ok && /IBAN, or a sort code/.test(none.errors.iban!), true);
  });

  test('SMTP: only smtp and smtps URLs; an empty URL keeps the stored one', () => {
    assert.equal(validateSmtp({ url: 'http://mail.example.com', from: 'a@b.example' }).ok, false);
    assert.equal(validateSmtp({ url: 'smtp://', from: 'a@b.example' }).ok, false);
    assert.deepEqual(validateSmtp({ url: '', from: 'Shop <a@b.example>' }), { ok: true, value: { from: 'Shop <a@b.example>' } });
    const bad = validateSmtp({ url: 'smtps://u:p@mail.example.com:465', from: 'not an address' });
    assert.equal(!bad.ok && Object.keys(bad.errors).join(), 'from');
  });
});

describe('settings pages', () => {
  test('seller details: a bad form is shown again with the messages beside the fields and nothing is saved', async () => {
    await owner.get('/admin/settings');
    const bad = await owner.post('/admin/settings/seller', { ...SELLER, name: '', vat_number: 'GB12' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /id="f-name-error">Enter the seller's legal name\./);
    assert.match(bad.body, /id="f-vat_number-error">The VAT number must look like GB123456789\./);
    assert.match(bad.body, /value="GB12"/, 'what was typed is kept');
    assert.equal((await loadSeller(t.k.settings)).vatNumber, '');
    const ok = await owner.post('/admin/settings/seller', SELLER);
    assert.equal(ok.statusCode, 200);
    assert.match(ok.body, /Seller details saved/);
    assert.equal((await loadSeller(t.k.settings)).vatNumber, 'GB123456789');
    const audit = await t.k.db.selectFrom('audit_log').selectAll().where('action', '=', 'admin.settings_changed').where('target', '=', 'seller').executeTakeFirstOrThrow();
    assert.equal(audit.actor_id, ownerId);
    assert.doesNotMatch(audit.detail, /Vendor Ltd/, 'the audit names fields, not values');
  });

  test('name and branding: saved values appear on public pages and in emails; a bad colour is shown again', async () => {
    await owner.get('/admin/settings');
    const form = { brand_name: 'Acme Mail Ltd', tagline: 'Mail servers', support_email: 'Help@Acme.example', brand_address: '2 Mill Lane, Leeds LS1 2AB', primary_color: '#0b7285', footer_text: '', show_powered_by: '' };
    const bad = await owner.post('/admin/settings/brand', { ...form, primary_color: 'red' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /id="f-primary_color-error">The colour must look like #1d4ed8\./);
    assert.equal((await loadBrand(t.k.settings)).name, 'Your Software Ltd', 'nothing saved');
    await owner.get('/admin/settings');
    const ok = await owner.post('/admin/settings/brand', form);
    assert.equal(ok.statusCode, 200);
    assert.match(ok.body, /Name and branding saved/);
    const brand = await loadBrand(t.k.settings);
    assert.deepEqual([brand.name, brand.supportEmail, brand.showPoweredBy], ['Acme Mail Ltd', 'help@acme.example', false]);
    const home = await t.app.inject({ url: '/', headers: { accept: 'text/html' } });
    assert.match(home.body, /Acme Mail Ltd/);
    assert.doesNotMatch(home.body, /powered by Keyward/);
    await t.modules.accounts.accounts.requestPasswordReset('staff', 'owner@vendor.example');
    await t.k.jobs.drain();
    const mail = await t.k.db.selectFrom('mail_outbox').select(['subject', 'text_body']).where('to_addr', '=', 'owner@vendor.example').orderBy('created_at', 'desc').executeTakeFirstOrThrow();
    assert.match(mail.subject, /Acme Mail Ltd/);
    assert.match(mail.text_body, /2 Mill Lane, Leeds LS1 2AB/);
  });

  test('the privacy notice\'s controller and complaint route are the vendor\'s to set, and /privacy shows them', async () => {
    await owner.get('/admin/settings');
    const form = { controller_name: 'Acme Mail Ltd', controller_address: '2 Mill Lane, Leeds LS1 2AB', controller_email: 'privacy@acme.example', controller_phone: '0113 496 0000', authority_name: 'the Information Commissioner\'s Office (ICO)', authority_url: 'https://ico.org.uk/make-a-complaint/' };
    const bad = await owner.post('/admin/settings/controller', { ...form, authority_url: 'http://ico.example' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /id="f-authority_url-error"/);
    await owner.get('/admin/settings');
    assert.match((await owner.post('/admin/settings/controller', form)).body, /Privacy contact saved/);
    const notice = (await t.app.inject({ url: '/privacy', headers: { accept: 'text/html' } })).body;
    for (const v of ['Acme Mail Ltd', 'privacy@acme.example', '2 Mill Lane, Leeds LS1 2AB']) assert.ok(notice.includes(v), v);
  });

  test('the processors are the vendor\'s to describe; a transfer outside the UK and EEA needs its safeguard', async () => {
    const { defaultProcessors } = await import('../privacy/index.js');
    const form: Record<string, string> = {};
    for (const p of defaultProcessors) Object.assign(form, { [`${p.id}_name`]: p.name, [`${p.id}_service`]: p.service, [`${p.id}_country`]: p.country, [`${p.id}_contract`]: p.contractRef, [`${p.id}_safeguard`]: p.transferSafeguard ?? '' });
    Object.assign(form, { mailing_name: 'Postmark', mailing_service: 'Email delivery for our newsletter and account emails', mailing_country: 'us', mailing_safeguard: '' });
    await owner.get('/admin/settings');
    const bad = await owner.post('/admin/settings/processors', form);
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /id="f-mailing_safeguard-error">Outside the UK and EEA/);
    await owner.get('/admin/settings');
    const ok = await owner.post('/admin/settings/processors', { ...form, mailing_safeguard: 'Standard contractual clauses' });
    assert.match(ok.body, /the privacy notice and the record of processing name them now/);
    const notice = (await t.app.inject({ url: '/privacy', headers: { accept: 'text/html' } })).body;
    assert.match(notice, /Postmark/);
    assert.doesNotMatch(notice, /Mailchimp/);
  });

  test('bank details and SMTP are stored; the SMTP password is never shown again', async () => {
    await owner.get('/admin/settings');
    assert.equal((await owner.post('/admin/settings/bank', { account_name: 'Vendor Ltd', bank_name: 'Northern Bank', sort_code: '', account_number: '', iban: 'GB29 NWBK 6016 1331 9268 19', bic: 'NWBKGB2L', payment_terms_days: '30' })).statusCode, 200);
    assert.equal((await loadBank(t.k.settings)).iban, 'GB29NWBK60161331926819');
    await owner.get('/admin/settings');
    assert.equal((await owner.post('/admin/settings/smtp', { url: 'smtp://mailer:s3cret-pw@mail.example.com:587', from: 'Vendor <sales@vendor.example>' })).statusCode, 200);
    assert.equal(await t.k.mail.smtpUrl(), 'smtp://mailer:s3cret-pw@mail.example.com:587');
    const again = await owner.get('/admin/settings');
    assert.doesNotMatch(again.body, /s3cret-pw/);
    assert.match(again.body, /mail\.example\.com/);
    // Leaving the URL empty keeps it.
    assert.equal((await owner.post('/admin/settings/smtp', { url: '', from: 'Vendor <billing@vendor.example>' })).statusCode, 200);
    assert.equal(await t.k.mail.smtpUrl(), 'smtp://mailer:s3cret-pw@mail.example.com:587');
    assert.equal(await t.k.mail.from(), 'Vendor <billing@vendor.example>');
  });

  test('call-home policy and retention periods reach the modules that use them', async () => {
    await owner.get('/admin/settings');
    const bad = await owner.post('/admin/settings/limits', { per_licence: '50', per_ip: '10', window_seconds: '0' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /f-per_ip-error/);
    assert.match(bad.body, /f-window_seconds-error/);
    assert.equal((await owner.post('/admin/settings/limits', { per_licence: '50', per_ip: '900', window_seconds: '120' })).statusCode, 200);
    await owner.get('/admin/settings');
    assert.equal((await owner.post('/admin/settings/retention', { ip_days: '14', ticket_days: '365' })).statusCode, 200);
    await new Promise((r) => setTimeout(r, 2100)); // the settings cache
    const s = await t.modules.licensing.settings();
    assert.deepEqual([s.perLicence, s.perIp, s.windowSeconds, s.ipRetentionDays], [50, 900, 120, 14]);
    const support = await t.k.settings.get<{ retentionDays?: number }>('support.settings', {});
    assert.equal(support.retentionDays, 365);
    await owner.get('/admin/settings');
    const r = await owner.post('/admin/settings/retention', { ip_days: '0', ticket_days: 'forever' });
    assert.equal(r.statusCode, 400);
    assert.match(r.body, /call-home address retention must be a whole number from 1 to 3650/);
    assert.match(r.body, /closed ticket retention must be a whole number from 1 to 3650/);
  });

  test('an owner rotates the signing key: /api/v1/keys lists the new key active and the old one retired', async () => {
    const before = JSON.parse((await t.app.inject({ method: 'GET', url: '/api/v1/keys' })).body).keys as { kid: string; status: string }[];
    assert.equal(before.length, 1);
    await owner.get('/admin/settings');
    const unconfirmed = await owner.post('/admin/settings/keys/rotate', {});
    assert.equal(unconfirmed.statusCode, 400);
    assert.match(unconfirmed.body, /Tick the box/);
    const res = await owner.post('/admin/settings/keys/rotate', { confirm: '1' });
    assert.equal(res.statusCode, 200);
    const keys = JSON.parse((await t.app.inject({ method: 'GET', url: '/api/v1/keys' })).body).keys as { kid: string; status: string }[];
    assert.equal(keys.length, 2);
    assert.deepEqual(keys.find((k) => k.kid === before[0]!.kid)!.status, 'retired');
    const fresh = keys.find((k) => k.kid !== before[0]!.kid)!;
    assert.equal(fresh.status, 'active');
    assert.match(res.body, new RegExp(fresh.kid));
    const audit = await t.k.db.selectFrom('audit_log').selectAll().where('action', '=', 'admin.signing_key_rotated').executeTakeFirstOrThrow();
    assert.equal(audit.target, fresh.kid);
    assert.equal(audit.actor_id, ownerId);
  });

  test('support, sales and admin staff cannot open or post the settings', async () => {
    for (const role of ['support', 'sales', 'admin']) {
      const [b] = await staff(role);
      assert.equal((await b.get('/admin/settings')).statusCode, 403, role);
      await b.get('/admin/security');
      assert.equal((await b.post('/admin/settings/keys/rotate', { confirm: '1' })).statusCode, 403, role);
      assert.equal((await b.post('/admin/settings/seller', { ...SELLER, name: 'Hijacked' })).statusCode, 403, role);
    }
    assert.equal((await loadSeller(t.k.settings)).name, 'Vendor Ltd');
    assert.equal((await t.k.db.selectFrom('signing_keys').select('kid').execute()).length, 2);
  });
});
