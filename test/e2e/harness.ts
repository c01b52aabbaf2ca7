import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { testApp, type TestApp } from '../../src/kernel/testing/app.js';
import type { Config } from '../../src/kernel/config/config.js';
import type { ManualClock } from '../../src/kernel/clock.js';

export const CHROMIUM = '/usr/bin/chromium';
/** Browser journeys need Debian's Chromium; without it they are skipped with this reason. */
export const skipWithoutChromium = fs.existsSync(CHROMIUM) ? false : `Chromium not installed at ${CHROMIUM} (apt-get install chromium)`;

export interface Journey {
  t: TestApp;
  baseUrl: string;
  browser: Browser;
  newContext(opts?: { storageState?: Awaited<ReturnType<BrowserContext['storageState']>> }): Promise<BrowserContext>;
  screenshotDir: string;
  close(): Promise<void>;
}

/** A listening Keyward on a random loopback port and a headless Chromium driving it. */
export async function startJourney(opts: { config?: Partial<Config>; clock?: ManualClock } = {}): Promise<Journey> {
  const t = await testApp({ ...opts, config: { ...opts.config } });
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const port = (t.app.server.address() as AddressInfo).port;
  const baseUrl = `http://127.0.0.1:${port}`;
  // Links in emails use the public URL: point it at the listening server.
  t.k.config.publicUrl = baseUrl;
  const browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const screenshotDir = process.env.KEYWARD_SCREENSHOTS ?? 'screenshots';
  fs.mkdirSync(screenshotDir, { recursive: true });
  return {
    t, baseUrl, browser, screenshotDir,
    newContext: (o = {}) => browser.newContext({ baseURL: baseUrl, javaScriptEnabled: false, ...o }),
    async close() {
      await browser.close();
      await t.close();
    },
  };
}

/** Signs a staff member in through the admin login form and waits for the dashboard it lands on. */
export async function staffSignIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto('/admin/login');
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
}
