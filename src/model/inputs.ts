import { gapBucket } from './features.js';
import type { SeqInputs } from './encoder.js';

/** One sequence of known items (embedding rows ≥ 1), their type codes and times in seconds (NaN = unknown). */
export interface RowSeq {
  items: ArrayLike<number>;
  types: ArrayLike<number>;
  ts: ArrayLike<number>;
  /** Time of the event just before the first one (for its gap), if any. */
  prevTs?: number;
}

/** Gap buckets of a sequence (the first event's gap is measured from `prevTs` when given). */
export function gapBuckets(s: RowSeq, numBuckets: number): Int32Array {
  const out = new Int32Array(s.items.length);
  for (let i = 0; i < out.length; i++) {
    const prev = i > 0 ? s.ts[i - 1] : s.prevTs;
    const gap = prev === undefined || Number.isNaN(prev) || Number.isNaN(s.ts[i]) ? null : s.ts[i] - prev;
    out[i] = numBuckets > 0 ? gapBucket(gap, numBuckets) : 0;
  }
  return out;
}

/**
 * Packs sequences (each at most `len` long) into a left-padded batch. Positions count from each
 * sequence's first event.
 */
export function packBatch(seqs: RowSeq[], len: number, numBuckets: number): SeqInputs {
  const B = seqs.length;
  const items = new Int32Array(B * len),
    types = new Int32Array(B * len),
    gaps = new Int32Array(B * len),
    pos = new Int32Array(B * len);
  seqs.forEach((s, b) => {
    const n = s.items.length;
    if (n > len) throw new Error(`packBatch: sequence of ${n} events exceeds ${len}`);
    const g = gapBuckets(s, numBuckets);
    const off = b * len + (len - n);
    for (let i = 0; i < n; i++) {
      items[off + i] = s.items[i];
      types[off + i] = s.types[i];
      gaps[off + i] = g[i];
      pos[off + i] = i;
    }
  });
  return { items, types, gaps, pos, batch: B, len };
}

/**
 * First index of the window the model reads for a history of n known events: all of them up to maxLen;
 * beyond, a start that moves in steps of maxLen/4, so the window holds between 3/4·maxLen + 1 and maxLen
 * events and the page can extend it one event at a time (incremental re-embedding) until it is full.
 * A function of n only: the page and offline evaluation read the same window.
 */
export function windowStart(n: number, maxLen: number): number {
  if (n <= maxLen) return 0;
  const q = Math.max(1, Math.floor(maxLen / 4));
  return Math.ceil((n - maxLen) / q) * q;
}

/** The window of a sequence the model reads (see windowStart), keeping the gap of the first kept event. */
export function modelWindow(s: RowSeq, maxLen: number): RowSeq {
  const a = windowStart(s.items.length, maxLen);
  if (a === 0) return s;
  const sl = <T extends ArrayLike<number>>(x: T) => Array.prototype.slice.call(x, a) as number[];
  return { items: sl(s.items), types: sl(s.types), ts: sl(s.ts), prevTs: s.ts[a - 1] };
}
