/**
 * The visit part of the model: what goes with what the shopper is doing now. Beside the sequence model's
 * distribution (return and discover, mixture.ts), the items of the current session (events less than 30
 * minutes apart, the last less than 30 minutes before now) vote for their companions: the items that
 * followed or preceded them within a few events of one session in the training log, weighted P(j | i)
 * (session-based item kNN / sequential rules, the field's strongest simple rules for sessions), the newest
 * event's votes counting most (`decay` per event back).
 *
 *   score(item) = log( (1 − λ) · p_model(item) + λ · p_visit(item) )
 *
 * λ is λ_new for a shopper with nothing before this session and λ_returning otherwise; both, and `decay`,
 * are chosen on validation when the model is trained. Without a current session the score is the model's:
 * a shopper coming back days later gets exactly the next-purchase ranking. Plain JS: training's choice,
 * the offline evaluation and the page all call these functions.
 */

import { logSumExp } from './mixture.js';
import { VISIT_GAP } from './features.js';

export { VISIT_GAP };

export interface VisitMeta {
  /** The companions file beside model.json, and its content version. */
  path: string;
  version: string;
  decay: number;
  lambdaNew: number;
  lambdaReturning: number;
  /** Events apart within one training session that counted as companions (chosen on validation; informational). */
  window?: number;
  /**
   * With a sharded item directory: `path` is a folder of companion shards (items.ts), numbered as the item
   * shards, fetched for the session's products only.
   */
  sharded?: boolean;
}

/** Companions per item row in compressed rows: row i's are ids[start[i] .. start[i+1]), weights alike. */
export interface Companions {
  start: Uint32Array;
  ids: Uint32Array;
  w: Float32Array;
}

export interface VisitScores {
  /** The session's votes for every item row; p_visit(row) = p[row] / total. */
  p: Float64Array;
  total: number;
  /** The session's item rows (oldest first) and their vote weights. */
  rows: number[];
  weights: number[];
  /** Whether anything came before the session (λ_returning) or not (λ_new). */
  returning: boolean;
}

/**
 * Index of the first event of the current session of a history (times in seconds, oldest first), or its
 * length when there is none: the last event is `gap` or more before `now`. `now` NaN: the last event's time.
 */
export function sessionStart(ts: ArrayLike<number>, n: number, now = NaN, gap = VISIT_GAP): number {
  if (n === 0) return 0;
  if (now - ts[n - 1] >= gap) return n;
  let a = n - 1;
  while (a > 0 && !(ts[a] - ts[a - 1] >= gap)) a--;
  return a;
}

/** The newest events of a session that vote (older ones weigh decay^50 or less: nothing). */
export const VISIT_EVENTS = 50;

/**
 * p_visit for a history's current session, its newest VISIT_EVENTS events (rows 0 = unknown are skipped);
 * null when no session item has companions. `p`: a zeroed buffer of V rows to fill instead of a new one.
 */
export function visitScores(
  c: Companions,
  meta: Pick<VisitMeta, 'decay'>,
  items: ArrayLike<number>,
  ts: ArrayLike<number>,
  now: number,
  V: number,
  p = new Float64Array(V),
): VisitScores | null {
  const n = items.length;
  const a = sessionStart(ts, n, now);
  const rows: number[] = [],
    weights: number[] = [];
  let w = 1,
    total = 0;
  for (let k = n - 1; k >= Math.max(a, n - VISIT_EVENTS); k--, w *= meta.decay) {
    const r = items[k];
    if (r <= 0 || r + 1 >= c.start.length) continue;
    rows.unshift(r);
    weights.unshift(w);
    for (let q = c.start[r]; q < c.start[r + 1]; q++) {
      p[c.ids[q]] += w * c.w[q];
      total += w * c.w[q];
    }
  }
  if (!(total > 0)) return null;
  return { p, total, rows, weights, returning: a > 0 };
}

/** λ for this shopper now: λ_returning with anything stored before the session, else λ_new. */
export const lambdaOf = (v: VisitScores, meta: VisitMeta) => (v.returning ? meta.lambdaReturning : meta.lambdaNew);

/** One row's score: the model's log probability `logp` with the visit part mixed in. */
export function mixOne(logp: number, v: VisitScores, row: number, l: number): number {
  return Math.log((1 - l) * Math.exp(logp) + (l * v.p[row]) / v.total + 1e-30);
}

/** The mixture's log probabilities `logp` (every row) with the visit part mixed in, in place. */
export function mixVisit(logp: Float32Array, v: VisitScores, meta: VisitMeta): Float32Array {
  const l = lambdaOf(v, meta);
  for (let i = 1; i < logp.length; i++) logp[i] = mixOne(logp[i], v, i, l);
  return logp;
}

/**
 * Each row's mean companion weight over every row's list: how often it goes with the average product. A
 * best seller goes with every product; a companion weight within a few times of this is its popularity,
 * not the product it goes with.
 */
export function baseRates(c: Companions): Float32Array {
  const V = c.start.length - 1,
    b = new Float32Array(V);
  for (let q = 0; q < c.ids.length; q++) b[c.ids[q]] += c.w[q] / Math.max(1, V - 1);
  return b;
}

/** How many times its base rate a companion must go with a session item for that item to be named its reason. */
export const REASON_LIFT = 3;

/**
 * The session item whose vote gives `row` the most visit probability (0: none); with base rates, only an
 * item that `row` goes with at least REASON_LIFT times as often as with the average product.
 */
export function visitDriver(c: Companions, v: VisitScores, row: number, base?: Float32Array): number {
  let best = 0,
    bestV = 0;
  const min = base ? REASON_LIFT * base[row] : 0;
  v.rows.forEach((r, k) => {
    for (let q = c.start[r]; q < c.start[r + 1]; q++)
      if (c.ids[q] === row && c.w[q] >= min && v.weights[k] * c.w[q] > bestV) {
        bestV = v.weights[k] * c.w[q];
        best = r;
      }
  });
  return best;
}

/** log-softmax over rows 1..V-1 (row 0: −Infinity): a plain sequence model's logits as log probabilities. */
export function logSoftmax(z: ArrayLike<number>): Float32Array {
  const l = logSumExp(z),
    out = new Float32Array(z.length);
  out[0] = -Infinity;
  for (let i = 1; i < z.length; i++) out[i] = z[i] - l;
  return out;
}

/**
 * The companions file: u32 V, u32 entries, u32 start[V + 1], u16 or u32 ids (u32 where V > 65536), f32 scale
 * per row, u8 weight per entry (weight = scale · (q / 255)).
 */
export function encodeCompanions(c: Companions): Uint8Array {
  const V = c.start.length - 1,
    E = c.ids.length,
    wide = V > 65536;
  const idBytes = wide ? 4 : 2;
  const size = 8 + 4 * (V + 1) + idBytes * E + 4 * V + E;
  const buf = new ArrayBuffer(size + ((4 - (size % 4)) % 4));
  const dv = new DataView(buf);
  dv.setUint32(0, V, true);
  dv.setUint32(4, E, true);
  let o = 8;
  for (let i = 0; i <= V; i++, o += 4) dv.setUint32(o, c.start[i], true);
  for (let q = 0; q < E; q++, o += idBytes) {
    if (wide) dv.setUint32(o, c.ids[q], true);
    else dv.setUint16(o, c.ids[q], true);
  }
  const scale = new Float32Array(V);
  for (let i = 0; i < V; i++) for (let q = c.start[i]; q < c.start[i + 1]; q++) scale[i] = Math.max(scale[i], c.w[q]);
  for (let i = 0; i < V; i++, o += 4) dv.setFloat32(o, scale[i], true);
  const bytes = new Uint8Array(buf);
  for (let i = 0; i < V; i++)
    for (let q = c.start[i]; q < c.start[i + 1]; q++) bytes[o + q] = Math.round((255 * c.w[q]) / scale[i]);
  return bytes;
}

/** Reads a companions file for a model of `V` item rows; throws on any inconsistency. */
export function decodeCompanions(buf: ArrayBuffer, V: number): Companions {
  const dv = new DataView(buf);
  const bad = (why: string) => new Error(`companions file: ${why}`);
  if (buf.byteLength < 8) throw bad('truncated');
  const n = dv.getUint32(0, true),
    E = dv.getUint32(4, true);
  if (n !== V) throw bad(`${n} item rows, the model has ${V}`);
  const idBytes = V > 65536 ? 4 : 2;
  if (buf.byteLength < 8 + 4 * (V + 1) + idBytes * E + 4 * V + E) throw bad('truncated');
  const start = new Uint32Array(V + 1),
    ids = new Uint32Array(E),
    w = new Float32Array(E);
  let o = 8;
  for (let i = 0; i <= V; i++, o += 4) start[i] = dv.getUint32(o, true);
  for (let q = 0; q < E; q++, o += idBytes) ids[q] = idBytes === 4 ? dv.getUint32(o, true) : dv.getUint16(o, true);
  for (let i = 0; i < V; i++) if (start[i] > start[i + 1] || start[i + 1] > E) throw bad('rows out of order');
  for (let q = 0; q < E; q++) if (ids[q] <= 0 || ids[q] >= V) throw bad('an item row out of range');
  const wo = o + 4 * V;
  for (let i = 0; i < V; i++, o += 4) {
    const s = dv.getFloat32(o, true);
    for (let q = start[i]; q < start[i + 1]; q++) w[q] = (s * dv.getUint8(wo + q)) / 255;
  }
  return { start, ids, w };
}
