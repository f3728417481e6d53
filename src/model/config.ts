import { NUM_TYPE_ROWS } from './features.js';

/** Architecture of the sequence encoder; stored with the weights in model.json. */
export interface ModelConfig {
  /** Rows of the item embedding, including row 0 (padding). */
  vocabSize: number;
  /** Hidden size. */
  d: number;
  blocks: number;
  heads: number;
  /** Longest history the model reads (older events are dropped). */
  maxLen: number;
  /** Rows of the event-type embedding (padding + 6 types); 0 disables type embeddings. */
  numTypes: number;
  /** Rows of the time-gap embedding; 0 disables it. */
  numTimeBuckets: number;
  /** Feed-forward inner size. */
  ffDim: number;
  /** Feed-forward activation (absent: relu). `gelu` is the sigmoid form x·σ(1.702x). */
  ffAct?: 'relu' | 'gelu';
  /** Multiply the item embeddings by √d where they enter the encoder (absent: no). */
  embScale?: boolean;
  dropout: number;
  /**
   * Training only: dropout (at `dropout`) also on the attention probabilities and the feed-forward hidden
   * layer, where SASRec's reference code has it, besides the embeddings and each residual branch.
   */
  innerDropout?: boolean;
  /**
   * A learned attention bias per distance (query position − key position) and head in each block: how
   * recent an event is, read directly (absolute positions count from the window's first event, so the
   * newest event's position varies with the history's length). Keys carry no distance, so the
   * incremental cache stays exact. Absent: no such bias.
   */
  relPos?: boolean;
  /**
   * The return part (src/model/history.ts): how many of the shopper's own items are scored as candidates
   * to come back, mixed with the catalog softmax by a learned gate. 0 (or absent) = off: the plain
   * sequence model, as for data evaluated with seen items excluded.
   */
  returnItems?: number;
  /** Hidden units of the return part's feature network. */
  returnHidden?: number;
  /**
   * Event types the training data never had, read as one it had (index: type code, value: the code to
   * use): a model trained on purchases alone reads a click as the purchase signal it knows rather than
   * through untrained weights. Absent: every type as it is.
   */
  typeMap?: number[];
}

/** The type code the model reads for an event's type code (see `typeMap`). */
export const readType = (c: ModelConfig, code: number): number => c.typeMap?.[code] ?? code;

/** `typeMap` for the type codes a training set has: each missing code read as the most frequent present one. */
export function typeMapFor(counts: ArrayLike<number>): number[] | undefined {
  let top = 0;
  for (let t = 1; t < counts.length; t++) if (counts[t] > (counts[top] ?? 0)) top = t;
  const missing = Array.from(counts, (n, t) => t > 0 && !(n > 0));
  return top > 0 && missing.some(Boolean) ? Array.from(counts, (_, t) => (missing[t] ? top : t)) : undefined;
}

/** Whether a config has the return part. */
export const hasReturn = (c: ModelConfig): boolean => (c.returnItems ?? 0) > 0;

export function defaultConfig(vocabSize: number, over: Partial<ModelConfig> = {}): ModelConfig {
  return {
    vocabSize,
    d: 64,
    blocks: 2,
    heads: 1,
    maxLen: 50,
    numTypes: NUM_TYPE_ROWS,
    numTimeBuckets: 24,
    ffDim: 64,
    dropout: 0.2,
    returnItems: 0,
    returnHidden: 32,
    ...Object.fromEntries(Object.entries(over).filter(([, v]) => v !== undefined)),
  };
}

/**
 * Largest sizes a model file may declare: checked before anything is allocated, so a corrupt or hostile
 * config is a clear error, not a tab out of memory.
 */
export const CONFIG_LIMITS = {
  vocabSize: 2_000_000,
  d: 1024,
  blocks: 24,
  heads: 64,
  maxLen: 2048,
  numTypes: 64,
  numTimeBuckets: 256,
  ffDim: 8192,
  returnItems: 1000,
  returnHidden: 1024,
} as const;
/** Most parameters a model may have (float32: 400 MB). */
export const MAX_PARAMS = 100_000_000;

/** Throws a clear error when a config read from a file is not usable. */
export function checkConfig(c: unknown): ModelConfig {
  if (!c || typeof c !== 'object') throw new Error('model config: missing or not an object');
  const o = c as Record<string, unknown>;
  const ints = ['vocabSize', 'd', 'blocks', 'heads', 'maxLen', 'numTypes', 'numTimeBuckets', 'ffDim'] as const;
  for (const k of ints) {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
      throw new Error(`model config: ${k} must be a non-negative integer, got ${JSON.stringify(v)?.slice(0, 40)}`);
    if (v > CONFIG_LIMITS[k])
      throw new Error(`model config: ${k} is ${v}, more than the ${CONFIG_LIMITS[k]} a model may have`);
  }
  for (const k of ['returnItems', 'returnHidden'] as const) {
    const v = o[k];
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 0))
      throw new Error(`model config: ${k} must be a non-negative integer, got ${JSON.stringify(v)?.slice(0, 40)}`);
    if (typeof v === 'number' && v > CONFIG_LIMITS[k])
      throw new Error(`model config: ${k} is ${v}, more than the ${CONFIG_LIMITS[k]} a model may have`);
  }
  if (o.ffAct !== undefined && o.ffAct !== 'relu' && o.ffAct !== 'gelu')
    throw new Error(`model config: ffAct must be "relu" or "gelu", got ${JSON.stringify(o.ffAct)?.slice(0, 40)}`);
  if (o.embScale !== undefined && typeof o.embScale !== 'boolean')
    throw new Error('model config: embScale must be true or false');
  if (o.innerDropout !== undefined && typeof o.innerDropout !== 'boolean')
    throw new Error('model config: innerDropout must be true or false');
  if (o.relPos !== undefined && typeof o.relPos !== 'boolean')
    throw new Error('model config: relPos must be true or false');
  const tm = o.typeMap;
  if (
    tm !== undefined &&
    !(
      Array.isArray(tm) &&
      tm.length <= CONFIG_LIMITS.numTypes &&
      tm.every((x) => Number.isInteger(x) && x >= 0 && x < Math.max(1, o.numTypes as number))
    )
  )
    throw new Error('model config: typeMap must list type codes below numTypes');
  const cfg = o as unknown as ModelConfig;
  if (hasReturn(cfg) && !((cfg.returnHidden ?? 0) > 0))
    throw new Error('model config: returnHidden must be positive when returnItems is');
  if (cfg.vocabSize < 2 || cfg.d < 1 || cfg.maxLen < 1 || cfg.heads < 1 || cfg.d % cfg.heads !== 0) {
    throw new Error(
      `model config: inconsistent sizes (vocabSize ${cfg.vocabSize}, d ${cfg.d}, heads ${cfg.heads}, maxLen ${cfg.maxLen})`,
    );
  }
  if (typeof cfg.dropout !== 'number' || !(cfg.dropout >= 0 && cfg.dropout < 1)) cfg.dropout = 0;
  const n = paramCount(cfg);
  if (n > MAX_PARAMS) throw new Error(`model config: ${n} parameters, more than the ${MAX_PARAMS} a model may have`);
  return cfg;
}

/** Parameters of a config (what paramShapes in encoder.ts allocates), computed without allocating. */
export function paramCount(c: ModelConfig): number {
  const { d, ffDim: f } = c;
  const block = 4 * d + 4 * d * d + d + 2 * d * f + f + d + (c.relPos ? c.maxLen * c.heads : 0);
  const ret = hasReturn(c) ? (c.returnHidden ?? 0) * (13 + d + 2) + 1 + c.vocabSize + d + 5 + 1 : 0;
  return c.vocabSize * d + c.numTypes * d + c.numTimeBuckets * d + c.maxLen * d + c.blocks * block + 2 * d + ret;
}
