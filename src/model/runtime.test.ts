import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../scripts/lib/backend.js';
import { defaultConfig } from './config.js';
import { initParams } from './encoder.js';
import { ModelRuntime, type ModelEvent } from './runtime.js';
import { EVENT_TYPES } from './features.js';
import { scoreExamples, userVectors } from '../../scripts/lib/evaluation.js';

before(async () => {
  await initBackend('cpu');
});

function runtime(maxLen = 12): ModelRuntime {
  const cfg = defaultConfig(31, { d: 16, blocks: 2, heads: 2, maxLen, ffDim: 32, dropout: 0 });
  return new ModelRuntime(
    cfg,
    initParams(cfg, 9),
    { ids: Array.from({ length: 30 }, (_, i) => `p${i}`) },
    'test',
    'cpu',
  );
}

function history(n: number): ModelEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    itemId: i % 7 === 3 ? 'unknown-item' : `p${(i * 7) % 30}`,
    type: EVENT_TYPES[i % 5],
    ts: 1_000_000 + i * 37_000,
  }));
}

test('incremental re-embedding equals the full recompute, across window shifts', async () => {
  const rt = runtime(12);
  const h = history(40);
  let steps = 0;
  for (let n = 1; n <= h.length; n++) {
    const inc = await rt.embed(h.slice(0, n));
    if (inc.incremental) steps++;
    const full = await rt.embed(h.slice(0, n), true);
    for (let j = 0; j < full.user.length; j++)
      assert.ok(Math.abs(inc.user[j] - full.user[j]) < 1e-4, `n=${n} dim ${j}`);
    assert.deepEqual(inc.rows, full.rows);
  }
  assert.ok(steps > 20, `most updates are incremental (${steps})`);
  rt.dispose();
});

test('a growing history (the same event objects plus new ones, or the oldest dropped) reads as a fresh copy of it does', async () => {
  const rt = runtime(12),
    fresh = runtime(12);
  const h = history(40);
  for (const part of [
    ...Array.from({ length: 40 }, (_, n) => h.slice(0, n + 1)),
    h.slice(3),
    h.slice(3, 20),
    h.slice(0, 25),
  ]) {
    const a = await rt.embed(part);
    const b = await fresh.embed(structuredClone(part), true);
    assert.deepEqual(a.rows, b.rows);
    for (let j = 0; j < a.user.length; j++) assert.ok(Math.abs(a.user[j] - b.user[j]) < 1e-4);
  }
  rt.dispose();
  fresh.dispose();
});

test('a shift of the window steps from the keys and values prepared while idle: every update incremental, and exact', async () => {
  const rt = runtime(12),
    ref = runtime(12);
  const h = history(40);
  for (let n = 1; n <= h.length; n++) {
    const inc = await rt.embed(h.slice(0, n));
    if (n > 1) assert.ok(inc.incremental, `n=${n}: incremental`);
    const full = await ref.embed(h.slice(0, n), true);
    for (let j = 0; j < full.user.length; j++)
      assert.ok(Math.abs(inc.user[j] - full.user[j]) < 1e-4, `n=${n} dim ${j}`);
    await new Promise((r) => setTimeout(r, 0)); // the page goes idle between interactions
  }
  rt.dispose();
  ref.dispose();
});

test('window start depends only on the history length and never exceeds maxLen', () => {
  const rt = runtime(12);
  for (let n = 0; n < 100; n++) {
    const s = rt.windowStart(n);
    assert.ok(n - s <= 12 && n - s >= Math.min(n, 9), `n=${n} start=${s}`);
  }
  rt.dispose();
});

test('no tensor leaks: after 300 interactions the tensor count is back to its baseline', async () => {
  const rt = runtime(12);
  await rt.embed(history(1));
  const base = tf.memory().numTensors;
  const h = history(301);
  for (let n = 2; n <= h.length; n++) await rt.embed(h.slice(0, n));
  await rt.embed(h.slice(0, 5)); // a history edit: full recompute path
  await rt.embed(h.slice(0, 1));
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(tf.memory().numTensors, base);
  for (let n = 2; n <= 40; n++) {
    await rt.embed(h.slice(0, n));
    await new Promise((r) => setTimeout(r, 0));
  }
  const withStandby = tf.memory().numTensors;
  rt.dispose();
  assert.ok(
    tf.memory().numTensors < withStandby && tf.memory().numTensors < base,
    'dispose frees the prepared window too',
  );
});

test('scores and reasons: the reason is a history item', async () => {
  const rt = runtime(12);
  const h = history(6);
  const e = await rt.embed(h);
  const s = rt.score(e.user, [1, 2, 3]);
  assert.equal(s.length, 3);
  assert.ok([...s].every(Number.isFinite));
  assert.ok(e.rows.includes(rt.reason(e, 4)));
  rt.dispose();
});

test("the worker's hidden states end in the page's user vector; a bias shifts scores by its dot product; invalid biases are refused", async () => {
  const rt = runtime(12);
  const h = history(30);
  const e = await rt.embed(h);
  const { hidden, rows } = await rt.hiddenStates(h);
  const d = rt.cfg.d;
  assert.deepEqual(rows, e.rows);
  const last = hidden.subarray((rows.length - 1) * d);
  for (let j = 0; j < d; j++) assert.ok(Math.abs(last[j] - e.user[j]) < 1e-4);
  const plain = rt.score(e.user, [1, 5, 9]);
  const bias = Float32Array.from({ length: d }, (_, j) => (j % 3) * 0.1);
  rt.setBias(bias);
  const biased = rt.score(e.user, [1, 5, 9]);
  [1, 5, 9].forEach((r, i) => {
    let dot = 0;
    for (let j = 0; j < d; j++) dot += bias[j] * rt.itemEmb[r * d + j];
    assert.ok(Math.abs(biased[i] - plain[i] - dot) < 1e-4);
  });
  assert.throws(() => rt.setBias([1, 2]), /16 finite numbers/);
  assert.throws(() => rt.setBias(Array(d).fill(NaN)), /finite/);
  assert.deepEqual(rt.bias, bias); // a refused bias leaves the current one
  rt.setBias(null);
  assert.deepEqual(rt.score(e.user, [1, 5, 9]), plain);
  rt.dispose();
});

test("offline evaluation reads the page's window: the same user vector and scores for a history longer than maxLen", async () => {
  const cfg = defaultConfig(31, {
    d: 16,
    blocks: 2,
    heads: 2,
    maxLen: 12,
    ffDim: 32,
    dropout: 0,
    returnItems: 8,
    returnHidden: 6,
  });
  const params = initParams(cfg, 5);
  for (const k of ['ret_w1', 'ret_u', 'ret_w2', 'gate_u', 'ret_item'])
    params[k] = tf.randomNormal(params[k].shape, 0, 0.4, 'float32', 11);
  const rt = new ModelRuntime(cfg, params, { ids: Array.from({ length: 30 }, (_, i) => `p${i}`) }, 'test', 'cpu');
  for (const n of [12, 13, 29, 40]) {
    const h = history(n);
    const known = h.filter((e) => e.itemId !== 'unknown-item');
    const ex = {
      user: 'u',
      items: Int32Array.from(known, (e) => rt.rowOf.get(e.itemId!)!),
      types: Int32Array.from(known, (e) => EVENT_TYPES.indexOf(e.type) + 1),
      ts: Float64Array.from(known, (e) => e.ts / 1000),
      target: 1,
    };
    const offline = userVectors(params, cfg, [ex]);
    const page = await rt.embed(h);
    for (let j = 0; j < cfg.d; j++)
      assert.ok(Math.abs(offline[j] - page.user[j]) < 1e-4, `n=${n} dim ${j}: ${offline[j]} vs ${page.user[j]}`);
    const all = Int32Array.from({ length: 30 }, (_, i) => i + 1);
    const pageScores = rt.scoreFor(page, h, all).scores;
    let offlineScores: Float32Array = new Float32Array(0);
    scoreExamples(params, cfg, [ex], (_e, s) => {
      offlineScores = Float32Array.from(s);
    });
    all.forEach((r, i) =>
      assert.ok(
        Math.abs(pageScores[i] - offlineScores[r]) < 1e-3,
        `n=${n} row ${r}: page ${pageScores[i]} vs offline ${offlineScores[r]}`,
      ),
    );
  }
  rt.dispose();
});
