import { EVENT_TYPES, ShelfwiseError, type EventType, type ProductContent, type ShelfwiseEvent } from './types.js';

const MAX_ID = 256;
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/** A caller's value in a message: at most 40 characters of it, control characters escaped, quoted. */
export function quote(v: unknown): string {
  const s = typeof v === 'string' ? v : String(v);
  return JSON.stringify(s.length > 40 ? s.slice(0, 40) + '…' : s);
}

function invalid(msg: string): never {
  throw new ShelfwiseError('invalid_event', `invalid event: ${msg}`);
}

function checkKeys(o: object): void {
  for (const k of Object.getOwnPropertyNames(o)) if (FORBIDDEN.has(k)) invalid(`forbidden key "${k}"`);
  if (Object.getPrototypeOf(o) !== Object.prototype && Object.getPrototypeOf(o) !== null) invalid('not a plain object');
}

function checkItemId(id: unknown, what = 'itemId'): string {
  if (typeof id !== 'string') invalid(`${what} must be a string, got ${id === null ? 'null' : typeof id}`);
  if (id.length === 0) invalid(`${what} is empty`);
  if (id.length > MAX_ID) invalid(`${what} is ${id.length} characters (at most ${MAX_ID})`);
  if (FORBIDDEN.has(id)) invalid(`${what} "${id}" is reserved`);
  return id;
}

/**
 * A product's content from `src` (title, category, brand, price under the names `names` gives, in that
 * order): strings (a number as a title or category too) trimmed to 256 characters, a price a finite number
 * or numeric string of at least 0. `strict`: a field of another type is an invalid event (the shelfwise
 * format); otherwise (GA4, Segment: pages send what they have) it is left out.
 */
function readContent(src: Record<string, unknown>, names: string[], strict: boolean): ProductContent | undefined {
  const c: ProductContent = {};
  ['title', 'category', 'brand'].forEach((k, i) => {
    const v = src[names[i]];
    if (v === undefined || v === null || v === '') return;
    if (typeof v === 'string' || typeof v === 'number') c[k as 'title'] = String(v).trim().slice(0, MAX_ID);
    else if (strict) invalid(`${names[i]} must be a string, got ${typeof v}`);
  });
  const p = src[names[3]];
  if (p !== undefined && p !== null && p !== '') {
    const n = typeof p === 'number' || typeof p === 'string' ? Number(p) : NaN;
    if (Number.isFinite(n) && n >= 0) c.price = n;
    else if (strict) invalid(`price must be a finite number of at least 0, got ${quote(p)}`);
  }
  return Object.keys(c).length ? c : undefined;
}

/** Validates and normalizes one shelfwise-format event; throws a ShelfwiseError naming the problem. */
export function validateEvent(input: unknown, now = Date.now(), mapped?: ProductContent): ShelfwiseEvent {
  if (!input || typeof input !== 'object' || Array.isArray(input)) invalid('not an object');
  checkKeys(input);
  const o = input as Record<string, unknown>;
  const type = o.type;
  if (typeof type !== 'string' || !(EVENT_TYPES as readonly string[]).includes(type)) {
    invalid(`unknown type ${typeof type === 'string' ? quote(type) : typeof type} (one of ${EVENT_TYPES.join(', ')})`);
  }
  let ts = now;
  if (o.ts !== undefined) {
    if (typeof o.ts !== 'number' || !Number.isFinite(o.ts) || o.ts < 0)
      invalid(
        `ts must be a finite, non-negative number of milliseconds, got ${typeof o.ts === 'number' ? String(o.ts) : typeof o.ts}`,
      );
    ts = o.ts;
  }
  if (type === 'search') {
    const q = o.query;
    if (typeof q !== 'string' || !q.trim()) invalid('search needs a non-empty query string');
    if (q.length > MAX_ID) invalid(`query is ${q.length} characters (at most ${MAX_ID})`);
    const e: ShelfwiseEvent = { type, ts, query: q.trim() };
    if (o.itemId !== undefined) e.itemId = checkItemId(o.itemId);
    return e;
  }
  const e: ShelfwiseEvent = { type: type as EventType, itemId: checkItemId(o.itemId), ts };
  // Content: the fields beside itemId (the shelfwise format), or what a GA4 / Segment item carried.
  const content = mapped ?? readContent(o, ['title', 'category', 'brand', 'price'], true);
  if (content) e.content = content;
  return e;
}

const GA4: Record<string, EventType> = {
  view_item: 'view',
  select_item: 'click',
  add_to_cart: 'add_to_cart',
  remove_from_cart: 'remove_from_cart',
  purchase: 'purchase',
  search: 'search',
};
const SEGMENT: Record<string, EventType> = {
  'Product Viewed': 'view',
  'Product Clicked': 'click',
  'Product Added': 'add_to_cart',
  'Product Removed': 'remove_from_cart',
  'Order Completed': 'purchase',
  'Products Searched': 'search',
};

/** True when `name` is a GA4 or Segment event we map (anything else on a dataLayer is not ours to judge). */
export function isCommerceEvent(name: unknown): boolean {
  return typeof name === 'string' && (name in GA4 || name in SEGMENT);
}

/**
 * Maps a shelfwise, GA4 (`{event, ecommerce: {items}}`) or Segment-style (`{event, properties}`) event to
 * shelfwise events (a GA4 purchase of three items is three events). Throws on anything it cannot map.
 */
export function normalizeInput(input: unknown, now = Date.now()): ShelfwiseEvent[] {
  if (!input || typeof input !== 'object' || Array.isArray(input)) invalid('not an object');
  checkKeys(input);
  const o = input as Record<string, unknown>;
  if ('type' in o) return [validateEvent(o, now)];
  const name = o.event;
  if (typeof name !== 'string') invalid('no "type" (shelfwise) or "event" (GA4 / Segment) field');
  const type = GA4[name] ?? SEGMENT[name];
  if (!type)
    invalid(
      `unknown event ${quote(name)} (GA4: ${Object.keys(GA4).join(', ')}; Segment: ${Object.keys(SEGMENT).join(', ')})`,
    );
  const ts = typeof o.ts === 'number' ? o.ts : undefined;
  if (name in GA4) {
    if (type === 'search')
      return [
        validateEvent(
          { type, query: o.search_term ?? (o.ecommerce as { search_term?: unknown } | undefined)?.search_term, ts },
          now,
        ),
      ];
    const ec = o.ecommerce as { items?: unknown } | undefined;
    const items = ec && typeof ec === 'object' ? ec.items : undefined;
    if (!Array.isArray(items) || items.length === 0) invalid(`GA4 ${name} without ecommerce.items`);
    return (items as unknown[]).map((it, i) => {
      if (!it || typeof it !== 'object') invalid(`GA4 ${name}: items[${i}] is not an object`);
      checkKeys(it);
      const x = it as Record<string, unknown>;
      const cat = ['', '2', '3', '4', '5']
        .map((k) => x['item_category' + k])
        .filter((v) => typeof v === 'string' && v.trim())
        .join(' > ');
      const content = readContent({ ...x, cat }, ['item_name', 'cat', 'item_brand', 'price'], false);
      return validateEvent({ type, itemId: x.item_id, ts }, now, content);
    });
  }
  const p = o.properties as Record<string, unknown> | undefined;
  if (!p || typeof p !== 'object') invalid(`Segment ${name} without properties`);
  checkKeys(p);
  if (type === 'search') return [validateEvent({ type, query: p.query, ts }, now)];
  if (Array.isArray(p.products)) {
    if (p.products.length === 0) invalid(`Segment ${name} with an empty products list`);
    return (p.products as unknown[]).map((it, i) => {
      if (!it || typeof it !== 'object') invalid(`Segment ${name}: products[${i}] is not an object`);
      checkKeys(it);
      const x = it as Record<string, unknown>;
      return validateEvent({ type, itemId: x.product_id, ts }, now, segmentContent(x));
    });
  }
  return [validateEvent({ type, itemId: p.product_id, ts }, now, segmentContent(p))];
}

const segmentContent = (x: Record<string, unknown>) => readContent(x, ['name', 'category', 'brand', 'price'], false);
