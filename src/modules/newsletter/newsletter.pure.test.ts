import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Secrets } from '../../kernel/crypto/secrets.js';
import { excerpt, markdownToHtml, markdownToText } from './markdown.js';
import { classifyBounce, isNewsletterRecipient } from './bounces.js';
import { parseMailtoUnsubscribe, parseUnsubscribeToken, parseVerp, unsubscribeToken, verpAddress } from './tokens.js';
import { atomFeed, rssFeed } from './feeds.js';
import type { NewsletterPostsTable } from './newsletter.tables.js';

describe('markdown → HTML', () => {
  const cases: Array<[string, string]> = [
    ['# Title', '<h1>Title</h1>'],
    ['### Small ###', '<h3>Small</h3>'],
    ['C# is #1', '<p>C# is #1</p>'],
    ['Hello **bold** and *em* and _em_ and __strong__ and ~~gone~~', '<p>Hello <strong>bold</strong> and <em>em</em> and <em>em</em> and <strong>strong</strong> and <del>gone</del></p>'],
    ['snake_case_name stays', '<p>snake_case_name stays</p>'],
    ['2 * 3 * 4', '<p>2 * 3 * 4</p>'],
    ['a `<b>` code', '<p>a <code>&lt;b&gt;</code> code</p>'],
    ['[site](https://example.com/a?b=1&c=2 "Title")', '<p><a href="https://example.com/a?b=1&amp;c=2" title="Title">site</a></p>'],
    ['[mail](mailto:a@example.com)', '<p><a href="mailto:a@example.com">mail</a></p>'],
    ['[local](/blog/x)', '<p><a href="/blog/x">local</a></p>'],
    ['[bad](javascript:alert)', '<p>bad</p>'],
    ['[bad](data:text/html,x)', '<p>bad</p>'],
    ['[bad](//evil.example)', '<p>bad</p>'],
    ['<https://example.com>', '<p><a href="https://example.com">https://example.com</a></p>'],
    ['see https://example.com/x.', '<p>see <a href="https://example.com/x">https://example.com/x</a>.</p>'],
    ['<script>alert(1)</script>', '<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>'],
    ['<img src=x onerror="alert(1)">', '<p>&lt;img src=x onerror=&quot;alert(1)&quot;&gt;</p>'],
    ['\\*not em\\*', '<p>*not em*</p>'],
    ['- a\n- b\n  - c\n- d', '<ul><li>a</li><li><p>b</p>\n<ul><li>c</li></ul></li><li>d</li></ul>'],
    ['3. three\n4. four', '<ol start="3"><li>three</li><li>four</li></ol>'],
    ['> quoted\n> more', '<blockquote><p>quoted more</p></blockquote>'],
    ['```js\nif (a < b) {}\n```', '<pre><code class="language-js">if (a &lt; b) {}</code></pre>'],
    ['```"><script>\nx\n```', '<p>```&quot;&gt;&lt;script&gt; x</p>\n<pre><code></code></pre>'],
    ['http://x.example/`<`', '<p><a href="http://x.example/">http://x.example/</a><code>&lt;</code></p>'],
    ['---', '<hr>'],
    ['para one\n\npara two', '<p>para one</p>\n<p>para two</p>'],
    ['[`code` label](https://e.example)', '<p><a href="https://e.example"><code>code</code> label</a></p>'],
  ];
  for (const [md, html] of cases) test(JSON.stringify(md), () => assert.equal(markdownToHtml(md), html));

  test('heading offset and absolute links for email', () => {
    assert.equal(markdownToHtml('# T\n\n[x](/blog/y)', { headingOffset: 2, baseUrl: 'https://v.example/' }), '<h3>T</h3>\n<p><a href="https://v.example/blog/y">x</a></p>');
    assert.equal(markdownToHtml('###### deep', { headingOffset: 3 }), '<h6>deep</h6>');
  });

  test('the text twin keeps links readable and drops markup', () => {
    assert.equal(markdownToText('# Title\n\nHi **there**, see [notes](/n) and `x`.\n\n- one\n- two', { baseUrl: 'https://v.example' }),
      'Title\n=====\n\nHi there, see notes (https://v.example/n) and x.\n\n- one\n- two');
    assert.equal(excerpt('# H\n\nFirst *para* here.\n\nSecond.'), 'First para here.');
  });

  const ALLOWED = new Set(['h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'p', 'em', 'strong', 'del', 'code', 'pre', 'a', 'ul', 'ol', 'li', 'blockquote', 'hr']);
  test('property: whatever the input, only allowed tags, attributes and link targets come out', () => {
    const piece = fc.constantFrom('<', '>', '"', "'", '&', '[', ']', '(', ')', '*', '_', '`', '\\', '#', '-', '1.', '>', '\n', ' ', 'a', 'javascript:', 'http://x.example/', 'mailto:', '/', '//', 'on', '=', '<script>', '<a href="', '```', '~~', ' "t`<`"', '](', '](/x "');
    fc.assert(fc.property(fc.array(piece, { maxLength: 60 }).map((a) => a.join('')), (md) => {
      const html = markdownToHtml(md);
      for (const m of html.matchAll(/<[^>]*>?/g)) {
        const tag = /^<\/?([a-z0-9]+)((?:\s+(?:href|title|class|start)="[^"<>]*")*)\s*>$/.exec(m[0]);
        assert.ok(tag, `unexpected markup ${m[0]} in ${html}`);
        assert.ok(ALLOWED.has(tag[1]!), `tag ${tag[1]}`);
        const href = /href="([^"]*)"/.exec(tag[2]!)?.[1];
        if (href !== undefined) assert.match(href, /^(https?:\/\/[^/?#\s]+|mailto:|\/(?![/\\])|#)/, `href ${href}`);
      }
    }), { numRuns: 3000 });
  });
});

describe('tokens', () => {
  const secrets = new Secrets(Buffer.alloc(32, 7));
  const other = new Secrets(Buffer.alloc(32, 8));
  const id = '3f2a9c1e-0b4d-4e5f-8a6b-7c8d9e0f1a2b';

  test('unsubscribe tokens round-trip, survive lower-casing and refuse tampering or another key', () => {
    const t = unsubscribeToken(secrets, id, 'advisories');
    assert.deepEqual(parseUnsubscribeToken(secrets, t), { subscriberId: id, listId: 'advisories' });
    assert.deepEqual(parseUnsubscribeToken(secrets, t.toUpperCase()), { subscriberId: id, listId: 'advisories' });
    assert.equal(parseUnsubscribeToken(secrets, t.replace(/a(?=[0-9a-f]{24}$)/, 'n')), null, 'the list letter is signed');
    assert.equal(parseUnsubscribeToken(other, t), null);
    assert.equal(parseUnsubscribeToken(secrets, 'x'), null);
    assert.deepEqual(parseMailtoUnsubscribe(secrets, `unsub+${t}@lists.example.com`), { subscriberId: id, listId: 'advisories' });
    assert.ok(`unsub+${t}`.length <= 64, 'fits an address local part');
  });

  test('VERP addresses name the subscriber and fit 64 characters', () => {
    const a = verpAddress(secrets, id, 'vendor.example');
    assert.ok(a.split('@')[0]!.length <= 64);
    assert.equal(parseVerp(secrets, a), id);
    assert.equal(parseVerp(secrets, a.toUpperCase()), id);
    assert.equal(parseVerp(other, a), null);
    assert.ok(isNewsletterRecipient(a) && isNewsletterRecipient('bounces@x.example') && !isNewsletterRecipient('support@x.example'));
  });
});

describe('bounce classification', () => {
  const dsn = (action: string, status: string) => `Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nAction: ${action}\r\nStatus: ${status}\r\n--b--`;
  const cases: Array<[string, string, string]> = [
    ['DSN failed 5.1.1', dsn('failed', '5.1.1'), 'hard'],
    ['DSN failed 5.2.2 (mailbox full, permanent)', dsn('failed', '5.2.2'), 'hard'],
    ['DSN delayed', dsn('delayed', '4.4.1'), 'soft'],
    ['DSN failed 4.x', dsn('failed', '4.2.0'), 'soft'],
    ['DSN delivered', dsn('delivered', '2.0.0'), 'ignore'],
    ['ARF', 'Content-Type: multipart/report; report-type="feedback-report"; boundary=x\r\n\r\n--x\r\nFeedback-Type: abuse\r\n', 'complaint'],
    ['auto-reply', 'Auto-Submitted: auto-replied\r\nSubject: Out of office\r\n\r\nBack Monday.', 'ignore'],
    ['old-style 550 user unknown', 'Subject: failure\r\n\r\n550 5.1.1 <x@y>: Recipient address rejected: User unknown', 'hard'],
    ['unknown text', 'Subject: something\r\n\r\nhmm', 'soft'],
  ];
  for (const [name, raw, kind] of cases) test(name, () => assert.equal(classifyBounce(raw).kind, kind));
});

describe('feeds', () => {
  const post: NewsletterPostsTable = {
    id: 'p1', slug: 'hello', title: 'A & B <script>', kind: 'release', summary: 'S "q"', body_md: 'Hi **there** <b>\u0001', status: 'published',
    published_at: Date.UTC(2026, 10, 1), created_at: Date.UTC(2026, 10, 1), updated_at: Date.UTC(2026, 10, 2), created_by: null, revision: 1,
  };
  const info = { title: 'Vendor blog', description: 'News', publicUrl: 'https://v.example', updatedAt: Date.UTC(2026, 10, 2) };

  test('RSS 2.0 escapes titles and carries the HTML escaped; no control characters', () => {
    const x = rssFeed(info, [post]);
    assert.match(x, /^<\?xml version="1.0" encoding="utf-8"\?>\n<rss version="2.0"/);
    assert.match(x, /<title>A &amp; B &lt;script&gt;<\/title>/);
    assert.match(x, /<link>https:\/\/v\.example\/blog\/hello<\/link>/);
    assert.match(x, /<pubDate>Sun, 01 Nov 2026 00:00:00 GMT<\/pubDate>/);
    assert.match(x, /<description>&lt;p&gt;Hi &lt;strong&gt;there&lt;\/strong&gt; &amp;lt;b&amp;gt;&lt;\/p&gt;<\/description>/);
    assert.doesNotMatch(x, /[\u0000-\u0008]/);
  });

  test('Atom 1.0 has ids, dates and escaped HTML content', () => {
    const x = atomFeed(info, [post]);
    assert.match(x, /<feed xmlns="http:\/\/www\.w3\.org\/2005\/Atom">/);
    assert.match(x, /<id>https:\/\/v\.example\/blog\/hello<\/id>/);
    assert.match(x, /<updated>2026-11-02T00:00:00\.000Z<\/updated>/);
    assert.match(x, /<content type="html">&lt;p&gt;Hi/);
    assert.match(x, /<summary>S &quot;q&quot;<\/summary>/);
  });
});
