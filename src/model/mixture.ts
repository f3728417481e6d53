/**
 * Return and discover, scored in plain JS for one shopper: the page and the offline evaluation both rank
 * with this (training computes the same mixture with tfjs ops in encoder.ts's `nextItemLoss`; a test holds
 * the two together).
 *
 *   score(item) = log( g · p_return(item) + (1 − g) · p_catalog(item) )
 *
 * p_catalog is the softmax of the catalog logits (user vector · item embedding) over every item;
 * p_return a softmax over the shopper's own history items (features from history.ts); g the gate.
 */
import type { Params } from './encoder.js';
import type { ModelConfig } from './config.js';
import { HISTORY_FEATURES, ITEM_FEATURES, type ReturnCandidates } from './history.js';

export interface ReturnWeights {
  w1: Float32Array;
  u: Float32Array;
  b1: Float32Array;
  w2: Float32Array;
  alpha: number;
  item: Float32Array;
  gu: Float32Array;
  gs: Float32Array;
  gb: number;
  H: number;
  d: number;
}

/** The return part's weights on the JS side. */
export function returnWeights(params: Params, cfg: ModelConfig): ReturnWeights {
  const f = (k: string) => params[k].dataSync() as Float32Array;
  return {
    w1: f('ret_w1'),
    u: f('ret_u'),
    b1: f('ret_b1'),
    w2: f('ret_w2'),
    alpha: f('ret_alpha')[0],
    item: f('ret_item'),
    gu: f('gate_u'),
    gs: f('gate_s'),
    gb: f('gate_b')[0],
    H: cfg.returnHidden!,
    d: cfg.d,
  };
}

export interface Mixture {
  /** log mixture probability of every item row (row 0: -Infinity). */
  scores: Float32Array;
  /** The gate: the share of the return part for this shopper now. */
  gate: number;
  /** Per candidate: the return part's probability mass for it (g · p_return) and the catalog's ((1 − g) · p_catalog). */
  fromReturn: Float32Array;
  fromCatalog: Float32Array;
  /** log(1 − g) − logsumexp(z): a row only the catalog part scores (not among the candidates) scores z + shift. */
  shift: number;
}

/** log Σ exp(z[i]) over the item rows (row 0, padding, left out). */
export function logSumExp(z: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 1; i < z.length; i++) if (z[i] > m) m = z[i];
  let s = 0;
  for (let i = 1; i < z.length; i++) s += Math.exp(z[i] - m);
  return m + Math.log(s);
}

const softplus = (x: number) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));

/** The mixture for catalog logits `z` (every item row; row 0 ignored), the user vector and the shopper's candidates. */
export function mixture(z: ArrayLike<number>, user: ArrayLike<number>, c: ReturnCandidates, w: ReturnWeights): Mixture {
  const V = z.length,
    { H, d } = w;
  const lseCat = logSumExp(z);
  // The user-dependent part of the hidden layer, shared by all candidates.
  const hu = new Float64Array(H);
  for (let j = 0; j < H; j++) {
    let a = w.b1[j];
    for (let k = 0; k < d; k++) a += user[k] * w.u[k * H + j];
    hu[j] = a;
  }
  const K = c.rows.length;
  const r = new Float64Array(K);
  let rm = -Infinity;
  for (let k = 0; k < K; k++) {
    let out = w.alpha * z[c.rows[k]] + w.item[c.rows[k]];
    for (let j = 0; j < H; j++) {
      let a = hu[j];
      for (let f = 0; f < ITEM_FEATURES; f++) a += c.feats[k * ITEM_FEATURES + f] * w.w1[f * H + j];
      if (a > 0) out += a * w.w2[j];
    }
    r[k] = out;
    if (out > rm) rm = out;
  }
  let rs = 0;
  for (let k = 0; k < K; k++) rs += Math.exp(r[k] - rm);
  const lseRet = rm + Math.log(rs);
  let a = w.gb;
  for (let k = 0; k < d; k++) a += user[k] * w.gu[k];
  for (let k = 0; k < HISTORY_FEATURES; k++) a += c.summary[k] * w.gs[k];
  const logG = -softplus(-a),
    log1mG = -softplus(a);
  const scores = new Float32Array(V);
  scores[0] = -Infinity;
  for (let i = 1; i < V; i++) scores[i] = log1mG + z[i] - lseCat;
  const fromReturn = new Float32Array(K),
    fromCatalog = new Float32Array(K);
  for (let k = 0; k < K; k++) {
    const row = c.rows[k];
    const lr = logG + r[k] - lseRet,
      lc = log1mG + z[row] - lseCat;
    const mx = Math.max(lr, lc);
    scores[row] = mx + Math.log(Math.exp(lr - mx) + Math.exp(lc - mx));
    fromReturn[k] = Math.exp(lr);
    fromCatalog[k] = Math.exp(lc);
  }
  return { scores, gate: 1 / (1 + Math.exp(-a)), fromReturn, fromCatalog, shift: log1mG - lseCat };
}
