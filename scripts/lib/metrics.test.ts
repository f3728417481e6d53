import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addExample, MetricSum, rankOf } from './metrics.js';
import { cooccurrence, markov, popularity, repeatFrequency, repeatRecency } from './baselines.js';

test('rank counts strictly higher items, half the ties, skips padding and excluded items', () => {
  const s = [99, 0.5, 0.9, 0.1, 0.9, 0.3];
  assert.equal(rankOf(s, 1), 2); // 0.9 and 0.9 are higher (row 0 ignored)
  assert.equal(rankOf(s, 2), 0); // one tie with row 4 → floor(1/2) = 0
  assert.equal(rankOf(s, 1, [2, 4]), 0); // both higher items excluded
  assert.equal(rankOf(s, 0), 6); // unknown target: last
});

test('metrics match hand computation', () => {
  const m = new MetricSum();
  for (const r of [0, 1, 9, 10, 25]) m.add(r);
  const r = m.result();
  assert.equal(r['hr@10'], 3 / 5);
  assert.ok(Math.abs(r['ndcg@10'] - (1 + 1 / Math.log2(3) + 1 / Math.log2(11)) / 5) < 1e-12);
  assert.equal(r['hr@20'], 4 / 5);
  assert.ok(Math.abs(r.mrr - (1 + 1 / 2 + 1 / 10 + 1 / 11 + 1 / 26) / 5) < 1e-12);
});

test('baselines: popularity, cosine co-occurrence with decay, Markov with popularity tie-break', () => {
  const seq = (a: number[]) => ({
    user: 'u',
    items: Int32Array.from(a),
    types: new Int32Array(a.length),
    ts: new Float64Array(a.length),
  });
  const train = [seq([1, 2, 3]), seq([1, 2]), seq([4, 2]), seq([3, 3])];
  const out = new Float32Array(5);
  popularity(train, 5).score(Int32Array.of(), out);
  assert.deepEqual([...out], [0, 2, 3, 3, 1]);
  markov(train, 5).score(Int32Array.of(1), out);
  assert.equal(out.indexOf(Math.max(...out)), 2, '1 → 2 twice');
  markov(train, 5).score(Int32Array.of(2), out);
  assert.equal(out.indexOf(Math.max(...out)), 3, '2 → 3 once; ties broken by popularity');
  cooccurrence(train, 5, 5, 10, 0.5).score(Int32Array.of(4), out);
  assert.equal(out.indexOf(Math.max(...out)), 2, '4 co-occurs only with 2');
});

test('buy-again baselines: own items by count (popularity breaks ties) and by recency (0.98^age)', () => {
  const seq = (a: number[]) => ({
    user: 'u',
    items: Int32Array.from(a),
    types: new Int32Array(a.length),
    ts: new Float64Array(a.length),
  });
  const train = [seq([1, 2, 3]), seq([1, 2]), seq([4, 2]), seq([3, 3])]; // popularity 1:2 2:3 3:3 4:1
  const rank = (out: Float32Array) => [1, 2, 3, 4, 5].sort((a, b) => out[b] - out[a] || a - b);
  const out = new Float32Array(6);
  repeatFrequency(train, 6).score(Int32Array.of(4, 1, 4, 5), out);
  assert.deepEqual(
    rank(out),
    [4, 1, 5, 2, 3],
    'own items by count (4 twice; 1 and 5 once: 1 is more popular), then popularity',
  );
  repeatRecency(train, 6).score(Int32Array.of(4, 4, 1, 5), out);
  assert.deepEqual(rank(out), [4, 5, 1, 2, 3], '4: 0.98^3 + 0.98^2 > 5: 1 > 1: 0.98, then popularity');
  assert.ok(out[1] > out[2], 'a touched item stays above every untouched one');
});

test('basket metrics: recall@k and binary-relevance NDCG@k over the basket, unknown items count as misses', () => {
  const m = new MetricSum();
  m.addSet([0, 2, 15], 4); // 4 items, one unknown to the model
  const r = m.result();
  assert.ok(Math.abs(r['hr@10'] - 2 / 4) < 1e-12);
  assert.ok(Math.abs(r['hr@20'] - 3 / 4) < 1e-12);
  const idcg10 = 1 + 1 / Math.log2(3) + 1 / Math.log2(4) + 1 / Math.log2(5);
  assert.ok(Math.abs(r['ndcg@10'] - (1 + 1 / Math.log2(4)) / idcg10) < 1e-12);
  const one = new MetricSum();
  addExample(one, [0, 0.1, 0.9, 0.5], { items: [], target: 0, basket: Int32Array.of(2, 3) }, false);
  assert.equal(one.result()['ndcg@10'], 1, 'both basket items on top: a perfect ranking');
});
