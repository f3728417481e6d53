/**
 * Writes e2e/.fixture/: a small model with random weights in the real format (model.json, weights.bin,
 * vocab.json) and a shop page that uses only the script tag and the markup contract.
 *   tsx scripts/fixture.ts [--items 200] [--products 24]
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultConfig } from '../src/model/config.js';
import { initParams } from '../src/model/encoder.js';
import { initBackend } from './lib/backend.js';
import { saveModelDir, disposeParams, loadModelDir } from './lib/modeldir.js';
import { contentIndex, writeContentPart } from './lib/content.js';
import { writeVisitPart } from './lib/companions.js';
import { codeBytes } from './lib/items.js';
import { num, parseFlags } from './lib/flags.js';

export async function makeFixture(dir: string, items = 200, products = 24): Promise<void> {
  const cfg = defaultConfig(items + 1, { d: 32, blocks: 2, heads: 2, maxLen: 50, ffDim: 64, dropout: 0 });
  const params = initParams(cfg, 7);
  const ids = Array.from({ length: items }, (_, i) => `SKU-${String(i + 1).padStart(3, '0')}`);
  const cats = ['mugs', 'lights', 'bags', 'cards'];
  await saveModelDir(
    path.join(dir, 'model'),
    params,
    cfg,
    { ids, titles: ids.map((id) => `Product ${id}`), prices: ids.map((_, i) => 1 + (i % 10)) },
    'float32',
  );
  disposeParams(params);
  const cards = ids
    .slice(0, products)
    .map(
      (
        id,
        i,
      ) => `    <li data-shelfwise-item="${id}" data-shelfwise-category="${cats[i % 4]}"${i === 5 ? ' data-shelfwise-stock="0"' : ''}>
      <a href="#${id}">Product ${id}</a> <button type="button" data-shelfwise-action="add_to_cart">Add to cart</button>
    </li>`,
    )
    .join('\n');
  fs.writeFileSync(
    path.join(dir, 'blank.html'),
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>blank</title><link rel="icon" href="data:,"></head><body></body></html>\n',
  );
  fs.writeFileSync(
    path.join(dir, 'shop.html'),
    `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>fixture shop</title><link rel="icon" href="data:,">
<style>ul{display:grid;grid-template-columns:repeat(4,1fr);gap:8px;list-style:none;padding:0} li{border:1px solid #ccc;padding:8px;height:60px}</style>
<script>window.shelfwise=window.shelfwise||function(){(shelfwise.q=shelfwise.q||[]).push(arguments)};</script>
<script async src="/dist/shelfwise.js" data-model="/e2e/.fixture/model/model.json"></script>
</head><body>
  <h1>Fixture shop</h1>
  <ul data-shelfwise-grid data-shelfwise-reorder="immediate">
${cards}
  </ul>
</body></html>
`,
  );
}

/**
 * e2e/.fixture/content-model/: the shipped Online Retail model with a content part whose token vectors are
 * the mean rows of the products carrying each token (the page's mechanism under test, not a trained part:
 * `npm run train -- --content` trains one).
 */
export function makeContentFixture(dir: string, shipped: string): void {
  const out = path.join(dir, 'content-model');
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  for (const f of fs.readdirSync(shipped))
    if (!f.endsWith('.md')) fs.copyFileSync(path.join(shipped, f), path.join(out, f));
  const m = loadModelDir(out);
  const cat = JSON.parse(fs.readFileSync(path.join(out, 'catalog.json'), 'utf8')) as {
    ids: string[];
    titles: string[];
  };
  const meta = new Map(cat.ids.map((id, i) => [id, { title: cat.titles[i] }]));
  const c = contentIndex(m.vocab.ids, meta, 0)!;
  const E = m.params.item_emb.dataSync() as Float32Array,
    d = m.cfg.d,
    K = c.tokens.length;
  const sum = new Float32Array(K * d),
    n = new Float32Array(K);
  for (let r = 1; r < m.cfg.vocabSize; r++)
    for (let q = c.start[r]; q < c.start[r + 1]; q++) {
      const k = c.cols[q];
      n[k]++;
      for (let j = 0; j < d; j++) sum[k * d + j] += E[r * d + j];
    }
  for (let k = 0; k < K; k++) for (let j = 0; j < d; j++) sum[k * d + j] /= n[k];
  writeContentPart(out, c.tokens, sum, d);
  disposeParams(m.params);
}

/**
 * The shipped model as a sharded item directory (items.ts), with a small head (200 popular products, 500
 * sample rows) and 8 products per shard, so that most of a grid's products come from shards; its visit part
 * as companion shards.
 */
export async function makeShardedFixture(dir: string, shipped: string): Promise<void> {
  const out = path.join(dir, 'sharded-model');
  fs.rmSync(out, { recursive: true, force: true });
  const m = loadModelDir(shipped);
  await saveModelDir(out, m.params, m.cfg, m.vocab, 'uint8', {
    sharded: codeBytes(m.cfg.d),
    sizes: { popular: 200, sample: 500, perShard: 8 },
  });
  // The shipped visit part's companions, as companion shards.
  if (m.visit) writeVisitPart(out, m.visit.c, m.visit.meta);
  disposeParams(m.params);
}

if (path.resolve(process.argv[1] ?? '') === path.resolve(new URL(import.meta.url).pathname)) {
  const n = parseFlags('fixture', 'tsx scripts/fixture.ts [--items 200] [--products 24]', () => {
    const { values } = parseArgs({
      options: { items: { type: 'string', default: '200' }, products: { type: 'string', default: '24' } },
    });
    return [num('items', values.items, { int: true, min: 2 }), num('products', values.products, { int: true, min: 1 })];
  });
  await initBackend('cpu');
  const dir = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../e2e/.fixture');
  await makeFixture(dir, n[0], n[1]);
  makeContentFixture(dir, path.resolve(dir, '../../models/online-retail'));
  await makeShardedFixture(dir, path.resolve(dir, '../../models/online-retail'));
  console.log(`fixture model and shop page in ${dir}`);
}
