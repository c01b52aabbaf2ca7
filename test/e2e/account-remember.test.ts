import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startJourney, skipWithoutChromium, type Journey } from './harness.js';

let j: Journey;
before(async () => { if (!skipWithoutChromium) j = await startJourney(); });
after(async () => { if (j) await j.close(); });

const linkFrom = async (to: string, pathPart: string) => {
  const rows = await j.t.k.db.selectFrom('mail_outbox').select('text_body').where('to_addr', '=', to).execute();
  const m = new RegExp(`(https?://\\S+${pathPart}/[A-Za-z0-9_-]{43})`).exec(rows.map((r) => r.text_body).join('\n'));
  return m?.[1];
};

test('a customer registers, confirms, signs in with Remember me, closes the browser and comes back signed in', { skip: skipWithoutChromium }, async () => {
  const ctx = await j.newContext();
  const page = await ctx.newPage();
  await page.goto('/account/register');
  await page.screenshot({ path: path.join(j.screenshotDir, 'register.png'), fullPage: true });
  await page.getByLabel('Your name').fill('Ada Lovelace');
  await page.getByLabel('Email address').fill('ada@example.com');
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'Check your email' }).waitFor();
  assert.deepEqual(await ctx.cookies(), [], 'no cookie before signing in');

  await j.t.k.jobs.drain();
  const verify = await linkFrom('ada@example.com', '/account/verify');
  assert.ok(verify);
  await page.goto(verify!);
  await page.getByRole('button', { name: 'Confirm my email address' }).click();
  await page.getByText('Your email address is confirmed').waitFor();

  await page.goto('/account/login');
  await page.getByLabel('Email address').fill('ada@example.com');
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByLabel(/Remember me/).check();
  await page.screenshot({ path: path.join(j.screenshotDir, 'login.png'), fullPage: true });
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'My account' }).waitFor();
  await page.screenshot({ path: path.join(j.screenshotDir, 'account.png'), fullPage: true });

  // Closing the browser drops browser-session cookies; a new context with only the persistent ones.
  const state = await ctx.storageState();
  await ctx.close();
  const persistent = { ...state, cookies: state.cookies.filter((c) => c.expires > 0) };
  assert.deepEqual(persistent.cookies.map((c) => c.name), ['kw_remember']);
  const again = await j.newContext({ storageState: persistent });
  const p2 = await again.newPage();
  await p2.goto('/account');
  await p2.getByRole('heading', { name: 'My account' }).waitFor();
  assert.match(await p2.content(), /ada@example.com/);
  await again.close();
});
