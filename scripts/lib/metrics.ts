/**
 * Full-ranking metrics over all items. For a basket target (several relevant items) `hr@k` is recall@k
 * (the share of the basket's items in the first k) and `ndcg@k` uses binary relevance.
 */

export interface Metrics {
  'hr@10': number;
  'ndcg@10': number;
  'hr@20': number;
  'ndcg@20': number;
  mrr: number;
  users: number;
  /** The validation score training chose its epoch by, where it is not this NDCG@10 (several validation sets). */
  score?: number;
}

/**
 * 0-based rank of `target` in `scores` (rows 1..V-1; row 0 is padding): the number of other candidate items
 * scoring strictly higher, plus half of those tied (so constant scores don't flatter anyone). Items in
 * `exclude` (other than the target) are not candidates. Target 0 (unknown item) ranks last.
 */
export function rankOf(scores: ArrayLike<number>, target: number, exclude?: Iterable<number>): number {
  const V = scores.length;
  if (target <= 0 || target >= V) return V;
  const ts = scores[target];
  if (!Number.isFinite(ts)) return V;
  let higher = 0,
    ties = 0;
  for (let i = 1; i < V; i++) {
    if (i === target) continue;
    const s = scores[i];
    if (s > ts) higher++;
    else if (s === ts) ties++;
  }
  if (exclude) {
    for (const e of new Set(exclude)) {
      if (e === target || e <= 0 || e >= V) continue;
      const s = scores[e];
      if (s > ts) higher--;
      else if (s === ts) ties--;
    }
  }
  return higher + Math.floor(ties / 2);
}

export class MetricSum {
  private n = 0;
  private hr10 = 0;
  private nd10 = 0;
  private hr20 = 0;
  private nd20 = 0;
  private rr = 0;
  add(rank: number): void {
    this.n++;
    if (rank < 10) {
      this.hr10++;
      this.nd10 += 1 / Math.log2(rank + 2);
    }
    if (rank < 20) {
      this.hr20++;
      this.nd20 += 1 / Math.log2(rank + 2);
    }
    this.rr += 1 / (rank + 1);
  }
  /** A basket: the 0-based ranks of its items that the model knows, out of `size` items in all. */
  addSet(ranks: number[], size: number): void {
    this.n++;
    const at = (k: number) => {
      let dcg = 0,
        idcg = 0,
        hits = 0;
      for (const r of ranks)
        if (r < k) {
          hits++;
          dcg += 1 / Math.log2(r + 2);
        }
      for (let i = 0; i < Math.min(size, k); i++) idcg += 1 / Math.log2(i + 2);
      return { recall: hits / Math.max(1, size), ndcg: idcg > 0 ? dcg / idcg : 0 };
    };
    const a = at(10),
      b = at(20);
    this.hr10 += a.recall;
    this.nd10 += a.ndcg;
    this.hr20 += b.recall;
    this.nd20 += b.ndcg;
    this.rr += ranks.length ? 1 / (Math.min(...ranks) + 1) : 0;
  }
  result(): Metrics {
    const n = Math.max(1, this.n);
    return {
      'hr@10': this.hr10 / n,
      'ndcg@10': this.nd10 / n,
      'hr@20': this.hr20 / n,
      'ndcg@20': this.nd20 / n,
      mrr: this.rr / n,
      users: this.n,
    };
  }
}

/** One example into `sum`: its single target, or every item of its basket. */
export function addExample(
  sum: MetricSum,
  scores: ArrayLike<number>,
  ex: { items: ArrayLike<number>; target: number; basket?: Int32Array; exclude?: Int32Array },
  excludeSeen: boolean,
): void {
  const exclude = excludeSeen ? Array.from(ex.items) : ex.exclude;
  if (!ex.basket) {
    sum.add(rankOf(scores, ex.target, exclude));
    return;
  }
  const ranks: number[] = [];
  for (const it of ex.basket) if (it > 0) ranks.push(rankOf(scores, it, exclude));
  sum.addSet(ranks, ex.basket.length);
}
