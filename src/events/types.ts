import type { EventType } from '../shared/index.js';

export {
  EVENT_TYPES,
  type EventType,
  ShelfwiseError,
  type ShelfwiseErrorCode,
  isShelfwiseError,
  asShelfwiseError,
} from '../shared/index.js';

/** A shopper event as stored. `ts` is milliseconds since the epoch. */
export interface ShelfwiseEvent {
  type: EventType;
  /** Product id (absent only for `search`). */
  itemId?: string;
  ts: number;
  /** Search terms, for `search`. */
  query?: string;
  /** The product's content as the page showed it (title, category path, brand, price), where it was given. */
  content?: ProductContent;
}

/** A product's content: strings of at most 256 characters, a finite price of at least 0. */
export interface ProductContent {
  title?: string;
  category?: string;
  brand?: string;
  price?: number;
}

/** What `track()` accepts: a shelfwise event (ts optional), a GA4 event or a Segment-style event. */
export type TrackInput =
  | { type: EventType | (string & {}); itemId?: string; ts?: number; query?: string }
  | { event: string; ecommerce?: { items?: Array<{ item_id?: string }> }; [k: string]: unknown }
  | { event: string; properties?: Record<string, unknown>; [k: string]: unknown };
