/**
 * On-device adaptation: a per-shopper bias vector b added to the user vector (score = (h + b) · e_item).
 * It is fitted on the shopper's own next-item transitions over the frozen encoder's hidden states, with
 * an L2 pull toward 0 (= the pretrained model), and kept only when it ranks the shopper's most recent,
 * held-back event at least as well as without it. Only d numbers are adapted: cheap enough to fit in a
 * few milliseconds (the gradient needs no backprop through the encoder) and too few to memorize a
 * handful of events. Pure JS: the same code runs in Node's evaluation and in the page's worker.
 */

export interface FinetuneOptions {
  /** Gradient steps (default 20). */
  steps?: number;
  /** Step size (default 0.5). */
  lr?: number;
  /** L2 weight toward the pretrained model (default 0.05). */
  l2?: number;
}

/** The recipe's defaults (also what the worker reports per-step timings against). */
export const FINETUNE_DEFAULTS = { steps: 20, lr: 0.5, l2: 0.05 } as const;

export interface FinetuneResult {
  /** The adapted bias (d floats), or null when the guard rejected it. */
  bias: Float32Array | null;
  /** Rank of the held-back event without and with the bias (0 = first). */
  before: number;
  after: number;
  reason: 'kept' | 'worse' | 'not-finite' | 'too-short';
  /** Time spent fitting (all steps) and in the guard, ms. */
  fitMs?: number;
  guardMs?: number;
}

/** Scores of every item row for a user vector (+ optional bias). Row 0 (padding) gets -Infinity. */
export function scoreAll(
  user: ArrayLike<number>,
  itemEmb: Float32Array,
  V: number,
  d: number,
  bias?: Float32Array | null,
): Float32Array {
  const out = new Float32Array(V);
  out[0] = -Infinity;
  for (let r = 1; r < V; r++) {
    let s = 0;
    const o = r * d;
    for (let j = 0; j < d; j++) s += (user[j] + (bias ? bias[j] : 0)) * itemEmb[o + j];
    out[r] = s;
  }
  return out;
}

function rankIn(scores: Float32Array, target: number): number {
  const t = scores[target];
  let r = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i] > t) r++;
  return r;
}

/**
 * Fits the bias on transitions hidden[t] → targets[t] (targets 0 = none), with gradient descent on
 * mean softmax cross-entropy + l2·|b|². `hidden` is [n, d] row-major.
 */
export function fitBias(
  hidden: Float32Array,
  targets: ArrayLike<number>,
  itemEmb: Float32Array,
  V: number,
  d: number,
  o: FinetuneOptions = {},
): Float32Array {
  const steps = o.steps ?? FINETUNE_DEFAULTS.steps,
    lr = o.lr ?? FINETUNE_DEFAULTS.lr,
    l2 = o.l2 ?? FINETUNE_DEFAULTS.l2;
  const rows: number[] = [];
  for (let t = 0; t < targets.length; t++) if (targets[t] > 0) rows.push(t);
  const b = new Float32Array(d);
  if (!rows.length) return b;
  // Base logits h_t · E for every used position, computed once.
  const base = rows.map((t) => scoreAll(hidden.subarray(t * d, (t + 1) * d), itemEmb, V, d));
  const eb = new Float32Array(V),
    s = new Float32Array(V),
    g = new Float32Array(d);
  const ex = new Float64Array(V); // exp(logit - max) of one position, computed once per step
  for (let k = 0; k < steps; k++) {
    for (let r = 1; r < V; r++) {
      let v = 0;
      const off = r * d;
      for (let j = 0; j < d; j++) v += b[j] * itemEmb[off + j];
      eb[r] = v;
    }
    s.fill(0);
    rows.forEach((t, i) => {
      const L = base[i];
      let m = -Infinity;
      for (let r = 1; r < V; r++) m = Math.max(m, L[r] + eb[r]);
      let z = 0;
      for (let r = 1; r < V; r++) z += ex[r] = Math.exp(L[r] + eb[r] - m);
      for (let r = 1; r < V; r++) s[r] += ex[r] / z;
      s[targets[t]] -= 1;
    });
    // g = (Σ_t (p_t - y_t)) · E / n + 2·l2·b
    g.fill(0);
    for (let r = 1; r < V; r++) {
      const w = s[r] / rows.length;
      if (w === 0) continue;
      const off = r * d;
      for (let j = 0; j < d; j++) g[j] += w * itemEmb[off + j];
    }
    for (let j = 0; j < d; j++) b[j] -= lr * (g[j] + 2 * l2 * b[j]);
  }
  return b;
}

/**
 * The guarded recipe. `hidden` holds the encoder's states for the shopper's window ([n, d]) and `rows`
 * the window's items. Fits on the transitions up to the second-to-last event, then checks the last
 * transition (state n-2 → item n-1): the bias is kept only if that event ranks at least as well.
 */
export function guardedFinetune(
  hidden: Float32Array,
  rows: ArrayLike<number>,
  itemEmb: Float32Array,
  V: number,
  d: number,
  o: FinetuneOptions = {},
): FinetuneResult {
  const n = rows.length;
  if (n < 3) return { bias: null, before: -1, after: -1, reason: 'too-short' };
  const targets = new Int32Array(n);
  for (let t = 0; t < n - 2; t++) targets[t] = rows[t + 1];
  const t0 = performance.now();
  const b = fitBias(hidden, targets, itemEmb, V, d, o);
  const t1 = performance.now();
  const h = hidden.subarray((n - 2) * d, (n - 1) * d);
  const before = rankIn(scoreAll(h, itemEmb, V, d), rows[n - 1]);
  const fitMs = t1 - t0;
  if (!b.every(Number.isFinite))
    return { bias: null, before, after: -1, reason: 'not-finite', fitMs, guardMs: performance.now() - t1 };
  const after = rankIn(scoreAll(h, itemEmb, V, d, b), rows[n - 1]);
  const guardMs = performance.now() - t1;
  return after <= before
    ? { bias: b, before, after, reason: 'kept', fitMs, guardMs }
    : { bias: null, before, after, reason: 'worse', fitMs, guardMs };
}
