/**
 * What the return part of the model reads about a shopper's own items: for each of the items in their
 * history (the candidates to come back), features of how often, how recently and with which events they
 * touched it; and a few numbers about the history as a whole for the return/discover gate. Plain JS over
 * embedding rows, so training, evaluation and the page compute exactly the same thing.
 *
 * Per candidate: log1p of its count per event type; log1p of the groups it appears in, of the groups and
 * of the events since it was last touched; log1p hours from then to the history's last event; log1p of its
 * 0.98^age-decayed count; its share of the history; and its cycle (groups since last against its usual
 * spacing). The history: its length, distinct items, share of repeats, groups, last group's size.
 *
 * Events with the same timestamp form one group (one basket: the lines of an invoice); events without a
 * timestamp are each their own group.
 */
import { EVENT_TYPES } from './features.js';

/** Features per candidate: log1p count per event type (6), then the 7 below. */
export const ITEM_FEATURES = EVENT_TYPES.length + 7;
/** Features of the history as a whole (gate inputs). */
export const HISTORY_FEATURES = 5;

/** A history in embedding rows (0 = unknown item, skipped), type codes and times in seconds (NaN = unknown). */
export interface RowHistory {
  items: ArrayLike<number>;
  types: ArrayLike<number>;
  ts: ArrayLike<number>;
}

export interface ReturnCandidates {
  /** Candidate rows (distinct history items), at most `k`. */
  rows: Int32Array;
  /** [rows.length, ITEM_FEATURES] row-major. */
  feats: Float32Array;
  /** [HISTORY_FEATURES]. */
  summary: Float32Array;
}

/** Group index of every event: a new group starts where the timestamp changes or is unknown. */
export function groupIndex(ts: ArrayLike<number>, n = ts.length): Int32Array {
  const g = new Int32Array(n);
  for (let i = 1; i < n; i++) g[i] = g[i - 1] + (ts[i] === ts[i - 1] && !Number.isNaN(ts[i]) ? 0 : 1);
  return g;
}

/** Per-item statistics of the history's first `n` events, in flat arrays indexed by first appearance. */
function itemStats(h: RowHistory, n: number, g: Int32Array) {
  const T = EVENT_TYPES.length;
  const slot = new Map<number, number>();
  const rowOf = new Int32Array(n),
    count = new Int32Array(n),
    byType = new Int32Array(n * T),
    groups = new Int32Array(n);
  const firstGroup = new Int32Array(n),
    lastGroup = new Int32Array(n),
    last = new Int32Array(n),
    lastTsOf = new Float64Array(n),
    decayed = new Float64Array(n);
  let m = 0,
    known = 0,
    repeats = 0,
    decayAll = 1;
  const decay = 0.98;
  // Decayed counts as 0.98^age, age in events from the end: accumulated forwards with one global scale.
  for (let i = 0; i < n; i++) {
    const r = h.items[i];
    if (r <= 0) continue;
    known++;
    let s = slot.get(r);
    if (s === undefined) {
      s = m++;
      slot.set(r, s);
      rowOf[s] = r;
      firstGroup[s] = g[i];
      lastGroup[s] = -1;
    } else repeats++;
    count[s]++;
    const t = h.types[i] - 1;
    if (t >= 0 && t < T) byType[s * T + t]++;
    if (lastGroup[s] !== g[i]) groups[s]++;
    lastGroup[s] = g[i];
    last[s] = i;
    lastTsOf[s] = h.ts[i];
    decayAll *= decay;
    decayed[s] += 1 / decayAll;
    if (decayAll < 1e-30) {
      for (let q = 0; q < m; q++) decayed[q] *= decayAll;
      decayAll = 1;
    }
  }
  return { m, known, repeats, decayAll, rowOf, count, byType, groups, firstGroup, lastGroup, last, lastTsOf, decayed };
}

/**
 * Which of the `m` distinct items keep a return slot when there are more than `k`: half the slots by count
 * (then the later last touch), through one native sort of packed keys count·n + last; then by recency,
 * walking the events back from the end (each item at its last touch).
 */
function chooseSlots(m: number, k: number, n: number, count: Int32Array, last: Int32Array): number[] {
  if (m <= k) {
    const all = new Array<number>(m);
    for (let q = 0; q < m; q++) all[q] = q;
    return all;
  }
  const atLast = new Int32Array(n).fill(-1),
    keys = new Float64Array(m);
  for (let q = 0; q < m; q++) {
    atLast[last[q]] = q;
    keys[q] = count[q] * n + last[q];
  }
  keys.sort();
  const half = Math.ceil(k / 2),
    taken = new Uint8Array(m);
  const chosen: number[] = [];
  for (let r = m - 1; r >= m - half; r--) {
    const q = atLast[keys[r] % n];
    chosen.push(q);
    taken[q] = 1;
  }
  for (let i = n - 1; i >= 0 && chosen.length < k; i--) {
    const q = atLast[i];
    if (q >= 0 && !taken[q]) chosen.push(q);
  }
  return chosen;
}

/**
 * The return candidates of the history's first `n` events: every distinct known item, keeping at most `k`
 * (half the slots by count, the rest by recency), with their features. Per-item statistics live in flat
 * arrays indexed by first appearance (no object per item): this runs on every interaction in the page,
 * over up to the whole stored history, and for every position of every training window.
 */
export function returnCandidates(h: RowHistory, k: number, n = h.items.length): ReturnCandidates {
  const g = groupIndex(h.ts, n);
  const T = EVENT_TYPES.length;
  const { m, known, repeats, decayAll, rowOf, count, byType, groups, firstGroup, lastGroup, last, lastTsOf, decayed } =
    itemStats(h, n, g);
  const chosen = chooseSlots(m, k, n, count, last);
  const lastG = n > 0 ? g[n - 1] : 0;
  let lastTs = NaN;
  for (let i = n - 1; i >= 0; i--)
    if (h.items[i] > 0) {
      lastTs = h.ts[i];
      break;
    }
  const F = ITEM_FEATURES;
  const rows = new Int32Array(chosen.length),
    feats = new Float32Array(chosen.length * F);
  for (let c = 0; c < chosen.length; c++) {
    const s = chosen[c];
    rows[c] = rowOf[s];
    const o = c * F;
    for (let t = 0; t < T; t++) feats[o + t] = Math.log1p(byType[s * T + t]);
    let j = o + T;
    feats[j++] = Math.log1p(groups[s]);
    feats[j++] = Math.log1p(lastG - lastGroup[s]);
    feats[j++] = Math.log1p(n - 1 - last[s]) / 2;
    const dt = lastTs - lastTsOf[s];
    feats[j++] = Number.isFinite(dt) ? Math.log1p(Math.max(0, dt) / 3600) / 4 : 0;
    feats[j++] = Math.log1p(decayed[s] * decayAll);
    feats[j++] = count[s] / Math.max(1, known);
    // Its cycle: groups since it was last touched against its usual spacing (0 when touched in one group only).
    feats[j++] =
      groups[s] > 1
        ? Math.log1p(lastG - lastGroup[s]) - Math.log1p((lastGroup[s] - firstGroup[s]) / (groups[s] - 1))
        : 0;
  }
  let lastGroupSize = 0;
  for (let i = n - 1; i >= 0 && g[i] === lastG; i--) if (h.items[i] > 0) lastGroupSize++;
  const summary = Float32Array.of(
    Math.log1p(known) / 4,
    Math.log1p(m) / 4,
    repeats / Math.max(1, known),
    Math.log1p(known > 0 ? lastG + 1 : 0) / 3,
    Math.log1p(lastGroupSize) / 3,
  );
  return { rows, feats, summary };
}
