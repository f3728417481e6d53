import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rankCandidates, type Candidate } from './rank.js';

const ids = (r: { itemId: string }[]) => r.map((x) => x.itemId);
const C = (s: string): Candidate[] => s.split('').map((id) => ({ id }));

test('blend 1 follows the scores, blend 0 keeps the merchant order; ties stable', () => {
  const c = C('abcd'),
    s = [0.1, 0.9, 0.5, 0.9];
  assert.deepEqual(ids(rankCandidates(c, s, [], { blend: 1 })), ['b', 'd', 'c', 'a']);
  assert.deepEqual(ids(rankCandidates(c, s, [], { blend: 0 })), ['a', 'b', 'c', 'd']);
  assert.deepEqual(ids(rankCandidates(c, [1, 1, 1, 1], [], { blend: 1 })), ['a', 'b', 'c', 'd']);
});

test('the score order is exact: float32 scores (packed native sort) and float64 ones, negatives, -0, ties, unknowns', () => {
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (const f32 of [true, false]) {
    for (let trial = 0; trial < 20; trial++) {
      const n = 1 + Math.floor(rnd() * 400);
      const scores = Array.from({ length: n }, (): number | null => {
        const x = rnd();
        if (x < 0.05) return null;
        if (x < 0.1) return -0;
        if (x < 0.2) return 0.25; // ties
        const v = (rnd() - 0.5) * 10 ** Math.floor(rnd() * 8 - 4);
        return f32 ? Math.fround(v) : v;
      });
      const cands = Array.from({ length: n }, (_, i) => ({ id: 'i' + i }));
      // Reference: known items by score (highest first, ties by merchant position).
      const known = scores
        .map((s, i) => [s, i] as const)
        .filter(([s]) => s !== null)
        .sort((a, b) => (b[0] as number) - (a[0] as number) || a[1] - b[1])
        .map(([, i]) => 'i' + i);
      const unknown = scores
        .map((s, i) => [s, i] as const)
        .filter(([s]) => s === null)
        .map(([, i]) => 'i' + i);
      const got = ids(rankCandidates(cands, scores, [], { blend: 1, unknownPrior: 1 }));
      const isKnown = new Set(known);
      assert.deepEqual(
        got.filter((id) => isKnown.has(id)),
        known,
      );
      assert.deepEqual(new Set(got.filter((id) => !isKnown.has(id))), new Set(unknown));
    }
  }
});

test('unknown items keep their relative merchant order at the prior', () => {
  const r = rankCandidates(C('abcde'), [null, 0.2, null, 0.9, 0.5], [], { blend: 1, unknownPrior: 1 });
  // Prior 1 = level with the lowest-scored known item; ties keep the merchant order.
  assert.deepEqual(ids(r), ['d', 'e', 'a', 'b', 'c']);
  assert.equal(r[2].score, null);
  assert.deepEqual(ids(rankCandidates(C('abcde'), [null, 0.2, null, 0.9, 0.5], [], { blend: 1, unknownPrior: 0 })), [
    'a',
    'c',
    'd',
    'e',
    'b',
  ]);
});

test('pin, boost, bury, hide unavailable, exclude purchased', () => {
  const c: Candidate[] = [{ id: 'a' }, { id: 'b', available: false }, { id: 'c' }, { id: 'd' }, { id: 'e' }];
  const s = [0.5, 0.9, 0.4, 0.3, 0.2];
  const r = rankCandidates(
    c,
    s,
    [],
    { rules: { pin: { e: 0 }, bury: ['a'], boost: { d: 0.6 }, excludePurchased: true } },
    new Set(['c']),
  );
  assert.deepEqual(ids(r), ['e', 'd', 'a', 'b', 'c']);
  assert.deepEqual(
    r.map((x) => x.hidden),
    [false, false, false, true, true],
  );
  assert.deepEqual(
    r.map((x) => x.position),
    [0, 1, 2, 3, 4],
  );
  assert.equal(r[0].defaultPosition, 4);
});

test('category cap in the top k defers extra items of a category', () => {
  const c: Candidate[] = ['a', 'b', 'c', 'd', 'e'].map((id, i) => ({ id, category: i < 3 ? 'mugs' : 'bags' }));
  const r = rankCandidates(c, [0.9, 0.8, 0.7, 0.6, 0.5], [], { rules: { categoryCap: { top: 3, max: 2 } } });
  assert.deepEqual(ids(r), ['a', 'b', 'd', 'c', 'e']);
});

test('rules keyed by ids named like Object.prototype members apply to those products, and only to them', () => {
  const ids = ['a', 'constructor', 'toString', 'b', '__proto__x'];
  const cands = ids.map((id) => ({ id }));
  const scores = [0.9, 0.1, 0.2, 0.8, 0.5];
  const plain = rankCandidates(
    cands,
    scores,
    ids.map(() => null),
  ).map((r) => r.itemId);
  assert.equal(plain[0], 'a');
  const boosted = rankCandidates(
    cands,
    scores,
    ids.map(() => null),
    { rules: { boost: { constructor: 1.5 } } },
  ).map((r) => r.itemId);
  assert.equal(boosted[0], 'constructor', 'a boost for "constructor" moves that product');
  const pinned = rankCandidates(
    cands,
    scores,
    ids.map(() => null),
    { rules: { pin: { toString: 0 }, boost: {} } },
  ).map((r) => r.itemId);
  assert.equal(pinned[0], 'toString');
  assert.deepEqual(
    rankCandidates(
      cands,
      scores,
      ids.map(() => null),
      { rules: { boost: {} } },
    ).map((r) => r.itemId),
    plain,
    'an empty rule object changes nothing (no inherited keys)',
  );
});
