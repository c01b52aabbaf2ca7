import type { FastifyInstance } from 'fastify';
import type { Kernel } from '../../kernel/context.js';
import { page } from '../../kernel/http/page.js';
import { requireStaff } from '../accounts/index.js';
import { buildRegistry } from './registry.js';
import { buildNotice, type Notice, type NoticeGroup } from './notice.js';
import { ropaCsv, ropaRows } from './ropa.js';
import { loadController, loadProcessors } from './privacy.settings.js';
import { registerRightsPages } from './rights.pages.js';


export async function loadNotice(k: Kernel): Promise<Notice> {
  const controller = await loadController(k.settings);
  const processors = await loadProcessors(k.settings);
  return buildNotice(buildRegistry(), controller, processors);
}

const list = (items: string[]) => <ul>{items.map((i) => <li>{i}</li>)}</ul>;

function Group({ g }: { g: NoticeGroup }) {
  return (
    <section class="card" id={`group-${g.subject}`}>
      <h3>{g.title}</h3>
      <p>{g.who}</p>
      <h4>Data held</h4>
      <ul class="held">{g.data.map((i) => <li>{i}</li>)}</ul>
      <p><strong>Where it comes from:</strong> {g.sources.join('; ')}.</p>
      <h4>Purpose</h4>
      <ul>{g.purposes.map((p) => <li>{p.description} <span class="muted">({p.basis}{p.detail ? `: ${p.detail}` : ''})</span></li>)}</ul>
      <p><strong>GDPR lawful bases:</strong> {g.bases.join(', ')}</p>
      {g.sharedWith.length
        ? g.sharedWith.map((s) => <p>Some of this data ({s.data.join(', ').toLowerCase()}) is shared with <strong>{s.processor.name}</strong>, who provide our {s.processor.service.toLowerCase()}. {s.processor.name} act{s.processor.role === 'processor' ? ' only on our instructions and will not contact you directly' : ' as an independent controller'}.{s.processor.transferSafeguard ? ` Transfers outside the UK/EEA are protected by: ${s.processor.transferSafeguard}.` : ''}</p>)
        : <p>This data is not shared with anyone else.</p>}
      <h4>How long we keep it</h4>
      <div class="table-wrap"><table><tbody>{g.retention.map((r) => <tr><td>{r.data}</td><td>{r.period}</td></tr>)}</tbody></table></div>
      {g.optional.length ? <p class="muted">Optional: {g.optional.join(', ')}. Everything else is needed to provide the service or required by law.</p> : null}
      {g.withdraw.length ? <p>{g.withdraw.join(' ')}</p> : null}
    </section>
  );
}

export function registerPrivacyPages(app: FastifyInstance, k: Kernel): void {
  registerRightsPages(app, k);
  app.get('/privacy', async (request, reply) => {
    const n = await loadNotice(k);
    const c = n.controller;
    return page(k.settings, request, reply, { title: 'Privacy information' }, (
      <article class="notice">
        <h1>Privacy information</h1>
        <p>{c.name} ("we") do not sell or publish any information about our customers unless given express permission to do so (for instance in our customer comments or our reseller listings).</p>

        <h2 id="email">Email and spam</h2>
        <p>We never send spam. We email customers what their purchases need: licence keys, invoices, renewal reminders and answers to support requests. When a vulnerability is found and a security update is available we send a security advisory; you can opt out of these on your email preferences page or by contacting {c.email}. Our newsletter goes only to people who asked for it, and every issue has a one-click unsubscribe link.</p>

        <h2 id="cookies">Cookies</h2>
        <p>Some sections of our website use cookies, but only those necessary for the site to work. No tracking cookies are used anywhere on our site. If you are not signed in and your basket is empty, we set no cookie at all.</p>
        <ul>{n.cookies.map((ck) => (
          <li><strong>{ck.name}</strong>: {ck.purpose} It is set when {ck.setWhen}, holds {ck.holds}, and {ck.persistence === 'browser_session' ? `is deleted when you close your browser${ck.endsAtSignOut ? ' or sign out' : ''}` : `lasts ${ck.persistence.maxAgeDays} days, only when ${ck.persistence.onlyWhen}${ck.endsAtSignOut ? '; signing out deletes it' : ''}`}.</li>
        ))}</ul>
        <p>If you do not want cookies, you can avoid them by not signing in, not using the online support system and not using the online shop. Orders can be placed by telephone{c.phone ? ` (${c.phone})` : ''} instead, though these often take longer. See also the <a href="/cookies">cookie list</a>.</p>

        <h2 id="data">Personal data</h2>
        <p>We hold personal data about the following groups of people, for the reasons listed.</p>
        {n.groups.map((g) => <Group g={g} />)}

        <h2 id="calls-home">Software "calls home"</h2>
        <p>Our software periodically calls home to validate its licence, check whether a new version is available, and download spam-filter or antivirus updates if those optional extras have been purchased. These calls do not include any personal information about you or your users. What the software sends is only:</p>
        {list(['The licence details of our software (the licence key and product)', ...n.callHome.data])}
        <p>The computer ID does not allow us to identify you personally: it is a one-way hash made on your PC from its own machine identifier, different for each of our products, so it cannot be linked across products. We use it to see whether a licence is being used on several PCs, in the same way other software activation works. We store nothing else that the software sends.</p>
        <ul>{n.callHome.purposes.map((p) => <li>{p.description} <span class="muted">({p.basis}{p.detail ? `: ${p.detail}` : ''})</span></li>)}</ul>
        <div class="table-wrap"><table><tbody>{n.callHome.retention.map((r) => <tr><td>{r.data}</td><td>{r.period}</td></tr>)}</tbody></table></div>

        <h2 id="rights">Your rights</h2>
        <p>You can ask for a copy of the personal data we hold about you (customers can download it themselves from My account), ask us to correct it, to erase it (we keep only what the law makes us keep, such as invoices for six years, and tell you what), to restrict or object to its use, and to have it in a machine-readable form. Where we rely on your consent you can withdraw it at any time, as easily as you gave it.</p>

        <h2 id="complaints">Complaints</h2>
        <p>If you are unhappy with how we handle your data, please tell us first. You can also complain to {c.supervisoryAuthority.name}: <a href={c.supervisoryAuthority.url}>{c.supervisoryAuthority.url}</a>.</p>

        <h2 id="contact">Contact</h2>
        <p>{c.name}, {c.address}. Questions or concerns about your data, our cookies or the software's calls home: <a href={`mailto:${c.email}`}>{c.email}</a>{c.phone ? `, ${c.phone}` : ''}.</p>
      </article>
    ));
  });

  app.get('/cookies', async (request, reply) => {
    const n = await loadNotice(k);
    return page(k.settings, request, reply, { title: 'Cookies' }, (
      <>
        <h1>Cookies</h1>
        <p>Every cookie this site can set. None is used for tracking; a visitor who is not signed in and has an empty basket gets none.</p>
        <div class="table-wrap"><table class="stack">
          <thead><tr><th>Name</th><th>Purpose</th><th>Set when</th><th>Holds</th><th>Lasts</th><th>Why no consent is needed</th></tr></thead>
          <tbody>{n.cookies.map((c) => (
            <tr><td><code>{c.name}</code></td><td data-label="Purpose">{c.purpose}</td><td data-label="Set when">{c.setWhen}</td><td data-label="Holds">{c.holds}</td>
              <td data-label="Lasts">{c.persistence === 'browser_session' ? 'until the browser closes' : `${c.persistence.maxAgeDays} days, only when ${c.persistence.onlyWhen}`}</td>
              <td data-label="Why no consent is needed">{c.exemption === 'strictly_necessary' ? 'Strictly necessary for a service you asked for' : c.exemption === 'remember_me' ? 'You ask for it by ticking "Remember me"' : 'You consented'}</td></tr>
          ))}</tbody>
        </table></div>
      </>
    ));
  });

  app.get('/admin/privacy/ropa', { preHandler: requireStaff('owner', 'admin') }, async (request, reply) => {
    const rows = ropaRows(buildRegistry(), await loadProcessors(k.settings));
    return page(k.settings, request, reply, { title: 'Record of processing', variant: 'admin' }, (
      <>
        <h1>Record of processing (Article 30)</h1>
        <p><a class="button secondary" href="/admin/privacy/ropa.csv">Download CSV</a></p>
        <div class="table-wrap"><table class="stack">
          <thead><tr><th>Purpose</th><th>Lawful basis</th><th>Data subjects</th><th>Categories of data</th><th>Recipients</th><th>Retention</th></tr></thead>
          <tbody>{rows.map((r) => <tr><td><strong>{r.purpose}</strong></td><td data-label="Lawful basis">{r.basis}</td><td data-label="Data subjects">{r.subjects}</td><td data-label="Categories of data">{r.categories}</td><td data-label="Recipients">{r.recipients}</td><td data-label="Retention">{r.retention}</td></tr>)}</tbody>
        </table></div>
      </>
    ));
  });

  app.get('/admin/privacy/ropa.csv', { preHandler: requireStaff('owner', 'admin') }, async (_request, reply) => {
    const csv = ropaCsv(buildRegistry(), await loadProcessors(k.settings));
    return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="record-of-processing.csv"').send(csv);
  });
}
