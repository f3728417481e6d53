/**
 * The model directory format: a tfjs weights manifest (`model.json` with `weightsManifest`, binary shards)
 * whose `userDefinedMetadata.shelfwise` holds the architecture config, the model version and the name of
 * the item vocabulary file. Any framework that writes this manifest (tfjs, a Keras or PyTorch exporter)
 * can produce a model the SDK reads.
 */
import type { ContentMeta } from './content.js';
import type { VisitMeta } from './visit.js';
import { checkItemsMeta, CODEBOOK, type ItemsMeta } from './items.js';
import * as tf from '@tensorflow/tfjs-core';
import { checkConfig, MAX_PARAMS, type ModelConfig } from './config.js';
import { paramShapes, type Params } from './encoder.js';

export type Quantization = 'float32' | 'float16' | 'uint8';

export interface ShelfwiseMeta {
  config: ModelConfig;
  /** Changes whenever the weights change; stored adaptations and caches are keyed by it. */
  version: string;
  /** File (relative to model.json) holding the vocabulary. */
  vocab: string;
  /** The visit part (visit.ts): its companions file, λ and decay. Absent: the model alone. */
  visit?: VisitMeta;
  /** The content part's token vectors (content.ts), where the model was trained with it. */
  content?: ContentMeta;
  /**
   * A sharded item directory (items.ts) instead of an item table in the weights: the page fetches the
   * codes of the products it shows. Absent: `item_emb` holds every product, `vocab` names them.
   */
  items?: ItemsMeta;
}

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32';
  quantization?: { dtype: 'float16' } | { dtype: 'uint8'; min: number; scale: number };
}

export interface ModelJson {
  format: string;
  generatedBy: string;
  weightsManifest: Array<{ paths: string[]; weights: WeightSpec[] }>;
  userDefinedMetadata: { shelfwise: ShelfwiseMeta };
}

/** Item vocabulary: row r+1 of the item embedding is `ids[r]`. Titles/prices/categories are optional. */
export interface Vocab {
  ids: string[];
  titles?: string[];
  prices?: number[];
  categories?: string[];
}

function toHalf(f: number): number {
  const buf = new DataView(new ArrayBuffer(4));
  buf.setFloat32(0, f);
  const x = buf.getUint32(0);
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  let mant = x & 0x7fffff;
  if (exp >= 31) return sign | 0x7c00; // overflow → inf (weights never get there)
  if (exp <= 0) {
    if (exp < -10) return sign;
    mant = (mant | 0x800000) >> (1 - exp);
    return sign | ((mant + 0x1000) >> 13);
  }
  const h = sign | (exp << 10) | (mant >> 13);
  return mant & 0x1000 ? h + 1 : h; // round half up on the dropped bits
}

/** Encodes named float32 arrays into one shard with the requested quantization. */
export function encodeWeights(
  named: Array<[string, number[], Float32Array]>,
  q: Quantization,
): { specs: WeightSpec[]; data: Uint8Array } {
  const parts: Uint8Array[] = [];
  const specs: WeightSpec[] = [];
  for (const [name, shape, values] of named) {
    const spec: WeightSpec = { name, shape, dtype: 'float32' };
    // LayerNorm gains/biases and other small vectors stay float32: they are tiny and sensitive.
    const quantize = q !== 'float32' && shape.length === 2;
    if (!quantize) {
      parts.push(new Uint8Array(values.slice().buffer));
    } else if (q === 'float16') {
      const out = new Uint16Array(values.length);
      for (let i = 0; i < values.length; i++) out[i] = toHalf(values[i]);
      parts.push(new Uint8Array(out.buffer));
      spec.quantization = { dtype: 'float16' };
    } else {
      let min = Infinity,
        max = -Infinity;
      for (const v of values) {
        if (v < min) min = v;
        if (v > max) max = v;
      }
      const scale = max > min ? (max - min) / 255 : 1;
      const out = new Uint8Array(values.length);
      for (let i = 0; i < values.length; i++) out[i] = Math.round((values[i] - min) / scale);
      parts.push(out);
      spec.quantization = { dtype: 'uint8', min, scale };
    }
    specs.push(spec);
  }
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const data = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    data.set(p, off);
    off += p.byteLength;
  }
  return { specs, data };
}

/** A short content hash (FNV-1a) of the shard bytes: the model version. */
export function contentVersion(data: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < data.length; i++) {
    h ^= data[i];
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

export function buildModelJson(
  cfg: ModelConfig,
  specs: WeightSpec[],
  shard: string,
  version: string,
  vocabFile = 'vocab.json',
): ModelJson {
  return {
    format: 'shelfwise-sasrec',
    generatedBy: 'shelfwise',
    weightsManifest: [{ paths: [shard], weights: specs }],
    userDefinedMetadata: { shelfwise: { config: cfg, version, vocab: vocabFile } },
  };
}

/** Most shard files a model may have. */
const MAX_SHARDS = 64;

/** Checks a parsed model.json and returns its shelfwise metadata; throws a clear error when unusable. */
export function checkModelJson(json: unknown): ModelJson {
  const j = json as ModelJson;
  if (!j || typeof j !== 'object' || !Array.isArray(j.weightsManifest))
    throw new Error('model.json: no weightsManifest (not a tfjs weights manifest)');
  const meta = j.userDefinedMetadata?.shelfwise;
  if (!meta) throw new Error('model.json: no userDefinedMetadata.shelfwise (config, version, vocab)');
  meta.config = checkConfig(meta.config);
  if (typeof meta.version !== 'string' || !meta.version || meta.version.length > 200)
    throw new Error('model.json: shelfwise.version missing or not a short string');
  if (typeof meta.vocab !== 'string' || !meta.vocab || meta.vocab.length > 1000)
    throw new Error('model.json: shelfwise.vocab must name the vocabulary file');
  const v = meta.visit;
  const frac = (x: unknown) => typeof x === 'number' && x >= 0 && x <= 1;
  if (
    v !== undefined &&
    (!v ||
      typeof v.path !== 'string' ||
      !v.path ||
      v.path.length > 1000 ||
      typeof v.version !== 'string' ||
      ![v.decay, v.lambdaNew, v.lambdaReturning].every(frac))
  )
    throw new Error('model.json: shelfwise.visit needs a path, a version, and decay and λs between 0 and 1');
  if (meta.items !== undefined) meta.items = checkItemsMeta(meta.items, meta.config.d);
  // The manifest is bounded before any shard is fetched or any byte allocated.
  const groups = j.weightsManifest;
  if (groups.length > MAX_SHARDS) throw new Error(`model.json: ${groups.length} weight groups (at most ${MAX_SHARDS})`);
  let paths = 0,
    bytes = 0,
    specs = 0;
  for (const g of groups) {
    if (!g || !Array.isArray(g.paths) || !Array.isArray(g.weights))
      throw new Error('model.json: a weightsManifest group without paths and weights');
    paths += g.paths.length;
    specs += g.weights.length;
    if (paths > MAX_SHARDS) throw new Error(`model.json: more than ${MAX_SHARDS} shard files`);
    if (specs > 10_000) throw new Error('model.json: more than 10,000 weight entries');
    for (const p of g.paths)
      if (typeof p !== 'string' || !p || p.length > 1000)
        throw new Error('model.json: a shard path is not a short string');
    for (const w of g.weights) {
      if (
        !w ||
        typeof w.name !== 'string' ||
        !Array.isArray(w.shape) ||
        w.shape.length > 4 ||
        !w.shape.every((x) => Number.isInteger(x) && x >= 0)
      )
        throw new Error(`model.json: weight entry ${JSON.stringify(w?.name)?.slice(0, 60)} has no valid shape`);
      const q = w.quantization?.dtype;
      bytes += w.shape.reduce((a, b) => a * b, 1) * (q === 'uint8' ? 1 : q === 'float16' ? 2 : 4);
      if (bytes > MAX_PARAMS * 4) throw new Error(`model.json: the weights need more than ${MAX_PARAMS * 4} bytes`);
    }
  }
  return j;
}

/**
 * Decodes shards (in manifest order: group by group, path by path) into parameters, checking that every
 * parameter of the config is present with the right shape and that the shards are long enough.
 */
export function decodeParams(json: ModelJson, shards: ArrayBuffer[]): Params {
  const cfg = json.userDefinedMetadata.shelfwise.config;
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const need = specs.reduce((n, s) => {
    const count = s.shape.reduce((a, b) => a * b, 1);
    const q = s.quantization?.dtype;
    return n + count * (q === 'uint8' ? 1 : q === 'float16' ? 2 : 4);
  }, 0);
  const total = shards.reduce((n, b) => n + b.byteLength, 0);
  if (total !== need)
    throw new Error(`model weights: shards hold ${total} bytes, the manifest needs ${need} (truncated or wrong file)`);
  const buf = new Uint8Array(total);
  let off = 0;
  for (const s of shards) {
    buf.set(new Uint8Array(s), off);
    off += s.byteLength;
  }
  const named = tf.io.decodeWeights(buf.buffer, specs);
  const params: Params = {};
  const items = json.userDefinedMetadata.shelfwise.items;
  // A sharded model ships the codebooks; its item rows (and their return propensities) come from the shards.
  const shapes = items
    ? [
        ['item_pq', [items.m * CODEBOOK, cfg.d / items.m]] as [string, number[]],
        ...paramShapes(cfg).filter(([n]) => n !== 'item_emb' && n !== 'ret_item'),
      ]
    : paramShapes(cfg);
  const table = items ? 'item_pq' : 'item_emb';
  try {
    for (const [name, shape] of shapes) {
      const t = named[name];
      if (!t) throw new Error(`model weights: parameter ${name} missing`);
      if (t.shape.join(',') !== shape.join(','))
        throw new Error(
          `model weights: ${name} has shape [${t.shape.join(',')}], the config needs [${shape.join(',')}]`,
        );
      params[name] = t;
    }
    const bad = (params[table].dataSync() as Float32Array).some((v) => !Number.isFinite(v));
    if (bad) throw new Error(`model weights: ${table} contains NaN or infinite values`);
  } catch (e) {
    for (const t of Object.values(named)) t.dispose();
    throw e;
  }
  for (const [n, t] of Object.entries(named)) if (!(n in params)) t.dispose();
  return params;
}

export function checkVocab(v: unknown, cfg: ModelConfig): Vocab {
  const o = v as Vocab;
  if (!o || !Array.isArray(o.ids)) throw new Error('vocab: no ids array');
  if (o.ids.length !== cfg.vocabSize - 1)
    throw new Error(`vocab: ${o.ids.length} ids, the model has ${cfg.vocabSize - 1} item rows`);
  return o;
}
