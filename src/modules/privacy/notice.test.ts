import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, type TestApp } from '../../kernel/testing/app.js';

/**
 * The generated /privacy, for the demo vendor, set beside the reference notice
 * (../shared/reference/privacy-notice.txt): each statement of the reference, and where the generated
 * notice makes it true. A declaration change that drops one of them fails here.
 */
let t: TestApp;
let text = '';
const section = (id: string) => {
  const m = new RegExp(`id="${id}"([\\s\\S]*?)(?=<section class="card" id="group-|<h2 |</article>)`).exec(html);
  assert.ok(m, `section ${id} is present`);
  return m![1]!.replace(/<[^>]+>/g, ' ').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/\s+/g, ' ');
};
let html = '';
before(async () => {
  t = await testApp();
  html = (await t.app.inject({ url: '/privacy', headers: { accept: 'text/html' } })).body;
  text = html.replace(/<[^>]+>/g, ' ').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/\s+/g, ' ');
});
after(async () => { await t.close(); });

const REFERENCE: Array<[string, () => void]> = [
  ['We do not sell or publish any information about customers unless given express permission (customer comments, reseller listings).',
    () => assert.match(text, /do not sell or publish any information about our customers unless given express permission to do so \(for instance in our customer comments or our reseller listings\)/)],
  ['We never send spam; occasional security notifications can be opted out of.',
    () => { assert.match(text, /We never send spam/); assert.match(text, /security update is available[^.]*; you can opt out/); }],
  ['Cookies are only those necessary; no tracking cookies anywhere.',
    () => { assert.match(text, /only those necessary for the site to work/); assert.match(text, /No tracking cookies are used anywhere on our site/); }],
  ['The support system and My account cookies keep track of your account and are deleted when the browser closes unless "Remember me".',
    () => { const s = section('cookies'); assert.match(s, /kw_session : Keeps you signed in to My account, the support system/); assert.match(s, /deleted when you close your browser/); assert.match(s, /kw_remember : [^:]*only if you tick "Remember me"/); }],
  ['The order system cookie remembers the basket and is deleted when the browser closes.',
    () => assert.match(section('cookies'), /kw_basket : Remembers what you put in your basket[^.]*\. It is set when first item put in the basket[^.]*, and is deleted when you close your browser/)],
  ['Someone who is not a customer never gets the account cookie.',
    () => assert.match(text, /If you are not signed in and your basket is empty, we set no cookie at all/)],
  ['Cookies can be avoided by not logging in, not using support or the order system; orders can be placed by telephone.',
    () => assert.match(text, /avoid them by not signing in, not using the online support system and not using the online shop\. Orders can be placed by telephone/)],
  ['Customers: name, email, invoice address, telephone, securely hashed password.',
    () => { const s = section('group-customer'); for (const d of ['Name', 'Email address', 'Invoice address', 'Contact telephone number', 'Securely hashed password']) assert.ok(s.includes(d), d); }],
  ['Customers: for licence keys, invoices, contacting about problems with orders and about renewals, and the portal.',
    () => { const s = section('group-customer'); assert.match(s, /licence keys/); assert.match(s, /invoices/); assert.match(s, /problem with an order/); assert.match(s, /renewals/); assert.match(s, /customer portal/); }],
  ['Customers: lawful bases Contractual and Legitimate Interests.',
    () => { const s = section('group-customer'); assert.match(s, /GDPR lawful bases: [^.]*Contractual/); assert.match(s, /GDPR lawful bases: [^.]*Legitimate Interests/); }],
  ['Customers: some data shared with KashFlow (accounting), who will not contact them but emails invoices.',
    () => assert.match(section('group-customer'), /shared with KashFlow , who provide our online accounting; emails invoices on the vendor's behalf\. KashFlow act only on our instructions and will not contact you directly/)],
  ['Support users: email address, name (possibly), information they volunteer; to provide the support asked for.',
    () => { const s = section('group-support_user'); assert.match(s, /Email address/); assert.match(s, /Name \(if you gave it\)/); assert.match(s, /What you wrote to us/); assert.match(s, /technical support people ask for/); }],
  ['Support users: shared with LiveAgent (helpdesk), who emails replies and automated responses; Legitimate Interests.',
    () => { const s = section('group-support_user'); assert.match(s, /shared with LiveAgent , who provide our online helpdesk; emails replies and automated responses/); assert.match(s, /Legitimate Interests/); }],
  ['Newsletter users: explicitly signed up, email and name (possibly), newsletter from the blog, unsubscribe by link or by contacting support.',
    () => { const s = section('group-newsletter_subscriber'); assert.match(s, /explicitly signed up/); assert.match(s, /Email address/); assert.match(s, /Name \(possibly\)/); assert.match(s, /selected from the blog/); assert.match(s, /unsubscribe link in every email/); assert.match(s, /writing to support/); }],
  ['Newsletter users: shared with MailChimp; lawful bases Legitimate Interests and Consent.',
    () => { const s = section('group-newsletter_subscriber'); assert.match(s, /shared with Mailchimp/); assert.match(s, /GDPR lawful bases: [^.]*Consent/); assert.match(s, /GDPR lawful bases: [^.]*Legitimate Interests/); }],
  ['The software calls home to validate the licence, check for new versions and download spam filter or antivirus updates.',
    () => assert.match(section('calls-home'), /validate its licence, check whether a new version is available, and download spam-filter or antivirus updates/)],
  ['A call home sends only licence details, the external IP, users in use, the version and a computer ID.',
    () => { const s = section('calls-home'); for (const d of ['licence details', 'External IP address', 'users in use', 'version', 'Computer ID']) assert.ok(s.includes(d), `${d} in: ${s}`); }],
  ['The computer ID does not identify you; it is used to see whether a licence is used on several PCs.',
    () => assert.match(section('calls-home'), /does not allow us to identify you personally[\s\S]{0,300}We use it to see whether a licence is being used on several PCs/)],
  ['Questions or concerns (cookies, calls home): contact the vendor.',
    () => assert.match(section('contact'), /Questions or concerns about your data, our cookies or the software's calls home: privacy@example\.com/)],
];

for (const [statement, check] of REFERENCE) test(`reference: ${statement}`, () => check());

test('beyond the reference: retention, rights and how to complain', () => {
  assert.match(text, /How long we keep it/);
  assert.match(section('rights'), /ask for a copy/);
  assert.match(section('complaints'), /Information Commissioner/);
});

test('each group lists every value declared for its people (log fields included) and where the values come from', async () => {
  const { buildRegistry } = await import('./registry.js');
  const { GROUPS, sourceInWords } = await import('./notice.js');
  const { defaultProcessors } = await import('./registry.js');
  const reg = buildRegistry();
  for (const g of GROUPS) {
    const fields = reg.fields.filter((f) => f.subjects.includes(g.subject));
    if (fields.length === 0) continue;
    const s = section(`group-${g.subject}`);
    const held = /Data held (.*?) Where it comes from: (.*?)\. /.exec(s);
    assert.ok(held, `${g.subject}: data held and its sources`);
    const decode = (x: string) => x.replace(/&amp;/g, '&');
    for (const f of fields) assert.ok(decode(held[1]!).includes(f.label), `${g.subject}: "${f.label}" is not under Data held`);
    for (const f of fields) assert.ok(decode(held[2]!).includes(sourceInWords(f.source, defaultProcessors)), `${g.subject}: source of "${f.label}"`);
  }
  assert.match(section('group-customer'), /IP address in the server log/);
});
