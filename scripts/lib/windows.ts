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
import { REMOVE, type Seq } from './split.js';

/**
 * A training window: up to maxLen events of one sequence (`src`, from index `start`) and what they predict:
 * `pos` are window positions that end a group of events (a basket: events sharing a timestamp; without
 * timestamps every event), each predicting every item of the next group (`pairPos` into `pos`, `items`);
 * removals are never targets. `ret` caches the return candidates of each predicting position.
 */
export interface Window {
  seq: RowSeq;
  src: Seq;
  start: number;
  pos: Int32Array;
  pairPos: Int32Array;
  items: Int32Array;
  weights: Float32Array;
  ret?: ReturnCandidates[];
}

/** Training windows: chunks of maxLen+1 events from each sequence's end. */
export function makeWindows(train: Seq[], maxLen: number): Window[] {
  const out: Window[] = [];
  for (const s of train) {
    const n = s.items.length;
    const g = groupIndex(s.ts);
    for (let end = n; end >= 2; end -= maxLen) {
      const start = Math.max(0, end - maxLen - 1);
      const items = s.items.subarray(start, end - 1),
        types = s.types.subarray(start, end - 1),
        ts = s.ts.subarray(start, end - 1);
      const pos: number[] = [],
        pairPos: number[] = [],
        tItems: number[] = [],
        weights: number[] = [];
      for (let i = 0; i < items.length; i++) {
        const nx = start + i + 1;
        if (g[nx] === g[nx - 1]) continue; // inside a basket: the next group is not known yet at a real shopper's moment
        const set = new Set<number>();
        for (let j = nx; j < n && g[j] === g[nx]; j++) if (s.types[j] !== REMOVE && s.items[j] > 0) set.add(s.items[j]);
        if (set.size === 0) continue;
        pos.push(i);
        // Each basket counts once, as each test customer does: its items share a weight of 1.
        for (const x of set) {
          pairPos.push(pos.length - 1);
          tItems.push(x);
          weights.push(1 / set.size);
        }
      }
      if (pos.length === 0) continue;
      out.push({
        seq: { items, types, ts, prevTs: start > 0 ? s.ts[start - 1] : undefined },
        src: s,
        start,
        pos: Int32Array.from(pos),
        pairPos: Int32Array.from(pairPos),
        items: Int32Array.from(tItems),
        weights: Float32Array.from(weights),
      });
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
    weights: number[] = [];
  ws.forEach((w, b) => {
    const off = b * len + (len - w.seq.items.length),
      base = positions.length;
    for (const p of w.pos) positions.push(off + p);
    for (let j = 0; j < w.items.length; j++) {
      pairPos.push(base + w.pairPos[j]);
      items.push(w.items[j]);
      weights.push(w.weights[j]);
    }
  });
  // Weights only where some basket has several items: otherwise the plain mean (and exactly the loss of before).
  const targets: Targets = {
    positions: Int32Array.from(positions),
    pairPos: Int32Array.from(pairPos),
    pairItem: Int32Array.from(items),
    ...(weights.some((w) => w !== 1) ? { pairWeight: Float32Array.from(weights) } : {}),
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
