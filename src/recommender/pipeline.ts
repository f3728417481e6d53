/** One ranking: the history re-embedded, candidates scored (return/discover), ordered, explained. */
import { rankCandidates, returnReason, type Candidate, type RankOptions, type Ranked } from '../rank/index.js';
import type { ShelfwiseEvent } from '../events/index.js';
import type { ModelEvent, ModelRuntime } from '../model/runtime.js';
import type { RankInfo } from './types.js';

/** Only the events the model can read; search events carry no item. */
export function modelHistory(history: ShelfwiseEvent[]): ModelEvent[] {
  return history.filter((e) => e.itemId !== undefined && e.type !== 'search') as ModelEvent[];
}

/** What a caller passed as candidates, as a list of candidates (anything unusable dropped). */
export function toCandidates(candidates: unknown): Candidate[] {
  try {
    return (Array.isArray(candidates) ? candidates : [])
      .map((c) => (typeof c === 'string' ? { id: c } : c))
      .filter((c): c is Candidate => !!c && typeof c === 'object' && typeof (c as Candidate).id === 'string');
  } catch { return []; }
}

/** The merchant's order with the rules applied: what every failure and the control arm show. */
export function merchantOrder(cands: Candidate[], o: RankOptions): Ranked[] {
  return rankCandidates(cands, cands.map(() => null), cands.map(() => null), { ...o, blend: 0 });
}

/** Reasons are computed for the first rows only: each costs history × d multiply-adds. */
const EXPLAINED = 48;

export async function rankWithModel(rt: ModelRuntime, history: ShelfwiseEvent[], cands: Candidate[], o: RankOptions): Promise<{ ranked: Ranked[]; info: Omit<RankInfo, 'ms'> }> {
  const known = modelHistory(history);
  const emb = await rt.embed(known);
  const rows = cands.map((c) => rt.rowOf.get(c.id) ?? 0);
  const hasHistory = emb.rows.length > 0;
  const s = rt.scoreFor(emb, known, rows);
  const scores = rows.map((r, i) => (r > 0 && hasHistory ? s.scores[i] : null));
  const sourceOf = new Map(cands.map((c, i) => [c.id, s.source[i]]));
  const purchased = new Set(history.filter((e) => e.type === 'purchase' && e.itemId).map((e) => e.itemId!));
  const ranked = rankCandidates(cands, scores, cands.map(() => null), hasHistory ? o : { ...o, blend: 0 }, purchased);
  const now = Date.now();
  ranked.forEach((r, i) => {
    if (r.score === null) return;
    r.source = sourceOf.get(r.itemId) ?? 'discover';
    if (i >= EXPLAINED) return;
    if (r.source === 'return') r.reason = returnReason(known, r.itemId, now);
    else { const h = rt.reason(emb, rt.rowOf.get(r.itemId)!); r.reason = h > 0 ? rt.vocab.ids[h - 1] : null; }
  });
  return { ranked, info: { backend: rt.backend, incremental: emb.incremental, returnShare: hasHistory ? s.gate : null } };
}
