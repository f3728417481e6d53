import { test } from 'node:test';
import assert from 'node:assert/strict';
import { synthCatalog, synthLog } from './synth.js';
import type { ItemMeta, Log } from './data.js';

const base = new Map<string, ItemMeta>(
  Array.from({ length: 40 }, (_, i) => [
    `r${i}`,
    { title: `THING ${i}`, category: `DEPT > C${i % 4}`, brand: `B${i % 3}`, price: 1 + i },
  ]),
);

test('a synthetic catalog of any size keeps real categories and brands, in variants above the real catalog', () => {
  const small = synthCatalog(base, 10);
  assert.equal(small.length, 10);
  assert.ok(small.every(([, m]) => [...base.values()].some((b) => b.title === m.title && b.category === m.category)));
  const big = synthCatalog(base, 100);
  assert.equal(new Set(big.map(([id]) => id)).size, 100, 'distinct ids s0 … s99');
  assert.equal(new Set(big.map(([, m]) => m.title)).size, 100, 'every variant has its own title');
  assert.ok(big.every(([, m]) => m.category?.startsWith('DEPT > C')));
});

test("a synthetic log keeps the real shoppers' shape: times, types, sessions and repeats", () => {
  const shape: Log = {
    name: 'online-retail',
    users: [
      { user: 'u1', items: ['a', 'b', 'a', 'c'], types: [1, 2, 3, 1], ts: [10, 20, 30, 40], session: [1, 1, 2, 2] },
      { user: 'u2', items: ['b', 'b', 'd'], types: [3, 3, 1], ts: [5, 6, 7] },
    ],
    meta: new Map(),
    notes: [],
  };
  const catalog = synthCatalog(base, 40);
  const log = synthLog('synth-test', catalog, shape, { eventsPerProduct: 0.35 });
  assert.equal(log.users.length, 4, 'replayed twice: 0.35 × 40 products / 7 events');
  const [u1] = log.users;
  assert.deepEqual(u1.types, [1, 2, 3, 1]);
  assert.deepEqual(u1.ts, [10, 20, 30, 40]);
  assert.deepEqual(u1.session, [1, 1, 2, 2]);
  assert.equal(u1.items[0], u1.items[2], 'a product the shopper came back to is the same synthetic product');
  const cat = new Map(catalog);
  // A real product stands for one category, for every shopper.
  const bOf = log.users.flatMap((u, k) => u.items.filter((_, i) => shape.users[k % 2].items[i] === 'b'));
  assert.equal(new Set(bOf.map((id) => cat.get(id)!.category)).size, 1);
  assert.ok(log.users.every((u) => u.items.every((id) => cat.has(id))));
});
