/** Full-ranking evaluation of a model, of the baselines and of the simulated on-device adaptation. */
import * as tf from '@tensorflow/tfjs-core';
import { forward, type Params } from '../../src/model/encoder.js';
import { hasReturn, readType, type ModelConfig } from '../../src/model/config.js';

/** An example with its event types as the model reads them (config typeMap). */
function readTypes(ex: Example, cfg: ModelConfig): Example {
  return cfg.typeMap ? { ...ex, types: ex.types.map((t) => readType(cfg, t)) } : ex;
}
import { returnCandidates } from '../../src/model/history.js';
import { mixture, returnWeights } from '../../src/model/mixture.js';
import { modelWindow, packBatch, type RowSeq } from '../../src/model/inputs.js';
import { guardedFinetune, scoreAll, type FinetuneOptions } from '../../src/model/finetune.js';
import type { Example } from './split.js';
import { addExample, MetricSum, type Metrics } from './metrics.js';
import type { Baseline } from './baselines.js';
import { logSoftmax, mixVisit, visitScores } from '../../src/model/visit.js';
import type { VisitPart } from './companions.js';

/** User vectors (hidden state at the last position) for a list of histories: [n, d] row-major. */
export function userVectors(params: Params, cfg: ModelConfig, hist: RowSeq[], batch = 256): Float32Array {
  const d = cfg.d;
  const out = new Float32Array(hist.length * d);
  const windows = hist.map((s) => modelWindow(s, cfg.maxLen));
  // Batches of similar lengths: padding every history to the longest of a random batch costs up to
  // maxLen / (mean length) more (about 5× on Beauty).
  const order = windows.map((_, i) => i).sort((a, b) => windows[a].items.length - windows[b].items.length);
  for (let i = 0; i < order.length; i += batch) {
    const idx = order.slice(i, i + batch);
    const part = idx.map((k) => windows[k]);
    const len = Math.max(1, ...part.map((s) => s.items.length));
    const v = tf.tidy(() => {
      const inp = packBatch(part, len, cfg.numTimeBuckets);
      const { hidden } = forward(params, cfg, inp);
      const lastRows = part.map((_, b) => b * len + len - 1);
      return tf.gather(hidden, tf.tensor1d(lastRows, 'int32'));
    });
    const rows = v.dataSync() as Float32Array;
    v.dispose();
    idx.forEach((k, b) => out.set(rows.subarray(b * d, (b + 1) * d), k * d));
  }
  return out;
}

/** Products the model has no row for, at rows vocabSize, vocabSize + 1, …: their vectors from content (null: none). */
export interface ColdItems {
  vectors: Array<Float32Array | null>;
}

/**
 * Scores of every item row for each example (catalog logits, or with the return part the log mixture
 * probability; with a visit part, the log probability with the session's companions mixed in), handed to
 * `use` batch by batch with the example's index: [V] per example, row 0 unused.
 */
export function scoreExamples(
  params: Params,
  cfg: ModelConfig,
  examples: Example[],
  use: (ex: Example, scores: Float32Array, index: number) => void,
  visit: VisitPart | null = null,
  cold: ColdItems | null = null,
): void {
  // Examples per batch: at most 2^25 scores (128 MB) at once, within the wasm backend's 4 GB memory at any catalog size.
  const B = Math.max(1, Math.min(256, Math.floor(2 ** 25 / (cfg.vocabSize + (cold?.vectors.length ?? 0)))));
  // The item table transposed once: a matmul with a transposed operand is several times slower on wasm.
  // Products the model has no row for follow its rows, with their vectors from content (the content part).
  const C = cold?.vectors.length ?? 0;
  const itemsT = tf.tidy(() => {
    const t = tf.transpose(params.item_emb) as tf.Tensor2D;
    if (!C) return t;
    const m = new Float32Array(C * cfg.d);
    cold!.vectors.forEach((v, k) => v && m.set(v, k * cfg.d));
    return tf.concat<tf.Tensor2D>([t, tf.transpose(tf.tensor2d(m, [C, cfg.d]))], 1);
  });
  const none = cold?.vectors.flatMap((v, k) => (v ? [] : [cfg.vocabSize + k])) ?? [];
  const rw = hasReturn(cfg) ? returnWeights(params, cfg) : null;
  const V = cfg.vocabSize + C;
  // Similar lengths in each batch (see userVectors).
  const len = (i: number) => Math.min(examples[i].items.length, cfg.maxLen);
  const byLen = examples.map((_, i) => i).sort((a, b) => len(a) - len(b));
  for (let i = 0; i < byLen.length; i += B) {
    const idx = byLen.slice(i, i + B);
    const part = idx.map((k) => readTypes(examples[k], cfg));
    const u = userVectors(params, cfg, part, B);
    const scores = tf.tidy(() => tf.matMul(tf.tensor2d(u, [part.length, cfg.d]), itemsT));
    const s = scores.dataSync() as Float32Array;
    scores.dispose();
    part.forEach((ex, b) => {
      const z = s.subarray(b * V, (b + 1) * V);
      for (const k of none) z[k] = -Infinity; // no content the part knows: ranked last
      let out = rw
        ? mixture(z, u.subarray(b * cfg.d, (b + 1) * cfg.d), returnCandidates(ex, cfg.returnItems!), rw).scores
        : z;
      const v = visit && visitScores(visit.c, visit.meta, ex.items, ex.ts, ex.now ?? NaN, V);
      if (v && visit) out = mixVisit(rw ? out : logSoftmax(out), v, visit.meta);
      use(examples[idx[b]], out, idx[b]);
    });
  }
  itemsT.dispose();
}

/** Full-ranking metrics of the model over examples (seen items excluded when asked; a basket target counts every item). */
export function evaluateModel(
  params: Params,
  cfg: ModelConfig,
  examples: Example[],
  excludeSeen: boolean,
  visit: VisitPart | null = null,
  cold: ColdItems | null = null,
): Metrics {
  const sum = new MetricSum();
  scoreExamples(params, cfg, examples, (ex, s) => addExample(sum, s, ex, excludeSeen), visit, cold);
  return sum.result();
}

export function evaluateBaseline(bl: Baseline, V: number, examples: Example[], excludeSeen: boolean): Metrics {
  const sum = new MetricSum();
  const out = new Float32Array(V);
  for (const ex of examples) {
    bl.score(ex.items, out, ex.ts);
    addExample(sum, out, ex, excludeSeen);
  }
  return sum.result();
}

/**
 * Simulates the on-device recipe for each example (src/model/finetune.ts, the code the page's worker
 * runs): only that user's own history, the guard on their most recent event. Returns metrics and how
 * often the adaptation was kept.
 */
export function evaluateFinetuned(
  params: Params,
  cfg: ModelConfig,
  examples: Example[],
  excludeSeen: boolean,
  o: FinetuneOptions = {},
): Metrics & { kept: number } {
  const sum = new MetricSum();
  const E = params.item_emb.dataSync() as Float32Array;
  const V = cfg.vocabSize,
    d = cfg.d;
  const rw = hasReturn(cfg) ? returnWeights(params, cfg) : null;
  let kept = 0;
  const B = 64;
  for (let i = 0; i < examples.length; i += B) {
    const read = examples.slice(i, i + B).map((s) => readTypes(s, cfg));
    const part = read.map((s) => modelWindow(s, cfg.maxLen));
    const len = Math.max(1, ...part.map((s) => s.items.length));
    const h = tf.tidy(() => forward(params, cfg, packBatch(part, len, cfg.numTimeBuckets)).hidden);
    const all = h.dataSync() as Float32Array;
    h.dispose();
    part.forEach((s, b) => {
      const n = s.items.length;
      const states = all.subarray((b * len + len - n) * d, (b + 1) * len * d);
      const r = guardedFinetune(states, s.items, E, V, d, o);
      if (r.bias) kept++;
      const user = states.subarray((n - 1) * d, n * d);
      const z = scoreAll(user, E, V, d, r.bias);
      const ex = read[b];
      // With the return part, the adapted user vector feeds the mixture too (as in the page).
      const scores = rw
        ? mixture(z, r.bias ? user.map((v, j) => v + r.bias![j]) : user, returnCandidates(ex, cfg.returnItems!), rw)
            .scores
        : z;
      addExample(sum, scores, ex, excludeSeen);
    });
  }
  return { ...sum.result(), kept: kept / Math.max(1, examples.length) };
}
