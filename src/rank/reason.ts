/**
 * The words for why a returned item (one from the shopper's own history) ranks where it does: the
 * strongest thing they did with it, how often, and when last. Pure: no tfjs, no DOM.
 */

/** The history events a reason reads (oldest first; ts in ms). */
export interface ReasonEvent {
  itemId?: string;
  type: string;
  ts: number;
}

const VERBS: Array<[string, string]> = [
  ['purchase', 'bought'],
  ['add_to_cart', 'added to cart'],
  ['click', 'viewed'],
  ['view', 'viewed'],
];

function when(ms: number): string {
  if (!Number.isFinite(ms)) return '';
  const days = Math.floor(Math.max(0, ms) / 86_400_000);
  return days === 0
    ? 'today'
    : days === 1
      ? 'yesterday'
      : days < 60
        ? `${days} days ago`
        : `${Math.round(days / 30)} months ago`;
}

/** e.g. "bought 3 times, last 12 days ago", "viewed today", "added to cart yesterday". */
export function returnReason(history: ReasonEvent[], itemId: string, now: number): string {
  const counts = new Map<string, number>();
  let last = NaN;
  for (const e of history) {
    if (e.itemId !== itemId) continue;
    counts.set(e.type, (counts.get(e.type) ?? 0) + 1);
    last = e.ts;
  }
  const viewed = (counts.get('view') ?? 0) + (counts.get('click') ?? 0);
  const [type, verb] = VERBS.find(([t]) => (t === 'click' || t === 'view' ? viewed : (counts.get(t) ?? 0)) > 0) ?? [
    'view',
    'viewed',
  ];
  const n = type === 'click' || type === 'view' ? viewed : (counts.get(type) ?? 0);
  const w = when(now - last);
  if (n > 1) return `${verb} ${n} times${w ? `, last ${w}` : ''}`;
  return w ? `${verb} ${w}` : verb;
}
