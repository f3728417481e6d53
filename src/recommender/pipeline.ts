/** One ranking: the history re-embedded, candidates scored (return/discover), ordered, explained. */
import { rankCandidates, returnReason, type Candidate, type RankOptions, type Ranked } from '../rank/index.js';
import type { ShelfwiseEvent } from '../events/index.js';
import type { ModelEvent, ModelRuntime } from '../model/runtime.js';
import type { RankInfo } from './types.js';

/** Only the events the model can read; search events carry no item. */
export function modelHistory(history: ShelfwiseEvent[]): ModelEvent[] {
  return history.filter((e) => e.itemId !== undefined && e.type !== 'search');
}

/** What a caller passed as candidates, as a list of candidates (anything unusable dropped). */
export function toCandidates(candidates: unknown): Candidate[] {
  try {
    return (Array.isArray(candidates) ? (candidates as unknown[]) : [])
      .map((c) => (typeof c === 'string' ? { id: c } : c))
      .filter((c): c is Candidate => !!c && typeof c === 'object' && typeof (c as Candidate).id === 'string');
  } catch {
    return [];
  }
}

/** The merchant's order with the rules applied: what every failure and the control arm show. */
export function merchantOrder(cands: Candidate[], o: RankOptions): Ranked[] {
  return rankCandidates(
    cands,
    cands.map(() => null),
    [],
    { ...o, blend: 0 },
  );
}

/** Reasons are offered for the first rows only: each costs history × d multiply-adds. */
const EXPLAINED = 48;

/**
 * `r` with a `reason` computed when first read (then kept): the grid reorders without paying for
 * explanations no one shows; the demo, onRank handlers and JSON.stringify read them as plain values.
 */
export function explainOnRead(r: Ranked, compute: () => string | null): Ranked {
  let done = false,
    value: string | null = null;
  // A fresh object with the accessor in its literal keeps fast properties (redefining one on `r` would not).
  return {
    itemId: r.itemId,
    score: r.score,
    position: r.position,
    defaultPosition: r.defaultPosition,
    get reason() {
      if (!done) {
        done = true;
        try {
          value = compute();
        } catch {
          /* the runtime was replaced meanwhile */
        }
      }
      return value;
    },
    set reason(v: string | null) {
      done = true;
      value = v;
    },
    source: r.source,
    hidden: r.hidden,
  };
}

export async function rankWithModel(
  rt: ModelRuntime,
  history: ShelfwiseEvent[],
  cands: Candidate[],
  o: RankOptions,
): Promise<{ ranked: Ranked[]; info: Omit<RankInfo, 'ms'> }> {
  const known = modelHistory(history);
  // A sharded catalog: the codes of the history's and the candidates' products (fetched once per shard;
  // none for a shopper without history, whose grid keeps the merchant's order).
  if (known.length && rt.sharded) {
    const codes = new Map<string, string>();
    for (const c of cands) if (typeof c.code === 'string') codes.set(c.id, c.code);
    await rt.ensure([...known.map((e) => e.itemId), ...cands.map((c) => c.id)], codes);
  }
  const emb = await rt.embed(known);
  const n = cands.length,
    rows = new Int32Array(n);
  for (let i = 0; i < n; i++) rows[i] = rt.rowOf.get(cands[i].id) ?? 0;
  const hasHistory = emb.rows.length > 0;
  // The session under way votes for its companions (the visit part; fetched once, on the first need).
  const visit = await rt.visitFor(known);
  const s = rt.scoreFor(emb, known, rows, visit);
  // No session yet: the visit part is fetched after this ranking is shown, for the first click.
  if (!visit) setTimeout(() => void rt.prefetchVisit(), 0);
  const scores = new Array<number | null>(n);
  for (let i = 0; i < n; i++) scores[i] = rows[i] > 0 && hasHistory ? s.scores[i] : null;
  // Products the model has no row for, with content: scored from it where the model has a content part.
  const byContent = new Map<number, Float32Array>();
  const fresh: number[] = [];
  if (hasHistory && rt.hasContent) for (let i = 0; i < n; i++) if (!rows[i] && cands[i].content) fresh.push(i);
  if (fresh.length) {
    const vs = await rt.contentVectors(fresh.map((i) => cands[i].content));
    fresh.forEach((i, k) => {
      const v = vs[k];
      if (!v) return;
      byContent.set(i, v);
      scores[i] = s.cold(v);
    });
  }
  const purchased = new Set<string>();
  for (const e of history) if (e.type === 'purchase' && e.itemId) purchased.add(e.itemId);
  const ranked = rankCandidates(cands, scores, [], hasHistory ? o : { ...o, blend: 0 }, purchased);
  const now = Date.now();
  for (let i = 0; i < ranked.length; i++) {
    const r = ranked[i];
    if (r.score === null) continue;
    const v = byContent.get(r.defaultPosition);
    r.source = v ? 'discover' : s.source[r.defaultPosition];
    if (i >= EXPLAINED) continue;
    ranked[i] = explainOnRead(
      r,
      v
        ? () => {
            const h = rt.reason(emb, v);
            return h > 0 ? rt.vocab.ids[h - 1] : null;
          }
        : visit && s.byVisit[r.defaultPosition]
          ? () => rt.visitReason(visit, rows[r.defaultPosition])
          : r.source === 'return'
            ? () => returnReason(known, r.itemId, now)
            : () => {
                // The model's attention names a history item for any product, a best seller after one click
                // included: an item of the session under way is named only where the product goes with it
                // well above its base rate (visitReason), else none.
                const row = rows[r.defaultPosition],
                  h = rt.reason(emb, row);
                if (visit?.rows.includes(h)) return rt.visitReason(visit, row);
                return h > 0 ? rt.vocab.ids[h - 1] : null;
              },
    );
  }
  return {
    ranked,
    info: { backend: rt.backend, incremental: emb.incremental, returnShare: hasHistory ? s.gate : null },
  };
}
