/** The e2e tests' helpers; launching Chromium and serving the project live in scripts/lib/browser.ts (the benchmarks use them too). */
import { before, after } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright';
import { launch, serve } from '../scripts/lib/browser.js';

export { CHROMIUM, GPU_FLAGS, launch, serve } from '../scripts/lib/browser.js';

/** One Chromium and one server of the project for a test file: started before its tests, closed after them. */
export function browserAndServer(): { readonly browser: Browser; readonly url: string } {
  let browser: Browser | undefined, srv: Awaited<ReturnType<typeof serve>> | undefined;
  before(async () => {
    srv = await serve();
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await srv?.close();
  });
  return {
    get browser() {
      return browser!;
    },
    get url() {
      return srv!.url;
    },
  };
}
export { contentType } from '../scripts/serve.js';

/** A page that records console errors, uncaught exceptions and every request URL. */
export async function watchedPage(ctx: BrowserContext): Promise<{ page: Page; errors: string[]; requests: string[] }> {
  const page = await ctx.newPage();
  // Functions passed to page.evaluate are compiled by tsx with keepNames, which calls a __name helper.
  await page.addInitScript('window.__name = window.__name || ((f) => f);');
  const errors: string[] = [],
    requests: string[] = [];
  page.on('pageerror', (e) => errors.push('pageerror: ' + e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push('console: ' + m.text());
  });
  page.on('request', (r) => requests.push(r.url()));
  return { page, errors, requests };
}

export const gridOrder = (page: Page, sel = '[data-shelfwise-grid]') =>
  page.$$eval(`${sel} > [data-shelfwise-item]`, (els) => els.map((e) => e.getAttribute('data-shelfwise-item')!));

/** A shop page with the script tag (`model` on wasm) and one 6-column grid of `cards`, reordered immediately. */
export function gridPage(cards: string, model: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<style>ul{display:grid;grid-template-columns:repeat(6,1fr);gap:6px;list-style:none;padding:0} li{height:60px;border:1px solid #ccc}</style>
<script>window.shelfwise=window.shelfwise||function(){(shelfwise.q=shelfwise.q||[]).push(arguments)};</script>
<script async src="/dist/shelfwise.js" data-model="${model}" data-backend="wasm"></script></head>
<body><ul data-shelfwise-grid data-shelfwise-reorder="immediate">${cards}</ul></body></html>`;
}
