import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../scripts/lib/backend.js';
import { defaultConfig, hasReturn } from './config.js';
import { forward, initParams, nextItemLoss, paramShapes, type Targets } from './encoder.js';
import { packBatch } from './inputs.js';
import { groupIndex, HISTORY_FEATURES, ITEM_FEATURES, returnCandidates } from './history.js';
import { mixture, returnWeights } from './mixture.js';

before(async () => {
  await initBackend('cpu');
});

const withReturn = defaultConfig(12, {
  d: 8,
  blocks: 1,
  heads: 1,
  maxLen: 8,
  ffDim: 8,
  dropout: 0,
  numTimeBuckets: 6,
  returnItems: 4,
  returnHidden: 5,
});
// Two baskets (ts 100 and 200), then a view: items 3 and 5 come back.
const hist = { items: [3, 5, 7, 3, 5, 9], types: [5, 5, 5, 5, 4, 1], ts: [100, 100, 100, 200, 200, 7400] };

test('groups: events sharing a timestamp are one basket; unknown times are one event each', () => {
  assert.deepEqual(Array.from(groupIndex(hist.ts)), [0, 0, 0, 1, 1, 2]);
  assert.deepEqual(Array.from(groupIndex([NaN, NaN, 5])), [0, 1, 2]);
});

test('return candidates: counts per event type, baskets, recency, and at most k kept (by count, then by recency)', () => {
  const c = returnCandidates(hist, 10);
  assert.deepEqual(Array.from(c.rows).sort(), [3, 5, 7, 9]);
  const f = (row: number) =>
    Array.from(
      c.feats.subarray(
        Array.from(c.rows).indexOf(row) * ITEM_FEATURES,
        (Array.from(c.rows).indexOf(row) + 1) * ITEM_FEATURES,
      ),
    );
  const three = f(3);
  assert.ok(Math.abs(three[4] - Math.log1p(2)) < 1e-6, 'two purchases of item 3');
  assert.ok(Math.abs(three[6] - Math.log1p(2)) < 1e-6, 'in two baskets');
  assert.ok(Math.abs(three[7] - Math.log1p(1)) < 1e-6, 'one basket since its last');
  assert.ok(Math.abs(three[9] - Math.log1p(2) / 4) < 1e-6, 'two hours before the last event');
  assert.ok(Math.abs(three[11] - 2 / 6) < 1e-6, 'a third of the history');
  assert.ok(
    Math.abs(three[12] - (Math.log1p(1) - Math.log1p(1))) < 1e-6,
    'one basket since its last, its usual spacing',
  );
  const five = f(5);
  assert.ok(
    Math.abs(five[3] - Math.log1p(1)) < 1e-6 && Math.abs(five[4] - Math.log1p(1)) < 1e-6,
    'item 5: one purchase, one removal',
  );
  assert.equal(c.summary.length, HISTORY_FEATURES);
  assert.ok(Math.abs(c.summary[2] - 2 / 6) < 1e-6, 'two of six events repeat an earlier item');
  const two = returnCandidates(hist, 2);
  assert.deepEqual(Array.from(two.rows), [5, 9], 'one slot by count (3 and 5 tie; 5 was touched last), one by recency');
  assert.equal(returnCandidates(hist, 10, 3).rows.length, 3, 'a prefix sees only its events');
});

test("the page's JS mixture gives the same target probability as the training loss", () => {
  const cfg = withReturn;
  const p = initParams(cfg, 9);
  // Non-trivial return weights (they start near zero).
  for (const k of ['ret_w1', 'ret_u', 'ret_w2', 'gate_u', 'gate_s', 'ret_item'])
    p[k] = tf.randomNormal(p[k].shape, 0, 0.5, 'float32', 3);
  p.gate_b = tf.tensor1d([0.3]);
  const n = hist.items.length;
  const inp = packBatch([hist], n, cfg.numTimeBuckets);
  const c = returnCandidates(hist, cfg.returnItems!);
  const K = cfg.returnItems!;
  const ret = { k: K, rows: new Int32Array(K), feats: new Float32Array(K * ITEM_FEATURES), summary: c.summary };
  ret.rows.set(c.rows);
  ret.feats.set(c.feats);
  for (const target of [3, 9, 11]) {
    // a returned item, the last one, and one never touched
    const t: Targets = {
      positions: Int32Array.of(n - 1),
      pairPos: Int32Array.of(0),
      pairItem: Int32Array.of(target),
      ret,
    };
    const loss = tf.tidy(() => nextItemLoss(p, cfg, inp, t).dataSync()[0]);
    const u = tf.tidy(
      () =>
        forward(p, cfg, inp)
          .hidden.slice([n - 1, 0], [1, -1])
          .dataSync() as Float32Array,
    );
    const z = tf.tidy(() => tf.matMul(tf.tensor2d(u, [1, cfg.d]), p.item_emb, false, true).dataSync() as Float32Array);
    const m = mixture(z, u, c, returnWeights(p, cfg));
    assert.ok(Math.abs(-loss - m.scores[target]) < 1e-4, `target ${target}: loss ${-loss} vs page ${m.scores[target]}`);
  }
});

test('with the return part off the model is the plain sequence model: same parameters, loss = catalog cross-entropy', () => {
  const off = { ...withReturn, returnItems: 0 };
  assert.equal(hasReturn(off), false);
  assert.ok(paramShapes(off).every(([k]) => !k.startsWith('ret_') && !k.startsWith('gate_')));
  const p = initParams(off, 4);
  const n = hist.items.length;
  const inp = packBatch([hist], n, off.numTimeBuckets);
  const targets = Int32Array.from([5, 7, 3, 5, 9, 0]);
  const loss = tf.tidy(() => nextItemLoss(p, off, inp, targets).dataSync()[0]);
  const h = tf.tidy(() => forward(p, off, inp).hidden.arraySync());
  const E = p.item_emb.arraySync() as number[][];
  let want = 0,
    cnt = 0;
  targets.forEach((tg, i) => {
    if (!tg) return;
    const z = E.slice(1).map((e) => e.reduce((s, v, j) => s + v * h[i][j], 0));
    const m = Math.max(...z);
    want += m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0)) - z[tg - 1];
    cnt++;
  });
  assert.ok(Math.abs(loss - want / cnt) < 1e-5, `${loss} vs ${want / cnt}`);
});

test('a gradient reaches the return part and the gate', () => {
  const cfg = withReturn;
  const p = initParams(cfg, 2);
  const vars = Object.fromEntries(Object.entries(p).map(([k, v]) => [k, tf.variable(v, true, 'mx_' + k)]));
  const n = hist.items.length;
  const inp = packBatch([hist], n, cfg.numTimeBuckets);
  const c = returnCandidates(hist, 4);
  const t: Targets = {
    positions: Int32Array.of(n - 1),
    pairPos: Int32Array.of(0, 0),
    pairItem: Int32Array.of(3, 5),
    ret: { k: 4, rows: c.rows, feats: c.feats, summary: c.summary },
  };
  const { grads } = tf.variableGrads(() => nextItemLoss(vars, cfg, inp, t));
  for (const k of ['ret_w1', 'ret_u', 'ret_w2', 'ret_alpha', 'ret_item', 'gate_u', 'gate_s', 'gate_b', 'item_emb']) {
    const g = grads['mx_' + k];
    assert.ok(g && g.abs().max().dataSync()[0] > 0, `no gradient for ${k}`);
  }
});

test('a model file with absurd sizes is refused before anything is allocated, field by field', async () => {
  const { checkConfig, paramCount } = await import('./config.js');
  const { paramShapes: shapes } = await import('./encoder.js');
  const good = defaultConfig(4418, { returnItems: 128, returnHidden: 32 });
  assert.equal(
    paramCount(good),
    shapes(good).reduce((n, [, s]) => n + s.reduce((a, b) => a * b, 1), 0),
    'the count matches what would be allocated',
  );
  for (const [k, v] of [
    ['blocks', 100000000],
    ['heads', 1e6],
    ['d', 65536],
    ['vocabSize', 1e9],
    ['maxLen', 1e7],
    ['numTypes', 1e5],
    ['numTimeBuckets', 1e5],
    ['ffDim', 1e6],
    ['returnItems', 1e6],
    ['returnHidden', 1e6],
  ] as const) {
    assert.throws(() => checkConfig({ ...good, [k]: v }), new RegExp(`${k} is ${v}, more than`), k);
  }
  assert.throws(() => checkConfig({ ...good, vocabSize: 1_900_000, d: 512 }), /parameters, more than/);
  const { checkModelJson, buildModelJson } = await import('./weights.js');
  const json = buildModelJson(good, [], 'weights.bin', 'v1');
  assert.throws(
    () =>
      checkModelJson({ ...json, weightsManifest: Array.from({ length: 65 }, () => ({ paths: ['a'], weights: [] })) }),
    /65 weight groups/,
  );
  assert.throws(
    () =>
      checkModelJson({
        ...json,
        weightsManifest: [{ paths: ['a'], weights: [{ name: 'x', shape: [1e6, 1e6], dtype: 'float32' }] }],
      }),
    /need more than/,
  );
  assert.throws(
    () =>
      checkModelJson({
        ...json,
        weightsManifest: [{ paths: ['a'], weights: [{ name: 'x', shape: [-1], dtype: 'float32' }] }],
      }),
    /no valid shape/,
  );
});

test("pair weights: a basket's items share one weight, so every predicting moment counts once", () => {
  const cfg = withReturn;
  const p = initParams(cfg, 6);
  const n = hist.items.length;
  const inp = packBatch([hist], n, cfg.numTimeBuckets);
  const c = returnCandidates(hist, 4);
  const ret = { k: 4, rows: c.rows, feats: c.feats, summary: c.summary };
  const one = (item: number) =>
    tf.tidy(
      () =>
        nextItemLoss(p, cfg, inp, {
          positions: Int32Array.of(n - 1),
          pairPos: Int32Array.of(0),
          pairItem: Int32Array.of(item),
          ret,
        }).dataSync()[0],
    );
  const [a, b] = [one(3), one(11)];
  const both = tf.tidy(
    () =>
      nextItemLoss(p, cfg, inp, {
        positions: Int32Array.of(n - 1),
        pairPos: Int32Array.of(0, 0),
        pairItem: Int32Array.of(3, 11),
        pairWeight: Float32Array.of(0.25, 0.75),
        ret,
      }).dataSync()[0],
  );
  assert.ok(Math.abs(both - (0.25 * a + 0.75 * b)) < 1e-4, `${both} vs ${0.25 * a + 0.75 * b}`);
});

test('typeMap: event types the training data never had are read as its most frequent one; the page and evaluation read them alike', async () => {
  const { typeMapFor, readType, checkConfig } = await import('./config.js');
  // A purchase log: purchases (5) and removals (4) only.
  const map = typeMapFor([0, 0, 0, 0, 10, 90, 0])!;
  assert.deepEqual(map, [0, 5, 5, 5, 4, 5, 5]);
  assert.equal(typeMapFor([0, 3, 1, 1, 1, 1, 1]), undefined, 'every type present: no map');
  const cfg = checkConfig({ ...defaultConfig(12), typeMap: map });
  assert.equal(readType(cfg, 2), 5, 'a click reads as a purchase');
  assert.equal(readType(cfg, 4), 4);
  assert.throws(() => checkConfig({ ...defaultConfig(12), typeMap: [0, 99] }), /typeMap/);
});
