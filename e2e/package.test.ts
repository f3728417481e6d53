/**
 * The package as apps get it: its .d.ts compile under strict with bundler and node16 resolution, and the
 * packed tarball, installed from it with its peer dependencies from the npm registry into throwaway apps
 * bundled with esbuild and with Vite, runs the README's ES module example in Chromium with one copy of
 * tfjs-core in the app's bundle.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

import type { Browser } from 'playwright';
import { contentType, launch, watchedPage } from './helpers.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

const app = `import { createRecommender, isShelfwiseError, type Recommender, type RankInfo, type ShelfwiseErrorCode, type FinetuneInfo, type ExperimentInfo } from 'shelfwise';
export async function start(): Promise<Recommender> {
  const rec = await createRecommender({ model: '/models/online-retail/model.json', experiment: { name: 'x', holdout: 0.1 }, onRank: (i: RankInfo) => void i.returnShare, onFinetune: (f: FinetuneInfo) => void f.status });
  const code: ShelfwiseErrorCode = 'model_not_ready';
  const e: ExperimentInfo | null = rec.experiment;
  void code; void e; void isShelfwiseError;
  const ranked = await rec.rank(['a', { id: 'b', category: 'c' }]);
  ranked[0]?.source satisfies 'return' | 'discover' | null | undefined;
  await rec.track({ type: 'click', itemId: 'a' });
  return rec;
}
`;

for (const resolution of ['bundler', 'node16'] as const) {
  test(
    `the .d.ts compile in a strict consumer with moduleResolution ${resolution}`,
    { skip: !fs.existsSync(path.join(ROOT, 'dist/types/index.d.ts')) && 'run npm run build first' },
    () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shelfwise-consumer-'));
      try {
        fs.mkdirSync(path.join(dir, 'node_modules'));
        fs.symlinkSync(ROOT, path.join(dir, 'node_modules/shelfwise'), 'dir');
        fs.writeFileSync(
          path.join(dir, 'package.json'),
          JSON.stringify({ name: 'consumer', type: 'module', private: true }),
        );
        fs.writeFileSync(path.join(dir, 'app.ts'), app);
        const module = resolution === 'bundler' ? 'esnext' : 'node16';
        fs.writeFileSync(
          path.join(dir, 'tsconfig.json'),
          JSON.stringify({
            compilerOptions: {
              strict: true,
              noEmit: true,
              target: 'es2022',
              module,
              moduleResolution: resolution,
              lib: ['es2022', 'dom'],
              skipLibCheck: false,
              types: [],
            },
            files: ['app.ts'],
          }),
        );
        const r = spawnSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' });
        assert.equal(r.status, 0, r.stdout + r.stderr);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  );
}

const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const esmExample = [...README.matchAll(/```js\n([\s\S]*?)```/g)][0][1];
const built = fs.existsSync(path.join(ROOT, 'dist/bundler/index.js'));
const ids = JSON.parse(fs.readFileSync(path.join(ROOT, 'models/online-retail/vocab.json'), 'utf8')).ids.slice(
  0,
  24,
) as string[];
const grid = `<ul id="grid" data-shelfwise-grid>${ids.map((id) => `<li data-shelfwise-item="${id}">${id}</li>`).join('')}</ul>`;
// The app uses tfjs itself: its bundle must still hold one tfjs-core (a string only tfjs-core's source has).
const appCode = `import * as tf from '@tensorflow/tfjs-core';\n${esmExample}\nwindow.readme = { ranked, binding, rec, appTf: tf.version_core, createRecommender };\n`;
const ONE_CORE_MARKER = 'Cannot evaluate flag';
const ESBUILD = (
  JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules/esbuild/package.json'), 'utf8')) as { version: string }
).version;
const VITE = '8.3.8';

let tarball = '',
  work = '',
  browser: Browser;
before(async () => {
  if (!built) return;
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'shelfwise-installed-'));
  // dist/ was just built (npm test builds first): pack it as it is.
  const r = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  tarball = path.join(work, (JSON.parse(r.stdout) as Array<{ filename: string }>)[0].filename);
  browser = await launch();
});
after(async () => {
  await browser?.close();
  if (work && !process.env.KEEP_APPS) fs.rmSync(work, { recursive: true, force: true });
});

function npm(dir: string, args: string[]) {
  const r = spawnSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, `npm ${args.join(' ')}: ${r.stdout}${r.stderr}`);
}

/** A throwaway project under the work folder with the tarball and `deps` installed: its path. */
function project(name: string, deps: string[]): string {
  const dir = path.join(work, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  npm(dir, ['install', tarball, ...deps]);
  return dir;
}

/** Runs the built app (`out`, served as http://app.test/) with the shipped model at /models/, returns what the example left. */
async function runApp(out: string, finetune = false) {
  const ctx = await browser.newContext();
  const { page, errors, requests } = await watchedPage(ctx);
  await page.route('http://app.test/**', (r) => {
    const p = decodeURIComponent(new URL(r.request().url()).pathname);
    const file = p.startsWith('/models/') ? path.join(ROOT, p) : path.join(out, p === '/' ? 'index.html' : p);
    if (!fs.existsSync(file) || !fs.statSync(file).isFile()) return r.fulfill({ status: 404, body: 'not found' });
    return r.fulfill({ contentType: contentType(file), body: fs.readFileSync(file) });
  });
  await page.goto('http://app.test/');
  await page.waitForFunction(() => (window as any).readme, null, { timeout: 60_000 });
  const got = await page.evaluate(() => {
    const r = (window as any).readme;
    return { ranked: r.ranked, backend: r.rec.backend, appTf: r.appTf };
  });
  // With fine-tuning on, the worker the bundler emitted loads the model and runs an update.
  const update = !finetune
    ? null
    : await page.evaluate(
        async (items) => {
          const rec = await (window as any).readme.createRecommender({
            model: '/models/online-retail/model.json',
            consent: false,
            finetune: { everyEvents: 1000 },
          });
          for (const itemId of items) await rec.track({ type: 'purchase', itemId });
          const r = await rec.finetune();
          return r && { status: r.status, events: r.events, backend: rec.adaptation?.backend ?? null };
        },
        ids.slice(0, 8),
      );
  await ctx.close();
  return { ...got, update, errors, requests };
}

/**
 * How many times tfjs-core's source is in the page's JavaScript of the app's output. The fine-tuning
 * worker (which Vite bundles from `new Worker(new URL(...))`) is another thread with its own tfjs, loaded
 * only with `finetune` on.
 */
function coreCopies(out: string): number {
  let n = 0;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.m?js$/.test(e.name) && !e.name.startsWith('adapt-worker'))
        n += fs.readFileSync(p, 'utf8').split(ONE_CORE_MARKER).length - 1;
    }
  };
  walk(out);
  return n;
}

function checkPersonalized(r: Awaited<ReturnType<typeof runApp>>, out: string) {
  assert.deepEqual(r.errors, []);
  assert.equal(r.ranked.length, 3);
  assert.ok(
    r.ranked.every((x: any) => typeof x.score === 'number' && (x.source === 'return' || x.source === 'discover')),
    `scored by the model: ${JSON.stringify(r.ranked)}`,
  );
  assert.equal(r.backend, 'wasm', 'ranked on wasm (its binary found through the bundle)');
  assert.ok(
    r.requests.some((u) => u.endsWith('.wasm')),
    'a wasm binary was fetched',
  );
  assert.match(r.appTf, /^\d+\.\d+\.\d+/);
  assert.equal(coreCopies(out), 1, 'one copy of tfjs-core in the app bundle');
}

test(
  'installed from the tarball into an esbuild app: the README example personalizes, one tfjs-core',
  { skip: !built && 'run npm run build first' },
  async () => {
    const app = project('esbuild-app', [`esbuild@${ESBUILD}`]);
    fs.mkdirSync(path.join(app, 'public'));
    // The trainer's heavy dependencies are optional peers: an app for pages never downloads them.
    for (const heavy of ['@duckdb/node-api', '@tensorflow/tfjs'])
      assert.ok(!fs.existsSync(path.join(app, 'node_modules', heavy)), `${heavy} installed into a page app`);
    fs.writeFileSync(path.join(app, 'app.js'), appCode);
    fs.writeFileSync(
      path.join(app, 'public/index.html'),
      `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head><body>${grid}<script type="module" src="/js/app.js"></script></body></html>`,
    );
    const r = spawnSync(
      path.join(app, 'node_modules/.bin/esbuild'),
      ['app.js', '--bundle', '--format=esm', '--splitting', '--target=es2022', '--outdir=public/js'],
      { cwd: app, encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    // As the README says for esbuild: the wasm binaries in a wasm/ folder beside the bundle's.
    fs.cpSync(path.join(app, 'node_modules/shelfwise/dist/wasm'), path.join(app, 'public/wasm'), { recursive: true });
    checkPersonalized(await runApp(path.join(app, 'public')), path.join(app, 'public'));
  },
);

test(
  'installed from the tarball into a Vite app: the README example personalizes, one tfjs-core, fine-tuning runs in the worker Vite bundled',
  { skip: !built && 'run npm run build first' },
  async () => {
    const app = project('vite-app', [`vite@${VITE}`]);
    fs.writeFileSync(path.join(app, 'app.js'), appCode);
    fs.writeFileSync(
      path.join(app, 'index.html'),
      `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head><body>${grid}<script type="module" src="/app.js"></script></body></html>`,
    );
    fs.writeFileSync(path.join(app, 'vite.config.js'), `export default { build: { target: 'es2022' } };\n`);
    const r = spawnSync(path.join(app, 'node_modules/.bin/vite'), ['build', '--logLevel', 'warn'], {
      cwd: app,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const run = await runApp(path.join(app, 'dist'), true);
    checkPersonalized(run, path.join(app, 'dist'));
    assert.ok(
      run.update && ['kept', 'worse'].includes(run.update.status) && run.update.events === 8,
      `a fine-tuning update in the bundled worker: ${JSON.stringify(run.update)}`,
    );
  },
);

/** 400 shoppers' orders over 48 products in 6 kinds (each shopper keeps to two kinds): [email, time (s), product][]. */
function orders(): Array<[string, number, number[]]> {
  const out: Array<[string, number, number[]]> = [];
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let u = 0; u < 400; u++) {
    const kinds = [u % 6, (u * 5 + 1) % 6];
    for (let o = 0; o < 5; o++) {
      const lines = Array.from(
        { length: 1 + Math.floor(rand() * 3) },
        () => kinds[Math.floor(rand() * 2)] * 8 + Math.floor(rand() * 8),
      );
      out.push([`s${u}@shop.test`, Date.UTC(2024, 0, 1) / 1000 + u * 13 + o * 9 * 86400, lines]);
    }
  }
  return out;
}

/** The files README's three routes name, written from the same orders (GA4 and Segment with views and carts before each order). */
async function writeExports(dir: string): Promise<void> {
  const all = orders();
  const iso = (s: number) => new Date(s * 1000).toISOString();
  // Shopify: one line per item, the order's fields on its first line only.
  const shop = [
    'Name,Email,Financial Status,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Vendor',
  ];
  all.forEach(([email, t, lines], k) =>
    lines.forEach((p, l) =>
      shop.push(
        [
          `#${1000 + k}`,
          l ? '' : email,
          l ? '' : 'paid',
          l
            ? ''
            : iso(t)
                .replace('T', ' ')
                .replace(/\.\d+Z$/, ' +0000'),
          1,
          `Product ${p}`,
          5 + (p % 7),
          `SKU-${p}`,
          'Maker',
        ].join(','),
      ),
    ),
  );
  fs.writeFileSync(path.join(dir, 'orders_export_1.csv'), shop.join('\n') + '\n');
  // Segment: a view a minute before and an add half a minute before each ordered line.
  const head = 'anonymous_id,user_id,timestamp,product_id,name,category,brand,price';
  const seg = (dt: number) =>
    [
      head,
      ...all.flatMap(([email, t, lines]) =>
        lines.map((p) =>
          [`a-${email}`, email, iso(t - dt), `SKU-${p}`, `Product ${p}`, `Kind ${p >> 3}`, 'Maker', 5 + (p % 7)].join(
            ',',
          ),
        ),
      ),
    ].join('\n') + '\n';
  fs.writeFileSync(path.join(dir, 'product_viewed.csv'), seg(60));
  fs.writeFileSync(path.join(dir, 'product_added.csv'), seg(30));
  fs.writeFileSync(path.join(dir, 'order_completed.csv'), seg(0));
  // GA4: the same, one event per view / add / purchase with its items[], split over two daily tables.
  const ev = all.flatMap(([email, t, lines]) =>
    (['view_item', 'add_to_cart', 'purchase'] as const).map((name, k) => ({
      event_name: name,
      event_timestamp: (t - 60 + 30 * k) * 1e6,
      user_pseudo_id: `p-${email}`,
      user_id: email,
      items: lines.map((p) => ({
        item_id: `SKU-${p}`,
        item_name: `Product ${p}`,
        item_category: `Kind ${p >> 3}`,
        item_brand: 'Maker',
        price: 5 + (p % 7),
        quantity: 1,
      })),
    })),
  );
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  for (const [day, part] of [
    ['20240101', ev.filter((_, i) => i % 2 === 0)],
    ['20240102', ev.filter((_, i) => i % 2 === 1)],
  ] as const) {
    const json = path.join(dir, `events_${day}.json`);
    fs.writeFileSync(json, part.map((e) => JSON.stringify(e)).join('\n') + '\n');
    await c.run(
      `COPY (SELECT * FROM read_json_auto('${json}', format = 'newline_delimited')) TO '${path.join(dir, `events_${day}.parquet`)}' (FORMAT parquet)`,
    );
  }
  c.closeSync();
  db.closeSync();
}

test(
  "installed from the tarball in a fresh directory: README's three commands per source (GA4, Shopify, Segment) run as written and end in a model card with its verdict",
  { skip: !built && 'run npm run build first' },
  async () => {
    const dir = project('trainer', ['@tensorflow/tfjs@^4.22.0', '@duckdb/node-api@^1.5.6-r.1']);
    await writeExports(dir);
    const blocks = [...README.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]);
    assert.equal(blocks.length, 3, 'GA4, Shopify, Segment');
    for (const [k, block] of blocks.entries()) {
      fs.rmSync(path.join(dir, '.cache'), { recursive: true, force: true });
      fs.rmSync(path.join(dir, 'models'), { recursive: true, force: true });
      const r = spawnSync('bash', ['-e', '-c', block], { cwd: dir, encoding: 'utf8' });
      assert.equal(r.status, 0, `README block ${k + 1}:\n${block}\n${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /myshop: 400 users/, `block ${k + 1} read the export`);
      assert.match(r.stdout, /\*\*Verdict: (not )?recommended/, `block ${k + 1} ends in the card's verdict`);
      for (const f of ['model.json', 'weights.bin', 'vocab.json', 'companions.bin'])
        assert.ok(fs.existsSync(path.join(dir, 'models/myshop', f)), `block ${k + 1}: ${f}`);
    }
    const ev = spawnSync(
      'npx',
      ['--no-install', 'shelfwise', 'evaluate', '--model', 'models/myshop', '--dataset', 'myshop'],
      {
        cwd: dir,
        encoding: 'utf8',
      },
    );
    assert.equal(ev.status, 0, ev.stdout + ev.stderr);
    assert.match(ev.stdout, /model \/ best baseline/);
    // A missing optional peer is named, with the command that installs it.
    const bare = project('bare', []);
    const r = spawnSync('npx', ['--no-install', 'shelfwise', 'data', '--from', 'ga4', 'x.parquet', '--name', 'x'], {
      cwd: bare,
      encoding: 'utf8',
    });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /needs @duckdb\/node-api: npm install @duckdb\/node-api/);
  },
);
