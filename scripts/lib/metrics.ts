/** Full-ranking metrics over all items. */

export interface Metrics { 'hr@10': number; 'ndcg@10': number; 'hr@20': number; 'ndcg@20': number; mrr: number; users: number }

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
  let higher = 0, ties = 0;
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
  private n = 0; private hr10 = 0; private nd10 = 0; private hr20 = 0; private nd20 = 0; private rr = 0;
  add(rank: number): void {
    this.n++;
    if (rank < 10) { this.hr10++; this.nd10 += 1 / Math.log2(rank + 2); }
    if (rank < 20) { this.hr20++; this.nd20 += 1 / Math.log2(rank + 2); }
    this.rr += 1 / (rank + 1);
  }
  result(): Metrics {
    const n = Math.max(1, this.n);
    return { 'hr@10': this.hr10 / n, 'ndcg@10': this.nd10 / n, 'hr@20': this.hr20 / n, 'ndcg@20': this.nd20 / n, mrr: this.rr / n, users: this.n };
  }
}
