/**
 * Turns model scores into a grid order: blends with the merchant's order and applies merchandising rules.
 * Pure functions: no tfjs, no DOM.
 */

export interface Candidate {
  id: string;
  category?: string;
  /**
   * The product's content (title, category path, brand, price): a product the model has no row for (added
   * after training) is ranked from it where the model has a content part.
   */
  content?: { title?: string; category?: string; brand?: string; price?: number };
  /**
   * A sharded model's code for the product (base64, from the model directory's `codes.tsv`; markup:
   * `data-shelfwise-code`): the page ranks it without fetching its shard.
   */
  code?: string;
  /** false = out of stock / hidden (moved to the end and flagged when `hideUnavailable`). */
  available?: boolean;
}

export interface RankRules {
  /** Item id → 0-based position it must occupy. */
  pin?: Record<string, number>;
  /** Item id → how far up to move it, as a share of the list (0.1 = up by a tenth; negative moves down). */
  boost?: Record<string, number>;
  /** Items sent to the end (before unavailable ones), in their merchant order. */
  bury?: string[];
  /** Move unavailable items to the end and flag them hidden (default true). */
  hideUnavailable?: boolean;
  /** At most `max` items of one category in the first `top` positions. */
  categoryCap?: { top: number; max: number };
  /** Treat items the shopper already purchased as unavailable. */
  excludePurchased?: boolean;
}

export interface RankOptions {
  /** 0 = merchant order, 1 = fully personalized (default 1). */
  blend?: number;
  /** Where items unknown to the model sit on the personalized scale, 0 (top) … 1 (bottom); default 0.5. */
  unknownPrior?: number;
  rules?: RankRules;
}

export interface Ranked {
  itemId: string;
  /** Model score (dot product), or null for items the model does not know. */
  score: number | null;
  /** 0-based position in the returned order. */
  position: number;
  /** 0-based position in the merchant's order. */
  defaultPosition: number;
  /**
   * Why it ranks here, when the model knows. For a discovered item (`source` 'discover'): the id of the
   * history item that contributed most to its score. For a returned one ('return'): what the shopper did
   * with it, e.g. "bought 3 times, last 12 days ago" or "viewed today". Given for the first 48 positions,
   * computed when first read (a grid reorder does not pay for it).
   */
  reason: string | null;
  /** 'return': the shopper's own history drove its score; 'discover': the sequence model's catalog scores; null: not scored. */
  source: 'return' | 'discover' | null;
  /** True for items moved to the end as unavailable / already purchased. */
  hidden: boolean;
}

const finite = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : 0);

/** A rule object's own enumerable entries as a Map (nothing inherited; a non-object gives none). */
function ownEntries(o: Record<string, number> | undefined): Map<string, number> {
  const m = new Map<string, number>();
  if (!o || typeof o !== 'object') return m;
  for (const k of Object.keys(o)) m.set(k, o[k]);
  return m;
}

/**
 * Sorts `idx` by score, highest first, ties by index. Scores that are all float32 values (the model's) go
 * through one native numeric sort of packed keys (an order-preserving 32-bit image of the score, then the
 * index): no comparator calls and no allocation per comparison, which matters on every interaction.
 */
function byScore(idx: number[], scores: number[]): void {
  const n = idx.length;
  const packable = n < 1 << 20 && idx.every((i) => Math.fround(scores[i]) === scores[i]);
  if (!packable) {
    idx.sort((a, b) => (scores[a] > scores[b] ? -1 : scores[a] < scores[b] ? 1 : a - b));
    return;
  }
  const f = new Float32Array(1),
    u = new Uint32Array(f.buffer),
    keys = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    f[0] = scores[idx[r]] + 0; // -0 → +0: equal scores, equal keys
    const bits = u[0];
    const asc = bits & 0x80000000 ? ~bits >>> 0 : (bits | 0x80000000) >>> 0; // ascending with the score
    keys[r] = (0xffffffff - asc) * 1048576 + idx[r]; // descending score, then ascending index (< 2^52: exact)
  }
  keys.sort();
  for (let r = 0; r < n; r++) idx[r] = keys[r] % 1048576;
}

const clamp01 = (x: number) => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 1);

export function rankCandidates(
  cands: Candidate[],
  scores: Array<number | null>,
  reasons: Array<string | null>,
  opts: RankOptions = {},
  purchased: Set<string> = new Set(),
): Ranked[] {
  const n = cands.length;
  const blend = clamp01(opts.blend ?? 1);
  const prior = clamp01(opts.unknownPrior ?? 0.5);
  const rules = opts.rules ?? {};
  // Personalized percentile among known items (0 = best). Plain loops: this runs on every interaction.
  const known: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = scores[i];
    if (s !== null && Number.isFinite(s)) known.push(i);
  }
  byScore(known, scores as number[]);
  const pct = new Float64Array(n).fill(prior);
  for (let r = 0; r < known.length; r++) pct[known[r]] = known.length > 1 ? r / (known.length - 1) : 0;
  const denom = Math.max(1, n - 1);
  // Rules are read as own entries only (a product id like "constructor" or "toString" is not Object.prototype's).
  const boost = ownEntries(rules.boost);
  const hideUnavail = rules.hideUnavailable ?? true;
  const buried = new Set(rules.bury ?? []);
  const key = new Float64Array(n),
    hidden = new Array<boolean>(n),
    group = new Uint8Array(n);
  let order = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const c = cands[i];
    key[i] = blend * pct[i] + (1 - blend) * (i / denom) - (boost.size ? finite(boost.get(c.id)) : 0);
    hidden[i] = (hideUnavail && c.available === false) || (!!rules.excludePurchased && purchased.has(c.id));
    // Sort key: group (0 normal, 1 buried, 2 hidden), then blended key, then merchant position (stable ties).
    group[i] = hidden[i] ? 2 : buried.size && buried.has(c.id) ? 1 : 0;
    order[i] = i;
  }
  // Small-integer comparisons: a comparator returning a difference of doubles allocates on every call.
  order.sort((a, b) => group[a] - group[b] || (key[a] < key[b] ? -1 : key[a] > key[b] ? 1 : a - b));

  const cap = rules.categoryCap;
  if (cap && cap.top > 0 && cap.max >= 0) {
    const head: number[] = [],
      deferred: number[] = [],
      counts = new Map<string, number>();
    let rest = 0;
    for (; rest < order.length && head.length < cap.top; rest++) {
      const i = order[rest];
      const cat = cands[i].category;
      if (cat === undefined || hidden[i]) {
        head.push(i);
        continue;
      }
      const c = counts.get(cat) ?? 0;
      if (c < cap.max) {
        counts.set(cat, c + 1);
        head.push(i);
      } else deferred.push(i);
    }
    order = [...head, ...deferred, ...order.slice(rest)];
  }

  const pins = [...ownEntries(rules.pin)]
    .map(([id, pos]) => [cands.findIndex((c) => c.id === id), Math.max(0, Math.floor(pos))] as const)
    .filter(([i, pos]) => i >= 0 && Number.isFinite(pos))
    .sort((a, b) => a[1] - b[1]);
  if (pins.length) {
    const pinned = new Set(pins.map(([i]) => i));
    order = order.filter((i) => !pinned.has(i));
    for (const [i, pos] of pins) order.splice(Math.min(pos, order.length), 0, i);
  }
  return order.map((i, position) => ({
    itemId: cands[i].id,
    score: scores[i],
    position,
    defaultPosition: i,
    reason: reasons[i] ?? null,
    source: null,
    hidden: hidden[i],
  }));
}
