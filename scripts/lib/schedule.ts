/** The learning-rate schedule of `--lr-drop`. */
import { FlagError } from './flags.js';

/** Learning rate of epoch `e` (0-based) under a step schedule. */
export type LrDrops = Array<{ epoch: number; factor: number }>;

export function lrAt(lr: number, e: number, drops: LrDrops = []): number {
  return drops.reduce((r, d) => (e >= d.epoch ? r * d.factor : r), lr);
}

/** Parses `--lr-drop 22:0.3,30:0.3`. */
export function parseLrDrops(s: string | undefined): Array<{ epoch: number; factor: number }> {
  if (!s) return [];
  return s.split(',').map((part) => {
    const [e, f] = part.split(':').map(Number);
    if (!Number.isInteger(e) || e < 1 || !(f > 0))
      throw new FlagError(`--lr-drop expects EPOCH:FACTOR[,...], got "${part}"`);
    return { epoch: e, factor: f };
  });
}
