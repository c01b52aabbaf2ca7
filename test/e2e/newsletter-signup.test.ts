import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startJourney, skipWithoutChromium, type Journey } from './harness.js';
import { SmtpPeer } from '../../src/kernel/testing/smtp.js';

let j: Journey;
let peer: SmtpPeer;
before(async () => {
  if (skipWithoutChromium) return;
  peer = await new SmtpPeer().start();
  j = await startJourney({ config: { smtpUrl: peer.url } });
});
after(async () => { if (j) await j.close(); if (peer) await peer.stop(); });

test('a reader signs up on the blog, confirms from the email, and unsubscribes from the email link', { skip: skipWithoutChromium }, async () => {
  const ctx = await j.newContext();
  const page = await ctx.newPage();
  await page.goto('/blog');
  await page.getByLabel('Email address').fill('reader@example.com');
  await page.getByLabel('Your name').fill('Rita Reader');
  await page.screenshot({ path: path.join(j.screenshotDir, 'blog-signup.png'), fullPage: true });
  await page.getByRole('button', { name: 'Subscribe' }).click();
  await page.waitForLoadState();
  assert.match(await page.content(), /email/i);
  assert.deepEqual(await ctx.cookies(), [], 'signing up sets no cookie');

  await j.t.k.jobs.drain();
  const confirmMail = peer.received.find((m) => m.to.includes('reader@example.com'));
  assert.ok(confirmMail, 'a confirmation email arrived at the SMTP peer');
  const confirmUrl = /(https?:\/\/\S+\/newsletter\/confirm\/[A-Za-z0-9_.-]+)/.exec(confirmMail!.text)?.[1];
  assert.ok(confirmUrl, confirmMail!.text);
  await page.goto(confirmUrl!);
  assert.equal(await page.getByRole('button', { name: 'Confirm my subscription' }).count(), 1, 'a GET shows a button and confirms nothing');
  await page.getByRole('button', { name: 'Confirm my subscription' }).click();
  await page.waitForLoadState();
  await page.screenshot({ path: path.join(j.screenshotDir, 'newsletter-confirmed.png'), fullPage: true });

  const subscribed = await j.t.k.db.selectFrom('newsletter_subscriptions as s').innerJoin('newsletter_subscribers as p', 'p.id', 's.subscriber_id')
    .select(['s.status', 's.list_id']).where('p.email', '=', 'reader@example.com').execute();
  assert.deepEqual(subscribed, [{ status: 'subscribed', list_id: 'newsletter' }]);

  // Staff send a post as a campaign; its email carries the unsubscribe link and the one-click headers.
  const staffId = await j.t.modules.accounts.staff.createStaff({ email: 'editor@vendor.example', name: 'Ed Editor', role: 'admin', password: 'quiet harbour lamp 7' }, null);
  const { posts, campaigns } = j.t.modules.newsletter;
  const postId = await posts.create({ title: 'Mail Server 8.6 released', kind: 'release', summary: 'What is new', body: 'Faster **IMAP** and a new spam filter.' }, staffId);
  await posts.setPublished(postId, true, staffId);
  const campaignId = await campaigns.create({ listId: 'newsletter', subject: 'News from us', intro: 'Hello!', postIds: [postId] }, staffId);
  await campaigns.start(campaignId, staffId, null);
  await j.t.k.jobs.drain();
  const issue = peer.received.find((m) => m.subject.includes('News from us') && m.to.includes('reader@example.com'));
  assert.ok(issue, 'the campaign reached the subscriber');
  assert.match(issue!.headers['list-unsubscribe'] ?? '', /<https?:\/\/\S+\/u\/[^>]+>/);
  assert.equal(issue!.headers['list-unsubscribe-post'], 'List-Unsubscribe=One-Click');
  const unsubUrl = /(https?:\/\/\S+\/u\/[A-Za-z0-9_.-]+)/.exec(issue!.text)?.[1];
  assert.ok(unsubUrl, 'the newsletter carries a visible unsubscribe link');
  await page.goto(unsubUrl!);
  await page.getByRole('button', { name: /Unsubscribe/ }).click();
  await page.waitForLoadState();
  await page.screenshot({ path: path.join(j.screenshotDir, 'newsletter-unsubscribed.png'), fullPage: true });
  const after = await j.t.k.db.selectFrom('newsletter_subscriptions as s').innerJoin('newsletter_subscribers as p', 'p.id', 's.subscriber_id')
    .select(['s.status']).where('p.email', '=', 'reader@example.com').where('s.list_id', '=', 'newsletter').executeTakeFirstOrThrow();
  assert.equal(after.status, 'unsubscribed');
  await ctx.close();
});
