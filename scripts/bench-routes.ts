/**
 * npx tsx scripts/bench-routes.ts: Online Retail (the shared log, normalized) written as a shop would export
 * it, through each route of `npm run data`: GA4 (Parquet and NDJSON: one event per run of lines with the
 * same shopper, time and type, the lines as items[] with names and prices), Shopify (an orders CSV of its
 * purchases, order fields on each order's first line only), Segment (order_completed.csv and
 * product_removed.csv) and a flat CSV (--from csv). Each is normalized again and compared, shopper by
 * shopper, with the shared log (Shopify: its purchases, the only lines an orders export has).
 * With `--train`, the default recipe (`npm run train -- --dataset <log> --cutoff 2011-09-01`) then trains
 * on the shared log and on each route's log, and the model's NDCG@10 against the best baseline is printed
 * per protocol: the same quality through every route.
 * Writes into .cache/exports/; generated, never committed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadLog, parseCsvLog, readLog, readText, writeLog, ROOT, type Log } from './lib/data.js';
import { normalizeExport } from './lib/exports.js';
import { typeCode } from '../src/model/features.js';

const dir = path.join(ROOT, '.cache/exports/routes');
fs.mkdirSync(dir, { recursive: true });
const shared = loadLog('online-retail');
writeLog(shared); // the cache in today's format (items with category and brand columns)
const src = path.join(ROOT, '.cache/data/online-retail.tsv'),
  items = path.join(ROOT, '.cache/data/online-retail.items.tsv');
const db = await DuckDBInstance.create(':memory:');
const c = await db.connect();
await c.run(`CREATE TABLE l AS SELECT *, row_number() OVER () AS ord FROM read_csv('${src}', delim = '\t', header = false,
  columns = {'u': 'VARCHAR', 'i': 'VARCHAR', 't': 'INTEGER', 'ts': 'DOUBLE'})`);
await c.run(`CREATE TABLE m AS SELECT * FROM read_csv('${items}', delim = '\t', header = false, quote = '',
  columns = {'i': 'VARCHAR', 'title': 'VARCHAR', 'price': 'DOUBLE', 'category': 'VARCHAR', 'brand': 'VARCHAR'})`);
// Runs of lines with the same shopper, time and type: one GA4 event (or Shopify order) each.
await c.run(`CREATE TABLE r AS SELECT *, sum(brk) OVER (ORDER BY ord) AS grp FROM (
  SELECT l.*, m.title, m.price, CASE WHEN lag(u) OVER w = u AND lag(ts) OVER w = ts AND lag(t) OVER w = t THEN 0 ELSE 1 END AS brk
  FROM l LEFT JOIN m USING (i) WINDOW w AS (ORDER BY ord)) ORDER BY ord`);
const names: Record<number, string> = {
  [typeCode('view')]: 'view_item',
  [typeCode('click')]: 'select_item',
  [typeCode('add_to_cart')]: 'add_to_cart',
  [typeCode('remove_from_cart')]: 'remove_from_cart',
  [typeCode('purchase')]: 'purchase',
};
const ename = `CASE t ${Object.entries(names)
  .map(([k, v]) => `WHEN ${k} THEN '${v}'`)
  .join(' ')} END`;
const ga4 = `SELECT ${ename} AS event_name, (ts * 1e6)::BIGINT AS event_timestamp, 'p' || u AS user_pseudo_id, u AS user_id,
  list({'item_id': i, 'item_name': title, 'price': price, 'quantity': 1} ORDER BY ord) AS items
  FROM r GROUP BY grp, t, ts, u ORDER BY grp`;
const when = `strftime(to_timestamp(ts), '%Y-%m-%d %H:%M:%S') || ' +0000'`;
const files = {
  ga4Parquet: path.join(dir, 'events_or.parquet'),
  ga4Json: path.join(dir, 'events_or.json'),
  shopify: path.join(dir, 'orders_export.csv'),
  segOrders: path.join(dir, 'order_completed.csv'),
  segRemoved: path.join(dir, 'product_removed.csv'),
  csv: path.join(dir, 'events.csv'),
};
await c.run(`COPY (${ga4}) TO '${files.ga4Parquet}' (FORMAT parquet)`);
await c.run(`COPY (${ga4}) TO '${files.ga4Json}' (FORMAT json)`);
await c.run(`COPY (SELECT '#' || grp AS "Name", CASE WHEN first THEN u END AS "Email", CASE WHEN first THEN 'paid' END AS "Financial Status",
  CASE WHEN first THEN ${when} END AS "Created at", 1 AS "Lineitem quantity", title AS "Lineitem name", price AS "Lineitem price",
  i AS "Lineitem sku", 'Online Retail' AS "Vendor"
  FROM (SELECT *, row_number() OVER (PARTITION BY grp ORDER BY ord) = 1 AS first FROM r WHERE t = ${typeCode('purchase')}) ORDER BY ord)
  TO '${files.shopify}' (HEADER true)`);
const seg = (t: number, f: string) =>
  c.run(`COPY (SELECT 'a' || u AS anonymous_id, u AS user_id, strftime(to_timestamp(ts), '%Y-%m-%dT%H:%M:%SZ') AS timestamp,
    i AS product_id, title AS name, price FROM r WHERE t = ${t} ORDER BY ord) TO '${f}' (HEADER true)`);
await seg(typeCode('purchase'), files.segOrders);
await seg(typeCode('remove_from_cart'), files.segRemoved);
await c.run(
  `COPY (SELECT u AS customer, i AS sku, ${ename} AS event, ts::BIGINT AS time FROM r ORDER BY ord) TO '${files.csv}' (HEADER true)`,
);
c.closeSync();
db.closeSync();

const out = path.join(dir, 'normalized');
const same = (got: Log, want: Log, label: string, seconds: number) => {
  const by = new Map(got.users.map((u) => [u.user, u]));
  let equal = 0;
  for (const u of want.users) {
    const g = by.get(u.user);
    if (g && JSON.stringify([g.items, g.types, g.ts]) === JSON.stringify([u.items, u.types, u.ts])) equal++;
  }
  const titles = [...want.meta].filter(([id, m]) => got.meta.get(id)?.title === m.title).length;
  console.log(
    `| ${label} | ${seconds.toFixed(1)} s | ${equal} of ${want.users.length} (${got.users.length} read) | ${titles} of ${want.meta.size} |`,
  );
};
const purchases: Log = {
  ...shared,
  users: shared.users
    .map((u) => {
      const k = u.types.map((t, i) => (t === typeCode('purchase') ? i : -1)).filter((i) => i >= 0);
      return {
        user: u.user,
        items: k.map((i) => u.items[i]),
        types: k.map((i) => u.types[i]),
        ts: k.map((i) => u.ts[i]),
      };
    })
    .filter((u) => u.items.length),
};
console.log('| route | normalized in | shoppers with the same sequence as the shared log | titles kept |');
console.log('| --- | --- | --- | --- |');
for (const [label, from, fs_, want] of [
  ['GA4, Parquet', 'ga4', [files.ga4Parquet], shared],
  ['GA4, newline-delimited JSON', 'ga4', [files.ga4Json], shared],
  ['Shopify orders CSV (purchases)', 'shopify', [files.shopify], purchases],
  ['Segment tables', 'segment', [files.segOrders, files.segRemoved], shared],
] as const) {
  const t0 = performance.now();
  const r = await normalizeExport(from, [...fs_], `or-${from}`, { dir: out });
  same(readLog(r.file), want, label, (performance.now() - t0) / 1000);
}
const t0 = performance.now();
const csv = parseCsvLog('or-csv', readText(files.csv), { user: 'customer', item: 'sku', type: 'event', time: 'time' });
same(
  readLog(writeLog(csv, out)),
  { ...shared, meta: new Map() },
  'flat CSV (--from csv)',
  (performance.now() - t0) / 1000,
);

if (process.argv.includes('--train')) {
  // The default recipe on each log, one after the other (each uses the machine's cores).
  const logs: Array<[string, string]> = [
    ['the shared log', path.join(ROOT, '.cache/data/online-retail.tsv')],
    ['GA4, Parquet', path.join(out, 'or-ga4.tsv')],
    ['Shopify orders CSV (purchases)', path.join(out, 'or-shopify.tsv')],
    ['Segment tables', path.join(out, 'or-segment.tsv')],
    ['flat CSV (--from csv)', path.join(out, 'or-csv.tsv')],
  ];
  const rows: string[] = [];
  for (const [label, file] of logs) {
    const name = path.basename(file, '.tsv');
    const json = path.join(dir, `train-${name}.json`);
    const t0 = performance.now();
    execFileSync(
      'npx',
      [
        'tsx',
        'scripts/train.ts',
        '--dataset',
        file,
        '--cutoff',
        '2011-09-01',
        '--out',
        path.join(dir, 'models', name),
        '--json',
        json,
        '--no-card',
      ],
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const r = JSON.parse(fs.readFileSync(json, 'utf8')) as {
      protocols: Record<
        string,
        { model: Record<string, number>; bestBaseline: string; baseline: Record<string, number>; ratio: number }
      >;
    };
    const cell = (p: string) => {
      const x = r.protocols[p];
      return x
        ? `${x.model['ndcg@10'].toFixed(4)} / ${x.bestBaseline} ${x.baseline['ndcg@10'].toFixed(4)}: ${x.ratio.toFixed(3)}×`
        : '';
    };
    rows.push(
      `| ${label} | ${cell('item')} | ${cell('basket')} | ${cell('visit-new')} | ${cell('visit-returning')} | ${((performance.now() - t0) / 60000).toFixed(1)} |`,
    );
    console.log(rows[rows.length - 1]);
  }
  console.log(
    '\n| log | next purchase: model / best baseline | next basket | visit, new shopper | visit, returning | minutes |',
  );
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(r);
}
