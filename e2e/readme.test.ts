/**
 * The README's examples, run as written: the script tag (its paths served as the README shows them,
 * /shelfwise/ → dist/ and the model) with the README's grid markup, and the ES module (`from 'shelfwise'`
 * resolved by an import map, as a bundler would); both must personalize: the model's scores, not the
 * merchant's order. Also docs/merchandising.md's A/B holdout tag and docs/installing.md's CSP.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { browserAndServer, contentType, launch, serve, watchedPage } from './helpers.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const doc = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');
/** The i-th code block of a language in a document (README.md unless named), as written. */
const block = (lang: string, i = 0, file = 'README.md') =>
  [...doc(file).matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))][i][1];
const ids = JSON.parse(fs.readFileSync(path.join(ROOT, 'models/online-retail/vocab.json'), 'utf8')).ids.slice(
  0,
  24,
) as string[];
const grid = `<ul id="grid" data-shelfwise-grid>${ids.map((id) => `<li data-shelfwise-item="${id}">${id}</li>`).join('')}</ul>`;

const env = browserAndServer();

test('README: the ES module example personalizes on its first rank() call', async () => {
  const ctx = await env.browser.newContext();
  const { page, errors } = await watchedPage(ctx);
  const code = block('js');
  assert.match(code, /from 'shelfwise'/);
  await page.route('**/readme-esm.html', (r) =>
    r.fulfill({
      contentType: 'text/html',
      body: `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<script type="importmap">{"imports":{"shelfwise":"/dist/esm/index.js"}}</script></head><body>${grid}
<script type="module">
${code}
window.readme = { ranked, binding, rec };
</script></body></html>`,
    }),
  );
  await page.goto(env.url + '/readme-esm.html');
  await page.waitForFunction(() => (window as any).readme, null, { timeout: 60_000 });
  const ranked = await page.evaluate(() => (window as any).readme.ranked);
  assert.equal(ranked.length, 3);
  assert.ok(
    ranked.every((r: any) => typeof r.score === 'number'),
    `every known product is scored by the model: ${JSON.stringify(ranked)}`,
  );
  for (const r of ranked) {
    assert.ok(r.source === 'return' || r.source === 'discover', `a source for ${r.itemId}`);
    // A returning product's reason says what the shopper did; a discovered one's names the click where the
    // product goes with it (its companions, at least three times their base rate), else none: the
    // clicked best seller goes with everything.
    if (r.source === 'return') assert.match(r.reason, /^viewed today$/);
    else assert.ok(r.reason === '85123A' || r.reason === null, `${r.itemId}'s reason: ${r.reason}`);
  }
  assert.deepEqual(errors, []);
  await ctx.close();
});

/** Serves /shelfwise/ as the README's tags expect it: dist/ and the models. */
async function routeShelfwise(page: import('playwright').Page) {
  await page.route('**/shelfwise/**', async (r) => {
    const p = new URL(r.request().url()).pathname.replace(/^\/shelfwise\//, '');
    const file = p.startsWith('models/') ? path.join(ROOT, p) : path.join(ROOT, 'dist', p);
    if (!fs.existsSync(file)) return r.fulfill({ status: 404, body: 'not found' });
    return r.fulfill({ contentType: contentType(file), body: fs.readFileSync(file) });
  });
}

test('README: the script tag, served at the paths it shows, binds the grid and personalizes it', async () => {
  const ctx = await env.browser.newContext();
  const { page, errors } = await watchedPage(ctx);
  const tag = block('html');
  assert.match(tag, /src="\/shelfwise\/shelfwise.js"/);
  const markup = block('html', 1);
  assert.match(markup, /data-shelfwise-grid/);
  await routeShelfwise(page);
  await page.route('**/readme-tag.html', (r) =>
    r.fulfill({
      contentType: 'text/html',
      body: `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">${tag}</head><body>${markup}${grid}</body></html>`,
    }),
  );
  await page.goto(env.url + '/readme-tag.html');
  await page.waitForFunction(() => (window as any).shelfwise?.recommender, null, { timeout: 60_000 });
  assert.equal(await page.evaluate(() => (window as any).shelfwise.recommender.ready), true);
  // The README's grid markup: its add-to-cart button records add_to_cart, a click in a product records click.
  await page.click('[data-shelfwise-item="85123A"] [data-shelfwise-action="add_to_cart"]');
  await page.click('[data-shelfwise-item="71053"]');
  await page.waitForFunction(async () => (await (window as any).shelfwise.recommender.history()).length >= 2);
  const recorded = await page.evaluate(async () =>
    (await (window as any).shelfwise.recommender.history()).map((e: any) => `${e.type} ${e.itemId}`),
  );
  assert.deepEqual(recorded, ['add_to_cart 85123A', 'click 71053']);
  const last = ids[ids.length - 1];
  await page.evaluate(
    (id) =>
      new Promise<void>((res) => {
        (window as any).shelfwise('track', { type: 'purchase', itemId: id });
        setTimeout(res, 300);
      }),
    last,
  );
  const ranked = await page.evaluate(
    (all) => new Promise<any[]>((res) => (window as any).shelfwise('rank', all, res)),
    ids,
  );
  assert.ok(ranked.every((r: any) => typeof r.score === 'number'));
  assert.notDeepEqual(
    ranked.map((r: any) => r.itemId),
    ids,
    'not the merchant order',
  );
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('auto skips a software-rendered GPU (SwiftShader here) for wasm, and says why', async () => {
  const ctx = await env.browser.newContext();
  const { page, errors } = await watchedPage(ctx);
  await page.goto(env.url + '/e2e/.fixture/blank.html');
  const m = await page.evaluate(async () => {
    const { createRecommender } = await import('/dist/esm/index.js' as string);
    const rec = await createRecommender({ model: '/e2e/.fixture/model/model.json', consent: false });
    await rec.ready;
    return rec.model;
  });
  assert.equal(m.backend, 'wasm');
  assert.match(m.backendReason, /webgpu adapter is software.*webgl renderer is software/i);
  assert.deepEqual(errors, []);
  await ctx.close();
});

const cspPage = (
  policy: string,
  backend: string,
) => `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<script nonce="n0nce">window.codes=[];addEventListener('shelfwise:error',(e)=>codes.push(e.detail.code));
window.shelfwise=window.shelfwise||function(){(shelfwise.q=shelfwise.q||[]).push(arguments)};</script>
<script async src="/dist/shelfwise.js" data-model="/models/online-retail/model.json" data-backend="${backend}"></script></head><body>${grid}</body></html>`;

for (const [name, policy, backend, expect] of [
  [
    "docs/installing.md's policy: the model runs on wasm",
    "script-src 'self' 'wasm-unsafe-eval' 'nonce-n0nce'",
    'wasm',
    { backend: 'wasm', codes: [] as string[] },
  ],
  [
    "without 'wasm-unsafe-eval': a clear csp_blocked error, the page keeps working",
    "script-src 'self' 'nonce-n0nce'",
    'wasm',
    { backend: null, codes: ['csp_blocked'] },
  ],
] as const) {
  test(`Content-Security-Policy: ${name}`, async () => {
    const ctx = await env.browser.newContext();
    const { page, errors } = await watchedPage(ctx);
    await page.route('**/csp.html', (r) =>
      r.fulfill({
        contentType: 'text/html',
        headers: { 'content-security-policy': policy },
        body: cspPage(policy, backend),
      }),
    );
    await page.goto(env.url + '/csp.html');
    await page.waitForFunction(() => (window as any).shelfwise?.recommender, null, { timeout: 60_000 });
    await page.evaluate(() => (window as any).shelfwise.recommender.ready);
    const got = await page.evaluate(() => ({
      backend: (window as any).shelfwise.recommender.backend,
      codes: (window as any).codes,
    }));
    assert.equal(got.backend, expect.backend);
    assert.deepEqual(got.codes, expect.codes);
    const ranked = await page.evaluate(
      () => new Promise<any[]>((res) => (window as any).shelfwise('rank', ['85123A', '22423'], res)),
    );
    assert.equal(ranked.length, 2, 'rank() answers either way');
    assert.deepEqual(
      errors.filter((e) => !/Content Security Policy|wasm-unsafe-eval|WebAssembly/i.test(e)),
      [],
    );
    await ctx.close();
  });
}

test('README: the A/B holdout tag, as written, draws an arm and announces it once', async () => {
  const ctx = await env.browser.newContext();
  const { page, errors } = await watchedPage(ctx);
  const tag = block('html', 0, 'docs/merchandising.md');
  assert.match(tag, /data-experiment="grid-2026-12" data-holdout="0.2"/);
  await routeShelfwise(page);
  const stub =
    '<script>window.dataLayer=[];window.shelfwise=window.shelfwise||function(){(shelfwise.q=shelfwise.q||[]).push(arguments)};</script>';
  await page.route('**/readme-ab.html', (r) =>
    r.fulfill({
      contentType: 'text/html',
      body: `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">${stub}${tag}</head><body>${grid}</body></html>`,
    }),
  );
  await page.goto(env.url + '/readme-ab.html');
  await page.waitForFunction(() => (window as any).shelfwise?.recommender, null, { timeout: 60_000 });
  const exp = await page.evaluate(() => (window as any).shelfwise.recommender.experiment);
  assert.equal(exp.name, 'grid-2026-12');
  assert.ok(exp.arm === 'control' || exp.arm === 'personalized');
  await page.waitForFunction(
    () => (window as any).dataLayer.some((x: any) => x.event === 'experience_impression'),
    null,
    { timeout: 30_000 },
  );
  const pushes = await page.evaluate(() =>
    (window as any).dataLayer.filter((x: any) => x.event === 'experience_impression'),
  );
  assert.deepEqual(pushes, [
    { event: 'experience_impression', exp_variant_string: `shelfwise-grid-2026-12-${exp.arm}` },
  ]);
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('the script tag served from another origin (as from a CDN, with CORS) loads its chunks and wasm from there and personalizes', async () => {
  const cdn = await serve({ cors: true });
  // Both origins are this machine's loopback here; a real CDN is public, so Chromium's local-network
  // checks (which would ask a loopback server for a private-network preflight) are off in this browser.
  const b2 = await launch([
    '--disable-features=LocalNetworkAccessChecks,PrivateNetworkAccessSendPreflights,PrivateNetworkAccessRespectPreflightResults,BlockInsecurePrivateNetworkRequests',
  ]);
  const ctx = await b2.newContext();
  const { page, errors, requests } = await watchedPage(ctx);
  const sri = fs.readFileSync(path.join(ROOT, 'dist/shelfwise.js.sri'), 'utf8').trim();
  await page.route('**/cdn-page.html', (r) =>
    r.fulfill({
      contentType: 'text/html',
      body: `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<script>window.shelfwise=window.shelfwise||function(){(shelfwise.q=shelfwise.q||[]).push(arguments)};</script>
<script async src="${cdn.url}/dist/shelfwise.js" integrity="${sri}" crossorigin="anonymous" data-model="/models/online-retail/model.json"></script></head><body>${grid}</body></html>`,
    }),
  );
  await page.goto(env.url + '/cdn-page.html');
  await page.waitForFunction(() => (window as any).shelfwise?.recommender, null, { timeout: 60_000 });
  assert.equal(await page.evaluate(() => (window as any).shelfwise.recommender.ready), true);
  assert.equal(await page.evaluate(() => (window as any).shelfwise.recommender.backend), 'wasm');
  await page.evaluate(() => (window as any).shelfwise.recommender.track({ type: 'purchase', itemId: '22423' }));
  const ranked = await page.evaluate(
    (all) => new Promise<any[]>((res) => (window as any).shelfwise('rank', all, res)),
    ids,
  );
  assert.ok(ranked.every((r: any) => typeof r.score === 'number'));
  assert.ok(
    requests.some((u) => u.startsWith(cdn.url) && u.endsWith('.wasm')),
    "the wasm binary came from the script's origin",
  );
  assert.ok(
    requests.some((u) => u.startsWith(cdn.url + '/dist/esm/runtime.js')),
    "the runtime chunk came from the script's origin",
  );
  assert.deepEqual(errors, []);
  await ctx.close();
  await b2.close();
  await cdn.close();
});
