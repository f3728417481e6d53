/**
 * npm run bench (its catalog part): the SDK in headless Chromium with a sharded item directory of 10,000,
 * 100,000 and 1,000,000 products (wasm):
 *  - bytes before the first personalized ranking on a first visit (a 48-product grid), and on a later page
 *    with 48 other products (the model cached: the new products' shards);
 *  - interaction → grid reordered at 1,000 candidates, p50/p95, 50 events of history;
 *  - the page's JS heap after that (after a garbage collection), and the tensors' bytes.
 * The models have the shipped model's architecture and weights as initialized (the figures measure bytes,
 * time and memory, which do not depend on the values) and a visit part as companion shards, 32 companions
 * for each product the benchmark shows (the others none); product ids s0 … s<N-1> as `npm run synth` names them.
 * A click waits for its product's companions shard unless the pointer was on the product before
 * (prefetchCompanions): both are timed, the pointer 100 ms ahead of the click.
 * They are built once into .cache/catalog-models/ (the 1M one takes about a minute) and served from dist/catalog/.
 * Writes bench-out/catalog.json and the "Catalog size" section of BENCHMARKS.md.
 */
import fs from 'node:fs';
import path from 'node:path';
import { launch, serve } from './lib/browser.js';
import { updateSection } from './lib/benchmd.js';
import { pct, writeBenchPage } from './lib/benchpage.js';
import { initBackend } from './lib/backend.js';
import { disposeParams, saveModelDir } from './lib/modeldir.js';
import { codeBytes } from './lib/items.js';
import { writeVisitPart } from './lib/companions.js';
import { initParams } from '../src/model/encoder.js';
import { checkModelJson } from '../src/model/weights.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const SIZES = (process.env.BENCH_CATALOG_SIZES ?? '10000,100000,1000000').split(',').map(Number);
const shipped = checkModelJson(JSON.parse(fs.readFileSync(path.join(ROOT, 'models/online-retail/model.json'), 'utf8')))
  .userDefinedMetadata.shelfwise.config;

async function model(n: number): Promise<string> {
  // BENCH_CATALOG_MODEL: a trained sharded model directory instead (e.g. `npm run synth` + `npm run train`'s).
  const dir = process.env.BENCH_CATALOG_MODEL
    ? path.resolve(process.env.BENCH_CATALOG_MODEL)
    : path.join(ROOT, '.cache/catalog-models', String(n));
  if (!fs.existsSync(path.join(dir, 'model.json'))) {
    await initBackend('wasm');
    const cfg = { ...shipped, vocabSize: n + 1 };
    const params = initParams(cfg, 1);
    const t0 = performance.now();
    await saveModelDir(dir, params, cfg, { ids: Array.from({ length: n }, (_, i) => `s${i}`) }, 'uint8', {
      sharded: codeBytes(cfg.d),
    });
    disposeParams(params);
    // The visit part: each product the benchmark shows goes with 32 others of them.
    const shown = [...new Set([...products(n, 48, 1), ...products(n, 48, 2), ...products(n, 1000, 3)])].map(
      (id) => Number(id.slice(1)) + 1,
    );
    const lists = new Map(
      shown.map((r, i) => [r, Array.from({ length: 32 }, (_, k) => shown[(i * 7 + k * 13 + 1) % shown.length])]),
    );
    const start = new Uint32Array(n + 2),
      ids: number[] = [],
      w: number[] = [];
    for (let r = 0; r <= n; r++) {
      start[r] = ids.length;
      for (const [k, j] of (lists.get(r) ?? []).entries())
        if (j !== r) {
          ids.push(j);
          w.push(0.3 / (k + 1));
        }
    }
    start[n + 1] = ids.length;
    writeVisitPart(
      dir,
      { start, ids: Uint32Array.from(ids), w: Float32Array.from(w) },
      {
        decay: 0.5,
        lambdaNew: 0.4,
        lambdaReturning: 0.2,
      },
    );
    console.log(`built the ${n}-product model in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  const link = path.join(ROOT, 'dist/catalog', String(n));
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.rmSync(link, { recursive: true, force: true });
  fs.symlinkSync(dir, link);
  return `/dist/catalog/${n}/model.json`;
}

/** n distinct products of an N-product catalog, drawn with a seed (none of them among the head's 2,048). */
function products(N: number, n: number, seed: number): string[] {
  const out = new Set<string>();
  let s = seed;
  while (out.size < n) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out.add(`s${2048 + (s % (N - 2048))}`);
  }
  return [...out];
}

const shop = (
  url: string,
  ids: string[],
) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>catalog shop</title><link rel="icon" href="data:,">
<script>window.shelfwise=window.shelfwise||function(){(shelfwise.q=shelfwise.q||[]).push(arguments)};
addEventListener('shelfwise:rank',function(){(window.__ranks=window.__ranks||[]).push(performance.now());});</script>
<script async src="/dist/shelfwise.js" data-model="${url}" data-backend="wasm"></script></head>
<body><ul data-shelfwise-grid>${ids.map((id) => `<li data-shelfwise-item="${id}">${id}</li>`).join('')}</ul></body></html>`;

writeBenchPage(ROOT);
// BENCH_CATALOG_BUILD=1: build the models only (while something else is being timed, say).
if (process.env.BENCH_CATALOG_BUILD) {
  for (const N of SIZES) await model(N);
  process.exit(0);
}
const srv = await serve();
const browser = await launch();
const results: Record<string, Record<string, number>> = {};
try {
  for (const N of SIZES) {
    const url = await model(N);
    for (const [name, seed] of [
      ['a', 1],
      ['b', 2],
    ] as const)
      fs.writeFileSync(path.join(ROOT, `dist/catalog-shop-${N}-${name}.html`), shop(url, products(N, 48, seed)));
    // First visit, then a later page with 48 other products in the same browser (model files cached).
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    // Bytes of everything that finished before the page's k-th ranking (the document's own too, or not).
    const bytesBefore = async (k: number, countDocument: boolean) => {
      await page.waitForFunction((k) => ((window as any).__ranks?.length ?? 0) >= k, k, { timeout: 120_000 });
      return page.evaluate(
        ([k, doc]) => {
          const first = (window as any).__ranks[k - 1] as number;
          const nav = (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming)?.transferSize ?? 0;
          const res = (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).filter(
            (e) => e.responseEnd <= first,
          );
          return (doc ? nav : 0) + res.reduce((n, e) => n + e.transferSize, 0);
        },
        [k, countDocument] as const,
      );
    };
    // A new shopper: the merchant's order first, then the first click's ranking is the first personalized one.
    await page.goto(`${srv.url}/dist/catalog-shop-${N}-a.html`);
    await bytesBefore(1, true);
    await page.click('li:nth-child(5)');
    const first = await bytesBefore(2, true);
    await page.click('li:nth-child(9)');
    await page.waitForFunction(() => (window as any).__ranks.length >= 3);
    // The next product page, 48 other products: the history's rows are known, its products' shards are not.
    await page.goto(`${srv.url}/dist/catalog-shop-${N}-b.html`);
    const later = await bytesBefore(1, false);
    await ctx.close();

    // Interaction latency at 1,000 candidates and the page's memory, in the ES module build.
    const cands = products(N, 1000, 3);
    const c2 = await browser.newContext();
    const p2 = await c2.newPage();
    await p2.addInitScript('window.__name = window.__name || ((f) => f);');
    await p2.goto(srv.url + '/dist/bench.html');
    // The grid's products with their codes in the markup (codes.tsv → data-shelfwise-code), or without.
    const run = (page: typeof p2, codes: string[] | null, clicks: number, lead = 0) =>
      page.evaluate(
        async ({ url, cands, codes, clicks, lead }) => {
          const { createRecommender } = await import('/dist/esm/index.js' as string);
          const rt = await import('/dist/esm/runtime.js' as string);
          const rec = await createRecommender({ model: url, backend: 'wasm' });
          await rec.forget();
          if (!(await rec.ready)) throw new Error('the model did not load');
          for (let i = 0; i < 50; i++)
            await rec.track({ type: i % 5 === 4 ? 'add_to_cart' : 'view', itemId: cands[(i * 37) % 1000] });
          const { g, next } = (window as any).benchGrid(rec, cands, codes);
          const t0 = performance.now();
          await g.refresh();
          const firstGrid = performance.now() - t0;
          const shardBytes = (performance.getEntriesByType('resource') as PerformanceResourceTiming[])
            .filter((e) => /\/items\/\d+\.bin/.test(e.name))
            .reduce((n, e) => n + e.transferSize, 0);
          const times: number[] = [];
          for (let k = 0; k < clicks; k++) {
            // The pointer on the product `lead` ms before the click (the grid's pointerover prefetch).
            if (lead) {
              (rec as any).runtime.prefetchCompanions(cands[(k * 101) % 1000]);
              await new Promise((r) => setTimeout(r, lead));
            }
            const done = next();
            const t = performance.now();
            void rec.track({ type: 'click', itemId: cands[(k * 101) % 1000] });
            await done;
            times.push(performance.now() - t);
          }
          g.unbind();
          return { times: times.slice(20), firstGrid, shardBytes, tensorBytes: rt.tf.memory().numBytes as number };
        },
        { url, cands, codes, clicks, lead },
      );
    const r = await run(p2, null, 220, 100);
    const cdp = await c2.newCDPSession(p2);
    await cdp.send('HeapProfiler.collectGarbage');
    const heap = (await cdp.send('Runtime.getHeapUsage')).usedSize;
    await c2.close();
    const tsv = new Map(
      fs
        .readFileSync(path.join(ROOT, 'dist/catalog', String(N), 'codes.tsv'), 'utf8')
        .split('\n')
        .map((l) => l.split('\t') as [string, string]),
    );
    const c3 = await browser.newContext();
    const p3 = await c3.newPage();
    await p3.addInitScript('window.__name = window.__name || ((f) => f);');
    await p3.goto(srv.url + '/dist/bench.html');
    const withCodes = await run(
      p3,
      cands.map((id) => tsv.get(id)!),
      0,
    );
    await c3.close();
    // The same clicks without the pointer ahead: each waits for its companions shard.
    const c4 = await browser.newContext();
    const p4 = await c4.newPage();
    await p4.addInitScript('window.__name = window.__name || ((f) => f);');
    await p4.goto(srv.url + '/dist/bench.html');
    const cold = await run(p4, null, 220);
    await c4.close();
    results[N] = {
      first,
      later,
      p50: pct(r.times, 0.5),
      p95: pct(r.times, 0.95),
      p50Fetch: pct(cold.times, 0.5),
      p95Fetch: pct(cold.times, 0.95),
      firstGrid: r.firstGrid,
      gridBytes: r.shardBytes,
      gridWithCodes: withCodes.firstGrid,
      gridBytesWithCodes: withCodes.shardBytes,
      heap,
      tensorBytes: r.tensorBytes,
    };
    console.log(N, JSON.stringify(results[N]));
  }
} finally {
  await browser.close();
  await srv.close();
}
// A trained model or a subset of the sizes: printed above, BENCHMARKS.md left as it is.
if (process.env.BENCH_CATALOG_MODEL || process.env.BENCH_CATALOG_SIZES) process.exit(0);
fs.mkdirSync(path.join(ROOT, 'bench-out'), { recursive: true });
fs.writeFileSync(path.join(ROOT, 'bench-out/catalog.json'), JSON.stringify(results, null, 2));
const kb = (b: number) => `${(b / 1024).toFixed(0)} KB`;
const rows = SIZES.map((N) => {
  const x = results[N];
  return `| ${N.toLocaleString('en')} | ${kb(x.first)} | ${kb(x.later)} | ${x.p50.toFixed(1)} / ${x.p95.toFixed(1)}; without it ${x.p50Fetch.toFixed(1)} / ${x.p95Fetch.toFixed(1)} | ${x.firstGrid.toFixed(0)} ms, ${kb(x.gridBytes)}; with codes in the markup ${x.gridWithCodes.toFixed(0)} ms, ${kb(x.gridBytesWithCodes)} | ${(x.heap / 2 ** 20).toFixed(1)} MB (tensors ${(x.tensorBytes / 2 ** 20).toFixed(1)} MB) |`;
});
updateSection(
  path.join(ROOT, 'BENCHMARKS.md'),
  'catalog',
  `## Catalog size (headless Chromium ${browser.version()}, wasm)

Command: \`npm run bench\` (scripts/bench-catalog.ts): sharded directories of the shipped architecture, weights as initialized (32-byte codes, 16 products per shard, a 2,048-product head). Bytes are gzip as served: a new shopper's first visit up to the ranking after their first click; the next page (48 other products, model cached) besides its HTML. Latency: 200 clicks with 50 events of history on a 1,000-product grid, the visit part on (companion shards); a click waits for its product's companions shard unless the pointer was on the product before (the grid then fetches it: timed with the pointer 100 ms ahead, and without). Heap: the JS heap after a garbage collection (wasm tensors beside it).

| products | first visit, before the first personalized ranking (48-product grid) | the next page of 48 products | interaction p50 / p95 ms (1,000 candidates), the pointer on the product first | first ranking of the 1,000-product grid (its shards fetched) | JS heap |
| --- | --- | --- | --- | --- | --- |
${rows.join('\n')}
`,
);
