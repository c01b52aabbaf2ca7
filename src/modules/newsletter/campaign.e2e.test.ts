import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { SmtpPeer } from '../../kernel/testing/smtp.js';
import { NEWSLETTER_SETTING } from './newsletter.settings.js';
import { drainAll, seedSubscribers, verifyDkim } from './testing.js';

let t: TestApp;
let peer: SmtpPeer;
const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });

before(async () => {
  peer = await new SmtpPeer().start();
  t = await testApp({ config: { smtpUrl: peer.url, mailFrom: 'Vendor <hello@vendor.example>' } });
  await t.k.settings.set(NEWSLETTER_SETTING, { ratePerMinute: 300, unconfirmedDays: 14, fromAddress: 'Vendor News <news@vendor.example>', mailDomain: 'lists.vendor.example' });
  await t.k.mail.setDkim({ domainName: 'vendor.example', keySelector: 'kw2026', privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() }, null);
});
after(async () => { await t.close(); await peer.stop(); });

describe('a campaign to 1,000 subscribers through a real SMTP peer', () => {
  test('everyone gets exactly one message, at the set rate, DKIM-signed over the unsubscribe headers', async () => {
    const emails = await seedSubscribers(t.k, 1000);
    const { posts, campaigns } = t.modules.newsletter;
    const postId = await posts.create({ title: 'Version 8.1 released', kind: 'release', body: '# What is new\n\n- Faster *sync*\n- [Release notes](/blog/version-8-1-released)\n\n```\nsetup.exe /quiet\n```' }, 'staff-test');
    await posts.setPublished(postId, true, 'staff-test');
    const id = await campaigns.create({ listId: 'newsletter', subject: 'News: version 8.1', intro: 'Hello! Here is what happened this month.', postIds: [postId] }, 'staff-test');
    assert.equal(await campaigns.start(id, 'staff-test', null), 1000);

    // The rate: 300 a minute means batches of 200 every 40 s; one batch is due now, the next only later.
    await t.k.jobs.drain(1000);
    assert.equal((await campaigns.progress(id)).handedToOutbox, 200);
    t.clock.advance(39_000);
    await t.k.jobs.drain(1000);
    assert.equal((await campaigns.progress(id)).handedToOutbox, 200, 'the next batch waits for the rate');
    await drainAll(t.k, t.clock, 40_000);

    const got = peer.received.filter((m) => m.subject === 'News: version 8.1');
    assert.equal(got.length, 1000);
    assert.equal(new Set(got.flatMap((m) => m.to)).size, 1000, 'nobody twice');
    assert.deepEqual(new Set(got.flatMap((m) => m.to)), new Set(emails));
    const p = await campaigns.progress(id);
    assert.equal(p.delivered, 1000);
    assert.equal(p.pending, 0);
    assert.equal((await t.k.db.selectFrom('newsletter_campaigns').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status, 'sent');

    const verps = new Set<string>();
    for (const m of got) {
      assert.match(m.headers['list-unsubscribe']!.replace(/\s+/g, ' '), /^<http:\/\/127\.0\.0\.1:3000\/u\/[0-9a-f]{32}n[0-9a-f]{24}>, <mailto:unsub\+[0-9a-f]{32}n[0-9a-f]{24}@lists\.vendor\.example\?subject=unsubscribe>$/);
      assert.equal(m.headers['list-unsubscribe-post'], 'List-Unsubscribe=One-Click');
      assert.match(m.headers['list-id']!, /<newsletter\.lists\.vendor\.example>/);
      assert.match(m.headers.from!, /news@vendor\.example/);
      assert.match(m.from, /^bounces\+[0-9a-f]{52}@lists\.vendor\.example$/);
      verps.add(m.from);
      const dkim = verifyDkim(m.raw, publicKey);
      assert.ok(dkim.ok, dkim.problem);
      assert.ok(dkim.signed.includes('list-unsubscribe') && dkim.signed.includes('list-unsubscribe-post'), `h=${dkim.signed.join(':')}`);
      assert.ok(dkim.signed.includes('from') && dkim.signed.includes('subject'));
    }
    assert.equal(verps.size, 1000, 'one return path per recipient');
    assert.match(got[0]!.raw, /DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=vendor\.example;[\s\S]*s=kw2026/);

    const sample = got[0]!;
    assert.match(sample.html, /<h2><a href="http:\/\/127\.0\.0\.1:3000\/blog\/version-8-1-released">Version 8\.1 released<\/a><\/h2>/);
    assert.match(sample.html, /<h3>What is new<\/h3>/);
    assert.match(sample.text, /Release notes \(http:\/\/127\.0\.0\.1:3000\/blog\/version-8-1-released\)/);
    assert.doesNotMatch(sample.html, /<img|<script/i);

    // A tampered message no longer verifies (the check above is not vacuous).
    assert.equal(verifyDkim(sample.raw.replace('List-Unsubscribe-Post: List-Unsubscribe=One-Click', 'List-Unsubscribe-Post: List-Unsubscribe=Two-Click'), publicKey).ok, false);
  });

  test('a post already sent to the list is never sent again, even after an edit', async () => {
    const { posts, campaigns } = t.modules.newsletter;
    const sent = await t.k.db.selectFrom('newsletter_post_sends').selectAll().executeTakeFirstOrThrow();
    await posts.update(sent.post_id, { title: 'Version 8.1 released (updated)', kind: 'release', body: 'Edited after sending.' }, 'staff-test');
    const id = await campaigns.create({ listId: 'newsletter', subject: 'Again?', postIds: [sent.post_id] }, 'staff-test');
    await assert.rejects(campaigns.start(id, 'staff-test', null), { code: 'NEWS_POST_ALREADY_SENT' });
    const c = await t.k.db.selectFrom('newsletter_campaigns').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal(c.status, 'draft', 'nothing started');
    assert.equal((await t.k.db.selectFrom('newsletter_campaign_sends').select('campaign_id').where('campaign_id', '=', id).execute()).length, 0);
    const before = peer.received.length;
    await drainAll(t.k, t.clock);
    assert.equal(peer.received.length, before);
  });
});
