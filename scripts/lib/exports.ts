/**
 * A shop's own exports → the normalized log (.cache/data/<name>.tsv and .items.tsv), through DuckDB: it
 * reads Parquet, newline-delimited JSON and CSV, unnests GA4's items, and streams and spills to disk, so
 * the export's size is bounded by the disk, not by Node's heap. Nothing is written under the log's name
 * until the whole export has been read.
 *
 * - ga4: BigQuery's `events_*` rows (Parquet or NDJSON): one event per `items[]` entry, the shopper as
 *   `user_id` where set, else `user_pseudo_id`; content from `item_name`, `item_category` … `item_category5`,
 *   `item_brand`, `price`.
 * - shopify: the orders CSV, one row per line item; the order's email and time are on its first row only.
 * - segment: one table per event (`product_viewed.csv`, `order_completed.parquet`, …), its event from the
 *   file's name, the shopper as `user_id` where set, else `anonymous_id`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { typeCode, EVENT_TYPES } from '../../src/model/features.js';
import { normalizeType, CACHE } from './data.js';

export const SOURCES = ['ga4', 'shopify', 'segment'] as const;
export type Source = (typeof SOURCES)[number];

/** A problem with the export itself (a missing column, an unreadable file): the message says which. */
export class ExportError extends Error {}

const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** The reader of one file by its extension. */
function reader(file: string): string {
  if (/\.parquet$/i.test(file)) return `read_parquet(${q(file)})`;
  if (/\.(ndjson|jsonl|json)(\.gz)?$/i.test(file)) return `read_json_auto(${q(file)}, format = 'newline_delimited')`;
  return `read_csv(${q(file)}, header = true, all_varchar = true)`;
}

async function columns(c: DuckDBConnection, from: string): Promise<string[]> {
  return [...(await columnTypes(c, from)).keys()];
}

async function columnTypes(c: DuckDBConnection, from: string): Promise<Map<string, string>> {
  const r = await c.runAndReadAll(`DESCRIBE SELECT * FROM ${from}`);
  return new Map(r.getRows().map((x) => [String(x[0]), String(x[1])]));
}

function need(file: string, have: string[], cols: string[]): void {
  const missing = cols.filter((x) => !have.includes(x));
  if (missing.length)
    throw new ExportError(
      `${file}: no column ${missing.map((m) => `"${m}"`).join(', ')} (its columns: ${have.join(', ')})`,
    );
}

/** The event each Segment table holds, from its file name (product_viewed.csv → "product viewed"). */
function segmentEvent(file: string): string {
  return path
    .basename(file)
    .replace(/\.(csv|parquet|ndjson|jsonl|json)(\.gz)?$/i, '')
    .replace(/_/g, ' ');
}

/** SQL of the export's events: device id, account id, item, event name, ts (seconds), title, category, brand, price, ord, pos. */
async function eventsSql(c: DuckDBConnection, from: Source, files: string[]): Promise<string> {
  const parts: string[] = [];
  for (const [k, file] of files.entries()) {
    if (!fs.existsSync(file)) throw new ExportError(`${file}: no such file`);
    let have: string[];
    try {
      have = await columns(c, reader(file));
    } catch (e) {
      throw new ExportError(`${file}: not readable as ${path.extname(file) || 'CSV'}: ${(e as Error).message}`);
    }
    const src = `(SELECT *, row_number() OVER () AS ord0 FROM ${reader(file)})`;
    const ord = `(${k}::BIGINT << 40) + ord0`;
    if (from === 'ga4') {
      need(file, have, ['event_name', 'event_timestamp', 'user_pseudo_id', 'items']);
      // The fields items[] has (an export written by another tool may lack some of GA4's).
      const itemType = (await columnTypes(c, reader(file))).get('items') ?? '';
      const fields = new Set([...itemType.matchAll(/([a-z_0-9]+) [A-Z]/g)].map((m) => m[1]));
      if (!fields.has('item_id'))
        throw new ExportError(`${file}: items[] has no item_id (its type: ${itemType.slice(0, 300)})`);
      const f = (x: string, cast = 'VARCHAR') => (fields.has(x) ? `it.${x}::${cast}` : 'NULL');
      const uid = have.includes('user_id') ? `nullif(user_id::VARCHAR, '')` : 'NULL';
      const cats = ['item_category', 'item_category2', 'item_category3', 'item_category4', 'item_category5'].filter(
        (x) => fields.has(x),
      );
      // The GA4 session: ga_session_id among event_params (its start in seconds, unique per device), as one
      // number per device and session.
      const params = have.includes('event_params')
        ? ((await columnTypes(c, reader(file))).get('event_params') ?? '')
        : '';
      const slots = ['int_value', 'string_value', 'double_value', 'float_value'].filter((x) =>
        params.includes(`${x} `),
      );
      const sid = slots.length
        ? `coalesce(${slots.map((x) => `list_filter(event_params, p -> p.key = 'ga_session_id')[1].value.${x}::VARCHAR`).join(', ')})`
        : 'NULL';
      parts.push(`SELECT user_pseudo_id::VARCHAR AS anon, ${uid} AS uid, it.item_id::VARCHAR AS item, event_name::VARCHAR AS ename,
        CASE WHEN ${sid} IS NULL THEN NULL ELSE (hash(user_pseudo_id::VARCHAR, ${sid}) >> 12)::BIGINT END AS sess,
        event_timestamp::DOUBLE / 1e6 AS ts, ${f('item_name')} AS title,
        ${cats.length ? `nullif(concat_ws(' > ', ${cats.map((x) => `nullif(it.${x}::VARCHAR, '')`).join(', ')}), '')` : 'NULL'} AS category,
        ${f('item_brand')} AS brand, ${f('price', 'DOUBLE')} AS price, ${ord} AS ord, pos
        FROM (SELECT *, unnest(items) AS it, generate_subscripts(items, 1) AS pos FROM ${src})`);
    } else if (from === 'shopify') {
      need(file, have, ['Name', 'Email', 'Created at', 'Lineitem name']);
      const sku = have.includes('Lineitem sku') ? `nullif(trim("Lineitem sku"), '')` : 'NULL';
      const opt = (x: string) => (have.includes(x) ? ident(x) : 'NULL');
      parts.push(`SELECT max(nullif(Email, '')) OVER (PARTITION BY Name) AS anon, NULL AS uid, NULL::BIGINT AS sess,
        coalesce(${sku}, trim("Lineitem name")) AS item, 'purchase' AS ename,
        epoch(max(try_strptime(nullif("Created at", ''), ['%Y-%m-%d %H:%M:%S %z', '%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S%z']))
          OVER (PARTITION BY Name)) AS ts,
        "Lineitem name" AS title, NULL AS category, ${opt('Vendor')} AS brand,
        try_cast(${opt('Lineitem price')} AS DOUBLE) AS price, ${ord} AS ord, 0 AS pos FROM ${src}`);
    } else {
      need(file, have, ['timestamp', 'product_id', 'anonymous_id']);
      const opt = (x: string) => (have.includes(x) ? `${ident(x)}::VARCHAR` : 'NULL');
      const uid = have.includes('user_id') ? `nullif(user_id::VARCHAR, '')` : 'NULL';
      parts.push(`SELECT anonymous_id::VARCHAR AS anon, ${uid} AS uid, NULL::BIGINT AS sess, product_id::VARCHAR AS item, ${q(segmentEvent(file))} AS ename,
        epoch(timestamp::TIMESTAMPTZ) AS ts, ${opt('name')} AS title, ${opt('category')} AS category,
        ${opt('brand')} AS brand, try_cast(${opt('price')} AS DOUBLE) AS price, ${ord} AS ord, 0 AS pos FROM ${src}`);
    }
  }
  return parts.join('\nUNION ALL BY NAME\n');
}

/**
 * Runs `sql` with a progress bar on stderr (DuckDB's own estimate, polled twice a second) when stderr is a
 * terminal: a 10-million-event export takes minutes.
 */
async function withProgress(c: DuckDBConnection, label: string, sql: string): Promise<void> {
  const tty = process.stderr.isTTY;
  const timer = tty
    ? setInterval(() => {
        const p = c.progress.percentage;
        if (p < 0) return;
        const bar = '#'.repeat(Math.round(p / 4)).padEnd(25, '.');
        process.stderr.write(`\r${label} [${bar}] ${p.toFixed(0)}%  `);
      }, 500)
    : null;
  try {
    await c.run(sql);
  } finally {
    if (timer) {
      clearInterval(timer);
      process.stderr.write(`\r${label} [${'#'.repeat(25)}] done\n`);
    }
  }
}

export interface ExportReport {
  file: string;
  users: number;
  events: number;
  items: number;
  /** Rows skipped by reason (an event name shelfwise does not read, no shopper, no item, no time). */
  skipped: Record<string, number>;
}

/**
 * Normalizes `files` of one source into .cache/data/<name>.tsv (+ .items.tsv, .notes.txt), written under
 * temporary names and renamed once complete. `memoryLimit` bounds DuckDB (it spills to `dir` beyond it).
 */
export async function normalizeExport(
  from: Source,
  files: string[],
  name: string,
  o: { dir?: string; memoryLimit?: string } = {},
): Promise<ExportReport> {
  if (!files.length) throw new ExportError('no input files');
  const dir = o.dir ?? CACHE;
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${name}.${process.pid}`);
  fs.mkdirSync(tmp, { recursive: true });
  const db = await DuckDBInstance.create(':memory:', {
    memory_limit: o.memoryLimit ?? '1GB',
    temp_directory: tmp,
    preserve_insertion_order: 'true',
  });
  const c = await db.connect();
  try {
    await c.run('SET enable_progress_bar = true; SET enable_progress_bar_print = false');
    const names = Object.entries(typeNames()).map(([k, v]) => `(${q(k)}, ${v})`);
    await c.run(`CREATE TEMP TABLE types(ename VARCHAR, code INTEGER); INSERT INTO types VALUES ${names.join(', ')}`);
    // The shopper: their account (user_id) where the shop has it, on the events before they signed in too
    // (the same device id signed in at some point, in any file), else the device's id.
    await c.run(`CREATE TEMP VIEW ev AS SELECT e.* EXCLUDE (anon, uid),
      coalesce(e.uid, max(e.uid) OVER (PARTITION BY e.anon), e.anon) AS usr, t.code
      FROM (${await eventsSql(c, from, files)}) e LEFT JOIN types t ON lower(trim(e.ename)) = t.ename`);
    const skipped: Record<string, number> = {};
    for (const r of (
      await c.runAndReadAll(`SELECT CASE WHEN code IS NULL THEN 'event "' || ename || '"'
        WHEN usr IS NULL OR usr = '' THEN 'no shopper' WHEN item IS NULL OR item = '' THEN 'no item'
        ELSE 'no time' END AS why, count(*) FROM ev
        WHERE code IS NULL OR usr IS NULL OR usr = '' OR item IS NULL OR item = '' OR ts IS NULL GROUP BY why`)
    ).getRows())
      skipped[String(r[0])] = Number(r[1]);
    await c.run(`CREATE TEMP VIEW ok AS SELECT * FROM ev
      WHERE code IS NOT NULL AND usr IS NOT NULL AND usr <> '' AND item IS NOT NULL AND item <> '' AND ts IS NOT NULL`);
    // The shop's sessions, where the export names them (GA4): a fifth column, else the 30-minute rule applies.
    const sessions = Number((await c.runAndReadAll(`SELECT count(sess) FROM ok`)).getRows()[0][0]) > 0;
    const log = path.join(tmp, 'log.tsv'),
      items = path.join(tmp, 'items.tsv');
    const clean = (x: string) => `replace(replace(coalesce(${x}, ''), chr(9), ' '), chr(10), ' ')`;
    await withProgress(
      c,
      'reading the events',
      `COPY (SELECT ${clean('usr')}, ${clean('item')}, code,
      CASE WHEN ts = floor(ts) THEN CAST(ts::BIGINT AS VARCHAR) ELSE CAST(ts AS VARCHAR) END
      ${sessions ? `, coalesce(CAST(sess AS VARCHAR), '')` : ''} FROM ok ORDER BY usr, ts, ord, pos)
      TO ${q(log)} (HEADER false, DELIMITER '\t', QUOTE '')`,
    );
    await c.run(`COPY (SELECT ${clean('item')}, ${clean('any_value(title)')}, round(avg(price), 2),
      ${clean('any_value(category)')}, ${clean('any_value(brand)')} FROM ok GROUP BY item ORDER BY item)
      TO ${q(items)} (HEADER false, DELIMITER '\t', QUOTE '')`);
    const [users, events, nItems] = (
      await c.runAndReadAll(`SELECT count(DISTINCT usr), count(*), count(DISTINCT item) FROM ok`)
    )
      .getRows()[0]
      .map(Number);
    const notes = [
      `${from} export: ${files.length} file(s)`,
      ...Object.entries(skipped).map(([k, v]) => `${v} rows skipped: ${k}`),
    ];
    fs.writeFileSync(path.join(tmp, 'notes.txt'), notes.join('\n') + '\n');
    const file = path.join(dir, `${name}.tsv`);
    fs.renameSync(items, path.join(dir, `${name}.items.tsv`));
    fs.renameSync(path.join(tmp, 'notes.txt'), path.join(dir, `${name}.notes.txt`));
    fs.renameSync(log, file);
    return { file, users, events, items: nItems, skipped };
  } catch (e) {
    if (e instanceof ExportError) throw e;
    throw new ExportError(`${from} export: ${(e as Error).message}`);
  } finally {
    c.closeSync();
    db.closeSync();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Every event name normalizeType reads, lower case, with its type code. */
function typeNames(): Record<string, number> {
  const names = [
    ...EVENT_TYPES,
    'pv',
    'view_item',
    'product viewed',
    'browse',
    'select_item',
    'product clicked',
    'fav',
    'cart',
    'product added',
    'product removed',
    'buy',
    'order completed',
  ];
  const out: Record<string, number> = {};
  for (const n of names) {
    const t = normalizeType(n);
    if (t) out[n] = typeCode(t);
  }
  return out;
}
