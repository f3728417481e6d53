/**
 * The baselines a shop would otherwise use, at textbook strength, fitted on the same training sequences
 * as the model. Each scores every item row for one history into `out` (row 0 unused).
 */
import type { Seq } from './split.js';

export interface Baseline {
  name: string;
  score(hist: Int32Array, out: Float32Array): void;
}

type SparseRows = Array<Map<number, number> | undefined>;

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
  return {
    name: 'cooccurrence',
    score(hist, out) {
      for (let i = 0; i < V; i++) out[i] = (1e-6 * pop[i]) / maxPop;
      let w = 1;
      for (let k = hist.length - 1, n = 0; k >= 0 && n < history; k--, n++, w *= decay) {
        const m = rows[hist[k]];
        if (m) for (const [j, c] of m) out[j] += w * c;
      }
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
  return {
    name: 'markov',
    score(hist, out) {
      for (let i = 0; i < V; i++) out[i] = (0.5 * pop[i]) / maxPop; // < 1: never outweighs one transition
      const m = hist.length ? rows[hist[hist.length - 1]] : undefined;
      if (m) for (const [j, c] of m) out[j] += c;
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

/** The five baselines of every report, fitted on the same training sequences. */
export function allBaselines(train: Seq[], V: number): Baseline[] {
  return [
    popularity(train, V),
    cooccurrence(train, V),
    markov(train, V),
    repeatFrequency(train, V),
    repeatRecency(train, V),
  ];
}
