import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { TestBrowser } from '../../kernel/testing/http.js';
import { buildCustomer, buildStaff, signIn } from './testing.js';
import { displayName } from './forum.service.js';

let t: TestApp;
before(async () => {
  t = await testApp();
  await buildCustomer(t, 'ada@example.com', 'Ada King Lovelace');
  await buildCustomer(t, 'bob@example.com', 'Bob Builder');
  await buildStaff(t, 'sam@vendor.example', 'Sam Support');
});
after(async () => { await t.close(); });

describe('knowledge base', () => {
  test('staff write articles; the public reads published ones and searches them on either database', async () => {
    const sam = await signIn(t, 'staff', 'sam@vendor.example');
    await sam.get('/admin/kb');
    assert.equal((await sam.post('/admin/kb/categories', { name: 'Getting started' })).statusCode, 303);
    const catId = /<option value="([0-9a-f-]{36})"/.exec((await sam.get('/admin/kb/new')).body)![1]!;
    const created = await sam.post('/admin/kb/new', { title: 'Set up the PRINTER queue', slug: '', category: catId, published: '1',
      body: '## Before you start\nYou need admin rights.\n\n- Open settings\n- Choose <Printers>\n\n```\nspool --reset\n```\n<script>alert(1)</script>' });
    assert.equal(created.statusCode, 303);
    await sam.get('/admin/kb/new');
    await sam.post('/admin/kb/new', { title: 'Internal draft: 100% discount codes', slug: 'draft-codes', category: '', body: 'Not yet.' });
    await sam.get('/admin/kb/new');
    const clash = await sam.post('/admin/kb/new', { title: 'Another', slug: 'draft-codes', category: '', body: 'x', published: '1' });
    assert.equal(clash.statusCode, 409);
    assert.match(clash.body, /already used/);

    const anon = new TestBrowser(t.app);
    const index = await anon.get('/support/kb');
    assert.match(index.body, /Getting started/);
    assert.match(index.body, /Set up the PRINTER queue/);
    assert.doesNotMatch(index.body, /Internal draft/);
    const article = await anon.get('/support/kb/set-up-the-printer-queue');
    assert.equal(article.statusCode, 200);
    assert.match(article.body, /<h2>Before you start<\/h2>/);
    assert.match(article.body, /<li>Choose &lt;Printers(>|&gt;)<\/li>/);
    assert.match(article.body, /<pre class="mono code-block">spool --reset<\/pre>/);
    assert.doesNotMatch(article.body, /<script>alert/);
    assert.equal((await anon.get('/support/kb/draft-codes')).statusCode, 404);
    assert.equal((await sam.get('/support/kb/draft-codes')).statusCode, 200, 'staff preview drafts');

    assert.match((await anon.get('/support/kb?q=printer')).body, /Set up the PRINTER queue/, 'case-insensitive');
    assert.match((await anon.get('/support/kb?q=admin%20rights')).body, /Set up the PRINTER queue/, 'searches the text too');
    assert.match((await anon.get('/support/kb?q=%25')).body, /No article matches/, '% is literal, and drafts are never found');
    assert.match((await anon.get('/support/kb?q=100%25')).body, /No article matches/);
    assert.equal((await anon.get('/support/kb/category/getting-started')).statusCode, 200);
    assert.equal((await anon.get('/support/kb/NOT_A_SLUG')).statusCode, 404, 'no such article: not found, not a malformed request');
  });
});

describe('forum', () => {
  test('customers post and accept an answer; staff hide, lock and the public sees only what is visible', async () => {
    const sam = await signIn(t, 'staff', 'sam@vendor.example');
    await sam.get('/admin/forum');
    await sam.post('/admin/forum/categories', { name: 'Installation', description: 'Installing and upgrading' });
    const anon = new TestBrowser(t.app);
    const cat = await anon.get('/support/forum/installation');
    assert.equal(cat.statusCode, 200);
    assert.match(cat.body, /Sign in<\/a> to post/);

    const ada = await signIn(t, 'customer', 'ada@example.com');
    await ada.get('/support/forum/installation');
    const start = await ada.post('/support/forum/installation/threads', { title: 'Upgrade from v7 fails', body: 'Setup stops at 90%.' });
    assert.equal(start.statusCode, 303);
    const threadUrl = start.headers.location as string;
    const bob = await signIn(t, 'customer', 'bob@example.com');
    await bob.get(threadUrl);
    await bob.post(`${threadUrl}/reply`, { body: 'Stop the service first, then run setup.' });
    await bob.get(threadUrl);
    await bob.post(`${threadUrl}/reply`, { body: 'Buy cheap pills!' });
    const thread = await anon.get(threadUrl);
    assert.match(thread.body, /Ada L\./, 'a short display name, not the full name');
    assert.doesNotMatch(thread.body, /Lovelace|ada@example\.com/);
    const postIds = [...thread.body.matchAll(/id="p-([0-9a-f-]{36})"/g)].map((m) => m[1]!);
    assert.equal(postIds.length, 3);

    await bob.get(threadUrl);
    const notAuthor = await bob.post(`${threadUrl}/accept`, { post: postIds[1]! });
    assert.equal(notAuthor.statusCode, 403);
    await ada.get(threadUrl);
    assert.equal((await ada.post(`${threadUrl}/accept`, { post: postIds[1]! })).statusCode, 303);
    assert.match((await anon.get(threadUrl)).body, /Accepted answer/);
    assert.match((await anon.get('/support/forum/installation')).body, /Answered/);

    await sam.get(threadUrl);
    await sam.post(`/support/forum/p/${postIds[2]}/moderate`, { action: 'hide' });
    assert.doesNotMatch((await anon.get(threadUrl)).body, /cheap pills/);
    assert.match((await sam.get(threadUrl)).body, /cheap pills/, 'staff still see hidden posts');
    // Hiding the accepted answer takes "Answered" off the public list; unhidden, it is back.
    await sam.get(threadUrl);
    await sam.post(`/support/forum/p/${postIds[1]}/moderate`, { action: 'hide' });
    assert.doesNotMatch((await anon.get('/support/forum/installation')).body, /Answered/);
    await sam.get(threadUrl);
    await sam.post(`/support/forum/p/${postIds[1]}/moderate`, { action: 'unhide' });
    assert.match((await anon.get('/support/forum/installation')).body, /Answered/);
    await sam.get(threadUrl);
    await sam.post(`${threadUrl}/moderate`, { action: 'lock' });
    await ada.get(threadUrl);
    const locked = await ada.post(`${threadUrl}/reply`, { body: 'Thanks!' });
    assert.equal(locked.statusCode, 400);
    assert.match(locked.body, /locked/);
    await bob.get(threadUrl);
    const notStaff = await bob.post(`${threadUrl}/moderate`, { action: 'hide' });
    assert.equal(notStaff.statusCode, 303, 'customers are sent to the staff sign-in');
    await buildStaff(t, 'sid@vendor.example', 'Sid Sales', 'sales');
    const sid = await signIn(t, 'staff', 'sid@vendor.example');
    await sid.get(threadUrl);
    assert.equal((await sid.post(`${threadUrl}/moderate`, { action: 'hide' })).statusCode, 403, 'sales staff are refused, not sent to sign in again');
    // Sales has no part in the forum: no controls, no answer marking, no hidden posts, locked means locked.
    const sidView = await sid.get(threadUrl);
    assert.doesNotMatch(sidView.body, /Mark as the answer|Unmark answer|Hide post|Show post|lock topic/i);
    assert.doesNotMatch(sidView.body, /cheap pills/, 'hidden posts are for moderators');
    assert.equal((await sid.post(`${threadUrl}/accept`, { post: postIds[2]! })).statusCode, 403);
    assert.match((await anon.get(threadUrl)).body, new RegExp(`class="card accepted[^"]*" id="p-${postIds[1]}"`), 'the author\'s choice stands');
    await sid.get(threadUrl);
    const sidReply = await sid.post(`${threadUrl}/reply`, { body: 'Sales chiming in.' });
    assert.equal(sidReply.statusCode, 400);
    assert.match(sidReply.body, /locked/);
    assert.equal((await anon.get(threadUrl)).statusCode, 200, 'still visible');
    await sam.get(threadUrl);
    await sam.post(`${threadUrl}/moderate`, { action: 'hide' });
    assert.equal((await anon.get(threadUrl)).statusCode, 404);
  });

  test('inline marks: bold, italic, code and web links render; script, javascript: links and stray stars stay text', async () => {
    const ada = await signIn(t, 'customer', 'ada@example.com');
    await ada.get('/support/forum/installation');
    const body = 'Run **setup.exe** as *admin*, then `net start mailsrv`.\nSee [the guide](https://vendor.example/guide) or [this](javascript:alert(1)).\n5 * 3 = 15 and <script>alert(2)</script>';
    const start = await ada.post('/support/forum/installation/threads', { title: 'Marks', body });
    assert.equal(start.statusCode, 303);
    const page = (await new TestBrowser(t.app).get(start.headers.location as string)).body;
    assert.match(page, /Run <strong>setup\.exe<\/strong> as <em>admin<\/em>, then <code>net start mailsrv<\/code>\./);
    assert.match(page, /<a href="https:\/\/vendor\.example\/guide" rel="nofollow ugc noopener">the guide<\/a>/);
    assert.match(page, /\[this\]\(javascript:alert\(1\)\)/, 'not a link');
    assert.doesNotMatch(page, /href="javascript/);
    assert.match(page, /5 \* 3 = 15 and &lt;script>alert\(2\)&lt;\/script>/);
  });

  test('long posts in any script: a reply well within the limit in Cyrillic is kept whole; one over it comes back with its text', async () => {
    const sam = await signIn(t, 'staff', 'sam@vendor.example');
    await sam.get('/admin/forum');
    await sam.post('/admin/forum/categories', { name: 'Scripts', description: 'Any language' });
    const ada = await signIn(t, 'customer', 'ada@example.com');
    await ada.get('/support/forum/scripts');
    const start = await ada.post('/support/forum/scripts/threads', { title: 'Кириллица', body: 'Привет. '.repeat(2_000) });
    assert.equal(start.statusCode, 303, 'a 16,000-character Cyrillic question (96 KB url-encoded) is taken');
    const threadUrl = start.headers.location as string;
    const long = 'Ж'.repeat(19_990);
    await ada.get(threadUrl);
    assert.equal((await ada.post(`${threadUrl}/reply`, { body: long })).statusCode, 303);
    const stored = await t.k.db.selectFrom('support_forum_posts').select('body').where('body', '=', long).executeTakeFirst();
    assert.equal(stored?.body.length, 19_990, 'stored whole');
    await ada.get(threadUrl);
    const over = await ada.post(`${threadUrl}/reply`, { body: 'Ж'.repeat(25_000) });
    assert.equal(over.statusCode, 400);
    assert.match(over.body, /at most 20000 characters/);
    assert.ok(over.body.includes('Ж'.repeat(25_000)), 'what was typed comes back in the form');
  });

  test('a category with more than a page of topics has older ones a link away; a hand-edited page number is no error', async () => {
    const sam = await signIn(t, 'staff', 'sam@vendor.example');
    await sam.get('/admin/forum');
    await sam.post('/admin/forum/categories', { name: 'Busy', description: 'Many topics' });
    const cat = await t.k.db.selectFrom('support_forum_categories').select('id').where('slug', '=', 'busy').executeTakeFirstOrThrow();
    const base = t.clock.now();
    await t.k.db.insertInto('support_forum_threads').values(Array.from({ length: 55 }, (_, i) => ({
      id: `busy-${String(i).padStart(2, '0')}`, category_id: cat.id, title: `Topic number ${i}`, author_customer_id: null, author_name: 'Ada K.',
      accepted_post_id: null, locked: 0, hidden: 0, created_at: base + i, last_post_at: base + i,
    }))).execute();
    const anon = new TestBrowser(t.app);
    const first = await anon.get('/support/forum/busy');
    assert.equal((first.body.match(/Topic number \d+/g) ?? []).length, 50);
    assert.match(first.body, /Topic number 54</, 'latest first');
    assert.doesNotMatch(first.body, /Topic number 4</);
    assert.match(first.body, /href="\/support\/forum\/busy\?page=2">Older topics/);
    const second = await anon.get('/support/forum/busy?page=2');
    assert.deepEqual(second.body.match(/Topic number \d+/g), ['Topic number 4', 'Topic number 3', 'Topic number 2', 'Topic number 1', 'Topic number 0']);
    assert.match(second.body, /href="\/support\/forum\/busy\?page=1">Newer topics/);
    assert.doesNotMatch(second.body, /Older topics/);
    for (const odd of ['-1', 'x', '0', '99999999999']) {
      const r = await anon.get(`/support/forum/busy?page=${odd}`);
      assert.equal(r.statusCode, 200, odd);
      assert.match(r.body, /Topic number 54</, `${odd} shows the first page`);
    }
    assert.match((await anon.get('/support/forum/busy?page=9')).body, /No topics on this page/);
  });

  test('display names', () => {
    assert.equal(displayName('Ada King Lovelace'), 'Ada L.');
    assert.equal(displayName('Cher'), 'Cher');
    assert.equal(displayName('   '), 'Customer');
    assert.equal(displayName('Zoë 👩‍💻Coder'), 'Zoë 👩‍💻.', 'an initial that is an emoji stays whole');
    assert.equal(displayName('Ana Éclair'), 'Ana É.');
    assert.equal(displayName('😀'.repeat(50)), '😀'.repeat(40), 'a long first name is cut between characters');
  });
});
