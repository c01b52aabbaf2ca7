// Campaign messages follow the outbox's at-most-once rule: a recipient whose message was handed to the
// mail server without an answer (the link broke) is held as uncertain, shown in the campaign's progress,
// never re-sent by itself; staff send it again from the mail outbox. Real SMTP (SmtpPeer).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { SmtpPeer } from '../../kernel/testing/smtp.js';
import { NEWSLETTER_SETTING } from './newsletter.settings.js';
import { drainAll, seedSubscribers, staffBrowser } from './testing.js';

let t: TestApp;
let peer: SmtpPeer;
before(async () => {
  peer = await new SmtpPeer().start();
  t = await testApp({ config: { smtpUrl: peer.url, mailFrom: 'Vendor <hello@vendor.example>' } });
  await t.k.settings.set(NEWSLETTER_SETTING, { ratePerMinute: 300, unconfirmedDays: 14, fromAddress: 'Vendor News <news@vendor.example>', mailDomain: 'lists.vendor.example' });
});
after(async () => { await t.close(); await peer.stop(); });

test('a campaign message cut off after hand-over is held as uncertain, counted in progress, and sent again only by staff', async () => {
  await seedSubscribers(t.k, 6);
  const { campaigns } = t.modules.newsletter;
  const id = await campaigns.create({ listId: 'newsletter', subject: 'Held one', intro: 'Hello.' }, 'staff-test');
  assert.equal(await campaigns.start(id, 'staff-test', null), 6);
  let n = 0;
  peer.onAccepted = () => { n++; peer.dropAfterAccept = n === 3; };
  await drainAll(t.k, t.clock);
  peer.onAccepted = null;
  t.clock.advance(3_600_000);
  await drainAll(t.k, t.clock);

  const got = peer.received.filter((m) => m.subject === 'Held one');
  assert.equal(got.length, 6, 'every message reached the server once');
  assert.deepEqual(peer.duplicates(), [], 'the held one was not re-sent');
  let p = await campaigns.progress(id);
  assert.equal(p.delivered, 5);
  assert.equal(p.uncertain, 1);
  assert.equal(p.waiting, 0);

  const owner = await staffBrowser(t, 'owner');
  const page = await owner.get(`/admin/newsletter/campaigns/${id}`);
  assert.match(page.body, /Delivery uncertain \(held for a decision\)<\/th><td class="num">1</);
  assert.match(page.body, /href="\/admin\/mail#uncertain"/);

  const held = await t.k.db.selectFrom('newsletter_campaign_sends as s').innerJoin('mail_outbox as o', 'o.id', 's.outbox_id')
    .select(['o.id', 'o.message_id']).where('s.campaign_id', '=', id).where('o.status', '=', 'uncertain').executeTakeFirstOrThrow();
  await owner.get('/admin/mail');
  assert.equal((await owner.post(`/admin/mail/${held.id}/send-again`, {})).statusCode, 303);
  await drainAll(t.k, t.clock);
  p = await campaigns.progress(id);
  assert.equal(p.delivered, 6);
  assert.equal(p.uncertain, 0);
  assert.equal(peer.countsByMessageId().get(`<${held.message_id.replace(/^<|>$/g, '')}>`), 2, 'one deliberate copy more');
  assert.equal(peer.received.filter((m) => m.subject === 'Held one').length, 7);
});
