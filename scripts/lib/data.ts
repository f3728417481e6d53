/**
 * Data preparation: raw logs in ../shared/data (read as they are, gzip included) or a shop's own CSV/TSV
 * export → one normalized form (user, item, type, timestamp) cached in .cache/data/ → splits.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { typeCode, type EventType } from '../../src/model/features.js';
import { FlagError } from './flags.js';

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
/**
 * Where .cache/ (logs, checkpoints, models) lives: SHELFWISE_ROOT, else this repository in a clone, else
 * (the installed package's `npx shelfwise`) the current directory.
 */
export const ROOT =
  process.env.SHELFWISE_ROOT ?? (fs.existsSync(path.join(REPO, 'scripts/lib/data.ts')) ? REPO : process.cwd());
export const SHARED = process.env.SHELFWISE_DATA ?? path.resolve(ROOT, '../shared/data');
export const CACHE = path.join(ROOT, '.cache/data');

export interface RawEvent {
  user: string;
  item: string;
  type: number;
  ts: number; /* seconds, NaN = unknown */
}
export interface ItemMeta {
  title?: string;
  price?: number;
  /** The category path, broadest first, joined by " > " (department > commodity > sub-commodity). */
  category?: string;
  brand?: string;
}

/** A normalized log: events grouped per user in time order (ties keep the source order). */
export interface Log {
  name: string;
  /** `session`: the shop's session id per event where its export has them (NaN = unknown), see split.ts's sameSession. */
  users: Array<{ user: string; items: string[]; types: number[]; ts: number[]; session?: number[] }>;
  meta: Map<string, ItemMeta>;
  notes: string[];
}

export function readText(file: string): string {
  const buf = fs.readFileSync(file);
  return (file.endsWith('.gz') ? zlib.gunzipSync(buf) : buf).toString('utf8');
}

/** Splits CSV text into rows of fields; handles quoted fields with commas, quotes and newlines. */
export function parseDelimited(text: string, delim = ','): string[][] {
  const rows: string[][] = [];
  let row: string[] = [],
    field = '',
    inQ = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inQ) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else inQ = false;
      } else field += c;
    } else if (c === '"' && field === '') inQ = true;
    else if (c === delim) {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      if (row.length > 1 || row[0] !== '') rows.push(row);
      row = [];
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** Maps behavior names from the formats we read onto the SDK's event types. */
export function normalizeType(raw: string | undefined): EventType | null {
  const s = (raw ?? '').trim().toLowerCase();
  const map: Record<string, EventType> = {
    view: 'view',
    pv: 'view',
    view_item: 'view',
    'product viewed': 'view',
    '1': 'view',
    browse: 'view',
    click: 'click',
    select_item: 'click',
    'product clicked': 'click',
    fav: 'click',
    add_to_cart: 'add_to_cart',
    cart: 'add_to_cart',
    'product added': 'add_to_cart',
    '2': 'add_to_cart',
    remove_from_cart: 'remove_from_cart',
    'product removed': 'remove_from_cart',
    '4': 'remove_from_cart',
    purchase: 'purchase',
    buy: 'purchase',
    'order completed': 'purchase',
    '3': 'purchase',
    search: 'search',
  };
  return map[s] ?? null;
}

/** Groups events per user, stable-sorted by time (events with unknown time keep the source order). */
export function groupByUser(events: RawEvent[]): Log['users'] {
  const by = new Map<string, RawEvent[]>();
  for (const e of events) {
    let a = by.get(e.user);
    if (!a) by.set(e.user, (a = []));
    a.push(e);
  }
  const out: Log['users'] = [];
  for (const [user, evs] of by) {
    const idx = evs.map((_, i) => i);
    idx.sort((a, b) => {
      const ta = evs[a].ts,
        tb = evs[b].ts;
      if (Number.isNaN(ta) || Number.isNaN(tb) || ta === tb) return a - b;
      return ta - tb;
    });
    out.push({
      user,
      items: idx.map((i) => evs[i].item),
      types: idx.map((i) => evs[i].type),
      ts: idx.map((i) => evs[i].ts),
    });
  }
  return out;
}

export interface OnlineRetailOptions {
  cancellations: 'remove' | 'drop';
}

/**
 * Online Retail (both sheets). Cleaning: rows without a customer dropped; non-product stock codes (postage,
 * fees, manual adjustments: codes not starting with a digit) dropped; rows with non-positive price dropped;
 * the two sheets overlap in December 2010, so duplicate lines (same invoice, code, quantity, time,
 * customer) are removed. Cancellations ("C" invoices) become `remove_from_cart` events by default: they
 * are the closest signal the shop has of a product the customer did not want; they are input only and
 * never prediction targets. Lines of one invoice share a timestamp and keep the file's line order.
 */
export function parseOnlineRetail(texts: string[], opts: OnlineRetailOptions = { cancellations: 'remove' }): Log {
  const events: RawEvent[] = [];
  const meta = new Map<string, ItemMeta>();
  const seen = new Set<string>();
  let noUser = 0,
    dup = 0,
    nonProduct = 0,
    cancelled = 0,
    bad = 0;
  for (const text of texts) {
    const rows = parseDelimited(text);
    const head = rows[0].map((h) => h.trim().toLowerCase().replace(/\s+/g, ''));
    const col = (...names: string[]) => {
      const i = head.findIndex((h) => names.includes(h));
      if (i < 0) throw new Error(`online retail: no column ${names[0]}`);
      return i;
    };
    const cInv = col('invoiceno', 'invoice'),
      cCode = col('stockcode'),
      cDesc = col('description'),
      cQty = col('quantity');
    const cDate = col('invoicedate'),
      cPrice = col('unitprice', 'price'),
      cCust = col('customerid');
    for (let r = 1; r < rows.length; r++) {
      const row = rows[r];
      if (row.length < head.length) {
        bad++;
        continue;
      }
      const cust = row[cCust].trim().replace(/\.0$/, '');
      if (!cust) {
        noUser++;
        continue;
      }
      const code = row[cCode].trim().toUpperCase();
      if (!/^\d/.test(code)) {
        nonProduct++;
        continue;
      }
      const inv = row[cInv].trim();
      const qty = Number(row[cQty]);
      const price = Number(row[cPrice]);
      const ts = Date.parse(row[cDate].trim().replace(' ', 'T') + 'Z') / 1000;
      if (!Number.isFinite(ts) || !Number.isFinite(qty) || !(price > 0)) {
        bad++;
        continue;
      }
      const key = `${inv}|${code}|${qty}|${ts}|${cust}`;
      if (seen.has(key)) {
        dup++;
        continue;
      }
      seen.add(key);
      const isCancel = inv.startsWith('C') || qty < 0;
      if (isCancel) {
        cancelled++;
        if (opts.cancellations === 'drop') continue;
      }
      events.push({ user: cust, item: code, type: typeCode(isCancel ? 'remove_from_cart' : 'purchase'), ts });
      const title = row[cDesc].trim();
      const m = meta.get(code);
      if (!m) meta.set(code, { title: title || undefined, price });
      else {
        if (!m.title && title) m.title = title;
        if (!isCancel) m.price = price;
      }
    }
  }
  const notes = [
    `dropped ${noUser} rows without a customer, ${nonProduct} non-product lines, ${dup} duplicate lines, ${bad} malformed rows`,
    `${cancelled} cancellation lines ${opts.cancellations === 'drop' ? 'dropped' : 'kept as remove_from_cart (input only)'}`,
  ];
  return { name: 'online-retail', users: groupByUser(events), meta, notes };
}

/** `user item` lines in time order (ML-1M), or `user item1 item2 ...` lines (Amazon Beauty). */
export function parseUserItemLines(name: string, text: string): Log {
  const by = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 2 || !f[0]) continue;
    let a = by.get(f[0]);
    if (!a) by.set(f[0], (a = []));
    for (let i = 1; i < f.length; i++) a.push(f[i]);
  }
  const users = [...by].map(([user, items]) => ({
    user,
    items,
    types: items.map(() => typeCode('view')),
    ts: items.map(() => NaN),
  }));
  return { name, users, meta: new Map(), notes: ['no timestamps: every gap is "unknown"; every event is a view'] };
}

/** Taobao UserBehavior: user,item,category,behavior,timestamp; exact duplicate rows removed. */
export function parseTaobao(text: string): Log {
  const events: RawEvent[] = [];
  const seen = new Set<string>();
  let dup = 0;
  for (const line of text.split('\n')) {
    const f = line.trim().split(',');
    if (f.length < 5) continue;
    const t = normalizeType(f[3]);
    if (!t) continue;
    const key = line.trim();
    if (seen.has(key)) {
      dup++;
      continue;
    }
    seen.add(key);
    events.push({ user: f[0], item: f[1], type: typeCode(t), ts: Number(f[4]) });
  }
  return {
    name: 'taobao',
    users: groupByUser(events),
    meta: new Map(),
    notes: [`${dup} duplicate rows removed; pv→view, fav→click, cart→add_to_cart, buy→purchase`],
  };
}

export interface CsvMapping {
  user: string;
  item: string;
  type?: string;
  time?: string;
  delimiter?: string;
  title?: string;
  price?: string;
}

/** A shop's own export: any CSV/TSV with named user, item, (type), (time) columns. */
export function parseCsvLog(name: string, text: string, m: CsvMapping): Log {
  const rows = parseDelimited(text, m.delimiter ?? (text.split('\n')[0].includes('\t') ? '\t' : ','));
  const head = rows[0].map((h) => h.trim());
  const col = (n?: string) => {
    if (!n) return -1;
    const i = head.indexOf(n);
    if (i < 0) throw new FlagError(`${name}: no column "${n}" in the input (its columns: ${head.join(', ')})`);
    return i;
  };
  const cu = col(m.user),
    ci = col(m.item),
    ct = col(m.type),
    cs = col(m.time),
    cTitle = col(m.title),
    cPrice = col(m.price);
  const events: RawEvent[] = [];
  const meta = new Map<string, ItemMeta>();
  let skipped = 0;
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r];
    const user = row[cu]?.trim(),
      item = row[ci]?.trim();
    if (!user || !item) {
      skipped++;
      continue;
    }
    const t = ct >= 0 ? normalizeType(row[ct]) : 'purchase';
    if (!t) {
      skipped++;
      continue;
    }
    let ts = NaN;
    if (cs >= 0) {
      const v = row[cs].trim();
      ts = /^\d+(\.\d+)?$/.test(v) ? Number(v) : Date.parse(v) / 1000;
    }
    events.push({ user, item, type: typeCode(t), ts });
    if ((cTitle >= 0 || cPrice >= 0) && !meta.has(item))
      meta.set(item, {
        title: cTitle >= 0 ? row[cTitle] : undefined,
        price: cPrice >= 0 ? Number(row[cPrice]) : undefined,
      });
  }
  return { name, users: groupByUser(events), meta, notes: [`${skipped} rows skipped (no user/item or unknown type)`] };
}

/** Splits each user's sequence wherever the gap between two events exceeds `gapSeconds`. */
export function splitSessions(log: Log, gapSeconds: number): Log {
  const users: Log['users'] = [];
  for (const u of log.users) {
    let start = 0,
      k = 0;
    for (let i = 1; i <= u.items.length; i++) {
      if (i === u.items.length || u.ts[i] - u.ts[i - 1] > gapSeconds) {
        users.push({
          user: `${u.user}#${k++}`,
          items: u.items.slice(start, i),
          types: u.types.slice(start, i),
          ts: u.ts.slice(start, i),
        });
        start = i;
      }
    }
  }
  return { ...log, users, notes: [...log.notes, `split into sessions at gaps > ${gapSeconds} s`] };
}

// ---------- the normalized cache ----------

export function writeLog(log: Log, dir = CACHE): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${log.name}.tsv`);
  const lines: string[] = [];
  for (const u of log.users)
    for (let i = 0; i < u.items.length; i++)
      lines.push(
        `${u.user}\t${u.items[i]}\t${u.types[i]}\t${Number.isNaN(u.ts[i]) ? '' : u.ts[i]}` +
          (u.session ? `\t${Number.isNaN(u.session[i]) ? '' : u.session[i]}` : ''),
      );
  fs.writeFileSync(file, lines.join('\n') + '\n');
  const clean = (x: string | undefined) => (x ?? '').replace(/[\t\n]/g, ' ');
  const metaLines = [...log.meta].map(
    ([id, m]) => `${id}\t${clean(m.title)}\t${m.price ?? ''}\t${clean(m.category)}\t${clean(m.brand)}`,
  );
  fs.writeFileSync(path.join(dir, `${log.name}.items.tsv`), metaLines.join('\n') + '\n');
  fs.writeFileSync(path.join(dir, `${log.name}.notes.txt`), log.notes.join('\n') + '\n');
  return file;
}

/** Calls `line` for each line of a file, read in 16 MB chunks (a log of any size never is one string). */
export function eachLine(file: string, line: (s: string) => void): void {
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(16 * 2 ** 20);
  let rest = '';
  try {
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) {
      // Cut at the last newline of the chunk so no UTF-8 sequence or line is split.
      const end = buf.lastIndexOf(10, n - 1);
      if (end < 0) {
        rest += buf.toString('utf8', 0, n);
        continue;
      }
      const lines = (rest + buf.toString('utf8', 0, end)).split('\n');
      rest = buf.toString('utf8', end + 1, n);
      for (const l of lines) line(l);
    }
    if (rest) line(rest);
  } finally {
    fs.closeSync(fd);
  }
}

export function readLog(file: string): Log {
  const name = path.basename(file).replace(/\.tsv$/, '');
  const by = new Map<string, Log['users'][number]>();
  // One string per distinct item id: a log's millions of lines name a few thousand products.
  const ids = new Map<string, string>();
  eachLine(file, (line) => {
    if (!line) return;
    const [user, item, type, ts, session] = line.split('\t');
    let u = by.get(user);
    if (!u) by.set(user, (u = { user, items: [], types: [], ts: [] }));
    // A fifth column: the shop's session id (a GA4 export's ga_session_id); empty = unknown.
    if (session !== undefined) (u.session ??= u.items.map(() => NaN)).push(session === '' ? NaN : Number(session));
    else u.session?.push(NaN);
    let id = ids.get(item);
    if (id === undefined) ids.set(item, (id = item));
    u.items.push(id);
    u.types.push(Number(type));
    u.ts.push(ts === '' || ts === undefined ? NaN : Number(ts));
  });
  const meta = new Map<string, ItemMeta>();
  const mf = file.replace(/\.tsv$/, '.items.tsv');
  if (fs.existsSync(mf)) {
    for (const line of fs.readFileSync(mf, 'utf8').split('\n')) {
      if (!line) continue;
      const [id, title, price, category, brand] = line.split('\t');
      meta.set(id, {
        title: title || undefined,
        price: price ? Number(price) : undefined,
        category: category || undefined,
        brand: brand || undefined,
      });
    }
  }
  const nf = file.replace(/\.tsv$/, '.notes.txt');
  return {
    name,
    users: [...by.values()],
    meta,
    notes: fs.existsSync(nf) ? fs.readFileSync(nf, 'utf8').trim().split('\n') : [],
  };
}

export const DATASETS = ['online-retail', 'ml-1m', 'beauty', 'taobao', 'dunnhumby'] as const;

/**
 * dunnhumby "The Complete Journey": its product catalog (department, commodity, sub-commodity, brand and
 * manufacturer, size for every product, bought or not) and three weeks of its households' basket lines, each
 * a purchase at the day's seconds plus the line's HHMM (a basket's lines share that time). A product's title
 * is its sub-commodity and size (the catalog has no product names), its price the mean of sales / quantity.
 */
export function parseDunnhumby(productCsv: string, txCsv: string): Log {
  const meta = new Map<string, ItemMeta>();
  const rows = parseDelimited(productCsv);
  const ph = rows[0] ?? [];
  const pc = (n: string) => ph.indexOf(n);
  const [pid, dep, brand, manu, com, sub, size] = [
    'PRODUCT_ID',
    'DEPARTMENT',
    'BRAND',
    'MANUFACTURER',
    'COMMODITY_DESC',
    'SUB_COMMODITY_DESC',
    'CURR_SIZE_OF_PRODUCT',
  ].map(pc);
  if ([pid, dep, brand, com, sub].some((i) => i < 0))
    throw new Error(
      `dunnhumby product.csv: expected PRODUCT_ID, DEPARTMENT, BRAND, COMMODITY_DESC, SUB_COMMODITY_DESC; it has ${ph.join(', ')}`,
    );
  const known = (x: string | undefined) => (x && !/^NO (SUB)?COMMODITY DESCRIPTION$/.test(x.trim()) ? x.trim() : '');
  for (const r of rows.slice(1)) {
    if (!r[pid]) continue;
    const cats = [r[dep], known(r[com]), known(r[sub])].map((x) => (x ?? '').trim()).filter(Boolean);
    meta.set(r[pid].trim(), {
      title: [known(r[sub]) || known(r[com]), (r[size] ?? '').trim()].filter(Boolean).join(' ') || undefined,
      category: cats.join(' > ') || undefined,
      brand:
        [r[brand]?.trim(), manu >= 0 && r[manu] ? `manufacturer ${r[manu].trim()}` : ''].filter(Boolean).join(' ') ||
        undefined,
    });
  }
  const tx = parseDelimited(txCsv);
  const th = tx[0] ?? [];
  const [uid, day, item, qty, sales, time] = ['user_id', 'day', 'item_id', 'quantity', 'sales_value', 'trans_time'].map(
    (n) => th.indexOf(n),
  );
  if ([uid, day, item, time].some((i) => i < 0))
    throw new Error(`dunnhumby transactions: expected user_id, day, item_id, trans_time; it has ${th.join(', ')}`);
  const events: RawEvent[] = [];
  const priceSum = new Map<string, [number, number]>();
  for (const r of tx.slice(1)) {
    if (!r[uid] || !r[item]) continue;
    const hhmm = Number(r[time]);
    const ts = Number(r[day]) * 86400 + Math.floor(hhmm / 100) * 3600 + (hhmm % 100) * 60;
    events.push({ user: r[uid], item: r[item].trim(), type: typeCode('purchase'), ts });
    const q = Number(r[qty]),
      v = Number(r[sales]);
    if (q > 0 && v > 0) {
      const a = priceSum.get(r[item].trim()) ?? [0, 0];
      priceSum.set(r[item].trim(), [a[0] + v / q, a[1] + 1]);
    }
  }
  for (const [id, [sum, n]] of priceSum) {
    const m = meta.get(id) ?? {};
    meta.set(id, { ...m, price: Math.round((100 * sum) / n) / 100 });
  }
  return {
    name: 'dunnhumby',
    users: groupByUser(events),
    meta,
    notes: [
      "time = day × 86400 + the line's HHMM (day 678 is 1971-11-10 for --cutoff): a basket's lines share it; title = sub-commodity and size; category = department > commodity > sub-commodity",
    ],
  };
}

/** Parses a named public data set from ../shared/data. */
/** MovieLens-1M's content: each item's film title (without its year) and its genres as categories. */
export function movieLensContent(itemMap: string, movies: string): Map<string, ItemMeta> {
  const film = new Map<string, { title: string; genres: string }>();
  for (const line of movies.split('\n')) {
    const [id, title, genres] = line.trim().split('::');
    if (id && title) film.set(id, { title: title.replace(/\s*\(\d{4}\)\s*$/, ''), genres: genres ?? '' });
  }
  const meta = new Map<string, ItemMeta>();
  for (const line of itemMap.split('\n').slice(1)) {
    const [item, movie] = line.trim().split('\t');
    const f = movie ? film.get(movie) : undefined;
    if (item && f) meta.set(item, { title: f.title, category: f.genres || undefined });
  }
  return meta;
}

/** Amazon Beauty's content: each item's attribute ids (its Amazon categories and brand, ids only) as categories. */
export function beautyContent(json: string): Map<string, ItemMeta> {
  const meta = new Map<string, ItemMeta>();
  for (const [item, attrs] of Object.entries(JSON.parse(json) as Record<string, number[]>))
    if (Array.isArray(attrs) && attrs.length) meta.set(item, { category: attrs.map((a) => `a${a}`).join('|') });
  return meta;
}

export function parseNamed(name: string): Log {
  switch (name) {
    case 'online-retail':
      return parseOnlineRetail([
        readText(path.join(SHARED, 'online-retail/online_retail_II_2009-2010.csv.gz')),
        readText(path.join(SHARED, 'online-retail/online_retail_2010-2011.csv.gz')),
      ]);
    case 'ml-1m': {
      const log = parseUserItemLines('ml-1m', readText(path.join(SHARED, 'ml-1m/ml-1m.txt.gz')));
      log.meta = movieLensContent(
        readText(path.join(SHARED, 'ml-1m/ml-1m_itemmap.tsv')),
        fs.readFileSync(path.join(SHARED, 'ml-1m/movies.dat'), 'latin1'),
      );
      return log;
    }
    case 'beauty': {
      const log = parseUserItemLines('beauty', readText(path.join(SHARED, 'amazon-beauty/Beauty.txt.gz')));
      log.meta = beautyContent(readText(path.join(SHARED, 'amazon-beauty/Beauty_item2attributes.json.gz')));
      return log;
    }
    case 'taobao':
      return parseTaobao(readText(path.join(SHARED, 'taobao-userbehavior-head/UserBehavior_head.csv.gz')));
    case 'dunnhumby':
      return parseDunnhumby(
        readText(path.join(SHARED, 'dunnhumby-cj/product.csv.gz')),
        readText(path.join(SHARED, 'dunnhumby-cj/transactions_days664-684.csv.gz')),
      );
    default:
      throw new Error(`unknown data set "${name}" (one of ${DATASETS.join(', ')}, or a path to a prepared .tsv)`);
  }
}

/** A named data set (prepared and cached on first use) or a path to a prepared .tsv log. */
export function loadLog(nameOrPath: string): Log {
  if (nameOrPath.endsWith('.tsv') && fs.existsSync(nameOrPath)) return readLog(nameOrPath);
  const cached = path.join(CACHE, `${nameOrPath}.tsv`);
  if (fs.existsSync(cached)) return readLog(cached);
  const log = parseNamed(nameOrPath);
  writeLog(log);
  return log;
}
