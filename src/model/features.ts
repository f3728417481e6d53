/**
 * Feature codes shared by training, evaluation and the in-page runtime. Changing any of these changes
 * what a trained model means, so they are part of the model format (stored in the config).
 */

import { EVENT_TYPES, type EventType } from '../shared/index.js';

/**
 * A longer gap between two events (or between the last one and now) ends a session: 30 minutes, in seconds.
 * The page, the visit part (visit.ts) and every session rule of the trainer read this one value.
 */
export const VISIT_GAP = 30 * 60;

export { EVENT_TYPES, type EventType };

/** Embedding row of an event type: 1..6; 0 is padding. */
export function typeCode(type: EventType): number {
  const i = EVENT_TYPES.indexOf(type);
  if (i < 0) throw new Error(`unknown event type: ${String(type)}`);
  return i + 1;
}

export const NUM_TYPE_ROWS = EVENT_TYPES.length + 1;

/**
 * Time-gap bucket between an event and the one before it (seconds).
 * 0: padding, 1: first event / unknown time, 2: same instant (gap < 1 s), 3+: floor(log2(gap)) + 3,
 * capped at numBuckets - 1 (with 24 buckets the last one starts at 2^20 s ≈ 12 days).
 */
export function gapBucket(gapSeconds: number | null, numBuckets: number): number {
  if (gapSeconds === null || !Number.isFinite(gapSeconds) || gapSeconds < 0) return 1;
  if (gapSeconds < 1) return 2;
  return Math.min(numBuckets - 1, Math.floor(Math.log2(gapSeconds)) + 3);
}
