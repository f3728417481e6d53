/** The SDK in a real Chromium, on a fixture shop page that uses only the script tag and the markup contract. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { browserAndServer, launch, watchedPage, gridOrder } from './helpers.js';

const env = browserAndServer();

const SHOP = () => env.url + '/e2e/.fixture/shop.html';
const rec = (page: Page) =>
  page
    .waitForFunction(() => (window as any).shelfwise?.recommender, null, { timeout: 60_000 })
    .then(() => page.evaluate(() => (window as any).shelfwise.recommender.ready));
const storedEvents = (page: Page) =>
  page.evaluate(
    () =>
      new Promise<any[]>((res, rej) => {
        const r = indexedDB.open('shelfwise');
        r.onsuccess = () => {
          const db = r.result;
          if (!db.objectStoreNames.contains('events')) {
            db.close();
            res([]);
            return;
          }
          const q = db.transaction('events').objectStore('events').getAll();
          q.onsuccess = () => {
            db.close();
            res(q.result);
          };
          q.onerror = () => rej(q.error);
        };
        r.onerror = () => rej(r.error);
      }),
  );
const settle = (page: Page) => page.evaluate(() => new Promise((r) => setTimeout(r, 300)));
async function waitForOrderChange(page: Page, before: string[]) {
  await page.waitForFunction(
    (b) =>
      Array.from(document.querySelectorAll('[data-shelfwise-grid] > [data-shelfwise-item]'))
        .map((e) => e.getAttribute('data-shelfwise-item'))
        .join() !== b.join(),
    before,
    { timeout: 30_000 },
  );
}

test('clicks and cart buttons → events in IndexedDB → grid reorders; reload keeps events and order; only SDK and model requests', async () => {
  const ctx = await env.browser.newContext();
  const { page, errors, requests } = await watchedPage(ctx);
  await page.goto(SHOP());
  assert.equal(await rec(page), true);
  const initial = await gridOrder(page);
  await page.click('[data-shelfwise-item="SKU-010"] a');
  await waitForOrderChange(page, initial);
  await page.click('[data-shelfwise-item="SKU-003"] button');
  await settle(page);
  const events = await storedEvents(page);
  assert.deepEqual(
    events.map((e) => [e.type, e.itemId]),
    [
      ['click', 'SKU-010'],
      ['add_to_cart', 'SKU-003'],
    ],
  );
  await page.waitForFunction(() => (window as any).shelfwise.recommender && true);
  await settle(page);
  const order = await gridOrder(page);
  assert.notDeepEqual(order, initial);
  // Unavailable (data-shelfwise-stock="0") goes last.
  assert.equal(order[order.length - 1], 'SKU-006');
  await page.reload();
  await rec(page);
  await page.waitForFunction(
    (o) =>
      Array.from(document.querySelectorAll('[data-shelfwise-grid] > [data-shelfwise-item]'))
        .map((e) => e.getAttribute('data-shelfwise-item'))
        .join() === o.join(),
    order,
    { timeout: 30_000 },
  );
  assert.equal((await storedEvents(page)).length, 2);
  const allowed = [`${env.url}/e2e/.fixture/shop.html`, `${env.url}/dist/`, `${env.url}/e2e/.fixture/model/`];
  for (const r of requests)
    assert.ok(
      allowed.some((a) => r.startsWith(a)),
      `unexpected request ${r}`,
    );
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('GA4 dataLayer pushes and queued snippet calls are recorded', async () => {
  const ctx = await env.browser.newContext();
  const { page, errors } = await watchedPage(ctx);
  await page.addInitScript(() => {
    (window as any).dataLayer = [
      { event: 'view_item', ecommerce: { items: [{ item_id: 'SKU-020' }] } },
      { event: 'gtm.js' },
    ];
  });
  await page.goto(SHOP());
  await page.evaluate(() => (window as any).shelfwise('track', { type: 'view', itemId: 'SKU-021' }));
  await rec(page);
  await page.evaluate(() =>
    (window as any).dataLayer.push({
      event: 'add_to_cart',
      ecommerce: { items: [{ item_id: 'SKU-022' }, { item_id: 'SKU-023' }] },
    }),
  );
  await settle(page);
  const ids = (await storedEvents(page)).map((e) => `${e.type}:${e.itemId}`).sort();
  assert.deepEqual(ids, ['add_to_cart:SKU-022', 'add_to_cart:SKU-023', 'view:SKU-020', 'view:SKU-021']);
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('Segment analytics.js track calls are recorded through analytics.on', async () => {
  const ctx = await env.browser.newContext();
  const { page, errors } = await watchedPage(ctx);
  // A minimal analytics.js stand-in: on('track', cb) registers cb; track(name, props) calls it, as analytics.js does.
  await page.addInitScript(() => {
    const cbs: Array<(e: string, p: unknown) => void> = [];
    (window as any).analytics = {
      on: (ev: string, cb: (e: string, p: unknown) => void) => {
        if (ev === 'track') cbs.push(cb);
      },
      track: (e: string, p: unknown) => cbs.forEach((cb) => cb(e, p)),
    };
  });
  await page.goto(SHOP());
  await rec(page);
  await page.evaluate(() => {
    const a = (window as any).analytics;
    a.track('Product Viewed', { product_id: 'SKU-031' });
    a.track('Order Completed', { products: [{ product_id: 'SKU-032' }, { product_id: 'SKU-033' }] });
    a.track('Signed Up', { plan: 'pro' }); // not e-commerce: ignored
  });
  await settle(page);
  const ids = (await storedEvents(page)).map((e) => `${e.type}:${e.itemId}`).sort();
  assert.deepEqual(ids, ['purchase:SKU-032', 'purchase:SKU-033', 'view:SKU-031']);
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('webgpu, webgl, wasm and cpu give the same top 10 for a fixed history', async () => {
  const results: Record<string, { ids: string[]; scores: number[] }> = {};
  for (const backend of ['webgpu', 'webgl', 'wasm', 'cpu']) {
    const ctx = await env.browser.newContext();
    const { page, errors } = await watchedPage(ctx);
    await page.goto(env.url + '/e2e/.fixture/blank.html');
    const r = await page.evaluate(async (b) => {
      const { createRecommender } = await import('/dist/esm/index.js' as string);
      const errs: string[] = [];
      const rec = await createRecommender({
        model: '/e2e/.fixture/model/model.json',
        backend: b,
        consent: false,
        onError: (e: Error) => errs.push(e.message),
      });
      const ok = await rec.ready;
      for (const [i, id] of ['SKU-004', 'SKU-017', 'SKU-120', 'SKU-033', 'SKU-004', 'SKU-150'].entries())
        await rec.track({ type: i % 2 ? 'add_to_cart' : 'view', itemId: id, ts: 1_700_000_000_000 + i * 60_000 });
      const ids = Array.from({ length: 200 }, (_, i) => `SKU-${String(i + 1).padStart(3, '0')}`);
      const ranked = await rec.rank(ids);
      return { ok, backend: rec.backend, errs, top: ranked.slice(0, 10).map((x: any) => [x.itemId, x.score]) };
    }, backend);
    assert.equal(r.ok, true, `${backend}: ${r.errs.join('; ')}`);
    assert.equal(r.backend, backend);
    results[backend] = { ids: r.top.map((x: any) => x[0]), scores: r.top.map((x: any) => x[1]) };
    assert.deepEqual(errors, []);
    await ctx.close();
  }
  const ref = results.cpu;
  for (const [b, r] of Object.entries(results)) {
    assert.deepEqual(r.ids, ref.ids, `${b} top 10 differs from cpu`);
    r.scores.forEach((s, i) =>
      assert.ok(
        Math.abs(s - ref.scores[i]) <= 1e-3 * Math.max(1, Math.abs(ref.scores[i])),
        `${b} score ${i}: ${s} vs ${ref.scores[i]}`,
      ),
    );
  }
});

test('IndexedDB unavailable → memory store, the shop keeps working, no page error', async () => {
  const ctx = await env.browser.newContext();
  const { page, errors } = await watchedPage(ctx);
  await page.addInitScript(() => {
    Object.defineProperty(window, 'indexedDB', {
      get() {
        throw new DOMException('blocked', 'SecurityError');
      },
    });
  });
  const reported: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'warning') reported.push(m.text());
  });
  await page.goto(SHOP());
  await rec(page);
  assert.equal(await page.evaluate(() => (window as any).shelfwise.recommender.storage), 'memory');
  const initial = await gridOrder(page);
  await page.click('[data-shelfwise-item="SKU-012"] a');
  await waitForOrderChange(page, initial);
  assert.ok(
    reported.some((t) => /IndexedDB/.test(t)),
    reported.join('\n'),
  );
  assert.deepEqual(errors, []);
  await ctx.close();
});

for (const kind of ['404', 'truncated shard', 'not JSON', 'shape mismatch']) {
  test(`model ${kind} → merchant order kept, onError called, nothing uncaught`, async () => {
    const ctx = await env.browser.newContext();
    const { page, errors } = await watchedPage(ctx);
    if (kind === '404') await page.route('**/model/model.json', (r) => r.fulfill({ status: 404, body: 'nope' }));
    if (kind === 'not JSON')
      await page.route('**/model/model.json', (r) => r.fulfill({ status: 200, body: '{"weightsMan' }));
    if (kind === 'truncated shard')
      await page.route('**/model/weights.bin', async (r) => {
        const res = await r.fetch();
        const b = await res.body();
        await r.fulfill({ response: res, body: b.subarray(0, b.length - 100) });
      });
    if (kind === 'shape mismatch')
      await page.route('**/model/model.json', async (r) => {
        const res = await r.fetch();
        const j = await res.json();
        j.userDefinedMetadata.shelfwise.config.d = 16;
        await r.fulfill({ response: res, json: j });
      });
    await page.addInitScript(() => {
      (window as any).__errs = [];
      window.addEventListener('shelfwise:error', (e: any) => (window as any).__errs.push(e.detail.message));
    });
    await page.goto(SHOP());
    assert.equal(await rec(page), false);
    const initial = await gridOrder(page);
    await page.click('[data-shelfwise-item="SKU-010"] a');
    await settle(page);
    const order = await gridOrder(page);
    assert.deepEqual(
      order.filter((id) => id !== 'SKU-006'),
      initial.filter((id) => id !== 'SKU-006'),
      'merchant order (unavailable item moved last)',
    );
    const errs: string[] = await page.evaluate(() => (window as any).__errs);
    assert.ok(errs.length >= 1, 'onError called');
    assert.match(
      errs[0],
      kind === '404'
        ? /HTTP 404/
        : kind === 'not JSON'
          ? /not valid JSON/
          : kind === 'truncated shard'
            ? /truncated/
            : /shape/,
    );
    assert.equal((await storedEvents(page)).length, 1, 'the click is still stored');
    assert.deepEqual(
      errors.filter((e) => !/Failed to load resource/.test(e)),
      [],
    );
    await ctx.close();
  });
}

test('an explicit backend that cannot start is a clear error; the page keeps working', async (t) => {
  const b2 = await launch(['--disable-gpu', '--disable-unsafe-webgpu']);
  t.after(() => b2.close());
  const ctx = await b2.newContext();
  const { page, errors } = await watchedPage(ctx);
  await page.goto(env.url + '/e2e/.fixture/blank.html');
  const r = await page.evaluate(async () => {
    const { createRecommender } = await import('/dist/esm/index.js' as string);
    const errs: string[] = [];
    (navigator as any).gpu = undefined;
    Object.defineProperty(navigator, 'gpu', { value: undefined });
    const rec = await createRecommender({
      model: '/e2e/.fixture/model/model.json',
      backend: 'webgpu',
      consent: false,
      onError: (e: Error) => errs.push(e.message),
    });
    const ok = await rec.ready;
    const ranked = await rec.rank(['SKU-002', 'SKU-001']);
    return { ok, errs, ranked: ranked.map((x: any) => x.itemId) };
  });
  assert.equal(r.ok, false);
  assert.match(r.errs[0], /no backend could start \(webgpu: navigator.gpu is not available\)/);
  assert.deepEqual(r.ranked, ['SKU-002', 'SKU-001']);
  assert.deepEqual(errors, []);
});

test("two tabs recording at once lose no event; each ranks with the other's events", async () => {
  const ctx = await env.browser.newContext();
  const a = await watchedPage(ctx),
    b = await watchedPage(ctx);
  await a.page.goto(SHOP());
  await b.page.goto(SHOP());
  await rec(a.page);
  await rec(b.page);
  await Promise.all([
    a.page.evaluate(async () => {
      for (let i = 0; i < 15; i++)
        await (window as any).shelfwise.recommender.track({ type: 'view', itemId: `SKU-0${10 + i}` });
    }),
    b.page.evaluate(async () => {
      for (let i = 0; i < 15; i++)
        await (window as any).shelfwise.recommender.track({ type: 'click', itemId: `SKU-0${50 + i}` });
    }),
  ]);
  const ha = await a.page.evaluate(async () => (await (window as any).shelfwise.recommender.history()).length);
  const hb = await b.page.evaluate(async () =>
    (await (window as any).shelfwise.recommender.history()).map((e: any) => e.type),
  );
  assert.equal(ha, 30);
  assert.equal(hb.filter((t: string) => t === 'view').length, 15, "tab B sees tab A's events");
  assert.deepEqual([...a.errors, ...b.errors], []);
  await ctx.close();
});

test('forget() empties storage; consent false stores nothing', async () => {
  const ctx = await env.browser.newContext();
  const { page, errors } = await watchedPage(ctx);
  await page.goto(SHOP());
  await rec(page);
  await page.click('[data-shelfwise-item="SKU-010"] a');
  await settle(page);
  assert.equal((await storedEvents(page)).length, 1);
  await page.evaluate(() => new Promise((r) => (window as any).shelfwise('forget', r)));
  assert.equal((await storedEvents(page)).length, 0);
  assert.equal(await page.evaluate(async () => (await (window as any).shelfwise.recommender.history()).length), 0);
  await page.goto(env.url + '/e2e/.fixture/blank.html');
  const kind = await page.evaluate(async () => {
    const { createRecommender } = await import('/dist/esm/index.js' as string);
    const rec = await createRecommender({ model: '/e2e/.fixture/model/model.json', consent: false, backend: 'cpu' });
    await rec.track({ type: 'view', itemId: 'SKU-001' });
    return rec.storage;
  });
  assert.equal(kind, 'memory');
  assert.equal((await storedEvents(page)).length, 0);
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('forget() with another tab holding the database (ignoring versionchange) settles at once, erases everything, and the other tabs keep storing', async () => {
  const ctx = await env.browser.newContext();
  const a = await watchedPage(ctx),
    b = await watchedPage(ctx),
    holder = await watchedPage(ctx);
  await a.page.goto(SHOP());
  await b.page.goto(SHOP());
  await rec(a.page);
  await rec(b.page);
  // An older tab with its own connection that never closes it.
  await holder.page.goto(env.url + '/e2e/.fixture/blank.html');
  await holder.page.evaluate(
    () =>
      new Promise<void>((res) => {
        const r = indexedDB.open('shelfwise');
        r.onsuccess = () => {
          (window as any).held = r.result;
          r.result.onversionchange = null;
          res();
        };
      }),
  );
  // A burst of events queued for storage when forget() is called: it does not wait behind them, and none lands after it.
  const ms = await a.page.evaluate(async () => {
    const r = (window as any).shelfwise.recommender;
    for (let i = 0; i < 300; i++) void r.track({ type: 'view', itemId: `SKU-0${10 + (i % 50)}` });
    const t0 = performance.now();
    await r.forget();
    const took = performance.now() - t0;
    await new Promise((res) => setTimeout(res, 500));
    return took;
  });
  assert.ok(ms < 2000, `forget() took ${ms} ms`);
  assert.equal((await storedEvents(a.page)).length, 0, 'nothing stored after forget()');
  // The other tab still stores (its connection was not closed under it).
  await b.page.evaluate(() => (window as any).shelfwise.recommender.track({ type: 'click', itemId: 'SKU-020' }));
  assert.equal(await b.page.evaluate(() => (window as any).shelfwise.recommender.storage), 'indexeddb');
  const stored = await storedEvents(b.page);
  assert.deepEqual(
    stored.map((e: any) => e.itemId),
    ['SKU-020'],
  );
  assert.deepEqual([...a.errors, ...b.errors], []);
  await ctx.close();
});

test('script tag: a missing model arrives as model_not_found (the code survives across the two bundles)', async () => {
  const ctx = await env.browser.newContext();
  const { page } = await watchedPage(ctx);
  await page.route('**/missing-model.html', (r) =>
    r.fulfill({
      contentType: 'text/html',
      body: `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<script>window.codes=[];addEventListener('shelfwise:error',(e)=>codes.push(e.detail.code));</script>
<script async src="/dist/shelfwise.js" data-model="/models/nowhere/model.json"></script></head><body><ul data-shelfwise-grid><li data-shelfwise-item="a">a</li></ul></body></html>`,
    }),
  );
  await page.goto(env.url + '/missing-model.html');
  await page.waitForFunction(() => (window as any).codes.length > 0, null, { timeout: 30_000 });
  assert.equal(await page.evaluate(() => (window as any).codes[0]), 'model_not_found');
  await ctx.close();
});

/** A recommender on the fixture model in a fresh page, with `opts`; resolves with its ready state, backend and error codes. */
async function loadWith(page: Page, opts: Record<string, unknown>) {
  await page.goto(env.url + '/e2e/.fixture/blank.html');
  return page.evaluate(async (o) => {
    const codes: string[] = [];
    const { createRecommender } = await import('/dist/esm/index.js' as string);
    const rec = await createRecommender({
      model: '/e2e/.fixture/model/model.json',
      consent: false,
      backend: 'cpu',
      onError: (e: any) => codes.push(`${e.code}: ${e.message}`),
      ...o,
    });
    const ready = await rec.ready;
    const ranked = await rec.rank(['SKU-001', 'SKU-002']);
    return { ready, codes, ranked: ranked.length };
  }, opts);
}

test('model integrity: a tampered weights file (same size), a path to another origin, a wrong SRI hash are refused; the page keeps working', async () => {
  const ctx = await env.browser.newContext();
  const { page } = await watchedPage(ctx);
  const fixture = path.resolve(path.dirname(new URL(import.meta.url).pathname), '.fixture/model');
  // Tampered: one byte flipped in weights.bin.
  await page.route('**/e2e/.fixture/model/weights.bin', async (r) => {
    const b = fs.readFileSync(path.join(fixture, 'weights.bin'));
    b[b.length - 3] ^= 0x40;
    await r.fulfill({ body: b });
  });
  let got = await loadWith(page, { cacheModel: false });
  assert.equal(got.ready, false);
  assert.match(got.codes.join(), /model_corrupt: .*do not match model.json's version/);
  assert.equal(got.ranked, 2, 'the merchant order still comes back');
  await page.unroute('**/e2e/.fixture/model/weights.bin');
  // A manifest whose weights live on another origin.
  const json = JSON.parse(fs.readFileSync(path.join(fixture, 'model.json'), 'utf8'));
  json.weightsManifest[0].paths = ['https://cdn.example.invalid/weights.bin'];
  await page.route('**/e2e/.fixture/model/model.json', (r) =>
    r.fulfill({ contentType: 'application/json', body: JSON.stringify(json) }),
  );
  got = await loadWith(page, { cacheModel: false });
  assert.equal(got.ready, false);
  assert.match(got.codes.join(), /model_corrupt: model.json points .* to another origin/);
  await page.unroute('**/e2e/.fixture/model/model.json');
  // SRI: the right hash loads, a wrong one is refused.
  const sha = (f: string) =>
    'sha384-' +
    crypto
      .createHash('sha384')
      .update(fs.readFileSync(path.join(fixture, f)))
      .digest('base64');
  got = await loadWith(page, {
    cacheModel: false,
    integrity: { 'model.json': sha('model.json'), 'weights.bin': sha('weights.bin') },
  });
  assert.deepEqual([got.ready, got.codes], [true, []]);
  got = await loadWith(page, { cacheModel: false, integrity: { 'weights.bin': sha('model.json') } });
  assert.equal(got.ready, false);
  assert.match(got.codes.join(), /integrity check failed for weights.bin/);
  await ctx.close();
});

test('a new model version replaces the cached files of the old one (the cache listed once per load)', async () => {
  const ctx = await env.browser.newContext();
  const { page, errors } = await watchedPage(ctx);
  const fixture = path.resolve(path.dirname(new URL(import.meta.url).pathname), '.fixture/model');
  const cached = () =>
    page.evaluate(async () =>
      (await (await caches.open('shelfwise-models')).keys()).map((r) => r.url).filter((u) => u.includes('weights.bin')),
    );
  let got = await loadWith(page, {});
  assert.equal(got.ready, true);
  const first = await cached();
  assert.equal(first.length, 1, first.join());
  // The same files under another version name (not a content hash: no byte check against it).
  await page.route('**/e2e/.fixture/model/model.json', (r) => {
    const j = JSON.parse(fs.readFileSync(path.join(fixture, 'model.json'), 'utf8'));
    j.userDefinedMetadata.shelfwise.version = 'release-2';
    return r.fulfill({ contentType: 'application/json', body: JSON.stringify(j) });
  });
  got = await loadWith(page, {});
  assert.equal(got.ready, true);
  const second = await cached();
  assert.deepEqual(
    second.map((u) => u.split('?')[1]),
    ['shelfwise-version=release-2'],
    `cached: ${second.join()}`,
  );
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('a Cache API that refuses writes (a full quota) leaves the model loading from the network', async () => {
  const ctx = await env.browser.newContext();
  const { page, errors } = await watchedPage(ctx);
  await page.addInitScript(() => {
    Cache.prototype.put = () => Promise.reject(new DOMException('quota', 'QuotaExceededError'));
  });
  const got = await loadWith(page, {});
  assert.deepEqual([got.ready, got.codes], [true, []]);
  assert.deepEqual(errors, []);
  await ctx.close();
});

const abPage = (attrs: string) => `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<script>window.dataLayer=[];window.segment=[];window.analytics={track:(e,p)=>segment.push([e,p]),on:()=>{}};window.exposures=[];window.codes=[];
addEventListener('shelfwise:exposure',(e)=>exposures.push(e.detail));addEventListener('shelfwise:error',(e)=>codes.push(e.detail.code));
window.shelfwise=window.shelfwise||function(){(shelfwise.q=shelfwise.q||[]).push(arguments)};</script>
<script async src="/dist/shelfwise.js" data-model="/e2e/.fixture/model/model.json" data-backend="cpu" ${attrs}></script></head>
<body><ul data-shelfwise-grid>${Array.from({ length: 8 }, (_, i) => `<li data-shelfwise-item="SKU-00${i}">${i}</li>`).join('')}</ul></body></html>`;

test('A/B from the script tag: control keeps the merchant order and fetches no model or tfjs; exposure is announced once; the URL override and a hostile holdout', async () => {
  const ctx = await env.browser.newContext();
  const { page, requests, errors } = await watchedPage(ctx);
  await page.route('**/ab.html*', (r) =>
    r.fulfill({ contentType: 'text/html', body: abPage(new URL(r.request().url()).searchParams.get('attrs') ?? '') }),
  );
  const open = async (attrs: string, query = '') => {
    await page.goto(`${env.url}/ab.html?attrs=${encodeURIComponent(attrs)}${query}`);
    await page.waitForFunction(() => (window as any).shelfwise?.recommender || (window as any).codes.length, null, {
      timeout: 30_000,
    });
    await page.waitForTimeout(500);
    return page.evaluate(() => ({
      exp: (window as any).shelfwise.recommender?.experiment ?? null,
      dl: (window as any).dataLayer,
      seg: (window as any).segment,
      exposures: (window as any).exposures,
      codes: (window as any).codes,
    }));
  };
  requests.length = 0;
  const c = await open('data-experiment="grid-ab" data-holdout="1"');
  assert.deepEqual(c.exp, { name: 'grid-ab', arm: 'control' });
  assert.deepEqual(
    c.dl.filter((x: any) => x.event === 'experience_impression'),
    [{ event: 'experience_impression', exp_variant_string: 'shelfwise-grid-ab-control' }],
  );
  assert.equal(c.seg.length, 1);
  assert.equal(c.exposures.length, 1);
  assert.ok(
    !requests.some((u) => /model\.json|weights\.bin|runtime|chunk|\.wasm/.test(u)),
    `control fetched: ${requests.filter((u) => !u.includes('ab.html')).join(', ')}`,
  );
  assert.deepEqual(
    await page.$$eval('[data-shelfwise-item]', (els) => els.map((e) => e.getAttribute('data-shelfwise-item'))),
    Array.from({ length: 8 }, (_, i) => `SKU-00${i}`),
  );
  // The QA override wins over the draw.
  const p = await open('data-experiment="grid-ab" data-holdout="1"', '&shelfwise_arm=personalized');
  assert.deepEqual(p.exp, { name: 'grid-ab', arm: 'personalized' });
  // A non-numeric holdout: a clear error, no recommender, the merchant order stays.
  const bad = await open('data-experiment="grid-ab" data-holdout="lots"');
  assert.deepEqual([bad.exp, bad.codes], [null, ['invalid_options']]);
  assert.deepEqual(errors, []);
  await ctx.close();
});

test("a hostile dataLayer (a throwing getter, a Proxy) breaks neither the shop's push nor start-up; gtag.js push(arguments) is recorded", async () => {
  const ctx = await env.browser.newContext();
  const { page, errors } = await watchedPage(ctx);
  await page.route('**/hostile.html', (r) =>
    r.fulfill({
      contentType: 'text/html',
      body: `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<script>
window.dataLayer = [Object.defineProperty({}, 'event', { get() { throw new Error('hostile getter'); } }), new Proxy({}, { get() { throw new Error('hostile proxy'); }, has() { throw new Error('hostile proxy'); } })];
window.readyCalled = false;
window.shelfwise=window.shelfwise||function(){(shelfwise.q=shelfwise.q||[]).push(arguments)};
shelfwise('track', { type: 'view', itemId: 'SKU-001' });
shelfwise('ready', () => { window.readyCalled = true; });
function gtag(){dataLayer.push(arguments);}
</script>
<script async src="/dist/shelfwise.js" data-model="/e2e/.fixture/model/model.json" data-backend="cpu"></script></head><body></body></html>`,
    }),
  );
  await page.goto(env.url + '/hostile.html');
  await page.waitForFunction(() => (window as any).readyCalled, null, { timeout: 30_000 });
  const pushed = await page.evaluate(() => {
    const w = window as any;
    let threw = 0;
    for (const x of [
      Object.defineProperty({}, 'event', {
        get() {
          throw new Error('later');
        },
      }),
      new Proxy(
        {},
        {
          get() {
            throw new Error('later proxy');
          },
        },
      ),
    ]) {
      try {
        w.dataLayer.push(x);
      } catch {
        threw++;
      }
    }
    w.gtag('event', 'add_to_cart', { items: [{ item_id: 'SKU-002' }] });
    return threw;
  });
  assert.equal(pushed, 0, "the shop's own push never throws because of shelfwise");
  await page.waitForTimeout(300);
  const h = await page.evaluate(async () =>
    (await (window as any).shelfwise.recommender.history()).map((e: any) => `${e.type}:${e.itemId}`),
  );
  assert.deepEqual(h, ['view:SKU-001', 'add_to_cart:SKU-002'], 'the queued track and the gtag.js event');
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('distinct invalid events do not grow memory: messages carry a short prefix of the input, the console log is bounded', async () => {
  const ctx = await env.browser.newContext();
  const { page } = await watchedPage(ctx);
  const warnings: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'warning') warnings.push(m.text());
  });
  await page.goto(env.url + '/e2e/.fixture/blank.html');
  const r = await page.evaluate(async () => {
    const { createRecommender } = await import('/dist/esm/index.js' as string);
    const lengths: number[] = [];
    const rec = await createRecommender({
      model: '/e2e/.fixture/model/model.json',
      consent: false,
      backend: 'cpu',
      onError: (e: any) => lengths.push(e.message.length),
    });
    const big = 'x'.repeat(1_000_000);
    for (let i = 0; i < 100; i++) await rec.track({ type: big + i, itemId: 'a' }).catch(() => undefined);
    return { max: Math.max(...lengths), n: lengths.length };
  });
  assert.equal(r.n, 100, 'every error still reaches onError');
  assert.ok(r.max < 300, `messages are short (${r.max} characters)`);
  assert.ok(
    warnings.filter((w) => w.startsWith('[shelfwise]')).length <= 50,
    'the console gets at most 50 distinct warnings',
  );
  await ctx.close();
});

test("A/B in Chromium: consent false pushes nothing to the shop's analytics; the stored draw survives a reload and forget() erases it", async () => {
  const ctx = await env.browser.newContext();
  const { page } = await watchedPage(ctx);
  // The stored experiment draw (null when there is none), read straight from IndexedDB.
  await page.addInitScript(() => {
    (window as any).storedDraw = () =>
      new Promise((res) => {
        const q = indexedDB.open('shelfwise');
        q.onsuccess = () => {
          const g = q.result.transaction('kv').objectStore('kv').get('experiment-id');
          g.onsuccess = () => {
            q.result.close();
            res(g.result ?? null);
          };
        };
      });
  });
  await page.goto(env.url + '/e2e/.fixture/blank.html');
  const run = (consent: boolean) =>
    page.evaluate(async (c) => {
      (window as any).dataLayer = [];
      const { createRecommender } = await import('/dist/esm/index.js' as string);
      const rec = await createRecommender({
        model: '/e2e/.fixture/model/model.json',
        backend: 'cpu',
        consent: c,
        experiment: { name: 'ab-e2e', holdout: 0.5 },
      });
      await rec.rank(['SKU-001']);
      const id = await (window as any).storedDraw();
      const out = { arm: rec.experiment.arm, pushes: (window as any).dataLayer.length, id };
      rec.dispose();
      return out;
    }, consent);
  const a = await run(true);
  assert.equal(a.pushes, 1);
  await page.reload();
  const b = await run(true);
  assert.deepEqual([b.arm, b.id], [a.arm, a.id], 'the same draw on the next page view');
  const quiet = await run(false);
  assert.equal(quiet.pushes, 0, 'consent false: nothing pushed');
  await page.evaluate(async () => {
    const { createRecommender } = await import('/dist/esm/index.js' as string);
    const rec = await createRecommender({
      model: '/e2e/.fixture/model/model.json',
      backend: 'cpu',
      experiment: { name: 'ab-e2e', holdout: 0.5 },
    });
    await rec.forget();
    rec.dispose();
  });
  const id = await page.evaluate(() => (window as any).storedDraw());
  assert.equal(id, null, 'forget() erased the draw');
  await ctx.close();
});
