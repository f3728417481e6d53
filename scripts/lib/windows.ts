/** Training windows and batches: what each step of the trainer reads. */
import type { ModelConfig } from '../../src/model/config.js';
import { hasReturn } from '../../src/model/config.js';
import type { ReturnInputs, SeqInputs, Targets } from '../../src/model/encoder.js';
import {
  groupIndex,
  HISTORY_FEATURES,
  ITEM_FEATURES,
  returnCandidates,
  type ReturnCandidates,
} from '../../src/model/history.js';
import { packBatch, type RowSeq } from '../../src/model/inputs.js';
import { REMOVE, sameSession, type Seq } from './split.js';

/**
 * A training window: up to maxLen events of one sequence (`src`, from index `start`) and what they predict:
 * `pos` are window positions with targets (`pairPos` into `pos`, `items`, `weights`); removals are never
 * targets. A position that ends a group of events (a basket: events sharing a timestamp; without
 * timestamps every event) predicts every item of the next group, weight 1 shared by them. A position
 * inside a group (a visit under way) predicts the rest of its group, the items not yet in it; the group's
 * inside positions share the weight `visit` (see WindowOptions). `ret` caches the return candidates of each
 * predicting position.
 */
export interface Window {
  seq: RowSeq;
  src: Seq;
  start: number;
  pos: Int32Array;
  pairPos: Int32Array;
  items: Int32Array;
  weights: Float32Array;
  /** Per target: 1 for a target inside a visit (the rest of its basket), which trains the catalog part only. */
  inside: Uint8Array;
  ret?: ReturnCandidates[];
}

/** What the windows teach besides the next basket. */
export interface WindowOptions {
  /**
   * Weight of the targets inside a visit, per group, relative to a next-group target (0 = none): each
   * position inside a group predicts the rest of the group, and a group's inside positions share this.
   */
  visit?: number;
  /**
   * Also train on every session after a shopper's first (gaps under 30 minutes; 2+ known events) as a
   * window of its own, with no history before it: a new shopper's visit (see visitWindow).
   */
  visitWindows?: boolean;
  seed?: number;
}

/**
 * Inside positions a basket teaches at most: each predicts the rest of the basket, so a basket of m lines
 * would cost m softmaxes over the catalog for one basket's worth of signal (Online Retail: 26 times the
 * positions of next-basket training alone); 4 spread over the basket keep it to a few.
 */
const VISIT_POSITIONS = 4;

/** Whether inside position j (0-based from the basket's first event) of `inside` is one of the k spread evenly. */
function insideChosen(j: number, inside: number, k: number): boolean {
  if (k >= inside) return true;
  // Positions floor(q·inside/k), q = 0..k-1: j is chosen when some q lands on it.
  const q = Math.ceil((j * k) / inside);
  return q < k && Math.floor((q * inside) / k) === j;
}

/** Targets of window positions [0, len) over `s` from `start`, with group ids `g` (see Window). */
function windowTargets(s: Seq, g: Int32Array, start: number, len: number, visit: number) {
  const n = s.items.length;
  const pos: number[] = [],
    pairPos: number[] = [],
    tItems: number[] = [],
    weights: number[] = [],
    inside: number[] = [];
  const add = (i: number, set: Set<number>, w: number, isInside: number) => {
    if (set.size === 0 || w <= 0) return;
    pos.push(i);
    for (const x of set) {
      pairPos.push(pos.length - 1);
      tItems.push(x);
      weights.push(w / set.size);
      inside.push(isInside);
    }
  };
  const known = (j: number) => s.types[j] !== REMOVE && s.items[j] > 0;
  for (let i = 0; i < len; i++) {
    const at = start + i,
      nx = at + 1;
    if (nx >= n) break;
    if (g[nx] !== g[at]) {
      const set = new Set<number>();
      for (let j = nx; j < n && g[j] === g[nx]; j++) if (known(j)) set.add(s.items[j]);
      add(i, set, 1, 0);
      continue;
    }
    if (visit <= 0) continue; // inside a basket: the next group is not known yet at a real shopper's moment
    let a = at;
    while (a > 0 && g[a - 1] === g[at]) a--;
    let b = nx;
    while (b < n && g[b] === g[at]) b++;
    // At most VISIT_POSITIONS of a basket's inside positions, spread evenly from its first event.
    const inside = b - a - 1,
      k = Math.min(inside, VISIT_POSITIONS);
    if (!insideChosen(at - a, inside, k)) continue;
    const seen = new Set<number>();
    for (let j = a; j <= at; j++) seen.add(s.items[j]);
    const rest = new Set<number>();
    for (let j = nx; j < b; j++) if (known(j) && !seen.has(s.items[j])) rest.add(s.items[j]);
    add(i, rest, visit / k, 1);
  }
  return { pos, pairPos, tItems, weights, inside };
}

function windowOf(src: Seq, start: number, end: number, t: ReturnType<typeof windowTargets>): Window | null {
  if (t.pos.length === 0) return null;
  return {
    seq: {
      items: src.items.subarray(start, end),
      types: src.types.subarray(start, end),
      ts: src.ts.subarray(start, end),
      prevTs: start > 0 ? src.ts[start - 1] : undefined,
    },
    src,
    start,
    pos: Int32Array.from(t.pos),
    pairPos: Int32Array.from(t.pairPos),
    items: Int32Array.from(t.tItems),
    weights: Float32Array.from(t.weights),
    inside: Uint8Array.from(t.inside),
  };
}

/**
 * A new shopper's visit, events [a, b) of `s` (a session after some history), as a window of its own:
 * events sharing a timestamp (a basket's lines) spread over the seconds a shopper takes between clicks
 * (5 to 120 s), the way the page records them; the targets are those of the same events in `s` (the rest of
 * their basket, the next group), the last event's next group included.
 */
function visitWindow(s: Seq, g: Int32Array, a: number, b: number, rand: () => number, visit: number): Window | null {
  let c = b;
  while (c < s.items.length && g[c] === g[b]) c++;
  const ts = new Float64Array(c - a);
  for (let j = a; j < c; j++)
    ts[j - a] =
      j === a ? s.ts[a] : ts[j - a - 1] + (s.ts[j] === s.ts[j - 1] ? 5 + 115 * rand() : s.ts[j] - s.ts[j - 1]);
  const src: Seq = { user: s.user, items: s.items.subarray(a, c), types: s.types.subarray(a, c), ts };
  return windowOf(src, 0, b - a, windowTargets(src, g.subarray(a, c), 0, b - a, visit));
}

/**
 * Training windows: chunks of maxLen+1 events from each sequence's end; with `visitWindows`, also each
 * session after the first (gaps under 30 minutes, 2+ known events) as a window with no history before it.
 */
export function makeWindows(train: Seq[], maxLen: number, o: WindowOptions = {}): Window[] {
  const out: Window[] = [];
  const visit = o.visit ?? 0;
  const rand = rng(o.seed ?? 1);
  for (const s of train) {
    const n = s.items.length;
    const g = groupIndex(s.ts);
    for (let end = n; end >= 2; end -= maxLen) {
      const start = Math.max(0, end - maxLen - 1);
      const w = windowOf(s, start, end - 1, windowTargets(s, g, start, end - 1 - start, visit));
      if (w) out.push(w);
    }
    if (!o.visitWindows) continue;
    for (let a = 0; a < n;) {
      let b = a + 1;
      while (b < n && sameSession(s, b - 1, b)) b++;
      let k = 0;
      for (let j = a; j < b; j++) if (s.items[j] > 0 && s.types[j] !== REMOVE) k++;
      if (a > 0 && k >= 2 && b - a <= maxLen) {
        const w = visitWindow(s, g, a, b, rand, visit);
        if (w) out.push(w);
      }
      a = b;
    }
  }
  return out;
}

/**
 * `n` elements spread evenly over `list` (all of it when n is 0 or not smaller). Not the first n: data sets
 * list users in an order that tracks how hard they are (on Beauty the first 6,000 users have the longest
 * histories: Markov's validation NDCG@10 is 0.029 on them, 0.056 on all), and validation should look like the test.
 */
export function spreadSample<T>(list: T[], n: number): T[] {
  if (n <= 0 || n >= list.length) return list;
  return Array.from({ length: n }, (_, i) => list[Math.floor((i * list.length) / n)]);
}

export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

/** The mean target weight of a batch over an epoch (each basket counts 1, as in a batch's mean loss). */
export function targetsPerBatch(windows: Window[], B: number): number {
  const total = windows.reduce((n, w) => n + w.weights.reduce((a, b) => a + b, 0), 0);
  return total / Math.max(1, Math.ceil(windows.length / B));
}

/** Shuffled batches; within groups of 32 batches, windows are sorted by length so padding stays small. */
export function batches(windows: Window[], B: number, rand: () => number): Window[][] {
  const idx = windows.map((_, i) => i);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  const out: Window[][] = [];
  const group = B * 32;
  for (let g = 0; g < idx.length; g += group) {
    const chunk = idx.slice(g, g + group).sort((a, b) => windows[a].seq.items.length - windows[b].seq.items.length);
    for (let i = 0; i < chunk.length; i += B) out.push(chunk.slice(i, i + B).map((k) => windows[k]));
  }
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** A batch of windows, left-padded, with its targets (and return candidates when the model has a return part). */
export function packWindows(ws: Window[], cfg: ModelConfig): { inp: SeqInputs; targets: Targets } {
  const len = Math.max(...ws.map((w) => w.seq.items.length));
  const inp = packBatch(
    ws.map((w) => w.seq),
    len,
    cfg.numTimeBuckets,
  );
  const positions: number[] = [],
    pairPos: number[] = [],
    items: number[] = [],
    weights: number[] = [],
    inside: number[] = [];
  ws.forEach((w, b) => {
    const off = b * len + (len - w.seq.items.length),
      base = positions.length;
    for (const p of w.pos) positions.push(off + p);
    for (let j = 0; j < w.items.length; j++) {
      pairPos.push(base + w.pairPos[j]);
      items.push(w.items[j]);
      weights.push(w.weights[j]);
      inside.push(w.inside[j]);
    }
  });
  // Weights only where some basket has several items: otherwise the plain mean (and exactly the loss of before).
  const targets: Targets = {
    positions: Int32Array.from(positions),
    pairPos: Int32Array.from(pairPos),
    pairItem: Int32Array.from(items),
    ...(weights.some((w) => w !== 1) ? { pairWeight: Float32Array.from(weights) } : {}),
    ...(inside.some(Boolean) ? { catalogOnly: Uint8Array.from(inside) } : {}),
  };
  if (hasReturn(cfg)) {
    const P = positions.length;
    for (const w of ws) w.ret ??= Array.from(w.pos, (q) => returnCandidates(w.src, cfg.returnItems!, w.start + q + 1));
    // Slots: as many as the batch's longest candidate list needs (short histories pad little).
    const K = Math.max(1, ...ws.flatMap((w) => w.ret!.map((c) => c.rows.length)));
    const ret: ReturnInputs = {
      k: K,
      rows: new Int32Array(P * K),
      feats: new Float32Array(P * K * ITEM_FEATURES),
      summary: new Float32Array(P * HISTORY_FEATURES),
    };
    let p = 0;
    for (const w of ws) {
      for (const c of w.ret!) {
        ret.rows.set(c.rows, p * K);
        ret.feats.set(c.feats, p * K * ITEM_FEATURES);
        ret.summary.set(c.summary, p * HISTORY_FEATURES);
        p++;
      }
    }
    targets.ret = ret;
  }
  return { inp, targets };
}
