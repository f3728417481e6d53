import { EVENT_TYPES, type EventType } from '../model/features.js';

export { EVENT_TYPES, type EventType };

/** A shopper event as stored. `ts` is milliseconds since the epoch. */
export interface ShelfwiseEvent {
  type: EventType;
  /** Product id (absent only for `search`). */
  itemId?: string;
  ts: number;
  /** Search terms, for `search`. */
  query?: string;
}

/** What `track()` accepts: a shelfwise event (ts optional), a GA4 event or a Segment-style event. */
export type TrackInput =
  | { type: EventType | string; itemId?: string; ts?: number; query?: string }
  | { event: string; ecommerce?: { items?: Array<{ item_id?: string }> }; [k: string]: unknown }
  | { event: string; properties?: Record<string, unknown>; [k: string]: unknown };

export class ShelfwiseError extends Error {
  constructor(public readonly code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ShelfwiseError';
  }
}
