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
import { saveModelDir, disposeParams } from './lib/modeldir.js';
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
  console.log(`fixture model and shop page in ${dir}`);
}
