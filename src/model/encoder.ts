/**
 * The SASRec-style causal encoder, written once with tfjs-core ops. The same functions serve Node training
 * (`forward` + `nextItemLoss`), in-page inference (`forward` for a full recompute, `step` for one new
 * position with cached keys/values) and on-device fine-tuning.
 *
 * Layout: item + event-type + time-gap + position embeddings, N pre-LayerNorm blocks (multi-head causal
 * attention, ReLU feed-forward, dropout on both residual branches), a final LayerNorm. The user vector is
 * the hidden state at the last position; an item's score is its dot product with the user vector (the
 * output layer is the item embedding itself).
 *
 * Sequences in a batch are left-padded with item 0. Positions count from each sequence's first real event
 * (0, 1, 2, ...), so appending an event never changes earlier positions: that is what makes the
 * incremental `step` exact.
 */
import * as tf from '@tensorflow/tfjs-core';
import { hasReturn, type ModelConfig } from './config.js';
import { HISTORY_FEATURES, ITEM_FEATURES } from './history.js';
import {
  hasKernel,
  hasLayerNormKernel,
  hasSoftmaxKernel,
  layerNormKernel,
  LN_EPS,
  softmaxLseKernel,
} from './kernels.js';

export type Params = Record<string, tf.Tensor>;

/** tfjs's customGrad parameter type (not exported by name). */
type GradFn = Parameters<typeof tf.customGrad>[0];

/** Names and shapes of every parameter of a config, in a stable order (the order of the weights file). */
export function paramShapes(cfg: ModelConfig): Array<[string, number[]]> {
  const { d, ffDim } = cfg;
  const out: Array<[string, number[]]> = [['item_emb', [cfg.vocabSize, d]]];
  if (cfg.numTypes > 0) out.push(['type_emb', [cfg.numTypes, d]]);
  if (cfg.numTimeBuckets > 0) out.push(['time_emb', [cfg.numTimeBuckets, d]]);
  out.push(['pos_emb', [cfg.maxLen, d]]);
  for (let b = 0; b < cfg.blocks; b++) {
    const p = `block${b}/`;
    out.push(
      [p + 'ln1_g', [d]],
      [p + 'ln1_b', [d]],
      [p + 'wq', [d, d]],
      [p + 'wk', [d, d]],
      [p + 'wv', [d, d]],
      [p + 'wo', [d, d]],
      [p + 'bo', [d]],
      [p + 'ln2_g', [d]],
      [p + 'ln2_b', [d]],
      [p + 'w1', [d, ffDim]],
      [p + 'b1', [ffDim]],
      [p + 'w2', [ffDim, d]],
      [p + 'b2', [d]],
    );
    if (cfg.relPos) out.push([p + 'rel', [cfg.maxLen, cfg.heads]]);
  }
  out.push(['final_ln_g', [d]], ['final_ln_b', [d]]);
  if (hasReturn(cfg)) {
    const H = cfg.returnHidden!;
    out.push(
      ['ret_w1', [ITEM_FEATURES, H]],
      ['ret_u', [d, H]],
      ['ret_b1', [H]],
      ['ret_w2', [H, 1]],
      ['ret_alpha', [1]],
      ['ret_item', [cfg.vocabSize, 1]],
      ['gate_u', [d, 1]],
      ['gate_s', [HISTORY_FEATURES, 1]],
      ['gate_b', [1]],
    );
  }
  return out;
}

/** Fresh parameters: embeddings ~ N(0, 1/d) (item embeddings N(0, 1/d²) with embScale), matrices Glorot-uniform, LayerNorm gains 1, biases 0. */
export function initParams(cfg: ModelConfig, seed = 42): Params {
  const params: Params = {};
  let s = seed;
  for (const [name, shape] of paramShapes(cfg)) {
    s += 1;
    if (name.endsWith('_emb')) {
      params[name] = tf.tidy(() => {
        // Scaled by √d where they enter (embScale), item embeddings start at 1/d: the encoder's input then
        // starts at the same 1/√d as the other embeddings, and the output logits near zero.
        const std = name === 'item_emb' && cfg.embScale ? 1 / cfg.d : 1 / Math.sqrt(cfg.d);
        const w = tf.randomNormal(shape, 0, std, 'float32', s);
        // Row 0 of the item table is padding: keep it zero.
        return name === 'item_emb' ? tf.concat([tf.zeros([1, cfg.d]), tf.slice(w, [1, 0])]) : w;
      });
    } else if (name === 'ret_item' || name.endsWith('/rel')) {
      params[name] = tf.zeros(shape); // no propensity to come back, no preferred distance, until learned
    } else if (shape.length === 2) {
      const lim = Math.sqrt(6 / (shape[0] + shape[1]));
      params[name] = tf.randomUniform(shape, -lim, lim, 'float32', s);
    } else if (name.endsWith('_g') || name === 'ret_alpha') {
      params[name] = tf.ones(shape);
    } else {
      params[name] = tf.zeros(shape);
    }
  }
  return params;
}

/**
 * Whether a gradient is being taken (tf.grad / optimizer.minimize). Outside one, as in the page's inference,
 * the custom-gradient wrappers below are skipped: same values, less per-op overhead.
 */
function recordingGradients(): boolean {
  return ((tf.engine() as unknown as { state: { gradientDepth: number } }).state?.gradientDepth ?? 1) > 0;
}

/**
 * Rows `ids` of `table` ([n, d] → [ids.length, d]). Where the backend lacks the kernel behind gather's
 * gradient (wasm has no UnsortedSegmentSum), the rows are copied and the gradient scatter-added on the CPU
 * side, which is also much cheaper there than a one-hot matmul.
 */
export function lookup(table: tf.Tensor, ids: Int32Array | tf.Tensor1D): tf.Tensor2D {
  if (!recordingGradients() || hasKernel('UnsortedSegmentSum'))
    return tf.gather(table, ids instanceof Int32Array ? tf.tensor1d(ids, 'int32') : ids) as tf.Tensor2D;
  const [rows, d] = table.shape as [number, number];
  const iv = ids instanceof Int32Array ? ids : (ids.dataSync() as Int32Array);
  const f = tf.customGrad(((t: tf.Tensor) => {
    // Copied rather than tf.gather: wasm's GatherV2 took 300 ms for 147k rows of 64 (one step's sampled
    // negatives, tf.profile), the copy a few.
    const tv = t.dataSync() as Float32Array;
    const rowsOut = new Float32Array(iv.length * d);
    for (let i = 0; i < iv.length; i++) rowsOut.set(tv.subarray(iv[i] * d, iv[i] * d + d), i * d);
    return {
      value: tf.tensor2d(rowsOut, [iv.length, d]),
      gradFunc: (dy: tf.Tensor) => {
        const g = new Float32Array(rows * d);
        const dv = dy.dataSync() as Float32Array;
        for (let i = 0; i < iv.length; i++) {
          const src = i * d,
            dst = iv[i] * d;
          for (let j = 0; j < d; j++) g[dst + j] += dv[src + j];
        }
        return tf.tensor2d(g, [rows, d]);
      },
    };
  }) as unknown as GradFn);
  return f(table) as tf.Tensor2D;
}

/**
 * 2-D matmul whose gradient materializes the transposes. On tfjs's wasm backend a matmul with a transposed
 * operand runs 8-10× slower than a plain one (measured: 1.9 vs 16-19 GFLOPS at [2048,64]×[64,4200]), and
 * matMul's own gradients are exactly such products (dA = dY·Bᵀ, dB = Aᵀ·dY). Elsewhere, plain tf.matMul.
 */
export function mm(a: tf.Tensor2D, b: tf.Tensor2D, transposeB = false): tf.Tensor2D {
  if (!recordingGradients() || tf.getBackend() !== 'wasm') return tf.matMul(a, b, false, transposeB);
  const bb = transposeB ? tf.transpose(b) : b;
  const f = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, save: tf.GradSaveFunc) => {
    save([x, w]);
    return {
      value: tf.matMul(x, w),
      gradFunc: (dy: tf.Tensor, [sx, sw]: tf.Tensor[]) => [
        tf.matMul(dy, tf.transpose(sw)),
        tf.matMul(tf.transpose(sx), dy),
      ],
    };
  }) as unknown as GradFn);
  return f(a, bb) as tf.Tensor2D;
}

/** Columns left out of each row's softmax: row r leaves out cols[offsets[r] .. offsets[r + 1]), each once. */
export interface LeftOut {
  offsets: Int32Array;
  cols: Int32Array;
}

/**
 * Row-wise log-sum-exp with the softmax as its gradient, optionally leaving listed columns out of each row
 * (probability 0 there). tfjs's own goes through `max`, whose gradient is a broadcast `equal` over the whole
 * [rows, items] matrix: half of a training step on wasm (measured). On wasm and cpu it is one kernel
 * (kernels.ts: two passes over the matrix, no dense mask); elsewhere the composite below, with the
 * left-out columns at -1e9.
 */
export function logSumExpRows(x: tf.Tensor2D, leftOut?: LeftOut): tf.Tensor1D {
  const [R, n] = x.shape;
  if (hasSoftmaxKernel()) {
    const lo = leftOut ?? { offsets: new Int32Array(R + 1), cols: new Int32Array(0) };
    const offsets = tf.tensor1d(lo.offsets, 'int32'),
      cols = tf.tensor1d(lo.cols, 'int32');
    const f = tf.customGrad(((z: tf.Tensor, save: tf.GradSaveFunc) => {
      const [lse, e, inv] = softmaxLseKernel(z as tf.Tensor2D, offsets, cols);
      save([e, inv]);
      return {
        value: lse,
        gradFunc: (dy: tf.Tensor, [se, sinv]: tf.Tensor[]) => tf.mul(se, tf.mul(sinv, tf.reshape(dy, [-1, 1]))),
      };
    }) as unknown as GradFn);
    return f(x) as tf.Tensor1D;
  }
  let z: tf.Tensor2D = x;
  if (leftOut && leftOut.cols.length) {
    const mask = new Float32Array(R * n);
    for (let r = 0; r < R; r++)
      for (let k = leftOut.offsets[r]; k < leftOut.offsets[r + 1]; k++) mask[r * n + leftOut.cols[k]] = -1e9;
    z = tf.add(x, tf.tensor2d(mask, [R, n])) as tf.Tensor2D;
  }
  const f = tf.customGrad(((zz: tf.Tensor, save: tf.GradSaveFunc) => {
    const m = tf.max(zz, 1, true);
    const e = tf.exp(tf.sub(zz, m));
    const s = tf.sum(e, 1, true);
    const p = tf.div(e, s); // the softmax, kept for the backward pass (one exp over [rows, items], not two)
    save([p]);
    return {
      value: tf.reshape(tf.add(tf.log(s), m), [-1]),
      gradFunc: (dy: tf.Tensor, [sp]: tf.Tensor[]) => tf.mul(sp, tf.reshape(dy, [-1, 1])),
    };
  }) as unknown as GradFn);
  return f(z) as tf.Tensor1D;
}

function layerNorm(x: tf.Tensor2D, g: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  // Inference on wasm / cpu: one kernel (kernels.ts) instead of the nine below.
  if (!recordingGradients() && hasLayerNormKernel()) return layerNormKernel(x, g, b);
  // tf.moments' math with fewer kernels (it casts and subtracts the mean twice): 9 per call, not 11.
  const xc = tf.sub(x, tf.mean(x, -1, true));
  const variance = tf.mean(tf.square(xc), -1, true);
  return tf.add(tf.mul(tf.mul(xc, tf.rsqrt(tf.add(variance, LN_EPS))), g), b) as tf.Tensor2D;
}

export interface RunOptions {
  training?: boolean;
  /** Seed for dropout; advanced by the caller each step for reproducible training. */
  seed?: number;
}

function dropout<T extends tf.Tensor>(x: T, cfg: ModelConfig, opts: RunOptions, salt: number): T {
  if (!opts.training || cfg.dropout <= 0) return x;
  return tf.dropout(x, cfg.dropout, undefined, (opts.seed ?? 0) * 131 + salt) as T;
}

/**
 * Multi-head attention. q: [B*Lq, d], k/v: [B*Lk, d], bias broadcastable to [B, h, Lq, Lk] or null.
 * Returns the attended values [B*Lq, d] and the attention probabilities averaged over heads [B, Lq, Lk].
 */
function attention(
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  v: tf.Tensor2D,
  B: number,
  Lq: number,
  Lk: number,
  h: number,
  bias: tf.Tensor | null,
  drop?: (p: tf.Tensor3D) => tf.Tensor3D,
): { out: tf.Tensor2D; probs: tf.Tensor3D } {
  const d = q.shape[1];
  const dh = d / h;
  const split = (t: tf.Tensor2D, L: number) =>
    h === 1
      ? (tf.reshape(t, [B, L, d]) as tf.Tensor3D)
      : (tf.reshape(tf.transpose(tf.reshape(t, [B, L, h, dh]), [0, 2, 1, 3]), [B * h, L, dh]) as tf.Tensor3D);
  const qh = split(q, Lq),
    kh = split(k, Lk),
    vh = split(v, Lk);
  let s = tf.mul(tf.matMul(qh, kh, false, true), 1 / Math.sqrt(dh)) as tf.Tensor3D;
  if (bias) s = tf.reshape(tf.add(tf.reshape(s, [B, h, Lq, Lk]), bias), [B * h, Lq, Lk]);
  const p = tf.softmax(s) as tf.Tensor3D;
  const o = tf.matMul(drop ? drop(p) : p, vh) as tf.Tensor3D;
  const out =
    h === 1
      ? tf.reshape(o, [B * Lq, d])
      : tf.reshape(tf.transpose(tf.reshape(o, [B, h, Lq, dh]), [0, 2, 1, 3]), [B * Lq, d]);
  const probs = h === 1 ? p : tf.mean(tf.reshape(p, [B, h, Lq, Lk]), 1);
  return { out: out as tf.Tensor2D, probs: probs as tf.Tensor3D };
}

/** Keys and values of one block for the positions seen so far ([1, n, d] each, pre-head-split). */
export interface KVCache {
  k: tf.Tensor2D[];
  v: tf.Tensor2D[];
  length: number;
}

/**
 * One pre-LN transformer block over `x` ([B*Lq, d]). With `past`, the new positions attend to the cached
 * keys/values followed by their own (the incremental path; B must be 1); without it, to their own only.
 * Returns the new state, the keys/values of all positions attended to (cache + new) and the attention probabilities.
 */
function block(
  params: Params,
  cfg: ModelConfig,
  i: number,
  x: tf.Tensor2D,
  B: number,
  Lq: number,
  bias: tf.Tensor | null,
  opts: RunOptions,
  past?: { k: tf.Tensor2D; v: tf.Tensor2D },
): { x: tf.Tensor2D; k: tf.Tensor2D; v: tf.Tensor2D; probs: tf.Tensor3D } {
  const p = `block${i}/`;
  const a = layerNorm(x, params[p + 'ln1_g'], params[p + 'ln1_b']);
  const q = mm(a, params[p + 'wq'] as tf.Tensor2D);
  const kNew = mm(a, params[p + 'wk'] as tf.Tensor2D);
  const vNew = mm(a, params[p + 'wv'] as tf.Tensor2D);
  const k = past ? tf.concat([past.k, kNew]) : kNew;
  const v = past ? tf.concat([past.v, vNew]) : vNew;
  const Lk = k.shape[0] / B;
  const rel = cfg.relPos ? distanceBias(params[p + 'rel'], Lq, Lk, cfg.heads) : null;
  if (rel) bias = bias ? tf.add(bias, rel) : rel;
  const inner = cfg.innerDropout && opts.training;
  const { out, probs } = attention(
    q,
    k,
    v,
    B,
    Lq,
    Lk,
    cfg.heads,
    bias,
    inner ? (t) => dropout(t, cfg, opts, 10 * i + 3) : undefined,
  );
  const dense = (t: tf.Tensor2D, w: string, b: string) =>
    tf.add(mm(t, params[p + w] as tf.Tensor2D), params[p + b]) as tf.Tensor2D;
  let y = tf.add(x, dropout(dense(out, 'wo', 'bo'), cfg, opts, 10 * i + 1)) as tf.Tensor2D;
  const f = layerNorm(y, params[p + 'ln2_g'], params[p + 'ln2_b']);
  const h = dense(f, 'w1', 'b1');
  const act = cfg.ffAct === 'gelu' ? (tf.mul(h, tf.sigmoid(tf.mul(h, 1.702))) as tf.Tensor2D) : tf.relu(h);
  const ff = dense(inner ? dropout(act, cfg, opts, 10 * i + 4) : act, 'w2', 'b2');
  y = tf.add(y, dropout(ff, cfg, opts, 10 * i + 2)) as tf.Tensor2D;
  return { x: y, k, v, probs };
}

/**
 * The attention bias by distance ([1, h, Lq, Lk]): query q (the last Lq of Lk positions) and key j get
 * row (Lk − Lq + q − j) of `table` ([maxLen, h]); keys after the query (masked anyway) get row 0.
 */
function distanceBias(table: tf.Tensor, Lq: number, Lk: number, h: number): tf.Tensor {
  const idx = new Int32Array(Lq * Lk);
  for (let q = 0; q < Lq; q++) for (let j = 0; j < Lk; j++) idx[q * Lk + j] = Math.max(0, Lk - Lq + q - j);
  const rows = lookup(table, idx); // [Lq*Lk, h]
  return tf.reshape(h === 1 ? rows : tf.transpose(rows), [1, h, Lq, Lk]);
}

/** Integer inputs of a batch, each [B*L] row-major, left-padded (item 0 = padding). */
export interface SeqInputs {
  items: Int32Array;
  types: Int32Array;
  gaps: Int32Array;
  pos: Int32Array;
  batch: number;
  len: number;
}

function embed(
  params: Params,
  cfg: ModelConfig,
  items: Int32Array,
  types: Int32Array,
  gaps: Int32Array,
  pos: Int32Array,
): tf.Tensor2D {
  let x = lookup(params.item_emb, items);
  if (cfg.embScale) x = tf.mul(x, Math.sqrt(cfg.d));
  if (cfg.numTypes > 0) x = tf.add(x, lookup(params.type_emb, types));
  if (cfg.numTimeBuckets > 0) x = tf.add(x, lookup(params.time_emb, gaps));
  return tf.add(x, lookup(params.pos_emb, pos));
}

export interface ForwardResult {
  /** Final hidden states [B*L, d]. */
  hidden: tf.Tensor2D;
  /** Per block, keys and values [B*L, d] (used to seed the incremental cache). */
  keys: tf.Tensor2D[];
  values: tf.Tensor2D[];
  /** Last block's attention probabilities [B, L, L], averaged over heads. */
  probs: tf.Tensor3D;
}

/** Full forward pass with a causal mask and key padding mask. Call inside tf.tidy (or dispose the result). */
export function forward(params: Params, cfg: ModelConfig, inp: SeqInputs, opts: RunOptions = {}): ForwardResult {
  const { batch: B, len: L } = inp;
  const valid = new Float32Array(B * L);
  for (let i = 0; i < valid.length; i++) valid[i] = inp.items[i] > 0 ? 1 : 0;
  const mask = tf.tensor2d(valid, [B * L, 1]);
  let x = tf.mul(
    dropout(embed(params, cfg, inp.items, inp.types, inp.gaps, inp.pos), cfg, opts, 0),
    mask,
  ) as tf.Tensor2D;
  // bias[b, 0, i, j] = 0 where j <= i and j is a real event, else -1e9 (a padded query row stays finite).
  const bias = new Float32Array(B * L * L);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < L; i++) {
      for (let j = 0; j < L; j++) {
        bias[(b * L + i) * L + j] = j <= i && valid[b * L + j] > 0 ? 0 : -1e9;
      }
    }
  }
  const biasT = tf.tensor4d(bias, [B, 1, L, L]);
  const keys: tf.Tensor2D[] = [],
    values: tf.Tensor2D[] = [];
  let probs: tf.Tensor3D | null = null;
  for (let i = 0; i < cfg.blocks; i++) {
    const r = block(params, cfg, i, x, B, L, biasT, opts);
    x = tf.mul(r.x, mask) as tf.Tensor2D;
    keys.push(r.k);
    values.push(r.v);
    probs = r.probs;
  }
  const hidden = layerNorm(x, params.final_ln_g, params.final_ln_b);
  return { hidden, keys, values, probs: probs ?? tf.zeros([B, L, L]) };
}

/**
 * Incremental inference: embeds one new event at position `cache.length` and attends over the cached
 * keys/values. Returns the new user vector [1, d], the attention over all positions [n+1], and the grown
 * cache; the old cache's tensors are not disposed (the caller owns them).
 */
export function step(
  params: Params,
  cfg: ModelConfig,
  cache: KVCache,
  item: number,
  type: number,
  gap: number,
): { user: tf.Tensor2D; probs: tf.Tensor1D; cache: KVCache } {
  const pos = cache.length;
  if (pos >= cfg.maxLen) throw new Error(`step: cache is full (${pos} of ${cfg.maxLen} positions)`);
  let x = embed(params, cfg, Int32Array.of(item), Int32Array.of(type), Int32Array.of(gap), Int32Array.of(pos));
  const k: tf.Tensor2D[] = [],
    v: tf.Tensor2D[] = [];
  let probs: tf.Tensor3D | null = null;
  for (let i = 0; i < cfg.blocks; i++) {
    const past = cache.length > 0 ? { k: cache.k[i], v: cache.v[i] } : undefined;
    const r = block(params, cfg, i, x, 1, 1, null, {}, past);
    x = r.x;
    k.push(r.k);
    v.push(r.v);
    probs = r.probs;
  }
  const user = layerNorm(x, params.final_ln_g, params.final_ln_b);
  return { user, probs: tf.reshape(probs as tf.Tensor3D, [pos + 1]) as tf.Tensor1D, cache: { k, v, length: pos + 1 } };
}

export interface LossOptions extends RunOptions {
  /** Negatives drawn for a sampled softmax (per batch for `mixed`, per target for `uniform`); 0 = full softmax over all items. */
  sampled?: number;
  /**
   * Which items a sampled softmax contrasts each target with. `mixed` (the default): every item of the
   * batch plus `sampled` uniform draws, one softmax over that set. `uniform`: each target against its own
   * `sampled` uniform draws, as in sampled-softmax SASRec; no popularity bias from in-batch items.
   */
  negatives?: 'mixed' | 'uniform';
  /**
   * Full softmax only: leave out of each target's softmax the items its window already holds before it
   * (the target itself stays in). For data evaluated with seen items excluded (ML-1M, Beauty), training
   * then spends nothing on pushing those items down.
   */
  maskSeen?: boolean;
  /**
   * Label smoothing ε (0 = none): each target's loss is (1 − ε)·(−log p(target)) + ε·(the mean of −log p over
   * the items its softmax ranges over), a pull toward less confident scores.
   */
  labelSmoothing?: number;
  /**
   * `mixed` only: the uniform draws themselves, instead of drawing `sampled` rows here (a trainer that steps
   * on the batch's rows of the item table passes the draws it made over the whole catalog, renumbered).
   */
  negRows?: Int32Array;
}

/** `n` item rows drawn uniformly from 1..vocabSize-1 (with repeats), the same for the same seed. */
export function uniformDraws(seed: number, n: number, vocabSize: number): Int32Array {
  const out = new Int32Array(n);
  let s = (seed * 2654435761) >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    out[i] = 1 + (s % (vocabSize - 1));
  }
  return out;
}

/**
 * What a batch is trained to predict. `positions` are rows of the packed batch ([B*L]) that predict;
 * each pair (`pairPos[j]` an index into `positions`, `pairItem[j]` an item row) is one target, so one
 * position can predict several items (the whole next basket). With the return part, `ret` holds each
 * position's candidates from the shopper's own history (src/model/history.ts).
 */
export interface Targets {
  positions: Int32Array;
  pairPos: Int32Array;
  pairItem: Int32Array;
  /** Weight of each pair in the mean (default 1 each): 1/|basket| makes every predicting moment count once. */
  pairWeight?: Float32Array;
  /**
   * Per pair, 1 where the target trains the catalog part only (a target inside a visit: what goes with it);
   * with the return part, the others train the gated mixture.
   */
  catalogOnly?: Uint8Array;
  ret?: ReturnInputs;
}

/** Return candidates of P positions, `k` slots each (row 0 = empty slot). */
export interface ReturnInputs {
  k: number;
  /** [P*k] candidate rows. */
  rows: Int32Array;
  /** [P*k*ITEM_FEATURES]. */
  feats: Float32Array;
  /** [P*HISTORY_FEATURES]. */
  summary: Float32Array;
}

/** One target per position, from a dense [B*L] array (0 = none there). */
export function denseTargets(targets: Int32Array): Targets {
  const pos: number[] = [],
    items: number[] = [];
  for (let i = 0; i < targets.length; i++)
    if (targets[i] > 0) {
      pos.push(i);
      items.push(targets[i]);
    }
  return {
    positions: Int32Array.from(pos),
    pairPos: Int32Array.from(pos, (_, j) => j),
    pairItem: Int32Array.from(items),
  };
}

/**
 * For each pair j: the items (as columns: item - 1) its window holds at or before its position, item 0 and
 * the pair's own target excepted, each once.
 */
function seenColumns(inp: SeqInputs, rows: Int32Array, targets: Int32Array): LeftOut {
  const offsets = new Int32Array(rows.length + 1),
    cols: number[] = [];
  rows.forEach((i, r) => {
    const seen = new Set<number>();
    for (let j = i - (i % inp.len); j <= i; j++) {
      const it = inp.items[j];
      if (it > 0 && it !== targets[r] && !seen.has(it)) {
        seen.add(it);
        cols.push(it - 1);
      }
    }
    offsets[r + 1] = cols.length;
  });
  return { offsets, cols: Int32Array.from(cols) };
}

/**
 * Each row's mean logit over the columns left in: (all logits − the left-out ones) / how many are left. The
 * left-out indicator is as large as the logits themselves (label smoothing's path only, not the default's).
 */
function meanLeftIn(logits: tf.Tensor2D, lo: LeftOut): tf.Tensor {
  const [R, n] = logits.shape;
  const out = new Float32Array(R * n),
    left = new Float32Array(R);
  for (let r = 0; r < R; r++) {
    for (let k = lo.offsets[r]; k < lo.offsets[r + 1]; k++) out[r * n + lo.cols[k]] = 1;
    left[r] = n - (lo.offsets[r + 1] - lo.offsets[r]);
  }
  return tf.div(tf.sub(tf.sum(logits, 1), tf.sum(tf.mul(logits, tf.tensor2d(out, [R, n])), 1)), tf.tensor1d(left));
}

/**
 * The return part for user vectors `u` ([P, d]): the logits of each position's history candidates ([P, k],
 * empty slots at -1e9) and the gate's logit ([P]; sigmoid = the share of the return distribution).
 * A candidate's logit is a small network over its features (conditioned on the user vector), a learned
 * per-item propensity to come back (`ret_item`), and `ret_alpha` times its catalog logit (u · e).
 */
export function returnLogits(
  params: Params,
  cfg: ModelConfig,
  u: tf.Tensor2D,
  ret: ReturnInputs,
  catalog?: tf.Tensor2D,
): { logits: tf.Tensor2D; gate: tf.Tensor1D } {
  const P = u.shape[0],
    K = ret.k,
    d = cfg.d,
    H = cfg.returnHidden!;
  let dot: tf.Tensor;
  if (catalog) {
    // The candidates' catalog logits, read from the full softmax's [P, V-1] logits (row r at column r-1).
    const W = catalog.shape[1],
      idx = new Int32Array(P * K);
    for (let i = 0; i < idx.length; i++) idx[i] = Math.floor(i / K) * W + Math.max(0, ret.rows[i] - 1);
    dot = tf.reshape(lookup(tf.reshape(catalog, [-1, 1]), idx), [P, K]);
  } else {
    const e = tf.reshape(lookup(params.item_emb, ret.rows), [P, K, d]);
    dot = tf.sum(tf.mul(e, tf.reshape(u, [P, 1, d])), 2);
  }
  const f = mm(tf.tensor2d(ret.feats, [P * K, ITEM_FEATURES]), params.ret_w1 as tf.Tensor2D);
  const hu = tf.reshape(tf.add(mm(u, params.ret_u as tf.Tensor2D), params.ret_b1), [P, 1, H]);
  const hid = tf.reshape(tf.relu(tf.add(tf.reshape(f, [P, K, H]), hu)), [P * K, H]) as tf.Tensor2D;
  // Plus a learned per-item propensity to come back.
  const mlp = tf.add(
    tf.reshape(mm(hid, params.ret_w2 as tf.Tensor2D), [P, K]),
    tf.reshape(lookup(params.ret_item, ret.rows), [P, K]),
  );
  const empty = new Float32Array(P * K);
  for (let i = 0; i < empty.length; i++) if (ret.rows[i] <= 0) empty[i] = -1e9;
  const logits = tf.add(tf.add(mlp, tf.mul(dot, params.ret_alpha)), tf.tensor2d(empty, [P, K])) as tf.Tensor2D;
  const s = tf.tensor2d(ret.summary, [P, HISTORY_FEATURES]);
  const gate = tf.reshape(
    tf.add(tf.add(mm(u, params.gate_u as tf.Tensor2D), mm(s, params.gate_s as tf.Tensor2D)), params.gate_b),
    [P],
  ) as tf.Tensor1D;
  return { logits, gate };
}

/** log(exp(a) + exp(b)), elementwise. */
function logAddExp(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const m = tf.maximum(a, b);
  return tf.add(m, tf.log(tf.add(tf.exp(tf.sub(a, m)), tf.exp(tf.sub(b, m)))));
}

/**
 * Each target pair's slot among its position's return candidates, as an index into the flattened
 * [positions*K] logits, and -1e9 where the target is not a candidate (probability 0 there).
 */
function returnSlots(t: Targets, ret: ReturnInputs): { flat: Int32Array; miss: Float32Array } {
  const K = ret.k;
  const flat = new Int32Array(t.pairItem.length),
    miss = new Float32Array(t.pairItem.length);
  t.pairItem.forEach((item, j) => {
    const p = t.pairPos[j];
    let slot = -1;
    for (let c = 0; c < K; c++)
      if (ret.rows[p * K + c] === item) {
        slot = c;
        break;
      }
    flat[j] = slot < 0 ? p * K : p * K + slot;
    if (slot < 0) miss[j] = -1e9;
  });
  return { flat, miss };
}

/**
 * Next-item cross-entropy. `targets` are position/item pairs (or a dense [B*L] array: the item that follows
 * position t, 0 = none). Full softmax over every item (row 0, padding, excluded) unless `opts.sampled` > 0.
 * With the return part (config `returnItems` > 0) the probability of a target is the gated mixture
 * g·p_return + (1 − g)·p_catalog, and the loss is its negative log.
 */
export function nextItemLoss(
  params: Params,
  cfg: ModelConfig,
  inp: SeqInputs,
  targets: Int32Array | Targets,
  opts: LossOptions = {},
): tf.Scalar {
  const t = targets instanceof Int32Array ? denseTargets(targets) : targets;
  if (t.pairItem.length === 0) return tf.scalar(0);
  const { hidden } = forward(params, cfg, inp, opts);
  const hP = lookup(hidden, t.positions);
  const h = lookup(hP, t.pairPos);
  const tgIds = t.pairItem;
  const targetLogit = tf.sum(tf.mul(h, lookup(params.item_emb, tgIds)), 1);
  const eps = opts.labelSmoothing ?? 0;
  let lse: tf.Tensor;
  let catalog: tf.Tensor2D | undefined;
  // With label smoothing: each pair's mean logit over the items its softmax ranges over ([pairs]).
  let meanLogit: tf.Tensor | undefined;
  if (opts.sampled && opts.sampled > 0 && opts.negatives === 'uniform') {
    // Each target row gets its own `sampled` uniform draws; a draw equal to the row's target is masked out.
    const R = tgIds.length,
      S = opts.sampled;
    const neg = uniformDraws(opts.seed ?? 1, R * S, cfg.vocabSize);
    const negE = tf.reshape(lookup(params.item_emb, neg), [R, S, cfg.d]);
    let negLogits = tf.sum(tf.mul(tf.reshape(h, [R, 1, cfg.d]), negE), 2) as tf.Tensor2D;
    const mask = new Float32Array(R * S);
    let hits = 0;
    for (let i = 0; i < mask.length; i++)
      if (neg[i] === tgIds[Math.floor(i / S)]) {
        mask[i] = -1e9;
        hits++;
      }
    // (The few masked draws count in the smoothing mean: it stays a plain mean over the row.)
    if (eps > 0) meanLogit = tf.div(tf.add(targetLogit, tf.sum(negLogits, 1)), S + 1);
    if (hits > 0) negLogits = tf.add(negLogits, tf.tensor2d(mask, [R, S])) as tf.Tensor2D;
    lse = logSumExpRows(tf.concat([tf.reshape(targetLogit, [-1, 1]), negLogits], 1) as tf.Tensor2D);
  } else if (opts.sampled && opts.sampled > 0) {
    // Mixed negatives: every item of the batch (its inputs and targets, so popular and repeated items are
    // always contrasted, as in-batch sampling does) plus `sampled` uniform draws for the long tail. Each id
    // appears once and every row's target is among them, so this is a proper softmax over that set.
    const set = new Set<number>();
    for (const x of tgIds) set.add(x);
    for (const x of inp.items) if (x > 0) set.add(x);
    for (const x of opts.negRows ?? uniformDraws(opts.seed ?? 1, opts.sampled, cfg.vocabSize)) set.add(x);
    const logits = mm(h, lookup(params.item_emb, Int32Array.from(set)), true);
    if (eps > 0) meanLogit = tf.mean(logits, 1);
    lse = logSumExpRows(logits);
  } else {
    const table = tf.slice(params.item_emb, [1, 0]) as tf.Tensor2D;
    if (opts.maskSeen) {
      const rows = Int32Array.from(t.pairPos, (p) => t.positions[p]);
      const logits = mm(h, table, true);
      const seen = seenColumns(inp, rows, tgIds);
      if (eps > 0) meanLogit = meanLeftIn(logits, seen);
      lse = logSumExpRows(logits, seen);
    } else {
      // One softmax per predicting position, shared by its targets.
      catalog = mm(hP, table, true);
      if (eps > 0) meanLogit = tf.reshape(lookup(tf.reshape(tf.mean(catalog, 1), [-1, 1]), t.pairPos), [-1]);
      lse = tf.reshape(lookup(tf.reshape(logSumExpRows(catalog), [-1, 1]), t.pairPos), [-1]);
    }
  }
  const logCatalog = tf.sub(targetLogit, lse);
  const mean = (x: tf.Tensor) =>
    t.pairWeight
      ? tf.div(
          tf.sum(tf.mul(x, tf.tensor1d(t.pairWeight))),
          t.pairWeight.reduce((a, b) => a + b, 0),
        )
      : tf.mean(x);
  // Label smoothing's share: the mean −log p over the softmax's items (mean logit − log-sum-exp).
  const smooth = (nll: tf.Tensor) =>
    meanLogit ? tf.add(tf.mul(nll, 1 - eps), tf.mul(tf.sub(lse, meanLogit), eps)) : nll;
  if (!hasReturn(cfg) || !t.ret) return mean(smooth(tf.neg(logCatalog))) as tf.Scalar;
  // The return part: the target's slot among its position's candidates (or none: probability 0 there).
  const { logits, gate } = returnLogits(params, cfg, hP, t.ret, catalog);
  const { flat, miss } = returnSlots(t, t.ret);
  const retLse = logSumExpRows(logits);
  const pairLogit = tf.add(tf.reshape(lookup(tf.reshape(logits, [-1, 1]), flat), [-1]), tf.tensor1d(miss));
  const logReturn = tf.sub(pairLogit, tf.reshape(lookup(tf.reshape(retLse, [-1, 1]), t.pairPos), [-1]));
  const g = tf.reshape(lookup(tf.reshape(gate, [-1, 1]), t.pairPos), [-1]);
  // log g = -softplus(-a), log(1 - g) = -softplus(a)
  let mix = logAddExp(tf.add(tf.neg(tf.softplus(tf.neg(g))), logReturn), tf.add(tf.neg(tf.softplus(g)), logCatalog));
  if (t.catalogOnly) {
    const only = tf.tensor1d(Float32Array.from(t.catalogOnly));
    mix = tf.add(mix, tf.mul(only, tf.sub(logCatalog, mix)));
  }
  return mean(smooth(tf.neg(mix))) as tf.Scalar;
}
