/**
 * Splits a normalized log into training sequences and validation/test examples, with items mapped to
 * embedding rows (row 0 = padding / unknown).
 */
import { VISIT_GAP } from '../../src/model/visit.js';
import { typeCode } from '../../src/model/features.js';
import type { ItemMeta, Log } from './data.js';

export interface Seq {
  user: string;
  items: Int32Array;
  types: Int32Array;
  ts: Float64Array;
  /** The shop's session of each event (GA4's ga_session_id), where its export has them; NaN = unknown. */
  session?: Float64Array;
}

/**
 * Whether events a < b of a sequence are in one session: the same session id where the log has the shop's
 * own (both known), else no gap of 30 minutes or more between them (visit.ts's VISIT_GAP; unknown times
 * do not cut).
 */
export function sameSession(s: { ts: ArrayLike<number>; session?: ArrayLike<number> }, a: number, b: number): boolean {
  const x = s.session?.[a],
    y = s.session?.[b];
  if (x !== undefined && y !== undefined && !Number.isNaN(x) && !Number.isNaN(y)) return x === y;
  return !(s.ts[b] - s.ts[a] >= VISIT_GAP);
}

/**
 * History (input) and the item to predict; target 0 = an item outside the vocabulary (always a miss).
 * With the basket protocol, `basket` holds every item of the basket to predict (0 = outside the
 * vocabulary), and the metrics count them all.
 */
export interface Example extends Seq {
  target: number;
  basket?: Int32Array;
  /** Items left out of the ranking besides the target (the visit protocols: what this visit revealed). */
  exclude?: Int32Array;
  /**
   * When the ranking is asked for (seconds): the target's time, or a visit's last revealed event. The
   * visit part reads the session under way at that moment (none when the last event is 30 minutes older).
   */
  now?: number;
}

export interface Split {
  dataset: string;
  protocol: string;
  vocab: string[];
  train: Seq[];
  valid: Example[];
  test: Example[];
  excludeSeen: boolean;
  /** A visit or session protocol: the session rules join the baselines. */
  visit?: boolean;
  /**
   * Products outside the vocabulary that the catalog describes (content, no training events): candidates
   * too, at rows vocab.length + 1 onwards, so a target first sold after the cut-off is a cold target, not a
   * miss by construction. The model knows none of them; the content baseline reads their content.
   */
  cold?: string[];
  /** The catalog's content by item id (title, category, brand, price), for the content baseline. */
  meta?: Map<string, ItemMeta>;
}

const PURCHASE = typeCode('purchase');
const REMOVE = typeCode('remove_from_cart');

function toSeq(user: string, rows: number[], types: number[], ts: number[], session?: number[]): Seq {
  const s: Seq = { user, items: Int32Array.from(rows), types: Int32Array.from(types), ts: Float64Array.from(ts) };
  if (session) s.session = Float64Array.from(session);
  return s;
}

function buildVocab(lists: string[][], minCount: number): { vocab: string[]; row: Map<string, number> } {
  const count = new Map<string, number>();
  for (const l of lists) for (const it of l) count.set(it, (count.get(it) ?? 0) + 1);
  const vocab = [...count]
    .filter(([, c]) => c >= minCount)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([id]) => id);
  return { vocab, row: new Map(vocab.map((id, i) => [id, i + 1])) };
}

/**
 * Leave-one-out (ML-1M, Beauty, Taobao): last event = test, second-last = validation, the rest = training.
 * Users with fewer than 3 events only train. The vocabulary is every item in the log.
 */
export function leaveOneOut(log: Log, excludeSeen: boolean, session = false): Split {
  const { vocab, row } = buildVocab(
    log.users.map((u) => u.items),
    1,
  );
  const train: Seq[] = [],
    valid: Example[] = [],
    test: Example[] = [];
  for (const u of log.users) {
    const rows = u.items.map((i) => row.get(i) ?? 0);
    const n = rows.length;
    if (n < 3) {
      if (n >= 2) train.push(toSeq(u.user, rows, u.types, u.ts, u.session));
      continue;
    }
    train.push(
      toSeq(u.user, rows.slice(0, n - 2), u.types.slice(0, n - 2), u.ts.slice(0, n - 2), u.session?.slice(0, n - 2)),
    );
    // The session protocol reads only the target's own session (sameSession), back from the target (a user
    // whose target opens a session has nothing to read and is left out).
    const from = (t: number) => {
      if (!session) return 0;
      let a = t;
      while (a > 0 && u.ts[t] - u.ts[a - 1] >= 0 && sameSession(u, a - 1, a)) a--;
      return a;
    };
    const example = (t: number): Example | null => {
      const a = from(t);
      if (a >= t) return null;
      return {
        ...toSeq(u.user, rows.slice(a, t), u.types.slice(a, t), u.ts.slice(a, t)),
        target: rows[t],
        now: u.ts[t],
      };
    };
    const v = example(n - 2),
      te = example(n - 1);
    if (v) valid.push(v);
    if (te) test.push(te);
  }
  const protocol = session
    ? `leave-one-out, the target's own session as the only input (${log.users.some((u) => u.session) ? "the shop's session ids" : 'gaps under 30 minutes'}), full ranking`
    : 'leave-one-out, full ranking';
  return { dataset: log.name, protocol, vocab, train, valid, test, excludeSeen, visit: session, meta: log.meta };
}

/**
 * What a time split predicts: the first purchased item after the cut-off, that whole basket, or the rest
 * of that basket once its first half is known as the current visit (`visit-new`: the visit is all the
 * model sees, a shopper without stored history; `visit-returning`: history and visit).
 */
export type TimeProtocol = 'item' | 'basket' | 'visit-new' | 'visit-returning';
/** Every protocol: the time split's, and `session` for leave-one-out logs with timestamps. */
export const PROTOCOLS = ['item', 'basket', 'visit-new', 'visit-returning', 'session'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/** Seconds between the revealed events of a visit: one event per product, as the page records a visit. */
export const VISIT_SPACING = 30;

/**
 * The visit protocols' example from a basket's distinct known items in file order: the first half (at
 * least one) revealed as events of the visit, appended to `hist` (empty for a new shopper), and left out
 * of the ranking; the rest is the basket to predict. Null when the basket has fewer than 2 known items.
 * The revealed events are VISIT_SPACING seconds apart from the basket's time on, as a shopper's clicks
 * reach the page (a log's basket lines share one timestamp; the page never sees that).
 */
function visitExample(hist: Seq, items: number[], ts: number, type: number): Example | null {
  if (items.length < 2) return null;
  const r = Math.floor(items.length / 2);
  const shown = items.slice(0, r);
  return {
    user: hist.user,
    items: Int32Array.from([...hist.items, ...shown]),
    types: Int32Array.from([...hist.types, ...shown.map(() => type)]),
    ts: Float64Array.from([...hist.ts, ...shown.map((_, i) => ts + i * VISIT_SPACING)]),
    target: items[r],
    basket: Int32Array.from(items.slice(r)),
    exclude: Int32Array.from(shown),
    now: ts + (r - 1) * VISIT_SPACING,
  };
}

/**
 * Time split (what a shop sees after deploying): everything before `cutoff` (seconds) trains; each
 * customer's first purchase at or after the cut-off, given their whole history before it, is the test.
 * A basket is the purchases sharing that timestamp (an invoice's lines); the `basket` protocol asks for
 * all of its items. Validation is each customer's last basket before the cut-off, given everything before
 * it (held out of training). The vocabulary is the items seen before the cut-off at least `minCount`
 * times. A later-only item the catalog describes (log.meta) is a cold candidate (`cold`), one it does not
 * a miss for every method.
 */
export function timeSplit(
  log: Log,
  cutoff: number,
  excludeSeen: boolean,
  minCount = 1,
  protocol: TimeProtocol = 'item',
): Split {
  const pre = log.users.map((u) => {
    let k = 0;
    while (k < u.ts.length && u.ts[k] < cutoff) k++;
    return k;
  });
  const { vocab, row } = buildVocab(
    log.users.map((u, i) => u.items.slice(0, pre[i])),
    minCount,
  );
  // The catalog's other products (described, never bought before the cut-off): cold candidates.
  const cold = [...log.meta.keys()].filter((id) => !row.has(id)).sort();
  const coldRow = new Map(cold.map((id, i) => [id, vocab.length + 1 + i]));
  const warm = (r: number) => (r <= vocab.length ? r : 0);
  const train: Seq[] = [],
    valid: Example[] = [],
    test: Example[] = [];
  log.users.forEach((u, ui) => {
    const k = pre[ui];
    // Targets may be cold rows; inputs keep warm rows only (the model embeds nothing else).
    const rows = u.items.map((i) => row.get(i) ?? coldRow.get(i) ?? 0);
    // Drop events of items outside the vocabulary from inputs (the model cannot embed them).
    const keep = (a: number, b: number) => {
      const idx: number[] = [];
      for (let i = a; i < b; i++) if (warm(rows[i]) > 0) idx.push(i);
      return toSeq(
        u.user,
        idx.map((i) => rows[i]),
        idx.map((i) => u.types[i]),
        idx.map((i) => u.ts[i]),
        u.session && idx.map((i) => u.session![i]),
      );
    };
    // The purchases of the basket that starts at event `a` (same timestamp), and the first of them.
    const purchasesAt = (a: number): number[] => {
      const items: number[] = [];
      for (let i = a; i < u.items.length && (i === a || u.ts[i] === u.ts[a]); i++)
        if (u.types[i] === PURCHASE) items.push(rows[i]);
      return items;
    };
    const visit = protocol === 'visit-new' || protocol === 'visit-returning';
    const basketAt = (a: number, h: Seq): Example | null => {
      const items = purchasesAt(a);
      if (visit) {
        const known = [...new Set(items.filter((x) => warm(x) > 0))];
        return visitExample(protocol === 'visit-new' ? toSeq(u.user, [], [], []) : h, known, u.ts[a], PURCHASE);
      }
      return {
        ...h,
        target: items[0] ?? 0,
        now: u.ts[a],
        ...(protocol === 'basket' ? { basket: Int32Array.from(new Set(items)) } : {}),
      };
    };
    let j = k - 1;
    while (j >= 0 && (u.types[j] !== PURCHASE || warm(rows[j]) === 0)) j--;
    let a = j;
    while (a > 0 && !Number.isNaN(u.ts[j]) && u.ts[a - 1] === u.ts[j]) a--;
    const hist = j >= 0 ? keep(0, a) : null;
    if (hist && hist.items.length > 0) {
      train.push(hist);
      const v = basketAt(a, hist);
      if (v) valid.push(v);
    } else if (k >= 2) train.push(keep(0, k));
    if (k > 0) {
      let t = k;
      while (t < u.items.length && u.types[t] !== PURCHASE) t++;
      if (t < u.items.length) {
        const h = keep(0, k);
        const ex = h.items.length > 0 ? basketAt(t, h) : null;
        if (ex) test.push(ex);
      }
    }
  });
  const date = new Date(cutoff * 1000).toISOString().slice(0, 10);
  const what = {
    item: 'first purchase after the cut-off',
    basket: 'every item of the first basket after the cut-off (recall@k as hr@k)',
    'visit-new':
      'the first basket after the cut-off with 2+ known items: its first half is the visit, all the model sees (a new shopper); the rest is ranked, the visit left out (recall@k as hr@k)',
    'visit-returning':
      'the first basket after the cut-off with 2+ known items: history plus its first half as the visit; the rest is ranked, the visit left out (recall@k as hr@k)',
  }[protocol];
  return {
    dataset: log.name,
    protocol: `time split at ${date}: ${what}, full ranking`,
    vocab,
    train,
    valid,
    test,
    excludeSeen,
    visit: protocol === 'visit-new' || protocol === 'visit-returning',
    cold,
    meta: log.meta,
  };
}

export { REMOVE, PURCHASE };
