/** Debian's Chromium driven by Playwright, and the project served on a local port: what the e2e tests and the browser benchmarks share. */
import { chromium, type Browser } from 'playwright';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createServer } from '../serve.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const BASE_FLAGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-dev-shm-usage',
];
export const GPU_FLAGS = {
  webgl: ['--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
  webgpu: [
    '--enable-unsafe-webgpu',
    '--enable-unsafe-swiftshader',
    '--use-webgpu-adapter=swiftshader',
    '--enable-features=Vulkan',
    '--use-vulkan=swiftshader',
    '--use-angle=swiftshader',
  ],
};

export async function launch(extra: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...BASE_FLAGS, ...GPU_FLAGS.webgpu, ...extra],
  });
}

export async function serve(
  opts: { cors?: boolean } = {},
): Promise<{ url: string; close: () => Promise<void>; server: Server }> {
  const server = createServer(undefined, opts);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections?.();
        server.close(() => r());
      }),
  };
}
