// An owner publishes a release with its installer from the back office in Chromium (no JavaScript), then
// uploads a content pack; screenshots of the releases and add-on pages.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import { harness, seedProduct } from '../../src/modules/licensing/testing.js';
import { startJourney, skipWithoutChromium, type Journey, staffSignIn } from './harness.js';

let j: Journey;
const PASSWORD = 'correct horse battery 9';
const INSTALLER = Buffer.from('MZ installer from Chromium '.repeat(2000));

before(async () => {
  if (skipWithoutChromium) return;
  j = await startJourney();
  await j.t.modules.accounts.staff.createStaff({ email: 'owner@vendor.example', name: 'Owner Staff', role: 'owner', password: PASSWORD }, null);
  await seedProduct(await harness(j.t));
});
after(async () => { if (j) await j.close(); });

test('the owner publishes a release with an installer and uploads content (screenshots)', { skip: skipWithoutChromium }, async () => {
  const ctx = await j.newContext({ viewport: { width: 1280, height: 900 } } as never);
  const page = await ctx.newPage();
  await staffSignIn(page, 'owner@vendor.example', PASSWORD);

  await page.getByRole('link', { name: 'Releases', exact: true }).first().click();
  await page.getByRole('link', { name: 'Mail Server' }).click();
  await page.getByRole('heading', { name: /Releases of Mail Server/ }).waitFor();
  // A bad version comes back with its message beside the field.
  await page.getByLabel('Version').fill('8.8');
  await page.getByRole('button', { name: 'Publish release' }).click();
  await page.locator('#f-version-error').waitFor();
  await page.getByLabel('Version').fill('8.8.0');
  await page.getByLabel(/Release date/).fill('2026-11-20');
  await page.getByLabel(/Security release/).check();
  await page.getByLabel(/Release notes/).fill('Faster delivery queues; fixes a header parsing flaw.');
  await page.getByLabel(/Installer/).setInputFiles({ name: 'mailserver-8.8.0.exe', mimeType: 'application/octet-stream', buffer: INSTALLER });
  await page.getByRole('button', { name: 'Publish release' }).click();
  await page.getByText('Release 8.8.0 published.').waitFor();
  const sha = crypto.createHash('sha256').update(INSTALLER).digest('hex');
  assert.match(await page.content(), new RegExp(sha.slice(0, 16)));
  await page.screenshot({ path: path.join(j.screenshotDir, 'admin-releases.png'), fullPage: true });

  await page.goto('/admin/addons/mailserver-spam');
  await page.getByLabel('Content version').fill('2026.11.25.1');
  await page.getByLabel(/Content file/).setInputFiles({ name: 'spam-rules.pack', mimeType: 'application/octet-stream', buffer: Buffer.from('rules\n'.repeat(100)) });
  await page.getByRole('button', { name: 'Upload content' }).click();
  await page.getByText('Content version 2026.11.25.1 uploaded.').waitFor();
  await page.screenshot({ path: path.join(j.screenshotDir, 'admin-addon-content.png'), fullPage: true });
  await ctx.close();
});
