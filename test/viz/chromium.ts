import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';

/** Debian's Chromium: the only browser the tests drive (no test tool downloads one). */
export const CHROMIUM = '/usr/bin/chromium';

/** Why the browser tests cannot run here, or undefined when they can. Under CI=true a missing browser is a failure, not a skip. */
export function chromiumMissing(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const reason = `${CHROMIUM} is not installed (apt-get install -y chromium)`;
  if (process.env.CI === 'true') throw new Error(`The browser tests need Chromium under CI: ${reason}.`);
  console.log(`Skipping the browser tests: ${reason}.`);
  return reason;
}

/** Start Chromium headless. */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

/** What a page did that a self-contained page must not: requests past its own URL, script errors, dialogs. */
export interface PageWatch {
  requests: string[];
  errors: string[];
  dialogs: string[];
}

/**
 * A new page that refuses every request to a network (and records it), and
 * records script errors and dialogs: the tests assert all three stay empty.
 * `allowed` URLs (the page itself, a live server) pass.
 */
export async function watchedPage(browser: Browser, allowed: (url: string) => boolean): Promise<{ page: Page; watch: PageWatch }> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1800 } });
  const watch: PageWatch = { requests: [], errors: [], dialogs: [] };
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (allowed(url)) return route.continue();
    watch.requests.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  page.on('request', (request) => {
    if (!allowed(request.url())) watch.requests.push(request.url());
  });
  page.on('pageerror', (error) => watch.errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') watch.errors.push(message.text());
  });
  page.on('dialog', (dialog) => {
    watch.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  return { page, watch };
}
