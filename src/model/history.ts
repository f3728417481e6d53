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
export interface RowHistory { items: ArrayLike<number>; types: ArrayLike<number>; ts: ArrayLike<number> }

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

interface Stat { count: number; byType: Float32Array; groups: number; firstGroup: number; lastGroup: number; last: number; lastTs: number; decayed: number }

/**
 * The return candidates of the history's first `n` events: every distinct known item, keeping at most `k`
 * (half the slots by count, the rest by recency), with their features.
 */
export function returnCandidates(h: RowHistory, k: number, n = h.items.length): ReturnCandidates {
  const g = groupIndex(h.ts, n);
  const stats = new Map<number, Stat>();
  let known = 0, repeats = 0, decayAll = 1;
  const decay = 0.98;
  // Decayed counts as 0.98^age, age in events from the end: accumulated forwards with one global scale.
  for (let i = 0; i < n; i++) {
    const r = h.items[i];
    if (r <= 0) continue;
    known++;
    let s = stats.get(r);
    if (!s) stats.set(r, (s = { count: 0, byType: new Float32Array(EVENT_TYPES.length), groups: 0, firstGroup: g[i], lastGroup: -1, last: -1, lastTs: NaN, decayed: 0 }));
    else repeats++;
    s.count++;
    const t = h.types[i] - 1;
    if (t >= 0 && t < EVENT_TYPES.length) s.byType[t]++;
    if (s.lastGroup !== g[i]) s.groups++;
    s.lastGroup = g[i]; s.last = i; s.lastTs = h.ts[i];
    decayAll *= decay;
    s.decayed += 1 / decayAll;
    if (decayAll < 1e-30) { for (const v of stats.values()) v.decayed *= decayAll; decayAll = 1; }
  }
  const all = [...stats.entries()];
  let chosen = all;
  if (all.length > k) {
    const byCount = [...all].sort((a, b) => b[1].count - a[1].count || b[1].last - a[1].last).slice(0, Math.ceil(k / 2));
    const taken = new Set(byCount.map(([r]) => r));
    const byRecency = all.filter(([r]) => !taken.has(r)).sort((a, b) => b[1].last - a[1].last).slice(0, k - byCount.length);
    chosen = [...byCount, ...byRecency];
  }
  const lastG = n > 0 ? g[n - 1] : 0;
  let lastTs = NaN;
  for (let i = n - 1; i >= 0; i--) if (h.items[i] > 0) { lastTs = h.ts[i]; break; }
  const F = ITEM_FEATURES;
  const rows = new Int32Array(chosen.length), feats = new Float32Array(chosen.length * F);
  chosen.forEach(([r, s], c) => {
    rows[c] = r;
    const o = c * F;
    for (let t = 0; t < EVENT_TYPES.length; t++) feats[o + t] = Math.log1p(s.byType[t]);
    let j = o + EVENT_TYPES.length;
    feats[j++] = Math.log1p(s.groups);
    feats[j++] = Math.log1p(lastG - s.lastGroup);
    feats[j++] = Math.log1p(n - 1 - s.last) / 2;
    const dt = lastTs - s.lastTs;
    feats[j++] = Number.isFinite(dt) ? Math.log1p(Math.max(0, dt) / 3600) / 4 : 0;
    feats[j++] = Math.log1p(s.decayed * decayAll);
    feats[j++] = s.count / Math.max(1, known);
    // Its cycle: groups since it was last touched against its usual spacing (0 when touched in one group only).
    feats[j++] = s.groups > 1 ? Math.log1p(lastG - s.lastGroup) - Math.log1p((s.lastGroup - s.firstGroup) / (s.groups - 1)) : 0;
  });
  let lastGroupSize = 0;
  for (let i = n - 1; i >= 0 && g[i] === lastG; i--) if (h.items[i] > 0) lastGroupSize++;
  const summary = Float32Array.of(
    Math.log1p(known) / 4, Math.log1p(stats.size) / 4, repeats / Math.max(1, known), Math.log1p(known > 0 ? lastG + 1 : 0) / 3, Math.log1p(lastGroupSize) / 3,
  );
  return { rows, feats, summary };
}
