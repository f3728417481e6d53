/**
 * Writes and reads a sharded item directory (src/model/items.ts): the item table product-quantized into
 * codebooks and per-product codes, the codes spread over shard files by a hash of each product's id, and a
 * head file with the most popular products and a uniform sample of the rest.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  CODEBOOK,
  decodeCode,
  decodeHead,
  decodeShard,
  encodeHead,
  encodeShard,
  itemKeys,
  shardFile,
  type ItemsMeta,
} from '../../src/model/items.js';
import { contentVersion } from '../../src/model/weights.js';
import { rng } from './windows.js';

/**
 * Bytes per product code: d / 2 (two dimensions per sub-space), 32 at d 64. Four dimensions per byte lost
 * 14% of Beauty's NDCG@10 (0.0471 against the item table's 0.0547); two lose 2% (0.0537), one nothing.
 */
export function codeBytes(d: number): number {
  return d % 2 === 0 ? d / 2 : d;
}
/** `--items auto` shards a catalog above this many products (an item table of d bytes each then outgrows the page's budget). */
export const SHARD_ABOVE = 5000;
/** Products per shard file, on average: a page of 48 products then costs about 48 shards of 0.8 KB (headers included). */
export const PER_SHARD = 16;
/** Popular products in the head file (ranked without any fetch), and sample rows beside them. */
export const HEAD_POPULAR = 2048;
export const HEAD_SAMPLE = 2048;

/** The head's and shards' sizes (defaults above). */
export interface HeadSizes {
  popular?: number;
  sample?: number;
  perShard?: number;
}

/**
 * Product quantization of rows 1..V-1 of a [V, d] table: m sub-spaces of d/m dimensions, 256 centroids each
 * (k-means on up to 16,384 rows, then every row assigned to its nearest centroid per sub-space).
 */
export function productQuantize(
  table: Float32Array,
  d: number,
  m: number,
  o: { iters?: number; seed?: number } = {},
): { codebooks: Float32Array; codes: Uint8Array } {
  const n = table.length / d - 1,
    w = d / m,
    K = CODEBOOK;
  const rand = rng(o.seed ?? 1);
  // 256 centroids in a few dimensions: 16,384 rows (64 per centroid) fit them as well as more would.
  const fitRows = Math.min(n, 16_384);
  const pick = Array.from({ length: n }, (_, i) => i + 1);
  for (let i = 0; i < fitRows; i++) {
    const j = i + Math.floor(rand() * (n - i));
    [pick[i], pick[j]] = [pick[j], pick[i]];
  }
  const codebooks = new Float32Array(m * K * w);
  const codes = new Uint8Array(n * m);
  for (let s = 0; s < m; s++) {
    // The sub-space's columns of every row, and of the rows the centroids are fitted on.
    const all = new Float32Array(n * w),
      fit = new Float32Array(fitRows * w);
    for (let i = 0; i < n; i++) for (let j = 0; j < w; j++) all[i * w + j] = table[(i + 1) * d + s * w + j];
    for (let i = 0; i < fitRows; i++) fit.set(all.subarray((pick[i] - 1) * w, pick[i] * w), i * w);
    const cb = new Float32Array(K * w);
    for (let k = 0; k < K; k++) cb.set(fit.subarray((k % fitRows) * w, ((k % fitRows) + 1) * w), k * w);
    const sum = new Float64Array(K * w),
      cnt = new Int32Array(K);
    for (let it = 0; it < (o.iters ?? 10); it++) {
      const near = nearestCentroids(fit, cb, w);
      sum.fill(0);
      cnt.fill(0);
      for (let i = 0; i < fitRows; i++) {
        cnt[near[i]]++;
        for (let j = 0; j < w; j++) sum[near[i] * w + j] += fit[i * w + j];
      }
      for (let k = 0; k < K; k++) {
        // An empty centroid takes a random row: every one of the 256 codes stays in use.
        const r = Math.floor(rand() * fitRows);
        for (let j = 0; j < w; j++) cb[k * w + j] = cnt[k] ? sum[k * w + j] / cnt[k] : fit[r * w + j];
      }
    }
    codebooks.set(cb, s * K * w);
    const near = nearestCentroids(all, cb, w);
    for (let i = 0; i < n; i++) codes[i * m + s] = near[i];
  }
  return { codebooks, codes };
}

/** Each row's nearest centroid (rows and centroids of w columns, squared distance). */
function nearestCentroids(rows: Float32Array, cb: Float32Array, w: number): Uint8Array {
  const n = rows.length / w,
    K = cb.length / w,
    out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0,
      bestD = Infinity;
    if (w === 2) {
      // The default code (two dimensions per byte): unrolled, several times faster.
      const x0 = rows[i * 2],
        x1 = rows[i * 2 + 1];
      for (let k = 0, c = 0; k < K; k++, c += 2) {
        const a = x0 - cb[c],
          b = x1 - cb[c + 1];
        const dist = a * a + b * b;
        if (dist < bestD) {
          bestD = dist;
          best = k;
        }
      }
    } else if (w === 4) {
      const x0 = rows[i * 4],
        x1 = rows[i * 4 + 1],
        x2 = rows[i * 4 + 2],
        x3 = rows[i * 4 + 3];
      for (let k = 0, c = 0; k < K; k++, c += 4) {
        const a = x0 - cb[c],
          b = x1 - cb[c + 1],
          e = x2 - cb[c + 2],
          f = x3 - cb[c + 3];
        const dist = a * a + b * b + e * e + f * f;
        if (dist < bestD) {
          bestD = dist;
          best = k;
        }
      }
    } else
      for (let k = 0; k < K; k++) {
        let dist = 0;
        for (let j = 0; j < w; j++) {
          const t = rows[i * w + j] - cb[k * w + j];
          dist += t * t;
        }
        if (dist < bestD) {
          bestD = dist;
          best = k;
        }
      }
    out[i] = best;
  }
  return out;
}

/** The [V, d] table the codes stand for (row 0 zero): what the page computes from them. */
export function decodeTable(codebooks: Float32Array, codes: Uint8Array, d: number, m: number): Float32Array {
  const n = codes.length / m;
  const out = new Float32Array((n + 1) * d);
  for (let i = 0; i < n; i++) decodeCode(codebooks, m, d, codes, i * m, out, (i + 1) * d);
  return out;
}

/**
 * Writes items/: the head (the first HEAD_POPULAR rows, which the trainer orders by popularity, and a
 * uniform sample of the rest) and the shards. `ret`: the return part's per-row propensity (row 0 first).
 */
export function writeItemDirectory(
  dir: string,
  ids: string[],
  codes: Uint8Array,
  m: number,
  ret: Float32Array | null,
  o: HeadSizes = {},
): ItemsMeta {
  const n = ids.length;
  const folder = path.join(dir, 'items');
  fs.rmSync(folder, { recursive: true, force: true });
  fs.mkdirSync(folder, { recursive: true });
  let retMin = 0,
    retScale = 0,
    retQ: Uint8Array | null = null;
  if (ret) {
    let lo = Infinity,
      hi = -Infinity;
    for (let r = 1; r <= n; r++) {
      lo = Math.min(lo, ret[r]);
      hi = Math.max(hi, ret[r]);
    }
    retMin = lo;
    retScale = hi > lo ? (hi - lo) / 255 : 0;
    retQ = new Uint8Array(n);
    for (let i = 0; i < n; i++) retQ[i] = retScale ? Math.round((ret[i + 1] - lo) / retScale) : 0;
  }
  const keys = ids.map(itemKeys);
  const p = Math.min(o.popular ?? HEAD_POPULAR, n);
  const rest = n - p;
  const s = Math.min(o.sample ?? HEAD_SAMPLE, rest);
  const rand = rng(1);
  const pool = Array.from({ length: rest }, (_, i) => p + i);
  for (let i = 0; i < s; i++) {
    const j = i + Math.floor(rand() * (rest - i));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  const rows = [...Array.from({ length: p }, (_, i) => i), ...pool.slice(0, s)];
  const headCodes = new Uint8Array(rows.length * m);
  rows.forEach((r, i) => headCodes.set(codes.subarray(r * m, r * m + m), i * m));
  const head = encodeHead(
    keys.slice(0, p).map((k) => k[0]),
    keys.slice(0, p).map((k) => k[1]),
    headCodes,
    s,
    s ? Math.log(rest / s) : 0,
    m,
    retQ ? Uint8Array.from(rows, (r) => retQ[r]) : null,
  );
  fs.writeFileSync(path.join(folder, 'head.bin'), head);
  const shards = Math.max(1, Math.ceil(n / (o.perShard ?? PER_SHARD)));
  const members: number[][] = Array.from({ length: shards }, () => []);
  keys.forEach(([sk], i) => members[sk % shards].push(i));
  const meta: ItemsMeta = {
    path: 'items/',
    shards,
    m,
    head: 'items/head.bin',
    version: contentVersion(head),
    ...(ret ? { retMin, retScale } : {}),
  };
  // Each product's code (and return byte) in base64, for a shop that renders them into its pages
  // (data-shelfwise-code): the page then ranks those products without fetching their shards.
  fs.writeFileSync(
    path.join(dir, 'codes.tsv'),
    ids
      .map((id, i) => {
        const b = codes.subarray(i * m, i * m + m);
        return `${id}\t${Buffer.from(retQ ? Uint8Array.from([...b, retQ[i]]) : b).toString('base64')}`;
      })
      .join('\n') + '\n',
  );
  members.forEach((list, k) => {
    const c = new Uint8Array(list.length * m);
    list.forEach((i, j) => c.set(codes.subarray(i * m, i * m + m), j * m));
    fs.writeFileSync(
      path.join(dir, shardFile(meta.path, k)),
      encodeShard(
        list.map((i) => keys[i][1]),
        c,
        m,
        retQ ? Uint8Array.from(list, (i) => retQ[i]) : null,
      ),
    );
  });
  return meta;
}

/** Reads every product's code back (in `ids` order) from a written directory; throws if one is missing. */
export function readItemCodes(
  dir: string,
  meta: ItemsMeta,
  ids: string[],
): { codes: Uint8Array; ret: Float32Array | null } {
  const m = meta.m;
  const codes = new Uint8Array(ids.length * m);
  const head = decodeHead(toArrayBuffer(fs.readFileSync(path.join(dir, meta.head))), m);
  let ret: Float32Array | null = head.ret ? new Float32Array(ids.length + 1) : null;
  const cache = new Map<number, { s: ReturnType<typeof decodeShard>; index: Map<number, number> }>();
  ids.forEach((id, i) => {
    const [sk, k] = itemKeys(id);
    const n = sk % meta.shards;
    let g = cache.get(n);
    if (!g) {
      const s = decodeShard(toArrayBuffer(fs.readFileSync(path.join(dir, shardFile(meta.path, n)))), m);
      g = { s, index: new Map(Array.from(s.keys, (x, j) => [x, j])) };
      cache.set(n, g);
    }
    const j = g.index.get(k);
    if (j === undefined) throw new Error(`item directory: ${id} is in no shard`);
    codes.set(g.s.codes.subarray(j * m, j * m + m), i * m);
    if (ret && g.s.ret) ret[i + 1] = g.s.ret[j] * (meta.retScale ?? 0) + (meta.retMin ?? 0);
    else ret = null;
  });
  return { codes, ret };
}

function toArrayBuffer(b: Buffer): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}
