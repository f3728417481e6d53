/**
 * Writes demo/.generated/replay.json for the demo's replay: held-out Online Retail customers (time split,
 * the same as the shipped model's evaluation), each with their events before the cut-off (the last 1,000,
 * as many as the SDK keeps by default) and
 * their actual first purchase after it. Derived at run time from ../shared/data; never committed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadLog, ROOT, SHARED } from './lib/data.js';
import { makeSplit, remapSplit } from './lib/modeldir.js';
import { EVENT_TYPES } from '../src/model/features.js';

const out = path.join(ROOT, 'demo/.generated/replay.json');
if (!fs.existsSync(path.join(SHARED, 'online-retail'))) {
  // The page shows why instead of failing on a missing file.
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ unavailable: `no ${SHARED}/online-retail on this machine` }));
  console.log(`no ${SHARED}/online-retail: the demo's replay is disabled`);
  process.exit(0);
}
const vocab: { ids: string[] } = JSON.parse(
  fs.readFileSync(path.join(ROOT, 'models/online-retail/vocab.json'), 'utf8'),
);
const split = remapSplit(makeSplit(loadLog('online-retail')), vocab.ids);
const customers = split.test
  .filter((e) => e.target > 0)
  .map((e) => {
    const n = e.items.length,
      a = Math.max(0, n - 1000);
    return {
      customer: e.user,
      events: Array.from({ length: n - a }, (_, i) => [
        vocab.ids[e.items[a + i] - 1],
        EVENT_TYPES[e.types[a + i] - 1],
        Math.round(e.ts[a + i] * 1000),
      ]),
      historyLength: n,
      next: vocab.ids[e.target - 1],
    };
  });
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify({ protocol: split.protocol, customers }));
console.log(`replay: ${customers.length} held-out customers → ${path.relative(ROOT, out)}`);
