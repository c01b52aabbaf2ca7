import type { NewsletterPostsTable } from './newsletter.tables.js';
import { markdownToHtml } from './markdown.js';

/** RSS 2.0 and Atom 1.0 for the blog; post HTML is carried escaped, as both formats define. */
const xml = (s: string) => s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
  .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);

export interface FeedInfo { title: string; description: string; publicUrl: string; updatedAt: number }

const postUrl = (base: string, p: NewsletterPostsTable) => `${base}/blog/${p.slug}`;

export function rssFeed(info: FeedInfo, posts: NewsletterPostsTable[]): string {
  const items = posts.map((p) => `    <item>
      <title>${xml(p.title)}</title>
      <link>${xml(postUrl(info.publicUrl, p))}</link>
      <guid isPermaLink="true">${xml(postUrl(info.publicUrl, p))}</guid>
      <pubDate>${new Date(p.published_at ?? p.created_at).toUTCString()}</pubDate>
      <category>${xml(p.kind)}</category>
      <description>${xml(markdownToHtml(p.body_md, { baseUrl: info.publicUrl }))}</description>
    </item>`).join('\n');
  return `<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
  <channel>
    <title>${xml(info.title)}</title>
    <link>${xml(info.publicUrl)}/blog</link>
    <description>${xml(info.description)}</description>
    <language>en</language>
    <lastBuildDate>${new Date(info.updatedAt).toUTCString()}</lastBuildDate>
    <atom:link href="${xml(info.publicUrl)}/blog/rss.xml" rel="self" type="application/rss+xml"/>
${items}
  </channel>
</rss>
`;
}

export function atomFeed(info: FeedInfo, posts: NewsletterPostsTable[]): string {
  const iso = (t: number) => new Date(t).toISOString();
  const entries = posts.map((p) => `  <entry>
    <title>${xml(p.title)}</title>
    <link rel="alternate" type="text/html" href="${xml(postUrl(info.publicUrl, p))}"/>
    <id>${xml(postUrl(info.publicUrl, p))}</id>
    <published>${iso(p.published_at ?? p.created_at)}</published>
    <updated>${iso(p.updated_at)}</updated>
    <category term="${xml(p.kind)}"/>
    <summary>${xml(p.summary)}</summary>
    <content type="html">${xml(markdownToHtml(p.body_md, { baseUrl: info.publicUrl }))}</content>
  </entry>`).join('\n');
  return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>${xml(info.title)}</title>
  <subtitle>${xml(info.description)}</subtitle>
  <link rel="alternate" type="text/html" href="${xml(info.publicUrl)}/blog"/>
  <link rel="self" type="application/atom+xml" href="${xml(info.publicUrl)}/blog/atom.xml"/>
  <id>${xml(info.publicUrl)}/blog</id>
  <updated>${iso(info.updatedAt)}</updated>
  <author><name>${xml(info.title)}</name></author>
${entries}
</feed>
`;
}
