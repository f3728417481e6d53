import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../scripts/lib/backend.js';
import { checkConfig, defaultConfig } from './config.js';
import {
  forward,
  initParams,
  logSumExpRows,
  nextItemLoss,
  step,
  uniformDraws,
  type KVCache,
  type LossOptions,
  type SeqInputs,
} from './encoder.js';
import { packBatch } from './inputs.js';
import { hasLayerNormKernel, hasSoftmaxKernel, layerNormKernel, LN_EPS, SOFTMAX_LSE } from './kernels.js';
import { loadModelDir, saveModelDir } from '../../scripts/lib/modeldir.js';
import { decodeParams, encodeWeights, buildModelJson } from './weights.js';

before(async () => {
  await initBackend('cpu');
});

const tiny = defaultConfig(12, { d: 8, blocks: 2, heads: 2, maxLen: 6, ffDim: 16, dropout: 0, numTimeBuckets: 6 });
const seq = { items: [3, 5, 7, 2, 9], types: [1, 2, 5, 3, 1], ts: [0, 10, 10, 400, 90000] };

test('causal: an output never depends on later events', () => {
  const p = initParams(tiny, 1);
  const run = (items: number[]) =>
    tf.tidy(() => forward(p, tiny, packBatch([{ ...seq, items }], 6, tiny.numTimeBuckets)).hidden.arraySync());
  const a = run(seq.items),
    b = run([3, 5, 7, 11, 4]);
  // Left padding: row 0 is padding, rows 1..5 are events 0..4. Events 0-2 are unchanged.
  for (let r = 1; r <= 3; r++)
    for (let j = 0; j < tiny.d; j++) assert.ok(Math.abs(a[r][j] - b[r][j]) < 1e-6, `row ${r} changed`);
  assert.ok(
    a[5].some((v, j) => Math.abs(v - b[5][j]) > 1e-4),
    'the changed events do change later outputs',
  );
});

test('padding does not change outputs', () => {
  const p = initParams(tiny, 2);
  const short = tf.tidy(() => forward(p, tiny, packBatch([seq], 5, tiny.numTimeBuckets)).hidden.arraySync());
  const padded = tf.tidy(() => forward(p, tiny, packBatch([seq], 6, tiny.numTimeBuckets)).hidden.arraySync());
  for (let j = 0; j < tiny.d; j++) assert.ok(Math.abs(short[4][j] - padded[5][j]) < 1e-5);
});

for (const [name, cfg] of [
  ['relu', tiny],
  ['gelu, embeddings × √d', { ...tiny, ffAct: 'gelu', embScale: true }],
] as const) {
  test(`incremental steps with cached keys/values equal the full recompute (${name})`, () => {
    const p = initParams(cfg, 3);
    let cache: KVCache = { k: [], v: [], length: 0 };
    let user: number[] = [];
    const inp = packBatch([seq], 5, cfg.numTimeBuckets);
    for (let i = 0; i < 5; i++) {
      const r = step(p, cfg, cache, inp.items[i], inp.types[i], inp.gaps[i]);
      cache = r.cache;
      user = Array.from(r.user.dataSync());
    }
    const full = tf.tidy(() => forward(p, cfg, inp).hidden.arraySync());
    for (let j = 0; j < cfg.d; j++)
      assert.ok(Math.abs(full[4][j] - user[j]) < 1e-5, `dim ${j}: ${full[4][j]} vs ${user[j]}`);
  });
}

test('distance bias (relPos): zero tables read as none; learned ones keep the incremental path exact, padded or not', () => {
  const cfg = { ...tiny, relPos: true };
  const p0 = initParams(cfg, 8);
  const inp = packBatch([seq], 6, cfg.numTimeBuckets);
  const last = (c: typeof tiny, p: typeof p0) => tf.tidy(() => forward(p, c, inp).hidden.arraySync()[5]);
  const plain = { ...p0 };
  for (let b = 0; b < tiny.blocks; b++) delete plain[`block${b}/rel`];
  assert.deepEqual(last(cfg, p0), last(tiny, plain));
  const p = { ...p0 };
  for (let b = 0; b < tiny.blocks; b++)
    p[`block${b}/rel`] = tf.randomNormal([cfg.maxLen, cfg.heads], 0, 2, 'float32', 20 + b);
  const full = last(cfg, p);
  assert.ok(
    full.some((v, j) => Math.abs(v - last(cfg, p0)[j]) > 1e-4),
    'the bias changes the encoder',
  );
  let cache: KVCache = { k: [], v: [], length: 0 };
  let user: number[] = [];
  const unpadded = packBatch([seq], 5, cfg.numTimeBuckets);
  for (let i = 0; i < 5; i++) {
    const r = step(p, cfg, cache, unpadded.items[i], unpadded.types[i], unpadded.gaps[i]);
    cache = r.cache;
    user = Array.from(r.user.dataSync());
  }
  for (let j = 0; j < cfg.d; j++) assert.ok(Math.abs(full[j] - user[j]) < 1e-5, `dim ${j}: ${full[j]} vs ${user[j]}`);
  assert.throws(() => checkConfig({ ...tiny, relPos: 'yes' }), /relPos must be true or false/);
});

test('the feed-forward activation and the embedding scale change the encoder; a bad ffAct is refused', () => {
  const p = initParams(tiny, 4);
  const inp = packBatch([seq], 5, tiny.numTimeBuckets);
  const last = (c: typeof tiny) => tf.tidy(() => forward(p, c, inp).hidden.arraySync()[4]);
  const base = last(tiny),
    gelu = last({ ...tiny, ffAct: 'gelu' }),
    scaled = last({ ...tiny, embScale: true });
  assert.ok(base.some((v, j) => Math.abs(v - gelu[j]) > 1e-4) && base.some((v, j) => Math.abs(v - scaled[j]) > 1e-4));
  assert.throws(() => checkConfig({ ...tiny, ffAct: 'swish' }), /ffAct must be "relu" or "gelu"/);
  assert.throws(() => checkConfig({ ...tiny, embScale: 'yes' }), /embScale must be true or false/);
});

test('inner dropout: training only, on the attention probabilities and the feed-forward hidden layer', () => {
  const cfg = { ...tiny, dropout: 0.5 };
  const p = initParams(cfg, 5);
  const inp = packBatch([seq], 5, cfg.numTimeBuckets);
  const last = (c: typeof cfg, training: boolean) =>
    tf.tidy(() => forward(p, c, inp, { training, seed: 7 }).hidden.arraySync()[4]);
  const inner = { ...cfg, innerDropout: true };
  // Inference reads the same encoder either way; training with the same seed differs only by the new sites.
  assert.deepEqual(last(inner, false), last(cfg, false));
  const a = last(cfg, true),
    b = last(inner, true);
  assert.ok(
    a.some((v, j) => Math.abs(v - b[j]) > 1e-4),
    'inner dropout changes a training pass',
  );
  assert.ok(b.every(Number.isFinite));
  assert.throws(() => checkConfig({ ...tiny, innerDropout: 1 }), /innerDropout must be true or false/);
});

test('sampled softmax with uniform negatives: each target against its own draws, a draw equal to it masked', () => {
  const cfg = { ...tiny, blocks: 1 };
  const p = initParams(cfg, 5);
  const inp = packBatch([seq], 5, cfg.numTimeBuckets);
  const targets = Int32Array.from([5, 7, 2, 9, 0]);
  const seed = 7,
    S = 6;
  const tg = [5, 7, 2, 9]; // the rows with a target, in order
  const neg = Array.from(uniformDraws(seed, tg.length * S, cfg.vocabSize));
  assert.ok(
    tg.some((t, r) => neg.slice(r * S, (r + 1) * S).includes(t)),
    "the case covers a draw equal to its row's target",
  );
  const got = tf.tidy(
    () => nextItemLoss(p, cfg, inp, targets, { sampled: S, negatives: 'uniform', seed }).dataSync()[0],
  );
  const h = tf.tidy(() => forward(p, cfg, inp).hidden.arraySync());
  const E = p.item_emb.arraySync() as number[][];
  const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);
  let sum = 0;
  tg.forEach((t, r) => {
    const pos = dot(h[r], E[t]); // rows 0-3 of the window hold targets 5, 7, 2, 9
    const logits = [
      pos,
      ...neg
        .slice(r * S, (r + 1) * S)
        .filter((j) => j !== t)
        .map((j) => dot(h[r], E[j])),
    ];
    const m = Math.max(...logits);
    sum += m + Math.log(logits.reduce((s, x) => s + Math.exp(x - m), 0)) - pos;
  });
  assert.ok(Math.abs(got - sum / tg.length) < 1e-5, `${got} vs ${sum / tg.length}`);
});

/**
 * The full-softmax loss of `seq` packed as `inp` with `targets` (rows 0-3), written out by hand: each target against every
 * item (without the items its window showed before it when `maskSeen`), plus `eps` of the mean −log p.
 */
function referenceLoss(
  p: Record<string, tf.Tensor>,
  cfg: typeof tiny,
  inp: SeqInputs,
  targets: Int32Array,
  maskSeen: boolean,
  eps = 0,
): number {
  const h = tf.tidy(() => forward(p, cfg, inp).hidden.arraySync());
  const E = p.item_emb.arraySync() as number[][];
  const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);
  let sum = 0;
  for (let r = 0; r < 4; r++) {
    const t = targets[r],
      seen = maskSeen ? new Set(seq.items.slice(0, r + 1).filter((i) => i !== t)) : new Set<number>();
    const logits: number[] = [];
    for (let j = 1; j < cfg.vocabSize; j++) if (!seen.has(j)) logits.push(dot(h[r], E[j]));
    const m = Math.max(...logits);
    const lse = m + Math.log(logits.reduce((s, x) => s + Math.exp(x - m), 0));
    const meanNll = logits.reduce((s, x) => s + lse - x, 0) / logits.length;
    sum += (1 - eps) * (lse - dot(h[r], E[t])) + eps * meanNll;
  }
  return sum / 4;
}

test('masking seen items: each target competes only with items its window has not shown before it', () => {
  const cfg = { ...tiny, blocks: 1 };
  const p = initParams(cfg, 6);
  const inp = packBatch([seq], 5, cfg.numTimeBuckets); // items 3, 5, 7, 2, 9
  const targets = Int32Array.from([5, 3, 2, 9, 0]); // row 1's target, 3, was seen: it stays in its softmax
  const got = tf.tidy(() => nextItemLoss(p, cfg, inp, targets, { maskSeen: true }).dataSync()[0]);
  const plain = tf.tidy(() => nextItemLoss(p, cfg, inp, targets).dataSync()[0]);
  const want = referenceLoss(p, cfg, inp, targets, true);
  assert.ok(Math.abs(got - want) < 1e-5, `${got} vs ${want}`);
  assert.ok(got < plain, 'fewer competitors, lower loss');
});

test("label smoothing: (1 − ε)·the target's −log p + ε·the mean −log p over the softmax's items, with and without seen items masked", () => {
  const cfg = { ...tiny, blocks: 1 };
  const p = initParams(cfg, 8);
  const inp = packBatch([seq], 5, cfg.numTimeBuckets);
  const targets = Int32Array.from([5, 3, 2, 9, 0]);
  const eps = 0.1;
  for (const maskSeen of [false, true]) {
    const got = tf.tidy(() => nextItemLoss(p, cfg, inp, targets, { maskSeen, labelSmoothing: eps }).dataSync()[0]);
    const want = referenceLoss(p, cfg, inp, targets, maskSeen, eps);
    assert.ok(Math.abs(got - want) < 1e-5, `maskSeen ${maskSeen}: ${got} vs ${want}`);
  }
});

function gradCheck(opts: LossOptions = {}, relPos = false): void {
  const cfg = { ...tiny, blocks: 1, relPos };
  const p0 = initParams(cfg, 4);
  if (relPos) p0['block0/rel'] = tf.randomNormal([cfg.maxLen, cfg.heads], 0, 1, 'float32', 9);
  const inp = packBatch([seq, { items: [4, 6], types: [1, 1], ts: [0, 5] }], 5, cfg.numTimeBuckets);
  const targets = new Int32Array(10);
  targets.set([5, 7, 2, 9, 0], 0);
  targets.set([0, 0, 0, 6, 8], 5);
  const names = ['item_emb', 'block0/wq', 'block0/w1', 'pos_emb', 'final_ln_g', ...(relPos ? ['block0/rel'] : [])];
  const lossOf = (p: typeof p0) => tf.tidy(() => nextItemLoss(p, cfg, inp, targets, opts).dataSync()[0]);
  const tag = `gc${tf.getBackend()}/`;
  const vars = Object.fromEntries(Object.entries(p0).map(([k, v]) => [k, tf.variable(v, true, tag + k)]));
  const { grads: named } = tf.variableGrads(() => nextItemLoss(vars, cfg, inp, targets, opts));
  const grads = Object.fromEntries(Object.entries(named).map(([k, g]) => [k.slice(tag.length), g]));
  for (const v of Object.values(vars)) v.dispose();
  for (const name of names) {
    const g = grads[name].dataSync();
    const base = p0[name].dataSync();
    for (const idx of [0, 3, Math.floor(base.length / 2) + 1].filter((i) => i < base.length)) {
      const eps = 1e-3;
      const shift = (delta: number) => {
        const a = Float32Array.from(base);
        a[idx] += delta;
        return { ...p0, [name]: tf.tensor(a, p0[name].shape) };
      };
      const num = (lossOf(shift(eps)) - lossOf(shift(-eps))) / (2 * eps);
      assert.ok(
        Math.abs(num - g[idx]) < 2e-3 + 0.05 * Math.abs(num),
        `${name}[${idx}]: analytic ${g[idx]} vs numeric ${num}`,
      );
    }
  }
}

for (const backend of ['cpu', 'wasm']) {
  test(`the one-kernel layer norm equals the composite, and the encoder reads the same with either (${backend})`, async () => {
    await initBackend(backend);
    try {
      assert.ok(hasLayerNormKernel());
      const x = tf.randomNormal([5, 8], 0.3, 2, 'float32', 3) as tf.Tensor2D,
        g = tf.randomNormal([8], 1, 0.5, 'float32', 4),
        b = tf.randomNormal([8], 0, 1, 'float32', 5);
      const one = layerNormKernel(x, g, b).dataSync();
      const xc = tf.sub(x, tf.mean(x, -1, true));
      const ref = tf
        .add(tf.mul(tf.mul(xc, tf.rsqrt(tf.add(tf.mean(tf.square(xc), -1, true), LN_EPS))), g), b)
        .dataSync();
      one.forEach((v, i) => assert.ok(Math.abs(v - ref[i]) < 1e-5, `[${i}] ${v} vs ${ref[i]}`));
      // Inference (the kernel) and a pass under a gradient tape (the composite) give the same hidden states.
      const p = initParams(tiny, 6);
      const inp = packBatch([seq], 5, tiny.numTimeBuckets);
      const plain = tf.tidy(() => forward(p, tiny, inp).hidden.dataSync());
      let taped: Float32Array | null = null;
      tf.grad((w: tf.Tensor) => {
        const h = forward({ ...p, final_ln_g: w }, tiny, inp).hidden;
        taped = h.dataSync() as Float32Array;
        return tf.sum(h);
      })(p.final_ln_g);
      plain.forEach((v, i) => assert.ok(Math.abs(v - taped![i]) < 1e-5));
    } finally {
      await initBackend('cpu');
    }
  });

  test(`the one-kernel softmax and the composite: log-sum-exp and its gradient leave listed columns out, also when they hold nearly all the mass (${backend})`, async () => {
    await initBackend(backend);
    const kernel = tf.getKernel(SOFTMAX_LSE, backend);
    try {
      const R = 4,
        n = 7;
      const x = Array.from({ length: R * n }, (_, i) => Math.sin(i * 1.7) * 3);
      x[2 * n + 5] = 60; // row 2: a left-out column with nearly all of the row's mass
      const leftOut = { offsets: Int32Array.from([0, 2, 2, 4, 5]), cols: Int32Array.from([0, 6, 5, 1, 3]) };
      const dy = [0.5, -1, 2, 1.5];
      const check = () => {
        const xt = tf.tensor2d(x, [R, n]);
        const lse = logSumExpRows(xt, leftOut).dataSync();
        const grad = tf
          .grad((z: tf.Tensor) => tf.sum(tf.mul(logSumExpRows(z as tf.Tensor2D, leftOut), tf.tensor1d(dy))))(xt)
          .dataSync();
        for (let r = 0; r < R; r++) {
          const out = new Set(leftOut.cols.slice(leftOut.offsets[r], leftOut.offsets[r + 1]));
          const kept = x.slice(r * n, r * n + n).map((v, j) => (out.has(j) ? -Infinity : v));
          const m = Math.max(...kept),
            s = kept.reduce((a, v) => a + Math.exp(v - m), 0);
          assert.ok(Math.abs(lse[r] - (m + Math.log(s))) < 1e-5, `row ${r}: ${lse[r]} vs ${m + Math.log(s)}`);
          kept.forEach((v, j) =>
            assert.ok(Math.abs(grad[r * n + j] - (dy[r] * Math.exp(v - m)) / s) < 1e-6, `[${r}, ${j}]`),
          );
        }
      };
      assert.ok(hasSoftmaxKernel());
      check();
      // The composite (what webgl and webgpu run): the kernel unregistered, the backend's kernel list read anew.
      tf.unregisterKernel(SOFTMAX_LSE, backend);
      await initBackend(backend === 'cpu' ? 'wasm' : 'cpu');
      hasSoftmaxKernel();
      await initBackend(backend);
      assert.ok(!hasSoftmaxKernel());
      check();
    } finally {
      if (!tf.getKernel(SOFTMAX_LSE, backend)) tf.registerKernel(kernel);
      await initBackend(backend === 'cpu' ? 'wasm' : 'cpu');
      hasSoftmaxKernel();
      await initBackend('cpu');
    }
  });

  // On wasm the encoder uses its own gradients (scatter-add lookup, matmul with materialized transposes,
  // log-sum-exp with a saved softmax); on cpu tfjs's. Both must match finite differences.
  test(`numerical gradient check of the loss on a tiny config (${backend})`, async () => {
    await initBackend(backend);
    try {
      gradCheck();
    } finally {
      await initBackend('cpu');
    }
  });
  test(`numerical gradient check of the loss with seen items masked (${backend})`, async () => {
    await initBackend(backend);
    try {
      gradCheck({ maskSeen: true });
    } finally {
      await initBackend('cpu');
    }
  });
  test(`numerical gradient check of the loss with label smoothing, seen items masked (${backend})`, async () => {
    await initBackend(backend);
    try {
      gradCheck({ maskSeen: true, labelSmoothing: 0.2 });
    } finally {
      await initBackend('cpu');
    }
  });
  test(`numerical gradient check of the loss with the distance bias (${backend})`, async () => {
    await initBackend(backend);
    try {
      gradCheck({}, true);
    } finally {
      await initBackend('cpu');
    }
  });
  test(`numerical gradient check of the sampled loss with uniform negatives (${backend})`, async () => {
    await initBackend(backend);
    try {
      gradCheck({ sampled: 6, negatives: 'uniform', seed: 7 });
    } finally {
      await initBackend('cpu');
    }
  });
}

test('export → load gives identical scores; float16 stays close; a truncated shard is a clear error', async () => {
  const p = initParams(tiny, 5);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-model-'));
  await saveModelDir(dir, p, tiny, { ids: Array.from({ length: 11 }, (_, i) => `i${i}`) }, 'float32');
  const m = loadModelDir(dir);
  const inp = packBatch([seq], 5, tiny.numTimeBuckets);
  const score = (q: typeof p) =>
    tf.tidy(() =>
      tf.matMul(tf.slice(forward(q, tiny, inp).hidden, [4, 0], [1, -1]), q.item_emb, false, true).dataSync(),
    );
  assert.deepEqual(score(m.params), score(p));
  const named = (await Promise.all(Object.entries(p).map(async ([k, v]) => [k, v.shape, await v.data()]))) as Array<
    [string, number[], Float32Array]
  >;
  const half = encodeWeights(named, 'float16');
  const h = decodeParams(buildModelJson(tiny, half.specs, 'w.bin', 'v'), [half.data.buffer.slice(0) as ArrayBuffer]);
  const a = score(p),
    b = score(h);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-2 * (1 + Math.abs(a[i])));
  const full = fs.readFileSync(path.join(dir, 'weights.bin'));
  fs.writeFileSync(path.join(dir, 'weights.bin'), full.subarray(0, full.length - 10));
  assert.throws(() => loadModelDir(dir), /truncated/);
});
