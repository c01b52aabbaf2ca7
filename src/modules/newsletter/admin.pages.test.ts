import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { TestBrowser } from '../../kernel/testing/http.js';
import { DKIM_SETTING } from '../../kernel/mail/mailer.js';
import { drainAll, seedSubscribers, staffBrowser } from './testing.js';

let t: TestApp;
let owner: TestBrowser;
before(async () => {
  t = await testApp();
  owner = await staffBrowser(t, 'owner', 'olive@vendor.example');
});
after(async () => { await t.close(); });

const idFrom = (location: unknown) => String(location).split('/').pop()!;

describe('blog: written in the admin, published on /blog and in the feeds', () => {
  let postId = '';

  test('write → preview → publish; drafts stay private; HTML in Markdown is shown as text', async () => {
    await owner.get('/admin/newsletter/posts/new');
    const created = await owner.post('/admin/newsletter/posts', {
      title: 'Version 8.1 released', slug: '', kind: 'release', summary: '',
      body: '# Highlights\n\n- **Faster** sync\n- <script>alert(1)</script>\n\nRead the [notes](https://vendor.example/notes).',
    });
    assert.equal(created.statusCode, 303);
    postId = idFrom(created.headers.location);
    const edit = await owner.get(`/admin/newsletter/posts/${postId}`);
    assert.match(edit.body, /<h2>Highlights<\/h2>/, 'preview');
    assert.match(edit.body, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.doesNotMatch(edit.body, /<script>alert/);
    assert.equal((await t.app.inject({ url: '/blog/version-8-1-released', headers: { accept: 'text/html' } })).statusCode, 404, 'a draft is not public');

    await owner.post(`/admin/newsletter/posts/${postId}/publish`, {});
    const blog = await new TestBrowser(t.app).get('/blog');
    assert.match(blog.body, /href="\/blog\/version-8-1-released"/);
    assert.match(blog.body, /<p>Read the notes\.<\/p>/, 'the summary is made from the first paragraph');
    // A hand-edited page number is the first page, not an error; a page past the end says so.
    for (const odd of ['-1', 'abc', '0']) assert.match((await new TestBrowser(t.app).get(`/blog?page=${odd}`)).body, /href="\/blog\/version-8-1-released"/, odd);
    const past = await new TestBrowser(t.app).get('/blog?page=99999');
    assert.equal(past.statusCode, 200);
    assert.match(past.body, /No posts on this page/);
    const post = await new TestBrowser(t.app).get('/blog/version-8-1-released');
    assert.equal(post.statusCode, 200);
    assert.match(post.body, /<li><strong>Faster<\/strong> sync<\/li>/);
    assert.match(post.body, /<a href="https:\/\/vendor\.example\/notes">notes<\/a>/);
    assert.doesNotMatch(post.body, /<script>alert/);
    assert.match(post.body, /name="w" value="[0-9a-f]{64}"/, 'the sign-up form is beside the post');
  });

  test('bad input re-shows the form; a slug is unique', async () => {
    await owner.get('/admin/newsletter/posts/new');
    const empty = await owner.post('/admin/newsletter/posts', { title: '', body: '' });
    assert.equal(empty.statusCode, 400);
    assert.match(empty.body, /Enter a title/);
    await owner.get('/admin/newsletter/posts/new');
    const dup = await owner.post('/admin/newsletter/posts', { title: 'Other', slug: 'version-8-1-released', kind: 'tip', body: 'x' });
    assert.equal(dup.statusCode, 400);
    assert.match(dup.body, /already uses this address/);
    await owner.get('/admin/newsletter/posts/new');
    const badKind = await owner.post('/admin/newsletter/posts', { title: 'x', kind: 'nope', body: 'x' });
    assert.equal(badKind.statusCode, 400);
    for (const inherited of ['constructor', '__proto__', 'toString']) {
      await owner.get('/admin/newsletter/posts/new');
      assert.equal((await owner.post('/admin/newsletter/posts', { title: `x ${inherited}`, kind: inherited, body: 'x' })).statusCode, 400, inherited);
    }
    const unknown = await owner.get('/admin/newsletter/posts/no-such-id');
    assert.equal(unknown.statusCode, 404);
  });

  test('RSS 2.0 and Atom feeds list published posts', async () => {
    const rss = await t.app.inject({ url: '/blog/rss.xml' });
    assert.equal(rss.statusCode, 200);
    assert.match(String(rss.headers['content-type']), /application\/rss\+xml/);
    assert.match(rss.body, /<link>http:\/\/127\.0\.0\.1:3000\/blog\/version-8-1-released<\/link>/);
    const atom = await t.app.inject({ url: '/blog/atom.xml' });
    assert.match(String(atom.headers['content-type']), /application\/atom\+xml/);
    assert.match(atom.body, /<entry>[\s\S]*Version 8\.1 released[\s\S]*<\/entry>/);
  });

  test('campaign: build from the post, preview, test, send, follow progress; the post cannot go to the list again', async () => {
    await seedSubscribers(t.k, 3);
    const nav = await owner.get('/admin/newsletter');
    assert.match(nav.body, /href="\/admin\/newsletter"/, 'in the admin menu');
    // A name every object inherits is no list: refused, nothing stored (`in` found them, and the pages then failed).
    for (const inherited of ['constructor', '__proto__', 'valueOf']) {
      await owner.get('/admin/newsletter/campaigns/new');
      assert.equal((await owner.post('/admin/newsletter/campaigns', { list: inherited, subject: 'Odd list', intro: 'x' })).statusCode, 400, inherited);
    }
    assert.equal((await t.k.db.selectFrom('newsletter_campaigns').select('id').where('subject', '=', 'Odd list').execute()).length, 0);
    await owner.get('/admin/newsletter/campaigns/new');
    const created = await owner.post('/admin/newsletter/campaigns', { list: 'newsletter', subject: 'November news', intro: 'Hello **all**.', posts: postId });
    assert.equal(created.statusCode, 303);
    const id = idFrom(created.headers.location);
    const draft = await owner.get(`/admin/newsletter/campaigns/${id}`);
    assert.match(draft.body, /<h2><a href="http:\/\/127\.0\.0\.1:3000\/blog\/version-8-1-released">Version 8\.1 released<\/a><\/h2>/);
    assert.match(draft.body, /3 subscriber\(s\)/);

    const preview = await owner.get(`/admin/newsletter/campaigns/${id}/preview.html`);
    assert.match(String(preview.headers['content-security-policy']), /sandbox/);
    assert.match(preview.body, /Unsubscribe from the newsletter/);
    await owner.get(`/admin/newsletter/campaigns/${id}`);

    const test1 = await owner.post(`/admin/newsletter/campaigns/${id}/test`, { to: 'olive@vendor.example' });
    assert.match(test1.body, /A test message is on its way/);
    const testMail = await t.k.db.selectFrom('mail_outbox').selectAll().where('subject', '=', '[Test] November news').executeTakeFirstOrThrow();
    assert.match(JSON.parse(testMail.headers)['List-Unsubscribe'], /^<http:\/\/127\.0\.0\.1:3000\/u\/0{32}n/);

    await owner.get(`/admin/newsletter/campaigns/${id}`);
    const unconfirmed = await owner.post(`/admin/newsletter/campaigns/${id}/send`, {});
    assert.match(unconfirmed.body, /Tick the box/);
    const sent = await owner.post(`/admin/newsletter/campaigns/${id}/send`, { confirm: 'yes' });
    assert.equal(sent.statusCode, 303);
    const status = await owner.get(`/admin/newsletter/campaigns/${id}`);
    assert.equal(status.headers.refresh, '10', 'reloads itself while sending, without script');
    assert.match(status.body, /Recipients when sending started<\/th><td class="num">3/);
    const pause = await owner.post(`/admin/newsletter/campaigns/${id}/pause`, {});
    assert.equal(pause.statusCode, 303);
    await t.k.jobs.drain(); // the batch queued before the pause finds itself stale
    assert.equal((await t.k.db.selectFrom('mail_outbox').select('id').where('subject', '=', 'November news').execute()).length, 0, 'paused: nothing sent');
    await owner.get(`/admin/newsletter/campaigns/${id}`);
    await owner.post(`/admin/newsletter/campaigns/${id}/resume`, {});
    await drainAll(t.k, t.clock);
    assert.equal((await t.k.db.selectFrom('mail_outbox').select('id').where('subject', '=', 'November news').execute()).length, 3);
    const done = await owner.get(`/admin/newsletter/campaigns/${id}`);
    assert.match(done.body, /Handed to the outbox<\/th><td class="num">3/);
    assert.equal(done.headers.refresh, undefined);
    assert.equal((await owner.post(`/admin/newsletter/campaigns/${id}`, { list: 'newsletter', subject: 'Changed' })).statusCode, 409, 'a sent campaign cannot be edited');

    const next = await owner.get('/admin/newsletter/campaigns/new');
    assert.match(next.body, new RegExp(`value="${postId}" disabled`), 'the sent post cannot be chosen again for this list');
    await owner.post(`/admin/newsletter/posts/${postId}`, { title: 'Version 8.1 released', kind: 'release', body: 'Edited after sending.' });
    const again = await owner.post('/admin/newsletter/campaigns', { list: 'newsletter', subject: 'Again', posts: postId });
    const againId = idFrom(again.headers.location);
    await owner.get(`/admin/newsletter/campaigns/${againId}`);
    const refused = await owner.post(`/admin/newsletter/campaigns/${againId}/send`, { confirm: 'yes' });
    assert.match(refused.body, /never sent twice/);
  });
});

describe('roles and settings', () => {
  test('support staff cannot write posts or campaigns; sales can; the settings are for owners and admins', async () => {
    const support = await staffBrowser(t, 'support');
    assert.equal((await support.get('/admin/newsletter/posts')).statusCode, 403);
    assert.equal((await support.get('/admin/newsletter/campaigns')).statusCode, 403);
    assert.equal((await support.get('/admin/newsletter/subscribers')).statusCode, 200);
    assert.equal((await support.get('/admin/newsletter/settings')).statusCode, 403);
    const sales = await staffBrowser(t, 'sales');
    assert.equal((await sales.get('/admin/newsletter/campaigns')).statusCode, 200);
    assert.equal((await new TestBrowser(t.app).get('/admin/newsletter')).statusCode, 303, 'signed-out visitors go to sign-in');
  });

  test('settings are validated; DKIM keys are generated, stored sealed, and shown as a DNS record', async () => {
    await owner.get('/admin/newsletter/settings');
    const bad = await owner.post('/admin/newsletter/settings', { ratePerMinute: 'fast', unconfirmedDays: '14', fromAddress: '', mailDomain: '' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /Sending rate must be a whole number/);
    const ok = await owner.post('/admin/newsletter/settings', { ratePerMinute: '120', unconfirmedDays: '7', fromAddress: 'News <news@vendor.example>', mailDomain: 'lists.vendor.example' });
    assert.match(ok.body, /Settings saved/);
    assert.match(ok.body, /bounces\+…@lists\.vendor\.example/);

    const badKey = await owner.post('/admin/newsletter/settings/dkim', { domainName: 'vendor.example', keySelector: 'kw', privateKey: 'not a key' });
    assert.equal(badKey.statusCode, 400);
    const gen = await owner.post('/admin/newsletter/settings/dkim', { domainName: 'vendor.example', keySelector: 'kw', privateKey: '' });
    assert.match(gen.body, /kw\._domainkey\.vendor\.example/);
    assert.match(gen.body, /v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]{300,}/);
    const stored = await t.k.db.selectFrom('settings').select('value').where('key', '=', DKIM_SETTING).executeTakeFirstOrThrow();
    assert.doesNotMatch(stored.value, /PRIVATE KEY/, 'the key is sealed at rest');
    const audit = await t.k.db.selectFrom('audit_log').select('action').where('action', 'like', 'mail.dkim%').execute();
    assert.equal(audit.length, 1);
    const off = await owner.post('/admin/newsletter/settings/dkim/remove', {});
    assert.match(off.body, /DKIM signing is off/);
    assert.equal(await t.k.mail.dkimStatus(), null);
  });
});
