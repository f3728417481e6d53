/**
 * npx tsx scripts/bench-exports.ts [MILLIONS ...]: the GA4 route at scale. Writes a synthetic GA4 export
 * (Parquet, one `items[]` entry per event as GA4 writes view_item / add_to_cart; 50,000 products with names,
 * two category levels, brands and prices; sessions of a few events) of each size into .cache/exports/, then
 * times `npm run data -- --from ga4` on it in a child process and reads its peak memory from
 * /usr/bin/time. Generated, never committed. Default sizes: 1, 3, 10 (million events).
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { DuckDBInstance } from '@duckdb/node-api';
import { ROOT } from './lib/data.js';

const sizes = (process.argv.slice(2).length ? process.argv.slice(2) : ['1', '3', '10']).map(Number);
const dir = path.join(ROOT, '.cache/exports');
fs.mkdirSync(dir, { recursive: true });
const rows: string[] = [];
for (const m of sizes) {
  const n = Math.round(m * 1e6);
  const file = path.join(dir, `ga4-${m}m.parquet`);
  if (!fs.existsSync(file)) {
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    // Event i: shopper i / 20 (about 20 events each), a session every 5 events, the product drawn from a
    // skewed distribution over 50,000; one in 10 an add to cart, one in 40 a purchase.
    await c.run(`COPY (
      SELECT CASE WHEN i % 40 = 0 THEN 'purchase' WHEN i % 10 = 0 THEN 'add_to_cart' ELSE 'view_item' END AS event_name,
        (1700000000 + i * 7)::BIGINT * 1000000 AS event_timestamp,
        'p' || (i // 20) AS user_pseudo_id,
        CASE WHEN i % 3 = 0 THEN 'u' || (i // 20) ELSE NULL END AS user_id,
        [{'key': 'ga_session_id', 'value': {'int_value': (i // 5)::BIGINT}}] AS event_params,
        [{'item_id': 'SKU' || p, 'item_name': 'Product ' || p || ' ' || (['red', 'blue', 'green', 'oak', 'steel'])[1 + p % 5],
          'item_category': 'Dept ' || (p % 40), 'item_category2': 'Class ' || (p % 400), 'item_brand': 'Brand ' || (p % 900),
          'price': round(1 + (p % 97) * 0.5, 2), 'quantity': 1}] AS items
      FROM (SELECT i, (floor(pow(hash(i) % 1000000 / 1000000.0, 2) * 50000))::INTEGER AS p FROM range(${n}) t(i))
    ) TO '${file}' (FORMAT parquet)`);
    c.closeSync();
    db.closeSync();
  }
  const t0 = performance.now();
  const r = spawnSync(
    '/usr/bin/time',
    ['-v', 'npx', 'tsx', 'scripts/prepare.ts', '--from', 'ga4', file, '--name', `ga4-${m}m`],
    { cwd: ROOT, encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`npm run data failed on ${file}:\n${r.stdout}\n${r.stderr}`);
  const sec = (performance.now() - t0) / 1000;
  const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1] ?? NaN);
  const mb = fs.statSync(file).size / 2 ** 20;
  rows.push(
    `| ${m}M | ${mb.toFixed(0)} MB | ${sec.toFixed(1)} s | ${(kb / 1024).toFixed(0)} MB | ${((m * 1e6) / sec / 1e3).toFixed(0)}k |`,
  );
  console.log(rows[rows.length - 1]);
}
console.log(
  `\n| GA4 events (Parquet) | file | npm run data -- --from ga4 | peak resident memory | events/s |\n| --- | --- | --- | --- | --- |\n${rows.join('\n')}`,
);
