/** A shop's exports (GA4 as NDJSON and Parquet, Shopify's orders CSV, Segment's tables) read back into the same sequences. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { normalizeExport } from './exports.js';
import { readLog } from './data.js';
import { sameSession } from './split.js';
import { typeCode } from '../../src/model/features.js';

/** Three shoppers' baskets: [user, basket time (s), [item, name, price][]] in order. */
const BASKETS: Array<[string, number, Array<[string, string, number]>]> = [
  [
    'ann@x.org',
    1_300_000_000,
    [
      ['85123A', 'WHITE HANGING HEART', 2.55],
      ['71053', 'WHITE METAL LANTERN', 3.39],
    ],
  ],
  ['bob@x.org', 1_300_000_100, [['22633', 'HAND WARMER', 1.85]]],
  [
    'ann@x.org',
    1_300_086_400,
    [
      ['22633', 'HAND WARMER', 1.85],
      ['85123A', 'WHITE HANGING HEART', 2.55],
    ],
  ],
  [
    'cy@x.org',
    1_300_090_000,
    [
      ['71053', 'WHITE METAL LANTERN', 3.39],
      ['84029E', 'RED WOOLLY HOTTIE', 3.75],
    ],
  ],
];
const P = typeCode('purchase');

function expected() {
  const by = new Map<string, { items: string[]; ts: number[] }>();
  for (const [u, ts, lines] of BASKETS) {
    const x = by.get(u) ?? { items: [], ts: [] };
    by.set(u, x);
    for (const [id] of lines) {
      x.items.push(id);
      x.ts.push(ts);
    }
  }
  return by;
}

function check(file: string) {
  const log = readLog(file);
  const want = expected();
  assert.equal(log.users.length, want.size);
  for (const u of log.users) {
    assert.deepEqual(u.items, want.get(u.user)!.items, u.user);
    assert.deepEqual(u.ts, want.get(u.user)!.ts, u.user);
    assert.ok(u.types.every((t) => t === P));
  }
  assert.equal(log.meta.get('71053')?.title, 'WHITE METAL LANTERN');
  assert.equal(log.meta.get('71053')?.price, 3.39);
  return log;
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'shelfwise-export-'));

function ga4Rows(): unknown[] {
  const rows: unknown[] = BASKETS.map(([u, ts, lines], k) => ({
    event_name: 'purchase',
    event_timestamp: ts * 1e6,
    user_pseudo_id: `pseudo-${u}`,
    user_id: u,
    event_params: [{ key: 'ga_session_id', value: { int_value: 1000 + k } }],
    items: lines.map(([id, name, price]) => ({
      item_id: id,
      item_name: name,
      item_category: 'Home',
      item_category2: 'Decor',
      item_brand: 'Gift Co',
      price,
      quantity: 1,
    })),
  }));
  // An event with no items, and one whose name shelfwise does not read: counted, not stored.
  rows.push({
    event_name: 'page_view',
    event_timestamp: 1_300_000_001e6,
    user_pseudo_id: 'p',
    user_id: null,
    items: [],
  });
  rows.push({
    event_name: 'view_item_list',
    event_timestamp: 1_300_000_002e6,
    user_pseudo_id: 'p',
    user_id: null,
    items: [{ item_id: '22633', item_name: 'HAND WARMER', price: 1.85 }],
  });
  return rows;
}

test('GA4 as newline-delimited JSON and as Parquet reads back into the same sequences, with content', async () => {
  const dir = tmp();
  const json = path.join(dir, 'events_20110101.json');
  fs.writeFileSync(
    json,
    ga4Rows()
      .map((r) => JSON.stringify(r))
      .join('\n') + '\n',
  );
  const out = path.join(dir, 'out');
  const r = await normalizeExport('ga4', [json], 'ga4-json', { dir: out });
  assert.deepEqual([r.users, r.events, r.items], [3, 7, 4]);
  assert.deepEqual(r.skipped, { 'event "view_item_list"': 1 });
  const log = check(r.file);
  assert.equal(log.meta.get('22633')?.category, 'Home > Decor');
  assert.equal(log.meta.get('22633')?.brand, 'Gift Co');
  // The same rows as Parquet (DuckDB writes them, with GA4's nested types).
  const parquet = path.join(dir, 'events_20110101.parquet');
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run(
    `COPY (SELECT * FROM read_json_auto('${json}', format = 'newline_delimited')) TO '${parquet}' (FORMAT parquet)`,
  );
  c.closeSync();
  db.closeSync();
  const p = await normalizeExport('ga4', [parquet], 'ga4-parquet', { dir: out });
  check(p.file);
  assert.deepEqual(fs.readFileSync(p.file, 'utf8'), fs.readFileSync(r.file, 'utf8'), 'the same log either way');
  assert.deepEqual(
    fs.readdirSync(out).sort(),
    [
      'ga4-json.items.tsv',
      'ga4-json.notes.txt',
      'ga4-json.tsv',
      'ga4-parquet.items.tsv',
      'ga4-parquet.notes.txt',
      'ga4-parquet.tsv',
    ],
    'no temporary files left',
  );
});

test("Shopify's orders CSV (order fields on the first line only, a blank SKU) reads back into the same sequences", async () => {
  const dir = tmp();
  const iso = (s: number) =>
    new Date(s * 1000)
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, ' +0000');
  const lines = [
    'Name,Email,Financial Status,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Vendor',
  ];
  BASKETS.forEach(([u, ts, items], k) =>
    items.forEach(([id, name, price], j) =>
      lines.push(
        [`#${1001 + k}`, j ? '' : u, j ? '' : 'paid', j ? '' : iso(ts), 1, `"${name}"`, price, id, 'Gift Co'].join(','),
      ),
    ),
  );
  // A line without a SKU is known by its name.
  lines.push(`#1099,dee@x.org,paid,${iso(1_300_100_000)},1,"PAPER CHAIN KIT",2.95,,Gift Co`);
  const file = path.join(dir, 'orders_export.csv');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  const r = await normalizeExport('shopify', [file], 'shop', { dir: path.join(dir, 'out') });
  const log = readLog(r.file);
  assert.deepEqual(log.users.find((u) => u.user === 'dee@x.org')?.items, ['PAPER CHAIN KIT']);
  log.users = log.users.filter((u) => u.user !== 'dee@x.org');
  fs.writeFileSync(
    r.file,
    fs
      .readFileSync(r.file, 'utf8')
      .split('\n')
      .filter((l) => !l.startsWith('dee@'))
      .join('\n'),
  );
  check(r.file);
});

test("Segment's tables: the event from each file's name, views and orders merged in time order", async () => {
  const dir = tmp();
  const head = 'anonymous_id,user_id,timestamp,product_id,name,category,brand,price';
  const row = (u: string, ts: number, id: string, name: string, price: number) =>
    [`anon-${u}`, u, new Date(ts * 1000).toISOString(), id, `"${name}"`, 'Home', 'Gift Co', price].join(',');
  const orders = BASKETS.flatMap(([u, ts, items]) => items.map(([id, name, price]) => row(u, ts, id, name, price)));
  fs.writeFileSync(path.join(dir, 'order_completed.csv'), [head, ...orders].join('\n') + '\n');
  fs.writeFileSync(
    path.join(dir, 'product_viewed.csv'),
    [head, row('bob@x.org', 1_300_000_050, '71053', 'WHITE METAL LANTERN', 3.39)].join('\n') + '\n',
  );
  const r = await normalizeExport(
    'segment',
    [path.join(dir, 'order_completed.csv'), path.join(dir, 'product_viewed.csv')],
    'seg',
    { dir: path.join(dir, 'out') },
  );
  const bob = readLog(r.file).users.find((u) => u.user === 'bob@x.org')!;
  assert.deepEqual(bob.items, ['71053', '22633'], 'the view before the order');
  assert.deepEqual(bob.types, [typeCode('view'), P]);
});

test('a missing column names it and lists what the file has; nothing is written', async () => {
  const dir = tmp();
  const file = path.join(dir, 'orders.csv');
  fs.writeFileSync(file, 'Name,Mail,Created at,Lineitem name\n#1,a@x.org,2011-01-01 10:00:00 +0000,HAT\n');
  const out = path.join(dir, 'out');
  await assert.rejects(
    normalizeExport('shopify', [file], 'bad', { dir: out }),
    /orders.csv: no column "Email" \(its columns: Name, Mail, Created at, Lineitem name\)/,
  );
  await assert.rejects(
    normalizeExport('ga4', [path.join(dir, 'none.parquet')], 'bad', { dir: out }),
    /none.parquet: no such file/,
  );
  fs.writeFileSync(path.join(dir, 'broken.parquet'), 'not parquet at all');
  await assert.rejects(
    normalizeExport('ga4', [path.join(dir, 'broken.parquet')], 'bad', { dir: out }),
    /broken.parquet: not readable/,
  );
  assert.deepEqual(fs.readdirSync(out), []);
});

test("a shopper's events before they signed in join their account (GA4's user_pseudo_id, Segment's anonymous_id)", async () => {
  const dir = tmp();
  const rows = [
    {
      event_name: 'view_item',
      event_timestamp: 100e6,
      user_pseudo_id: 'dev1',
      user_id: null,
      items: [{ item_id: 'A' }],
    },
    {
      event_name: 'purchase',
      event_timestamp: 200e6,
      user_pseudo_id: 'dev1',
      user_id: 'acct9',
      items: [{ item_id: 'B' }],
    },
    {
      event_name: 'view_item',
      event_timestamp: 150e6,
      user_pseudo_id: 'dev2',
      user_id: null,
      items: [{ item_id: 'C' }],
    },
  ];
  const json = path.join(dir, 'events.json');
  fs.writeFileSync(json, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const r = await normalizeExport('ga4', [json], 'id', { dir: path.join(dir, 'out') });
  const log = readLog(r.file);
  assert.deepEqual(
    log.users.map((u) => [u.user, u.items]),
    [
      ['acct9', ['A', 'B']],
      ['dev2', ['C']],
    ],
  );
});

test("GA4's sessions come from ga_session_id: they cut where the shop's analytics cut, not at a 30-minute gap", async () => {
  const dir = tmp();
  const t = 1_300_000_000;
  const ev = (s: number, id: string, sid?: number | string) => ({
    event_name: 'view_item',
    event_timestamp: s * 1e6,
    user_pseudo_id: 'dev-1',
    user_id: null,
    ...(sid === undefined
      ? {}
      : {
          event_params: [
            { key: 'ga_session_id', value: typeof sid === 'number' ? { int_value: sid } : { string_value: sid } },
          ],
        }),
    items: [{ item_id: id }],
  });
  // 10 minutes apart but a new GA4 session; then 40 minutes later within that session (a longer timeout);
  // then an event without the parameter: the 30-minute rule decides for it.
  const rows = [ev(t, 'A', 1), ev(t + 600, 'B', 2), ev(t + 3000, 'C', 2), ev(t + 3100, 'D')];
  const json = path.join(dir, 'events_20110101.json');
  fs.writeFileSync(json, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const r = await normalizeExport('ga4', [json], 'sessions', { dir: path.join(dir, 'out') });
  const u = readLog(r.file).users[0];
  assert.deepEqual(u.items, ['A', 'B', 'C', 'D']);
  const s = { ts: u.ts, session: Float64Array.from(u.session!) };
  assert.ok(Number.isNaN(s.session[3]));
  assert.deepEqual(
    [sameSession(s, 0, 1), sameSession(s, 1, 2), sameSession(s, 2, 3)],
    [false, true, true],
    'cut at the new ga_session_id only; the last event, 100 s later and without one, joins by the gap rule',
  );
  // A string ga_session_id (some exports write it so) reads the same way.
  fs.writeFileSync(json, [ev(t, 'A', '7'), ev(t + 60, 'B', '8')].map((x) => JSON.stringify(x)).join('\n') + '\n');
  const u2 = readLog((await normalizeExport('ga4', [json], 'sessions2', { dir: path.join(dir, 'out') })).file).users[0];
  assert.equal(sameSession({ ts: u2.ts, session: Float64Array.from(u2.session!) }, 0, 1), false);
});
