import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initBackend } from './backend.js';
import { train, trainStep } from './trainer.js';
import { evaluateBaseline, evaluateModel } from './evaluation.js';
import { lrAt, parseLrDrops } from './schedule.js';
import { makeWindows, spreadSample, targetsPerBatch, type Window } from './windows.js';
import { parseOnlineRetail, readText, SHARED } from './data.js';
import { makeSplit } from './modeldir.js';
import { popularity } from './baselines.js';
import { defaultConfig } from '../../src/model/config.js';
import * as tf from '@tensorflow/tfjs-core';
import { initParams, type Params } from '../../src/model/encoder.js';
import { SparseRows } from './sparse-rows.js';

const file = path.join(SHARED, 'online-retail/online_retail_2010-2011.csv.gz');

/** A slice of Online Retail (customers with ≥ 20 events), time-split, and a tiny config of width d. */
async function slice(users: number, d: number, dropout: number) {
  await initBackend('wasm');
  const log = parseOnlineRetail([readText(file)]);
  log.users = log.users.filter((u) => u.items.length >= 20).slice(0, users);
  const split = makeSplit(log, { cutoff: '2011-10-01' });
  return {
    split,
    cfg: defaultConfig(split.vocab.length + 1, { d, blocks: 1, heads: 1, maxLen: 20, ffDim: d, dropout }),
  };
}

test(
  'a tiny training run on a slice of Online Retail beats popularity, reproducibly',
  { skip: !fs.existsSync(file) && `no ${file}` },
  async () => {
    const { split, cfg } = await slice(400, 32, 0.1);
    const opts = {
      epochs: 8,
      batch: 64,
      lr: 0.005,
      seed: 3,
      patience: 5,
      sampled: 0,
      validUsers: 0,
      quiet: true,
      log: () => {},
    };
    const r = await train(split, cfg, opts);
    const model = evaluateModel(r.params, cfg, split.test, false);
    const pop = evaluateBaseline(popularity(split.train, cfg.vocabSize), cfg.vocabSize, split.test, false);
    assert.ok(
      model['ndcg@10'] > pop['ndcg@10'],
      `model NDCG@10 ${model['ndcg@10'].toFixed(4)} vs popularity ${pop['ndcg@10'].toFixed(4)}`,
    );
    const [a, b] = [await train(split, cfg, { ...opts, epochs: 1 }), await train(split, cfg, { ...opts, epochs: 1 })];
    assert.deepEqual(
      Array.from(await a.params.item_emb.data()),
      Array.from(await b.params.item_emb.data()),
      'a fixed seed gives the same model',
    );
  },
);

test('a step schedule multiplies the learning rate from the given epochs on; bad specs are refused', () => {
  const drops = parseLrDrops('22:0.3,27:0.5');
  assert.deepEqual(drops, [
    { epoch: 22, factor: 0.3 },
    { epoch: 27, factor: 0.5 },
  ]);
  assert.equal(lrAt(0.001, 21, drops), 0.001); // the 22nd epoch still runs at the base rate
  assert.ok(Math.abs(lrAt(0.001, 22, drops) - 0.0003) < 1e-12);
  assert.ok(Math.abs(lrAt(0.001, 30, drops) - 0.00015) < 1e-12);
  assert.deepEqual(parseLrDrops(undefined), []);
  for (const bad of ['22', '0:0.5', 'x:0.5', '3:-1']) assert.throws(() => parseLrDrops(bad), /--lr-drop expects/);
});

test(
  'data-parallel training on worker threads follows the single-threaded run (no dropout: same gradients)',
  { skip: !fs.existsSync(file) && `no ${file}` },
  async () => {
    const { split, cfg } = await slice(120, 16, 0);
    const opts = {
      epochs: 2,
      batch: 32,
      lr: 0.003,
      seed: 5,
      patience: 5,
      sampled: 0,
      validUsers: 0,
      quiet: true,
      log: () => {},
    };
    const one = await train(split, cfg, opts);
    const two = await train(split, cfg, { ...opts, workers: 2 });
    const a = await one.params.item_emb.data(),
      b = await two.params.item_emb.data();
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    assert.ok(maxDiff < 1e-4, `item embeddings differ by up to ${maxDiff}`);
    assert.ok(Math.abs(one.best!['ndcg@10'] - two.best!['ndcg@10']) < 1e-3);
  },
);

test(
  'an interrupted run resumes to the same model; a finished one, rerun, reports its own throughput; other data starts afresh',
  { skip: !fs.existsSync(file) && `no ${file}` },
  async () => {
    const { split, cfg } = await slice(120, 16, 0.1);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-ck-'));
    try {
      const opts = {
        epochs: 2,
        batch: 32,
        lr: 0.003,
        seed: 9,
        patience: 5,
        sampled: 0,
        validUsers: 0,
        quiet: true,
        log: () => {},
      };
      const whole = await train(split, cfg, { ...opts, checkpointDir: path.join(tmp, 'a') });
      await train(split, cfg, { ...opts, epochs: 1, checkpointDir: path.join(tmp, 'b') });
      const resumed = await train(split, cfg, { ...opts, checkpointDir: path.join(tmp, 'b') });
      assert.deepEqual(
        Array.from(await resumed.params.item_emb.data()),
        Array.from(await whole.params.item_emb.data()),
        'resuming gives the uninterrupted model',
      );
      assert.equal(resumed.history.length, 2);
      const again = await train(split, cfg, { ...opts, checkpointDir: path.join(tmp, 'a') }); // nothing left to train
      assert.deepEqual(Array.from(await again.params.item_emb.data()), Array.from(await whole.params.item_emb.data()));
      assert.ok(
        again.seqPerSec > 0 && Math.abs(again.seqPerSec - whole.seqPerSec) < 1e-6 * whole.seqPerSec,
        `throughput ${again.seqPerSec} vs ${whole.seqPerSec}`,
      );
      // New data with the same architecture (a shop's next export): trained afresh, not resumed.
      const fewer = { ...split, train: split.train.slice(1) };
      const fresh = await train(fewer, cfg, { ...opts, epochs: 1, checkpointDir: path.join(tmp, 'a') });
      assert.equal(fresh.history.length, 1, 'one epoch of its own, not the finished run');
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  },
);

/** The least-squares factor s with a ≈ s·b (how much training scaled a tensor from its start). */
async function scaleOf(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const [x, y] = await Promise.all([a.data(), b.data()]);
  let num = 0,
    den = 0;
  for (let i = 0; i < x.length; i++) {
    num += x[i] * y[i];
    den += y[i] * y[i];
  }
  return num / den;
}

test(
  'weight decay shrinks embedding tables and weight matrices by 1 - lr·decay per step, not LayerNorm gains or biases',
  { skip: !fs.existsSync(file) && `no ${file}` },
  async () => {
    const { split, cfg } = await slice(120, 16, 0);
    // A rate too small for Adam to move anything visibly, a decay that makes lr·decay = 0.05 per step.
    const r = await train(split, cfg, {
      epochs: 1,
      batch: 32,
      lr: 1e-7,
      weightDecay: 5e5,
      seed: 1,
      patience: 5,
      sampled: 0,
      validUsers: 0,
      quiet: true,
      log: () => {},
    });
    const init = initParams(cfg, 1);
    const ratio = (k: string) => scaleOf(r.params[k], init[k]);
    const steps = Math.round(Math.log(await ratio('item_emb')) / Math.log(0.95));
    assert.ok(steps >= 2, `${steps} steps`);
    for (const k of ['item_emb', 'pos_emb', 'block0/wq', 'block0/w2'])
      assert.ok(Math.abs((await ratio(k)) - 0.95 ** steps) < 1e-3, `${k}: ${await ratio(k)} vs ${0.95 ** steps}`);
    assert.ok(Math.abs((await ratio('block0/ln1_g')) - 1) < 1e-3, 'LayerNorm gains are not decayed');
  },
);

test(
  'ema returns the moving average of the weights, and a resumed run continues the average',
  { skip: !fs.existsSync(file) && `no ${file}` },
  async () => {
    const { split, cfg } = await slice(120, 16, 0);
    // As above, weight decay makes the raw weights after step t exactly 0.95^t times their start (Adam moves nothing visibly).
    const opts = {
      epochs: 1,
      batch: 32,
      lr: 1e-7,
      weightDecay: 5e5,
      seed: 1,
      patience: 5,
      sampled: 0,
      validUsers: 0,
      quiet: true,
      log: () => {},
    };
    const init = initParams(cfg, 1);
    const ratio = (p: Params, k: string) => scaleOf(p[k], init[k]);
    const plain = await train(split, cfg, opts);
    const steps = Math.round(Math.log(await ratio(plain.params, 'item_emb')) / Math.log(0.95));
    let expect = 1; // avg_t = 0.6·avg_(t-1) + 0.4·0.95^t
    for (let t = 1; t <= steps; t++) expect = 0.6 * expect + 0.4 * 0.95 ** t;
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shelfwise-ema-'));
    try {
      const averaged = await train(split, cfg, { ...opts, ema: 0.6, checkpointDir: path.join(tmp, 'a') });
      for (const k of ['item_emb', 'block0/wq'])
        assert.ok(
          Math.abs((await ratio(averaged.params, k)) - expect) < 1e-3,
          `${k}: ${await ratio(averaged.params, k)} vs ${expect} after ${steps} steps`,
        );
      assert.ok(
        expect / 0.95 ** steps > 1.05,
        `the average (${expect}) differs from the last weights (${0.95 ** steps}) after ${steps} steps`,
      );
      // Two epochs in one go and one epoch then a resumed second give the same average.
      const two = { ...opts, lr: 0.003, weightDecay: 0, ema: 0.9, epochs: 2, patience: 9 };
      const whole = await train(split, cfg, { ...two, checkpointDir: path.join(tmp, 'w') });
      await train(split, cfg, { ...two, epochs: 1, checkpointDir: path.join(tmp, 'r') });
      const resumed = await train(split, cfg, { ...two, checkpointDir: path.join(tmp, 'r') });
      const [a, b] = await Promise.all([whole.params.item_emb.data(), resumed.params.item_emb.data()]);
      assert.deepEqual(Array.from(b), Array.from(a));
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  },
);

test('validation users are spread over the list, not its head', () => {
  const list = Array.from({ length: 10 }, (_, i) => i);
  assert.deepEqual(spreadSample(list, 4), [0, 2, 5, 7]);
  assert.deepEqual(spreadSample(list, 0), list);
  assert.deepEqual(spreadSample(list, 10), list);
  assert.deepEqual(spreadSample(list, 1), [0]);
});

test(
  'adamBeta2 reaches Adam: one step does not depend on it (bias-corrected), the next ones do; the default is 0.999',
  { skip: !fs.existsSync(file) && `no ${file}` },
  async () => {
    const { split, cfg } = await slice(120, 16, 0);
    const base = {
      epochs: 1,
      batch: 32,
      lr: 0.01,
      seed: 1,
      patience: 5,
      sampled: 0,
      validUsers: 0,
      quiet: true,
      log: () => {},
    };
    const emb = async (o: object) =>
      Array.from(await (await train(split, cfg, { ...base, ...o })).params.item_emb.data());
    const maxDiff = (a: number[], b: number[]) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
    // (Up to float rounding: the bias correction divides by 1 - β2.)
    assert.ok(
      maxDiff(await emb({ batch: 100_000, adamBeta2: 0.5 }), await emb({ batch: 100_000, adamBeta2: 0.98 })) < 1e-6,
      'a single step is the same for any β2',
    );
    const [half, b999, dflt] = [await emb({ adamBeta2: 0.5 }), await emb({ adamBeta2: 0.999 }), await emb({})];
    assert.ok(maxDiff(half, b999) > 1e-3, `several steps differ with β2 (${maxDiff(half, b999)})`);
    assert.deepEqual(dflt, b999, 'the default is 0.999');
  },
);

test(
  'weighing by target: a batch moves the weights in proportion to its targets, not by its mean loss',
  { skip: !fs.existsSync(file) && `no ${file}` },
  async () => {
    const { split, cfg } = await slice(60, 16, 0);
    const targets = (ws: Window[]) => ws.reduce((n, w) => n + w.weights.reduce((a, b) => a + b, 0), 0);
    const windows = makeWindows(split.train, cfg.maxLen).sort((a, b) => targets([a]) - targets([b]));
    const short = windows.slice(0, 8),
      long = windows.slice(-8);
    assert.ok(targets(short) * 2 < targets(long), 'a batch of few targets and one of many');
    const perBatch = targetsPerBatch([...short, ...long], 8);
    assert.ok(Math.abs(perBatch - (targets(short) + targets(long)) / 2) < 1e-9, 'the epoch mean per batch');
    // One plain gradient step (SGD at rate 1): the change of the weights is the step's gradient.
    const delta = async (ws: Window[], denom?: number) => {
      const init = initParams(cfg, 9);
      const names = Object.keys(init);
      const vars = Object.fromEntries(names.map((k) => [k, tf.variable(init[k], true, k)])); // named as train() names them: the optimizer finds them by name
      await trainStep(vars, names, cfg, tf.train.sgd(1), null, ws, 1, { sampled: 0 }, denom);
      const diff = tf.sub(vars.item_emb, init.item_emb);
      const d = Array.from(diff.dataSync());
      for (const v of [diff, ...Object.values(vars), ...Object.values(init)]) v.dispose();
      return d;
    };
    const norm = (x: number[]) => Math.sqrt(x.reduce((a, b) => a + b * b, 0));
    for (const ws of [short, long]) {
      const [mean, weighed] = [await delta(ws), await delta(ws, perBatch)];
      const ratio = norm(weighed) / norm(mean);
      assert.ok(
        Math.abs(ratio / (targets(ws) / perBatch) - 1) < 1e-4,
        `the step scales by targets / mean per batch (${ratio} vs ${targets(ws) / perBatch})`,
      );
    }
  },
);

test(
  'a row-sparse step (a large catalog) moves the weights exactly as the dense step does',
  { skip: !fs.existsSync(file) && `no ${file}` },
  async () => {
    const { split, cfg: c0 } = await slice(60, 16, 0);
    const cfg = { ...c0, returnItems: 8 };
    const windows = makeWindows(split.train, cfg.maxLen).slice(0, 12);
    const loss = { sampled: 64, negatives: 'mixed' as const };
    // One Adam step from fresh moments: a row no batch item uses gets no gradient and, in Adam, no change.
    const step = async (sparse: boolean) => {
      const init = initParams(cfg, 4);
      const names = Object.keys(init);
      const vars = Object.fromEntries(names.map((k) => [k, tf.variable(init[k], true, k)]));
      const opt = tf.train.adam(0.01);
      const rows = sparse ? new SparseRows(vars, cfg, 0.999) : null;
      await trainStep(vars, names, cfg, opt, null, windows, 3, loss, undefined, undefined, rows);
      rows?.sync(vars);
      const out = Object.fromEntries(names.map((k) => [k, Array.from(vars[k].dataSync())]));
      // Another step leaves no tensor behind (the step's small table and its gradients are disposed).
      const held = tf.memory().numTensors;
      await trainStep(vars, names, cfg, opt, null, windows, 4, loss, undefined, undefined, rows);
      assert.equal(tf.memory().numTensors, held, `tensors after a ${sparse ? 'row-sparse' : 'dense'} step`);
      for (const v of [...Object.values(vars), ...Object.values(init)]) v.dispose();
      opt.dispose();
      return out;
    };
    const [dense, sparse] = [await step(false), await step(true)];
    for (const k of Object.keys(dense)) {
      const diff = Math.max(...dense[k].map((x, i) => Math.abs(x - sparse[k][i])));
      assert.ok(diff < 1e-5, `${k}: ${diff}`);
    }
    assert.ok(
      dense.item_emb.some((x, i) => x !== initParams(cfg, 4).item_emb.dataSync()[i]),
      'the step changed the item table',
    );
    // The same batch dealt into shares (a softmax too large for the wasm heap at once): each share has its
    // own in-batch negatives, so the step differs a little; it moves the weights the same way and leaves no
    // tensor behind.
    const shared = async () => {
      const init = initParams(cfg, 4);
      const names = Object.keys(init);
      const vars = Object.fromEntries(names.map((k) => [k, tf.variable(init[k], true, k)]));
      const opt = tf.train.adam(0.01);
      const rows = new SparseRows(vars, cfg, 0.999);
      rows.logitLimit = 2_000;
      const r = await trainStep(vars, names, cfg, opt, null, windows, 3, loss, undefined, undefined, rows);
      rows.sync(vars);
      const out = Object.fromEntries(names.map((k) => [k, Array.from(vars[k].dataSync())]));
      // Adam's moments exist from the first step on: a second step adds nothing.
      const held = tf.memory().numTensors;
      await trainStep(vars, names, cfg, opt, null, windows, 4, loss, undefined, undefined, rows);
      assert.equal(tf.memory().numTensors, held, 'tensors after a step dealt into shares');
      for (const v of [...Object.values(vars), ...Object.values(init)]) v.dispose();
      opt.dispose();
      return { out, loss: r.loss };
    };
    const split2 = await shared();
    assert.ok(Number.isFinite(split2.loss) && split2.loss > 0);
    const start = initParams(cfg, 4);
    for (const k of Object.keys(dense)) {
      const s0 = start[k].dataSync();
      let agree = 0,
        moved = 0;
      dense[k].forEach((x, i) => {
        const a = x - s0[i],
          b = split2.out[k][i] - s0[i];
        if (a === 0 && b === 0) return;
        moved++;
        if (Math.sign(a) === Math.sign(b)) agree++;
      });
      if (moved >= 10) assert.ok(agree / moved > 0.7, `${k}: ${agree} of ${moved} moved the same way`);
    }
  },
);
