import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { testApp, type TestApp } from '../../kernel/testing/app.js';

/**
 * The whole generated /privacy and /cookies text for the demo vendor, held against a committed snapshot,
 * so every change to a declaration that changes what people are told shows up in review. After a
 * deliberate change, rewrite it with:
 *
 *   UPDATE_SNAPSHOTS=1 node scripts/test.mjs --only sqlite src/modules/privacy/notice.snapshot
 *
 * and commit the new __snapshots__/notice.txt with the declaration change.
 */
const SNAPSHOT = fileURLToPath(new URL('./__snapshots__/notice.txt', import.meta.url));

/** The page's main content as text: one line per block, tags removed, entities decoded. */
export function pageText(html: string): string {
  const main = /<main[^>]*>([\s\S]*?)<\/main>/.exec(html)?.[1] ?? html;
  return main
    .replace(/<(br|\/p|\/li|\/h[1-6]|\/tr|\/dt|\/dd|\/section|\/blockquote|\/div)\b[^>]*>/g, '\n')
    .replace(/<\/t[dh]>/g, ' | ')
    .replace(/<[^>]+>/g, '')
    .replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')
    .split('\n').map((l) => l.replace(/\s+/g, ' ').trim()).filter(Boolean).join('\n');
}

let t: TestApp;
before(async () => { t = await testApp(); });
after(async () => { await t.close(); });

test('the generated /privacy and /cookies match the committed snapshot', async () => {
  const parts: string[] = [];
  for (const url of ['/privacy', '/cookies']) {
    const res = await t.app.inject({ url, headers: { accept: 'text/html' } });
    assert.equal(res.statusCode, 200);
    parts.push(`=== ${url} ===\n${pageText(res.body)}\n`);
  }
  const actual = parts.join('\n');
  if (process.env.UPDATE_SNAPSHOTS === '1' && process.env.KEYWARD_TEST_DB !== 'postgres') {
    fs.writeFileSync(SNAPSHOT, actual);
    return;
  }
  assert.ok(fs.existsSync(SNAPSHOT), `no snapshot at ${SNAPSHOT}: run with UPDATE_SNAPSHOTS=1 and commit it`);
  const expected = fs.readFileSync(SNAPSHOT, 'utf8');
  if (actual === expected) return;
  const a = actual.split('\n');
  const e = expected.split('\n');
  const diffs: string[] = [];
  for (let i = 0; i < Math.max(a.length, e.length) && diffs.length < 20; i++) {
    if (a[i] !== e[i]) diffs.push(`line ${i + 1}\n  - ${e[i] ?? '(none)'}\n  + ${a[i] ?? '(none)'}`);
  }
  assert.fail(`The privacy notice changed. If the change is intended, run with UPDATE_SNAPSHOTS=1 and commit __snapshots__/notice.txt.\n${diffs.join('\n')}`);
});

test('the snapshot comparison catches a one-word change', () => {
  const expected = fs.existsSync(SNAPSHOT) ? fs.readFileSync(SNAPSHOT, 'utf8') : '';
  assert.ok(expected.includes('kw_basket'), 'the snapshot lists the cookies');
  assert.notEqual(expected.replace('kw_basket', 'kw_bask3t'), expected);
  assert.equal(pageText('<main><p>A &amp; B</p><ul><li>one</li><li>two</li></ul></main>'), 'A & B\none\ntwo');
});

test('every "My account → …" path the notice tells people to follow names a real menu item', async () => {
  const { ACCOUNT_LINKS } = await import('../accounts/account-nav.js');
  const labels = new Set(ACCOUNT_LINKS.map((l) => l.label));
  const text = pageText((await t.app.inject({ url: '/privacy', headers: { accept: 'text/html' } })).body);
  const named = [...text.matchAll(/My account → ([^→,.;()]+?)(?= →|,|\.|;|\)| or |$)/gm)].map((m) => m[1]!.trim());
  assert.ok(named.length >= 2, `the notice points to My account pages (found ${named.join(', ')})`);
  assert.deepEqual(named.filter((n) => !labels.has(n)), [], `menu items are: ${[...labels].join(', ')}`);
});
