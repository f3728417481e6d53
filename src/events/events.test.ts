import 'fake-indexeddb/auto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeInput, validateEvent } from './validate.js';
import { IdbStore, MemoryStore, openStore } from './store.js';

test('valid events normalize; ts defaults to now', () => {
  assert.deepEqual(validateEvent({ type: 'click', itemId: 'A1', ts: 5 }), { type: 'click', itemId: 'A1', ts: 5 });
  assert.equal(validateEvent({ type: 'view', itemId: 'A1' }, 123).ts, 123);
  assert.deepEqual(validateEvent({ type: 'search', query: ' mugs ' }, 1), { type: 'search', ts: 1, query: 'mugs' });
});

test('invalid events are rejected with an error naming the problem', () => {
  const bad: Array<[unknown, RegExp]> = [
    [{ type: 'like', itemId: 'A' }, /unknown type "like"/],
    [{ type: 'click' }, /itemId must be a string, got undefined/],
    [{ type: 'click', itemId: 42 }, /itemId must be a string, got number/],
    [{ type: 'click', itemId: 'x'.repeat(257) }, /257 characters/],
    [{ type: 'click', itemId: 'A', ts: NaN }, /ts must be a finite/],
    [{ type: 'click', itemId: 'A', ts: Infinity }, /ts must be a finite/],
    [JSON.parse('{"type":"click","itemId":"A","__proto__":{"x":1}}'), /forbidden key "__proto__"/],
    [{ type: 'click', itemId: '__proto__' }, /reserved/],
    [null, /not an object/],
    [[1], /not an object/],
    [{ type: 'search' }, /non-empty query/],
  ];
  for (const [input, re] of bad) assert.throws(() => normalizeInput(input), re, JSON.stringify(input));
});

test('GA4 and Segment events map onto shelfwise events', () => {
  assert.deepEqual(
    normalizeInput({ event: 'purchase', ecommerce: { items: [{ item_id: 'A' }, { item_id: 'B' }] } }, 7).map((e) => [
      e.type,
      e.itemId,
    ]),
    [
      ['purchase', 'A'],
      ['purchase', 'B'],
    ],
  );
  assert.equal(normalizeInput({ event: 'select_item', ecommerce: { items: [{ item_id: 'A' }] } })[0].type, 'click');
  assert.equal(normalizeInput({ event: 'Product Added', properties: { product_id: 'Z' } })[0].type, 'add_to_cart');
  assert.deepEqual(
    normalizeInput({ event: 'Order Completed', properties: { products: [{ product_id: 'P' }] } }).map((e) => e.itemId),
    ['P'],
  );
  assert.throws(() => normalizeInput({ event: 'add_to_cart', ecommerce: {} }), /without ecommerce.items/);
  assert.throws(() => normalizeInput({ event: 'page_view' }), /unknown event "page_view"/);
});

test("a product's content travels with its event: shelfwise fields, GA4 items, Segment properties", () => {
  assert.deepEqual(
    validateEvent({ type: 'view', itemId: 'A', ts: 1, title: ' Lunch bag ', category: 'Bags > Lunch', price: '3.5' }),
    { type: 'view', itemId: 'A', ts: 1, content: { title: 'Lunch bag', category: 'Bags > Lunch', price: 3.5 } },
  );
  const [ga4] = normalizeInput({
    event: 'view_item',
    ecommerce: {
      items: [
        {
          item_id: 'A',
          item_name: 'Lunch bag',
          item_category: 'Bags',
          item_category2: 'Lunch',
          item_brand: 'X',
          price: 3.5,
        },
      ],
    },
  });
  assert.deepEqual(ga4.content, { title: 'Lunch bag', category: 'Bags > Lunch', brand: 'X', price: 3.5 });
  const [seg] = normalizeInput({
    event: 'Product Viewed',
    properties: { product_id: 'A', name: 'Mug', brand: 'Y', price: 2 },
  });
  assert.deepEqual(seg.content, { title: 'Mug', brand: 'Y', price: 2 });
  // What a page sends wrongly in GA4 or Segment is left out, the event kept; the shelfwise format says why.
  const [messy] = normalizeInput({
    event: 'view_item',
    ecommerce: { items: [{ item_id: 'A', item_name: {}, price: 'n/a' }] },
  });
  assert.deepEqual(messy, { type: 'view', itemId: 'A', ts: messy.ts });
  assert.throws(() => validateEvent({ type: 'view', itemId: 'A', title: {} }), /title must be a string, got object/);
  assert.throws(() => validateEvent({ type: 'view', itemId: 'A', price: -1 }), /price must be a finite number/);
  assert.equal(validateEvent({ type: 'view', itemId: 'A', title: 'x'.repeat(300) }).content?.title?.length, 256);
});

test('IndexedDB store: capped to the most recent events, in order; clear empties it', async () => {
  const s = await IdbStore.open(5);
  await s.clear();
  for (let i = 0; i < 8; i++) await s.add({ type: 'view', itemId: `i${i}`, ts: i });
  assert.equal(await s.count(), 5);
  assert.deepEqual(
    (await s.recent(3)).map((e) => e.itemId),
    ['i5', 'i6', 'i7'],
  );
  await s.setKV('adapter', { v: 1 });
  await s.clear();
  assert.equal(await s.count(), 0);
  assert.equal(await s.getKV('adapter'), undefined);
  s.close();
});

test('two connections (two tabs) recording at once lose no event and see each other', async () => {
  const a = await IdbStore.open(1000),
    b = await IdbStore.open(1000);
  await a.clear();
  const b2 = await IdbStore.open(1000);
  await Promise.all(
    Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b2).add({ type: 'click', itemId: `t${i}`, ts: i })),
  );
  assert.equal((await b2.recent(100)).length, 20);
  assert.equal((await a.recent(100)).length, 20);
  a.close();
  b.close();
  b2.close();
});

test('quota exceeded: only as many of the oldest events as needed are trimmed, and the new one kept', async () => {
  const s = await IdbStore.open(100);
  await s.clear();
  for (let i = 0; i < 8; i++) await s.add({ type: 'view', itemId: `q${i}`, ts: i });
  // The next write transaction's add fails as a full disk would.
  const db = (
    s as unknown as {
      db: { transaction: (...a: unknown[]) => { store: { add: (...a: unknown[]) => Promise<unknown> } } };
    }
  ).db;
  const realTx = db.transaction.bind(db);
  let fail = true;
  db.transaction = (...a: unknown[]) => {
    const tx = realTx(...a);
    if (fail && a[1] === 'readwrite') {
      fail = false;
      tx.store.add = async () => {
        throw Object.assign(new Error('full'), { name: 'QuotaExceededError' });
      };
    }
    return tx;
  };
  await s.add({ type: 'view', itemId: 'new', ts: 99 });
  const ids = (await s.recent(100)).map((e) => e.itemId);
  assert.equal(ids[ids.length - 1], 'new');
  assert.equal(ids.length, 8, 'one old event (the oldest) made room for the new one');
  assert.deepEqual(ids.slice(0, 2), ['q1', 'q2']);
  s.close();
});

test('no IndexedDB → memory store, with the reason reported; no consent → memory only', async () => {
  const saved = globalThis.indexedDB;
  (globalThis as { indexedDB?: unknown }).indexedDB = undefined;
  const reasons: unknown[] = [];
  const s = await openStore(10, true, (e) => reasons.push(e));
  (globalThis as { indexedDB?: unknown }).indexedDB = saved;
  assert.ok(s instanceof MemoryStore);
  assert.match(String((reasons[0] as Error).message), /IndexedDB is not available/);
  const m = await openStore(10, false, () => assert.fail('no fallback expected'));
  assert.equal(m.kind, 'memory');
});
