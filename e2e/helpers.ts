import { chromium, type Browser, type BrowserContext, type Page } from 'playwright';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createServer } from '../scripts/serve.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const BASE_FLAGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-dev-shm-usage'];
export const GPU_FLAGS = {
  webgl: ['--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
  webgpu: ['--enable-unsafe-webgpu', '--enable-unsafe-swiftshader', '--use-webgpu-adapter=swiftshader', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-angle=swiftshader'],
};

export async function launch(extra: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...BASE_FLAGS, ...GPU_FLAGS.webgpu, ...extra] });
}

export async function serve(): Promise<{ url: string; close: () => Promise<void>; server: Server }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, server, close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }) };
}

/** A page that records console errors, uncaught exceptions and every request URL. */
export async function watchedPage(ctx: BrowserContext): Promise<{ page: Page; errors: string[]; requests: string[] }> {
  const page = await ctx.newPage();
  // Functions passed to page.evaluate are compiled by tsx with keepNames, which calls a __name helper.
  await page.addInitScript('window.__name = window.__name || ((f) => f);');
  const errors: string[] = [], requests: string[] = [];
  page.on('pageerror', (e) => errors.push('pageerror: ' + e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push('console: ' + m.text()); });
  page.on('request', (r) => requests.push(r.url()));
  return { page, errors, requests };
}

export const gridOrder = (page: Page, sel = '[data-shelfwise-grid]') =>
  page.$$eval(`${sel} > [data-shelfwise-item]`, (els) => els.map((e) => e.getAttribute('data-shelfwise-item')!));
