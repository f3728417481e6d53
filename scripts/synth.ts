/**
 * npm run synth -- --products N: a synthetic catalog of N products from dunnhumby's real ones and a log of
 * Online Retail's shape over it (scripts/lib/synth.ts), written to .cache/data/ for `npm run train`.
 */
import { parseArgs } from 'node:util';
import { COMMANDS } from './lib/flag-specs.js';
import { num, parseFlags } from './lib/flags.js';
import { loadLog, writeLog } from './lib/data.js';
import { synthCatalog, synthLog } from './lib/synth.js';

const f = parseFlags('synth', COMMANDS.synth.usage, () => {
  const { values: v } = parseArgs({ options: COMMANDS.synth.flags });
  const products = num('products', v.products, { int: true, min: 1, max: 10_000_000 });
  return {
    products,
    name:
      v.name ??
      `synth-${products >= 1e6 && products % 1e6 === 0 ? `${products / 1e6}m` : products % 1000 === 0 ? `${products / 1000}k` : products}`,
    eventsPerProduct: num('events-per-product', v['events-per-product'], { min: 0.01 }),
    zipf: num('zipf', v.zipf, { min: 0 }),
    seed: num('seed', v.seed, { int: true }),
  };
});
const t0 = performance.now();
const catalog = synthCatalog(loadLog('dunnhumby').meta, f.products, f.seed);
const log = synthLog(f.name, catalog, loadLog('online-retail'), {
  eventsPerProduct: f.eventsPerProduct,
  zipf: f.zipf,
  seed: f.seed + 1,
});
const file = writeLog(log);
const events = log.users.reduce((n, u) => n + u.items.length, 0);
const touched = new Set(log.users.flatMap((u) => u.items)).size;
console.log(
  `${file}: ${catalog.length} products (${touched} with events), ${log.users.length} shoppers, ${events} events, ${((performance.now() - t0) / 1000).toFixed(1)} s\n${log.notes.join('\n')}`,
);
