/**
 * npm run bench (second part): on-device fine-tuning in headless Chromium with the shipped model. For the
 * worker on wasm and on webgl: time per fine-tuning step and per full update (in the worker, and the
 * page's round trip), the first update including the worker's start and model load, the page's main
 * thread during updates (longest gap of a 0 ms timer loop and long tasks, against the same loop
 * without an update), page heap and the worker's tfjs memory before and after 20 updates.
 * Writes bench-out/finetune-browser.json and the "Fine-tuning in the page" section of BENCHMARKS.md.
 */
import fs from 'node:fs';
import path from 'node:path';
import { launch, serve } from './lib/browser.js';
import { updateSection } from './lib/benchmd.js';
import { writeBenchPage, pct } from './lib/benchpage.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const MODEL = '/models/online-retail/model.json';
const vocab: { ids: string[] } = JSON.parse(
  fs.readFileSync(path.join(ROOT, 'models/online-retail/vocab.json'), 'utf8'),
);
writeBenchPage(ROOT);

const srv = await serve();
const browser = await launch(['--js-flags=--expose-gc', '--enable-precise-memory-info']);
const med = (a: number[]) => pct(a, 0.5);
const results: Record<string, any> = {};
try {
  for (const backend of ['wasm', 'webgl']) {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.addInitScript('window.__name = window.__name || ((f) => f);');
    page.on('console', (m) => {
      if (process.env.BENCH_VERBOSE || m.type() === 'error') console.log(`[${backend}] ${m.text()}`);
    });
    await page.goto(srv.url + '/dist/bench.html');
    const r = await page.evaluate(
      async ({ backend, ids, MODEL }) => {
        const w = window as any;
        const { createRecommender } = await import('/dist/esm/index.js' as string);
        const errs: string[] = [];
        const rec = await createRecommender({
          model: MODEL,
          backend: 'wasm',
          finetune: { backend, everyEvents: 1e9 },
          onError: (e: Error) => errs.push(e.message),
        });
        await rec.forget();
        if (!(await rec.ready)) throw new Error('model failed');
        // 50 events of history over a small set of products, as a returning shopper would have.
        for (let i = 0; i < 50; i++)
          await rec.track({
            type: i % 5 === 4 ? 'add_to_cart' : 'view',
            itemId: ids[((i * 37) % 12) * 11],
            ts: Date.now() - (50 - i) * 60_000,
          });
        const heap = () => {
          w.gc?.();
          return (performance as any).memory?.usedJSHeapSize ?? 0;
        };
        /** Longest gap between 0 ms timers (and long tasks) while `work` runs. */
        const watch = async (work: () => Promise<unknown>) => {
          let longTasks = 0;
          const po = new PerformanceObserver((l) => {
            longTasks += l.getEntries().length;
          });
          try {
            po.observe({ type: 'longtask' });
          } catch {
            /* unsupported */
          }
          let maxGap = 0,
            last = performance.now(),
            running = true;
          const loop = () => {
            const t = performance.now();
            maxGap = Math.max(maxGap, t - last);
            last = t;
            if (running) setTimeout(loop, 0);
          };
          setTimeout(loop, 0);
          const t0 = performance.now();
          await work();
          const ms = performance.now() - t0;
          running = false;
          await new Promise((r) => setTimeout(r, 20));
          po.disconnect();
          return { maxGap, longTasks, ms };
        };
        const heapBefore = heap();
        const t0 = performance.now();
        const first = await rec.finetune();
        const firstMs = performance.now() - t0;
        if (!first) throw new Error('no update: ' + errs.join('; '));
        const updates: any[] = [],
          roundTrip: number[] = [],
          during: any[] = [],
          idle: any[] = [];
        for (let k = 0; k < 20; k++) {
          let info: any;
          during.push(
            await watch(async () => {
              info = await rec.finetune();
            }),
          );
          updates.push(info);
          roundTrip.push(during[during.length - 1].ms);
          const span = during[during.length - 1].ms;
          idle.push(await watch(() => new Promise((r) => setTimeout(r, span))));
        }
        const heapAfter = heap();
        rec.dispose();
        return {
          first: { ms: firstMs, status: first.status, timings: first.timings },
          updates,
          roundTrip,
          during,
          idle,
          heapBefore,
          heapAfter,
          errs,
        };
      },
      { backend, ids: vocab.ids, MODEL },
    );
    const t = (k: string) => med(r.updates.map((u: any) => u.timings[k]));
    results[backend] = {
      firstUpdateMs: r.first.ms,
      stepMs: t('stepMs'),
      fitMs: t('fitMs'),
      embedMs: t('embedMs'),
      guardMs: t('guardMs'),
      updateMs: t('totalMs'),
      roundTripMs: med(r.roundTrip),
      status: r.updates[0].status,
      events: r.updates[0].events,
      mainThread: {
        maxGapDuring: Math.max(...r.during.map((x: any) => x.maxGap)),
        medianMaxGapDuring: med(r.during.map((x: any) => x.maxGap)),
        longTasksDuring: r.during.reduce((s: number, x: any) => s + x.longTasks, 0),
        maxGapIdle: Math.max(...r.idle.map((x: any) => x.maxGap)),
        medianMaxGapIdle: med(r.idle.map((x: any) => x.maxGap)),
        longTasksIdle: r.idle.reduce((s: number, x: any) => s + x.longTasks, 0),
      },
      pageHeap: { before: r.heapBefore, after: r.heapAfter },
      workerTf: { first: r.updates[0].memory, last: r.updates[r.updates.length - 1].memory },
      errors: r.errs,
    };
    console.log(backend, JSON.stringify(results[backend]));
    await ctx.close();
  }
} finally {
  await browser.close();
  await srv.close();
}
fs.mkdirSync(path.join(ROOT, 'bench-out'), { recursive: true });
fs.writeFileSync(path.join(ROOT, 'bench-out/finetune-browser.json'), JSON.stringify(results, null, 2));
const f = (x: number) => x.toFixed(1);
// The table a shop reads; the per-step split (fit, encoder forward, guard) and heap figures are in bench-out/finetune-browser.json.
const lines = [
  'Shipped model, 50 events of history, 20 steps per update, 20 updates after a first one; the page ranks on wasm, the worker runs on the backend named. Medians, ms:',
  '',
  "| worker backend | whole update (worker) | round trip (page) | first update (worker start + model load) | page's longest timer gap, during updates / without (median) | long tasks during updates | worker tensors first → last |",
  '| --- | --- | --- | --- | --- | --- | --- |',
];
for (const [b, r] of Object.entries(results)) {
  const m = r.mainThread;
  lines.push(
    `| ${b} | ${f(r.updateMs)} | ${f(r.roundTripMs)} | ${f(r.firstUpdateMs)} | ${f(m.medianMaxGapDuring)} / ${f(m.medianMaxGapIdle)} | ${m.longTasksDuring} | ${r.workerTf.first.numTensors} → ${r.workerTf.last.numTensors} |`,
  );
}
lines.push(
  '',
  'The fit is plain JavaScript in the worker (the finetune.ts that `npm run evaluate -- --finetune` runs): the worker backend changes only the encoder forward pass.',
);
updateSection(
  path.join(ROOT, 'BENCHMARKS.md'),
  'finetune-browser',
  `## Fine-tuning in the page (headless Chromium ${browser.version()})\n\nCommand: \`npm run bench\` (this 2-core machine; WebGL on SwiftShader)\n\n${lines.join('\n')}\n`,
);
console.log(lines.join('\n'));
