/**
 * The baselines a shop would otherwise use, at textbook strength, fitted on the same training sequences
 * as the model. Each scores every item row for one history into `out` (row 0 unused).
 */
import { sameSession, type Seq } from './split.js';
import { contentTokens } from '../../src/model/content.js';
import type { ItemMeta } from './data.js';
import { sessionStart as pageSessionStart } from '../../src/model/visit.js';

export interface Baseline {
  name: string;
  /** Scores for one history (its items and, where known, their times in seconds). */
  score(hist: Int32Array, out: Float32Array, ts?: Float64Array): void;
}

/**
 * Index of the first event of the history's current session: the trailing events with gaps under 30
 * minutes between them (same instant included). Without timestamps the whole history is one session.
 */
export function sessionStart(ts: ArrayLike<number> | undefined, n: number): number {
  return ts ? pageSessionStart(ts, n) : 0;
}

/** The sessions of the training sequences (see sessionStart), each as its distinct known items. */
function trainingSessions(train: Seq[]): Int32Array[] {
  const out: Int32Array[] = [];
  for (const s of train) {
    let a = 0;
    for (let i = 1; i <= s.items.length; i++) {
      if (i < s.items.length && sameSession(s, i - 1, i)) continue;
      const set = new Set<number>();
      for (let j = a; j < i; j++) if (s.items[j] > 0) set.add(s.items[j]);
      if (set.size) out.push(Int32Array.from(set));
      a = i;
    }
  }
  return out;
}

/** The current session's distinct items with position weights: the newest 1, the oldest 1/n (V-SKNN). */
function sessionWeights(hist: Int32Array, ts: Float64Array | undefined): Map<number, number> {
  const a = sessionStart(ts, hist.length);
  const n = hist.length - a;
  const w = new Map<number, number>();
  for (let i = a; i < hist.length; i++) if (hist[i] > 0) w.set(hist[i], (i - a + 1) / n);
  return w;
}

/**
 * Session-based kNN (V-SKNN, Ludewig & Jannach 2018): the `k` training sessions most similar to the
 * current one (cosine of their item sets, the current session's items weighted by recency), each
 * voting for its items by its similarity. Candidates are the `sample` most recent sessions of each of
 * the current session's items. Popularity breaks ties and fills in for an empty session.
 */
export function sessionKnn(train: Seq[], V: number, k = 100, sample = 500): Baseline {
  const sessions = trainingSessions(train);
  const byItem: number[][] = Array.from({ length: V }, () => []);
  sessions.forEach((s, i) => s.forEach((it) => byItem[it].push(i)));
  const pop = popularityCounts(train, V);
  const maxPop = pop.reduce((m, v) => Math.max(m, v), 1);
  return {
    name: 'session_knn',
    score(hist, out, ts) {
      for (let i = 0; i < V; i++) out[i] = (1e-6 * pop[i]) / maxPop;
      const w = sessionWeights(hist, ts);
      if (w.size === 0) return;
      const sim = new Map<number, number>();
      for (const [it, wi] of w) {
        const list = byItem[it];
        for (let q = Math.max(0, list.length - sample); q < list.length; q++)
          sim.set(list[q], (sim.get(list[q]) ?? 0) + wi);
      }
      const top = [...sim].map(([s, v]) => [s, v / Math.sqrt(w.size * sessions[s].length)] as const);
      top.sort((a, b) => b[1] - a[1]);
      for (const [s, v] of top.slice(0, k)) for (const it of sessions[s]) out[it] += v;
    },
  };
}

/**
 * "Bought together": item-to-item cosine over training sessions (c_ij / sqrt(n_i n_j), pairs in one
 * session), summed over the current session's items with their recency weights. Popularity breaks ties.
 */
export function sessionCooccurrence(train: Seq[], V: number): Baseline {
  const sessions = trainingSessions(train);
  const rows: SparseRows = new Array<Map<number, number> | undefined>(V);
  const n = new Float32Array(V);
  for (const s of sessions) {
    if (s.length > 100) continue; // a bulk order says little about which items go together
    for (const a of s) n[a]++;
    for (let i = 0; i < s.length; i++)
      for (let j = i + 1; j < s.length; j++) {
        bump(rows, s[i], s[j], 1);
        bump(rows, s[j], s[i], 1);
      }
  }
  rows.forEach((m, i) => m?.forEach((c, j) => m.set(j, c / Math.sqrt(n[i] * n[j]))));
  const R = packRows(rows, V);
  const pop = popularityCounts(train, V);
  const maxPop = pop.reduce((m, v) => Math.max(m, v), 1);
  return {
    name: 'bought_together',
    score(hist, out, ts) {
      for (let i = 0; i < V; i++) out[i] = (1e-6 * pop[i]) / maxPop;
      for (const [it, wi] of sessionWeights(hist, ts)) addRow(R, it, wi, out);
    },
  };
}

type SparseRows = Array<Map<number, number> | undefined>;

/** Sparse rows packed (in each Map's order, so sums come out the same): row i is col/val[start[i] .. start[i+1]). */
interface PackedRows {
  start: Uint32Array;
  col: Int32Array;
  val: Float64Array;
}

function packRows(rows: SparseRows, V: number): PackedRows {
  const start = new Uint32Array(V + 1);
  for (let i = 0; i < V; i++) start[i + 1] = start[i] + (rows[i]?.size ?? 0);
  const col = new Int32Array(start[V]),
    val = new Float64Array(start[V]);
  rows.forEach((m, i) => {
    let q = start[i];
    m?.forEach((c, j) => {
      col[q] = j;
      val[q++] = c;
    });
  });
  return { start, col, val };
}

/** out[j] += w · row i's value at j, for every j in row i. */
function addRow(R: PackedRows, i: number, w: number, out: Float32Array): void {
  for (let q = R.start[i], e = R.start[i + 1]; q < e; q++) out[R.col[q]] += w * R.val[q];
}

function bump(rows: SparseRows, i: number, j: number, w: number): void {
  let m = rows[i];
  if (!m) rows[i] = m = new Map();
  m.set(j, (m.get(j) ?? 0) + w);
}

function popularityCounts(train: Seq[], V: number): Float32Array {
  const pop = new Float32Array(V);
  for (const s of train) for (const it of s.items) if (it > 0) pop[it]++;
  return pop;
}

/** Most popular items in training. */
export function popularity(train: Seq[], V: number): Baseline {
  const pop = popularityCounts(train, V);
  return { name: 'popularity', score: (_h, out) => out.set(pop) };
}

/**
 * Item-to-item co-occurrence ("bought together"): pairs within `window` positions of each other in a
 * training sequence, cosine-normalized (c_ij / sqrt(n_i n_j)); a user's score sums the rows of their last
 * `history` items with weight decay^age. Popularity breaks ties (and fills in for cold histories).
 */
export function cooccurrence(train: Seq[], V: number, window = 5, history = 10, decay = 0.8): Baseline {
  const rows: SparseRows = new Array<Map<number, number> | undefined>(V);
  const pop = popularityCounts(train, V);
  for (const s of train) {
    const a = s.items;
    for (let i = 0; i < a.length; i++) {
      for (let j = i + 1; j < Math.min(a.length, i + 1 + window); j++) {
        if (a[i] === a[j] || a[i] === 0 || a[j] === 0) continue;
        bump(rows, a[i], a[j], 1);
        bump(rows, a[j], a[i], 1);
      }
    }
  }
  const maxPop = pop.reduce((m, v) => Math.max(m, v), 1);
  for (let i = 1; i < V; i++) {
    const m = rows[i];
    if (!m) continue;
    for (const [j, c] of m) m.set(j, c / Math.sqrt(pop[i] * pop[j]));
  }
  const R = packRows(rows, V);
  return {
    name: 'cooccurrence',
    score(hist, out) {
      for (let i = 0; i < V; i++) out[i] = (1e-6 * pop[i]) / maxPop;
      let w = 1;
      for (let k = hist.length - 1, n = 0; k >= 0 && n < history; k--, n++, w *= decay)
        if (hist[k] >= 0 && hist[k] < V) addRow(R, hist[k], w, out);
    },
  };
}

/** First-order Markov chain: transition counts from the last item, popularity as the tie-break. */
export function markov(train: Seq[], V: number): Baseline {
  const rows: SparseRows = new Array<Map<number, number> | undefined>(V);
  const pop = popularityCounts(train, V);
  for (const s of train)
    for (let i = 1; i < s.items.length; i++)
      if (s.items[i - 1] > 0 && s.items[i] > 0) bump(rows, s.items[i - 1], s.items[i], 1);
  const maxPop = pop.reduce((m, v) => Math.max(m, v), 1);
  const R = packRows(rows, V);
  return {
    name: 'markov',
    score(hist, out) {
      for (let i = 0; i < V; i++) out[i] = (0.5 * pop[i]) / maxPop; // < 1: never outweighs one transition
      const last = hist.length ? hist[hist.length - 1] : -1;
      if (last >= 0 && last < V) addRow(R, last, 1, out);
    },
  };
}

/**
 * The shopper's own items by how often they occur in the history ("buy again"; P-TopFreq in the
 * next-basket literature), popularity as the tie-break and for the rest of the catalog. Where seen items
 * are excluded from the ranking this is popularity.
 */
export function repeatFrequency(train: Seq[], V: number): Baseline {
  const pop = popularityCounts(train, V);
  const maxPop = pop.reduce((m, v) => Math.max(m, v), 1);
  return {
    name: 'repeat_frequency',
    score(hist, out) {
      for (let i = 0; i < V; i++) out[i] = (0.5 * pop[i]) / maxPop; // < 1: never outweighs one occurrence
      for (const it of hist) if (it > 0) out[it] += 1;
    },
  };
}

/**
 * The shopper's own items by recency: each occurrence weighted decay^age (age in events, newest 0), so
 * recent items come first; popularity fills in the rest. Where seen items are excluded this is popularity.
 */
export function repeatRecency(train: Seq[], V: number, decay = 0.98): Baseline {
  const pop = popularityCounts(train, V);
  const maxPop = pop.reduce((m, v) => Math.max(m, v), 1);
  // Below the weight of the oldest occurrence a history can hold (decay^1000 ≈ 2e-9): popularity only orders the rest.
  const floor = 1e-12;
  return {
    name: 'repeat_recency',
    score(hist, out) {
      for (let i = 0; i < V; i++) out[i] = (floor * pop[i]) / maxPop;
      let w = 1;
      for (let k = hist.length - 1; k >= 0; k--, w *= decay) if (hist[k] > 0) out[hist[k]] += Math.max(w, 2 * floor);
    },
  };
}

/** "Bought together" plus "buy again": the shopper's own items by count, then the visit's companions. */
export function togetherAndAgain(train: Seq[], V: number): Baseline {
  const together = sessionCooccurrence(train, V);
  return {
    name: 'together_and_again',
    score(hist, out, ts) {
      together.score(hist, out, ts);
      for (const it of hist) if (it > 0) out[it] += 1;
    },
  };
}

/**
 * Content kNN: the products most like the shopper's last 10 items (cosine of their content tokens, the
 * newest weighted most, 0.8 per step back), popularity breaking ties. The one baseline that ranks a product
 * no one bought yet (a cold candidate) from its first day.
 */
export function contentKnn(train: Seq[], ids: string[], meta: Map<string, ItemMeta>): Baseline {
  const W = ids.length + 1;
  const pop = popularityCounts(train, W);
  const maxPop = pop.reduce((m, v) => Math.max(m, v), 1);
  const tok = new Map<string, number>();
  const rows: Int32Array[] = [new Int32Array(0)];
  const byTok: number[][] = [];
  ids.forEach((id, r) => {
    const t = contentTokens(meta.get(id)).map((x) => {
      let k = tok.get(x);
      if (k === undefined) {
        k = byTok.length;
        tok.set(x, k);
        byTok.push([]);
      }
      return k;
    });
    rows.push(Int32Array.from(t));
    for (const k of t) byTok[k].push(r + 1);
  });
  const a = new Float64Array(byTok.length);
  return {
    name: 'content_knn',
    score(hist, out) {
      for (let i = 0; i < W; i++) out[i] = (1e-6 * pop[i]) / maxPop;
      // Σ over the last items k of w_k · |T_k ∩ T_j| / √(|T_k| |T_j|), summed per token: each token's weight
      // a_x = Σ_k w_k / √|T_k| over the items that have it, then every product j with x gets a_x / √|T_j|
      // (each token's products are visited once, however many of the last items share it).
      const used: number[] = [];
      let w = 1;
      for (let k = hist.length - 1, n = 0; k >= 0 && n < 10; k--, n++, w *= 0.8) {
        const t = rows[hist[k]];
        if (!t?.length) continue;
        for (const x of t) {
          if (a[x] === 0) used.push(x);
          a[x] += w / Math.sqrt(t.length);
        }
      }
      for (const x of used) {
        for (const j of byTok[x]) out[j] += a[x] / Math.sqrt(rows[j].length);
        a[x] = 0;
      }
    },
  };
}

/**
 * The baselines of every report, fitted on the same training sequences: the five, plus the two
 * session rules (session kNN and "bought together" over sessions) for the visit protocols.
 */
export function allBaselines(
  train: Seq[],
  V: number,
  visit = false,
  content?: { ids: string[]; meta: Map<string, ItemMeta> },
): Baseline[] {
  return [
    popularity(train, V),
    cooccurrence(train, V),
    markov(train, V),
    repeatFrequency(train, V),
    repeatRecency(train, V),
    ...(visit ? [sessionKnn(train, V), sessionCooccurrence(train, V), togetherAndAgain(train, V)] : []),
    ...(content ? [contentKnn(train, content.ids, content.meta)] : []),
  ];
}
