import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startJourney, skipWithoutChromium, type Journey, staffSignIn } from './harness.js';
import { SmtpPeer } from '../../src/kernel/testing/smtp.js';

let j: Journey;
let peer: SmtpPeer;
before(async () => {
  if (skipWithoutChromium) return;
  peer = await new SmtpPeer().start();
  j = await startJourney({ config: { smtpUrl: peer.url } });
  await j.t.modules.accounts.staff.createStaff({ email: 'helper@vendor.example', name: 'Hal Helper', role: 'support', password: 'quiet harbour lamp 7' }, null);
});
after(async () => { if (j) await j.close(); if (peer) await peer.stop(); });

test('contact form → ticket → staff reply → the email the customer receives', { skip: skipWithoutChromium }, async () => {
  const ctx = await j.newContext();
  const page = await ctx.newPage();
  await page.goto('/support/contact');
  await page.getByLabel('Your email address').fill('user@example.org');
  await page.getByLabel('Your name').fill('Uma User');
  await page.getByLabel('Subject').fill('Spam filter stopped updating');
  await page.getByLabel('How can we help?').fill('Since Monday the spam filter says its rules are out of date.');
  await page.screenshot({ path: path.join(j.screenshotDir, 'support-contact.png'), fullPage: true });
  j.t.clock.advance(30_000); // a person takes a while to fill the form (the spam check wants that)
  await page.getByRole('button', { name: 'Send request' }).click();
  await page.waitForLoadState();
  await page.screenshot({ path: path.join(j.screenshotDir, 'support-sent.png'), fullPage: true });
  assert.deepEqual(await ctx.cookies(), [], 'the contact form sets no cookie');
  const ticket = await j.t.k.db.selectFrom('support_tickets').selectAll().executeTakeFirstOrThrow();
  assert.match(ticket.subject, /Spam filter stopped updating/);

  await j.t.k.jobs.drain();
  const ack = peer.received.find((m) => m.to.includes('user@example.org'));
  assert.ok(ack, 'an acknowledgement arrived');
  assert.equal(ack!.headers['auto-submitted'], 'auto-replied');

  const staff = await j.newContext();
  const sp = await staff.newPage();
  await staffSignIn(sp, 'helper@vendor.example', 'quiet harbour lamp 7');
  await sp.goto(`/admin/tickets/${ticket.number}`);
  await sp.getByLabel('Message').fill('Please restart the updater service; it will fetch the new rules.');
  await sp.getByRole('button', { name: 'Send reply' }).click();
  await sp.waitForLoadState();
  await sp.screenshot({ path: path.join(j.screenshotDir, 'admin-ticket.png'), fullPage: true });

  await j.t.k.jobs.drain();
  const reply = peer.received.find((m) => m.to.includes('user@example.org') && /restart the updater/.test(m.text));
  assert.ok(reply, 'the customer received the staff reply by email');
  assert.match(reply!.subject, new RegExp(`#${ticket.number}`));
  assert.ok(reply!.headers['message-id'], 'with a Message-ID to thread on');
  assert.equal(reply!.headers['in-reply-to'], ack!.headers['message-id'], 'threaded under the acknowledgement in the customer\'s mail program');
  assert.match(reply!.headers.references ?? '', new RegExp(ack!.headers['message-id']!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  await ctx.close();
  await staff.close();
});
