/**
 * A catalog too large to download (a sharded item directory): each product's vector is a product-quantized
 * code, M bytes that pick one of 256 centroids in each of M sub-spaces of the item vector (the codebooks,
 * `item_pq`, ship with the weights). The codes live in many small shard files, a product's shard named by
 * a hash of its id; the page fetches only the shards of the products it shows and the shopper touched.
 * A head file carries the most popular products (ranked without any fetch) and a uniform sample of the
 * rest with its weight, which stand in for the whole catalog where the model normalizes over it.
 *
 * Shard (items/<n>.bin): u32 magic "SWI1", u32 n, u8 M, u8 flags (1: a return byte per product), u16 0,
 * u32 key[n], u8 code[n × M], u8 ret[n] (flags & 1).
 * Head (items/head.bin): u32 magic "SWH1", u32 P, u32 S, u8 M, u8 flags, u16 0, f32 log weight of a sample
 * row, u32 shardKey[P], u32 key[P], u8 code[(P + S) × M], u8 ret[P + S] (flags & 1).
 * A product's shard is shardKey(id) mod shards; `key` is a second, independent hash that identifies it
 * there (ids are never shipped).
 */

/** Where the item directory lives, in model.json's userDefinedMetadata.shelfwise.items. */
export interface ItemsMeta {
  /** Folder of the shards (relative to model.json), each `<n>.bin`. */
  path: string;
  shards: number;
  /** Sub-spaces per code (the codebooks are `item_pq`, [M × 256, d / M]). */
  m: number;
  /** The head file and its content hash. */
  head: string;
  version: string;
  /** The return part's per-product propensity, quantized: ret · scale + min. */
  retMin?: number;
  retScale?: number;
}

export const CODEBOOK = 256;
const SHARD_MAGIC = 0x31495753; // "SWI1"
const HEAD_MAGIC = 0x31485753; // "SWH1"

function fnv(bytes: Uint8Array, basis: number): number {
  let h = basis;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** murmur3's finalizer: spreads every input bit over the output. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const utf8 = new TextEncoder();

/** The two hashes of a product id (its UTF-8 bytes): which shard holds it, and its key within. */
export function itemKeys(id: string): [shard: number, key: number] {
  const b = utf8.encode(id);
  return [fmix(fnv(b, 0x811c9dc5)), fmix(fnv(b, 0x2f8b3a1d) ^ b.length)];
}

export interface Shard {
  m: number;
  keys: Uint32Array;
  codes: Uint8Array;
  ret: Uint8Array | null;
}

export interface Head extends Shard {
  /** Popular products (with their shard keys: keys[i] and shardKeys[i] identify product i < P). */
  shardKeys: Uint32Array;
  /** Sample rows after the P popular ones, each standing for `exp(logWeight)` products. */
  samples: number;
  logWeight: number;
}

function bad(what: string): never {
  throw new Error(`item directory: ${what}`);
}

export function encodeShard(keys: ArrayLike<number>, codes: Uint8Array, m: number, ret: Uint8Array | null): Uint8Array {
  const n = keys.length;
  const out = new Uint8Array(12 + 4 * n + n * m + (ret ? n : 0));
  const v = new DataView(out.buffer);
  v.setUint32(0, SHARD_MAGIC, true);
  v.setUint32(4, n, true);
  out[8] = m;
  out[9] = ret ? 1 : 0;
  for (let i = 0; i < n; i++) v.setUint32(12 + 4 * i, keys[i], true);
  out.set(codes.subarray(0, n * m), 12 + 4 * n);
  if (ret) out.set(ret.subarray(0, n), 12 + 4 * n + n * m);
  return out;
}

export function decodeShard(buf: ArrayBuffer, m: number): Shard {
  const v = new DataView(buf);
  if (buf.byteLength < 12 || v.getUint32(0, true) !== SHARD_MAGIC) bad('a shard without its "SWI1" header');
  const n = v.getUint32(4, true);
  if (v.getUint8(8) !== m) bad(`a shard with ${v.getUint8(8)}-byte codes, the model's are ${m}`);
  const hasRet = (v.getUint8(9) & 1) === 1;
  if (buf.byteLength !== 12 + n * (4 + m + (hasRet ? 1 : 0)))
    bad(`a shard of ${buf.byteLength} bytes for ${n} products`);
  const keys = new Uint32Array(n);
  for (let i = 0; i < n; i++) keys[i] = v.getUint32(12 + 4 * i, true);
  const codes = new Uint8Array(buf, 12 + 4 * n, n * m);
  return { m, keys, codes, ret: hasRet ? new Uint8Array(buf, 12 + n * (4 + m), n) : null };
}

export function encodeHead(
  shardKeys: ArrayLike<number>,
  keys: ArrayLike<number>,
  codes: Uint8Array,
  samples: number,
  logWeight: number,
  m: number,
  ret: Uint8Array | null,
): Uint8Array {
  const p = keys.length,
    n = p + samples;
  const out = new Uint8Array(20 + 8 * p + n * m + (ret ? n : 0));
  const v = new DataView(out.buffer);
  v.setUint32(0, HEAD_MAGIC, true);
  v.setUint32(4, p, true);
  v.setUint32(8, samples, true);
  out[12] = m;
  out[13] = ret ? 1 : 0;
  v.setFloat32(16, logWeight, true);
  for (let i = 0; i < p; i++) {
    v.setUint32(20 + 4 * i, shardKeys[i], true);
    v.setUint32(20 + 4 * p + 4 * i, keys[i], true);
  }
  out.set(codes.subarray(0, n * m), 20 + 8 * p);
  if (ret) out.set(ret.subarray(0, n), 20 + 8 * p + n * m);
  return out;
}

export function decodeHead(buf: ArrayBuffer, m: number): Head {
  const v = new DataView(buf);
  if (buf.byteLength < 20 || v.getUint32(0, true) !== HEAD_MAGIC) bad('the head file has no "SWH1" header');
  const p = v.getUint32(4, true),
    s = v.getUint32(8, true),
    n = p + s;
  if (v.getUint8(12) !== m) bad(`the head file has ${v.getUint8(12)}-byte codes, the model's are ${m}`);
  const hasRet = (v.getUint8(13) & 1) === 1;
  const logWeight = v.getFloat32(16, true);
  if (buf.byteLength !== 20 + 8 * p + n * (m + (hasRet ? 1 : 0)) || !Number.isFinite(logWeight))
    bad(`a head file of ${buf.byteLength} bytes for ${p} + ${s} products`);
  const shardKeys = new Uint32Array(p),
    keys = new Uint32Array(p);
  for (let i = 0; i < p; i++) {
    shardKeys[i] = v.getUint32(20 + 4 * i, true);
    keys[i] = v.getUint32(20 + 4 * p + 4 * i, true);
  }
  return {
    m,
    shardKeys,
    keys,
    codes: new Uint8Array(buf, 20 + 8 * p, n * m),
    ret: hasRet ? new Uint8Array(buf, 20 + 8 * p + n * m, n) : null,
    samples: s,
    logWeight,
  };
}

const COMPANION_MAGIC = 0x31435753; // "SWC1"

/**
 * A shard of the visit part's companions (visit.ts) for a sharded directory: the companions of the products
 * whose item shard has the same number. u32 magic "SWC1", u32 n, u32 E, u32 key[n], u32 start[n + 1],
 * u32 shardKey[E], u32 key[E], f32 scale[n], u8 q[E]: product i's companions are entries start[i] to
 * start[i + 1], each named by its two hashes, weight scale[i] · q / 255.
 */
export interface CompanionShard {
  keys: Uint32Array;
  start: Uint32Array;
  shardKeys: Uint32Array;
  companionKeys: Uint32Array;
  w: Float32Array;
}

export function encodeCompanionShard(c: CompanionShard): Uint8Array {
  const n = c.keys.length,
    E = c.w.length;
  const out = new Uint8Array(12 + 4 * n + 4 * (n + 1) + 8 * E + 4 * n + E);
  const v = new DataView(out.buffer);
  v.setUint32(0, COMPANION_MAGIC, true);
  v.setUint32(4, n, true);
  v.setUint32(8, E, true);
  let o = 12;
  const u32 = (a: ArrayLike<number>) => {
    for (let i = 0; i < a.length; i++, o += 4) v.setUint32(o, a[i], true);
  };
  u32(c.keys);
  u32(c.start);
  u32(c.shardKeys);
  u32(c.companionKeys);
  const scale = new Float32Array(n);
  for (let i = 0; i < n; i++) for (let q = c.start[i]; q < c.start[i + 1]; q++) scale[i] = Math.max(scale[i], c.w[q]);
  for (let i = 0; i < n; i++, o += 4) v.setFloat32(o, scale[i], true);
  for (let i = 0; i < n; i++)
    for (let q = c.start[i]; q < c.start[i + 1]; q++) out[o + q] = scale[i] ? Math.round((255 * c.w[q]) / scale[i]) : 0;
  return out;
}

export function decodeCompanionShard(buf: ArrayBuffer): CompanionShard {
  const v = new DataView(buf);
  if (buf.byteLength < 12 || v.getUint32(0, true) !== COMPANION_MAGIC) bad('a companions shard without "SWC1"');
  const n = v.getUint32(4, true),
    E = v.getUint32(8, true);
  if (buf.byteLength !== 12 + 4 * n + 4 * (n + 1) + 8 * E + 4 * n + E)
    bad(`a companions shard of ${buf.byteLength} bytes for ${n} products and ${E} companions`);
  let o = 12;
  const u32 = (k: number) => {
    const a = new Uint32Array(k);
    for (let i = 0; i < k; i++, o += 4) a[i] = v.getUint32(o, true);
    return a;
  };
  const keys = u32(n),
    start = u32(n + 1),
    shardKeys = u32(E),
    companionKeys = u32(E);
  if (start[0] !== 0 || start[n] !== E || start.some((x, i) => i > 0 && x < start[i - 1]))
    bad('a companions shard with its lists out of order');
  const w = new Float32Array(E),
    qo = o + 4 * n;
  for (let i = 0; i < n; i++, o += 4) {
    const sc = v.getFloat32(o, true);
    for (let q = start[i]; q < start[i + 1]; q++) w[q] = (sc * v.getUint8(qo + q)) / 255;
  }
  return { keys, start, shardKeys, companionKeys, w };
}

/** Writes the vector of code `c` (M bytes at `codes[at..]`) into `out` at `o`: each sub-space's centroid. */
export function decodeCode(
  codebooks: Float32Array,
  m: number,
  d: number,
  codes: Uint8Array,
  at: number,
  out: Float32Array,
  o: number,
): void {
  const w = d / m;
  for (let s = 0; s < m; s++) {
    const c = ((s * CODEBOOK + codes[at + s]) * w) | 0;
    for (let j = 0; j < w; j++) out[o + s * w + j] = codebooks[c + j];
  }
}

/** Shard `n`'s file in the folder `path` (the item shards', or the visit part's companion shards'). */
export const shardFile = (path: string, n: number): string => `${path.replace(/\/?$/, '/')}${n}.bin`;

/** Checks model.json's items entry. */
export function checkItemsMeta(x: unknown, d: number): ItemsMeta {
  const o = x as ItemsMeta;
  const str = (s: unknown) => typeof s === 'string' && s.length > 0 && s.length <= 1000;
  if (
    !o ||
    !str(o.path) ||
    !str(o.head) ||
    typeof o.version !== 'string' ||
    !Number.isInteger(o.shards) ||
    o.shards < 1 ||
    o.shards > 1 << 24 ||
    !Number.isInteger(o.m) ||
    o.m < 1 ||
    d % o.m !== 0 ||
    (o.retMin !== undefined && !Number.isFinite(o.retMin)) ||
    (o.retScale !== undefined && !Number.isFinite(o.retScale))
  )
    throw new Error(`model.json: shelfwise.items needs a path, a head file, shards ≥ 1 and m dividing d (${d})`);
  return o;
}
