/**
 * Training the encoder in Node (tfjs-node when installed, else the wasm backend): the loop, one step, and
 * the schedule around them. Windows and batches (windows.ts), evaluation (evaluation.ts), checkpoints
 * (checkpoint.ts) and the gradient worker pool (grad-pool.ts) live beside it.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { matmulPeak } from './backend.js';
import type { StepLoss } from './grad-protocol.js';
import { initParams, nextItemLoss, paramShapes, type LossOptions, type Params } from '../../src/model/encoder.js';
import type { ModelConfig } from '../../src/model/config.js';
import type { Example, Split } from './split.js';
import type { Metrics } from './metrics.js';
import { allBaselines } from './baselines.js';
import { cooccurrenceItemTable } from './item-init.js';
import { batches, makeWindows, targetsPerBatch, packWindows, rng, spreadSample, type Window } from './windows.js';
import { lrAt } from './schedule.js';
import { evaluateBaseline, evaluateModel } from './evaluation.js';
import { prefixed, saveCheckpoint } from './checkpoint.js';
import { contentVersion } from '../../src/model/weights.js';
import { flatParams, GradWorkers } from './grad-pool.js';
import { dropMask, effectiveTable, type ContentIndex } from './content.js';
import { SPARSE_ABOVE, SparseRows } from './sparse-rows.js';

export interface TrainOptions {
  epochs: number;
  batch: number;
  lr: number;
  seed: number;
  patience: number;
  sampled: number;
  /** With `sampled` > 0: contrast targets with the batch's items plus uniform draws (`mixed`), or uniform draws only. */
  negatives?: LossOptions['negatives'];
  /** Leave the items a window already holds out of each target's softmax (for data evaluated with seen items excluded). */
  maskSeen?: boolean;
  /** Label smoothing ε of the next-item loss (0 = none; see LossOptions). */
  labelSmoothing?: number;
  /**
   * Decoupled weight decay (AdamW): after each step every embedding table and weight matrix (not LayerNorm
   * gains, not biases) is multiplied by 1 - lr·weightDecay. 0 = plain Adam.
   */
  weightDecay?: number;
  /**
   * Exponential moving average of the weights: after each step, avg = ema·avg + (1 - ema)·weights. When set,
   * validation, early stopping and the returned model use the average (the raw weights' validation is logged
   * beside it). 0 = off.
   */
  ema?: number;
  /** Adam's β2, the decay of its running mean of squared gradients (default 0.999, tfjs's own). */
  adamBeta2?: number;
  /** Step schedule: from epoch `epoch` on (1-based, after that many epochs), the rate is multiplied by `factor`. */
  lrDrops?: Array<{ epoch: number; factor: number }>;
  /**
   * Reduce on plateau: after an epoch that does not beat the best validation NDCG@10, the weights go back to
   * the best ones and the rate is multiplied by this factor (0 = off). Patience then counts from the drop.
   */
  plateau?: number;
  /** Time budget in minutes (0 = none): training stops at the budget, mid-epoch, after validating what it has. */
  minutes?: number;
  /** Evaluate on at most this many validation users per epoch, spread evenly over the list (0 = all). */
  validUsers: number;
  /**
   * More validation sets (other protocols of the same log, e.g. the new shopper's visit): with them, an
   * epoch's validation score is the mean over all sets of the model's NDCG@10 over the best baseline's on
   * that set, so the exported epoch serves every protocol, not one.
   */
  alsoValid?: Array<{ name: string; examples: Example[]; excludeSeen: boolean }>;
  checkpointDir?: string;
  /**
   * Threads that compute gradients (data parallel: each batch is split into this many shares, one per
   * thread, the main thread included). 1 = single-threaded, the reference path.
   */
  workers?: number;
  /**
   * How a batch's targets are weighed. `batch` (each batch's mean loss: a batch of short windows, with few
   * targets, moves the weights as much as one of long windows) or `target` (every target the same weight
   * across the epoch: each batch's gradient scaled by its targets over the epoch's mean per batch; the
   * default of `npm run train`). Unset: `batch`.
   */
  weigh?: 'batch' | 'target';
  /** Targets inside a visit and visits as windows of their own (see WindowOptions; off when unset). */
  visit?: number;
  visitWindows?: boolean;
  /** The item table's start: random, or the factorized co-occurrence of items in one session (item-init.ts). */
  itemInit?: 'random' | 'cooccurrence';
  /**
   * The content part (content.ts): each row of the item table is its id vector plus its content tokens'
   * mean, a share of the id vectors dropped at each step. Trains on the main thread alone.
   */
  content?: ContentIndex;
  log?: (line: string) => void;
  quiet?: boolean;
}

/** FLOPs of one training step (forward + backward ≈ 3 × forward) over the packed batch. */
function stepFlops(cfg: ModelConfig, B: number, L: number, nTargets: number, sampled: number): number {
  const tokens = B * L;
  const perTokenBlock = 8 * cfg.d * cfg.d + 4 * cfg.d * cfg.ffDim + 4 * L * cfg.d;
  const out = 2 * cfg.d * (sampled > 0 ? sampled : cfg.vocabSize);
  return 3 * (tokens * cfg.blocks * perTokenBlock + nTargets * out);
}

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${s.toFixed(0)}s`;
}

/**
 * One training step. With workers (data parallel) the batch is dealt into shares (alternating windows, so
 * lengths stay balanced), the main thread takes the first, the workers the rest; the gradients are averaged
 * with weights equal to each share's number of targets over the batch's (the full batch's mean loss) or, with
 * `perBatch` (weighing by target), over the epoch's mean per batch; Adam applies them once. Without workers
 * the one share is the whole batch.
 */
export async function trainStep(
  params: Record<string, tf.Variable>,
  names: string[],
  cfg: ModelConfig,
  opt: tf.Optimizer,
  ws: GradWorkers | null,
  batch: Window[],
  seed: number,
  lossOpts: StepLoss,
  perBatch?: number,
  view?: (p: Params, seed: number) => Params,
  sparse?: SparseRows | null,
): Promise<{ loss: number; flops: number }> {
  if (sparse) return sparseStep(params, names, cfg, opt, sparse, batch, seed, lossOpts, perBatch);
  const W = 1 + (ws?.size ?? 0);
  const shares = Array.from({ length: W }, (_, k) => batch.filter((_, i) => i % W === k)).filter((s) => s.length > 0);
  const packed = shares.map((s) => packWindows(s, cfg));
  const counts = packed.map((p) =>
    p.targets.pairWeight ? p.targets.pairWeight.reduce((a, b) => a + b, 0) : p.targets.pairItem.length,
  );
  const total = counts.reduce((a, b) => a + b, 0) || 1;
  // The gradient's denominator: this batch's targets (its mean loss), or the epoch's mean per batch.
  const denom = perBatch ?? total;
  const flat = packed.length > 1 ? flatParams(params, names) : new Float32Array(0);
  // Share k > 0 runs on worker k-1; share k draws its own dropout masks and negatives (seed seed·W + k).
  const remote = packed
    .slice(1)
    .map((p, k) =>
      ws!.grads(k, { params: flat, inp: p.inp, targets: p.targets, seed: seed * W + k + 1, loss: lossOpts }),
    );
  const local = tf.variableGrads(
    () =>
      nextItemLoss(view ? view(params, seed) : params, cfg, packed[0].inp, packed[0].targets, {
        ...lossOpts,
        training: true,
        seed: seed * W,
      }),
    names.map((k) => params[k]),
  );
  const localLoss = (await local.value.data())[0];
  local.value.dispose();
  const results = await Promise.all(remote);
  let loss = (localLoss * counts[0]) / total;
  const avg: Record<string, tf.Tensor> = {};
  let off = 0;
  for (const k of names) {
    const v = params[k];
    avg[k] = tf.tidy(() => {
      let g = tf.mul(local.grads[k] ?? tf.zerosLike(v), counts[0] / denom);
      results.forEach((r, j) => {
        g = tf.add(g, tf.mul(tf.tensor(r.grads.subarray(off, off + v.size), v.shape), counts[j + 1] / denom));
      });
      return g;
    });
    off += v.size;
  }
  results.forEach((r, j) => {
    loss += (r.loss * counts[j + 1]) / total;
  });
  for (const g of Object.values(local.grads)) g.dispose();
  opt.applyGradients(avg);
  for (const g of Object.values(avg)) g.dispose();
  const flops = packed.reduce(
    (f, p) => f + stepFlops(cfg, p.inp.batch, p.inp.len, p.targets.positions.length, lossOpts.sampled ?? 0),
    0,
  );
  return { loss, flops };
}

/**
 * A row-sparse step (sparse-rows.ts): the batch on the rows it uses, one thread; Adam for the rest as usual.
 * A batch whose logits would pass sparse.logitLimit is dealt into shares (alternating windows, as the workers'
 * are), each with its own in-batch negatives, their gradients summed with weights as trainStep's: the wasm
 * heap holds one share's softmax, not the batch's (a batch of 64 windows of 100 events and 2,048 draws ran it
 * past 4 GB).
 */
async function sparseStep(
  params: Record<string, tf.Variable>,
  names: string[],
  cfg: ModelConfig,
  opt: tf.Optimizer,
  sparse: SparseRows,
  batch: Window[],
  seed: number,
  lossOpts: StepLoss,
  perBatch?: number,
): Promise<{ loss: number; flops: number }> {
  const count = (p: ReturnType<typeof packWindows>) =>
    p.targets.pairWeight ? p.targets.pairWeight.reduce((a, b) => a + b, 0) : p.targets.pairItem.length;
  const whole = packWindows(batch, cfg);
  const total = count(whole);
  // Rows of a share's small table: at most its targets plus the draws.
  const logits = (n: number) => n * (n + (lossOpts.sampled ?? 0));
  let S = 1;
  while (S < batch.length && logits(whole.targets.pairItem.length / S) > sparse.logitLimit) S *= 2;
  const shares = Array.from({ length: S }, (_, k) => batch.filter((_, i) => i % S === k)).filter((x) => x.length);
  const dense = names.filter((k) => k !== 'item_emb' && k !== 'ret_item');
  const d = cfg.d;
  // Gradients summed over the shares: the dense weights' as tensors, the item rows' by row.
  const denseSum: Record<string, tf.Tensor> = {};
  const rowGrad = new Map<number, Float32Array>(),
    retGrad = new Map<number, number>();
  let loss = 0,
    flops = 0;
  for (const share of shares) {
    const p = S === 1 ? whole : packWindows(share, cfg);
    const scale = count(p) / (perBatch ?? (total || 1));
    const g = sparse.gather(p.inp, p.targets, lossOpts.sampled ?? 0, seed);
    const sub = sparse.variables(g.rows);
    const model: Params = { ...params, ...sub };
    const r = tf.variableGrads(
      () => nextItemLoss(model, g.cfg, g.inp, g.targets, { ...lossOpts, negRows: g.negRows, training: true, seed }),
      [...dense.map((k) => params[k]), sub.item_emb, ...(sub.ret_item ? [sub.ret_item] : [])],
    );
    loss += (await r.value.data())[0] * (count(p) / (total || 1));
    for (const k of dense) {
      const gk = r.grads[params[k].name];
      const prev = denseSum[k];
      denseSum[k] = tf.tidy(() => (prev ? tf.add(prev, tf.mul(gk, scale)) : tf.mul(gk, scale)));
      prev?.dispose();
    }
    const ge = r.grads[sub.item_emb.name].dataSync() as Float32Array;
    const gr = sub.ret_item ? (r.grads[sub.ret_item.name].dataSync() as Float32Array) : null;
    g.rows.forEach((row, i) => {
      let a = rowGrad.get(row);
      if (!a) rowGrad.set(row, (a = new Float32Array(d)));
      for (let j = 0; j < d; j++) a[j] += scale * ge[(i + 1) * d + j];
      if (gr) retGrad.set(row, (retGrad.get(row) ?? 0) + scale * gr[i + 1]);
    });
    for (const t of [r.value, ...Object.values(r.grads), ...Object.values(sub)]) t.dispose();
    flops += stepFlops(cfg, p.inp.batch, p.inp.len, p.targets.positions.length, lossOpts.sampled ?? 0);
  }
  // The rows' gradients in the small-table layout sparse.apply reads (row 0: padding).
  const rows = Int32Array.from(rowGrad.keys());
  const ge = new Float32Array((rows.length + 1) * d),
    gr = sparse.ret ? new Float32Array(rows.length + 1) : null;
  rows.forEach((row, i) => {
    ge.set(rowGrad.get(row)!, (i + 1) * d);
    if (gr) gr[i + 1] = retGrad.get(row) ?? 0;
  });
  const lr = (opt as unknown as { learningRate: number }).learningRate;
  sparse.apply(rows, ge, gr, lr);
  opt.applyGradients(Object.fromEntries(dense.map((k) => [k, denseSum[k]])));
  for (const t of Object.values(denseSum)) t.dispose();
  return { loss, flops };
}

/** Adam's running bias-correction products (tfjs keeps them outside getWeights). */
interface AdamBetas {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
}

export interface TrainResult {
  params: Params;
  best: Metrics | null;
  epochs: number;
  seqPerSec: number;
  gflops: number;
  peak: number;
  seconds: number;
  history: string[];
}

/**
 * Adam on next-item cross-entropy with early stopping on validation NDCG@10. Resumes from
 * `checkpointDir` when it holds a checkpoint of the same config.
 */
export async function train(split: Split, cfg: ModelConfig, o: TrainOptions): Promise<TrainResult> {
  const log = o.log ?? ((l: string) => console.log(l));
  const params: Record<string, tf.Variable> = {};
  const init = initParams(cfg, o.seed);
  if (o.itemInit === 'cooccurrence') {
    const table = cooccurrenceItemTable(
      split.train,
      init.item_emb.dataSync() as Float32Array,
      cfg.vocabSize,
      cfg.d,
      o.seed,
    );
    init.item_emb.dispose();
    init.item_emb = tf.tensor2d(table, [cfg.vocabSize, cfg.d]);
  }
  for (const [k, v] of Object.entries(init)) {
    params[k] = tf.variable(v, true, k);
    v.dispose();
  }
  const content = o.content;
  if (content)
    params.content_w = tf.variable(
      tf.randomNormal([content.tokens.length, cfg.d], 0, 0.01, 'float32', o.seed),
      true,
      'content_w',
    );
  // The model as the softmax and the inputs see it: with the content part, ids plus content (a share of
  // the ids dropped while training).
  const view = content
    ? (p: Params, seed: number | null): Params => ({
        ...p,
        item_emb: effectiveTable(
          p.item_emb,
          p.content_w,
          content,
          seed === null ? null : dropMask(content, cfg.vocabSize, seed),
        ),
      })
    : null;
  const opt = tf.train.adam(o.lr, 0.9, o.adamBeta2 ?? 0.999);
  const windows = makeWindows(split.train, cfg.maxLen, {
    visit: o.visit,
    visitWindows: o.visitWindows,
    seed: o.seed,
  });
  const perBatch = o.weigh === 'target' ? targetsPerBatch(windows, o.batch) : undefined;
  const rand = rng(o.seed);
  let startEpoch = 0,
    best: Metrics | null = null,
    bestEpoch = -1,
    stepSeed = o.seed * 1000;
  let bestParams: Record<string, tf.Tensor> = {};
  // The weights' moving average (with `ema`), saved in checkpoints so that a resumed run continues it.
  const emaW: Record<string, tf.Variable> | null = o.ema
    ? Object.fromEntries(Object.entries(params).map(([k, v]) => [k, tf.variable(v, false)]))
    : null;
  const history: string[] = [];
  let priorSeconds = 0; // wall time of the runs this one resumes
  let plateauScale = 1; // the product of reduce-on-plateau drops so far
  // Throughput counters, carried across resumes so a resumed (or only finalized) run reports the whole run.
  let flops = 0,
    computeSec = 0,
    seqs = 0;
  const ckJson = o.checkpointDir ? path.join(o.checkpointDir, 'ckpt.json') : '';
  // What the run trains on: the vocabulary and every training sequence's length and first and last item.
  const dataKey = contentVersion(
    new TextEncoder().encode(
      split.vocab.join('\n') +
        split.train.map((s) => `${s.items.length},${s.items[0]},${s.items.at(-1)}`).join(';') +
        (content ? `content ${content.tokens.length} ${content.drop}` : ''),
    ),
  );
  if (ckJson && fs.existsSync(ckJson)) {
    const ck = JSON.parse(fs.readFileSync(ckJson, 'utf8'));
    // Resumed only for the same architecture on the same data: a new export of the same shop starts afresh.
    if (JSON.stringify(ck.state.cfg) === JSON.stringify(cfg) && ck.state.data === dataKey) {
      const named = tf.io.decodeWeights(
        fs.readFileSync(path.join(o.checkpointDir!, 'ckpt.bin')).buffer.slice(0),
        ck.specs,
      );
      for (const [k, v] of Object.entries(params)) v.assign(named['p/' + k]);
      const ow = Object.entries(named)
        .filter(([n]) => n.startsWith('o/'))
        .map(([n, t]) => ({ name: n.slice(2), tensor: t }));
      // Adam creates its slots lazily; one zero-gradient step creates them before they are overwritten.
      opt.applyGradients(Object.fromEntries(Object.entries(params).map(([k, v]) => [k, tf.zerosLike(v)])));
      await opt.setWeights(ow);
      // Adam's bias corrections as they were (setWeights recomputes them as β^(t+1), which differs from the
      // running product in the last bits): a resumed run then continues exactly.
      const acc = opt as unknown as AdamBetas;
      if (ck.state.adam) {
        acc.accBeta1.assign(tf.scalar(ck.state.adam[0]));
        acc.accBeta2.assign(tf.scalar(ck.state.adam[1]));
      }
      startEpoch = ck.state.epoch;
      best = ck.state.best;
      bestEpoch = ck.state.bestEpoch;
      stepSeed = ck.state.stepSeed;
      history.push(...(ck.state.history ?? []));
      priorSeconds = ck.state.seconds ?? 0;
      plateauScale = ck.state.plateauScale ?? 1;
      ({ flops = 0, computeSec = 0, seqs = 0 } = ck.state.throughput ?? {});
      for (let i = 0; i < startEpoch; i++) batches(windows, o.batch, rand); // replay the shuffles
      for (const [k, v] of Object.entries(params)) bestParams[k] = tf.clone(named['p/best/' + k] ?? v);
      if (emaW) for (const [k, v] of Object.entries(emaW)) v.assign(named['p/ema/' + k] ?? params[k]);
      log(`resumed from ${o.checkpointDir} at epoch ${startEpoch}`);
    }
  }
  const peak = matmulPeak(cfg.d, cfg.vocabSize);
  const shapes = paramShapes(cfg);
  const names = [...shapes.map(([k]) => k), ...(content ? ['content_w'] : [])];
  // A large catalog with a sampled softmax: steps on the rows each batch uses (one thread; the dense
  // alternative copies and updates the whole table every step).
  const sparse =
    cfg.vocabSize > SPARSE_ABOVE &&
    (o.sampled ?? 0) > 0 &&
    (o.negatives ?? 'mixed') === 'mixed' &&
    !content &&
    !emaW &&
    !o.weightDecay
      ? new SparseRows(params, cfg, o.adamBeta2 ?? 0.999)
      : null;
  if (sparse && !o.quiet)
    log(
      `row-sparse steps: ${cfg.vocabSize - 1} products, the item table updated where each batch uses it (one thread)`,
    );
  const decayed = shapes.filter(([, shape]) => shape.length === 2).map(([k]) => params[k]);
  const workers =
    (o.workers ?? 1) > 1 && !content && !sparse ? await GradWorkers.start((o.workers ?? 1) - 1, cfg) : null;
  const t0 = performance.now(),
    seqs0 = seqs;
  const validSets = [
    {
      name: split.protocol.split(':')[0],
      examples: spreadSample(split.valid, o.validUsers),
      excludeSeen: split.excludeSeen,
    },
    ...(o.alsoValid ?? []).map((v) => ({ ...v, examples: spreadSample(v.examples, o.validUsers) })),
  ];
  const validSet = validSets[0].examples;
  // Each set's best baseline, the yardstick of the validation score when there are several sets.
  const yard = validSets.map((v) => {
    const V = cfg.vocabSize;
    const bl = allBaselines(split.train, V, v.name !== validSets[0].name || !!split.visit)
      .map((b) => [b.name, evaluateBaseline(b, V, v.examples, v.excludeSeen)['ndcg@10']] as const)
      .sort((a, b) => b[1] - a[1]);
    if (!o.quiet)
      log(
        `validation ${v.name} (${v.examples.length} users): best baseline ${bl[0][0]} ndcg@10 ${bl[0][1].toFixed(4)}`,
      );
    return bl[0][1];
  });
  const validate = (m0: Params): { m: Metrics; score: number; note: string } => {
    const model = view ? tf.tidy(() => view(m0, null)) : m0;
    const ms = validSets.map((v) => evaluateModel(model, cfg, v.examples, v.excludeSeen));
    if (view) model.item_emb.dispose();
    if (ms.length === 1) return { m: ms[0], score: ms[0]['ndcg@10'], note: '' };
    const ratios = ms.map((m, i) => m['ndcg@10'] / Math.max(1e-9, yard[i]));
    const note = validSets
      .map((v, i) => `${v.name} ${ms[i]['ndcg@10'].toFixed(4)} (${ratios[i].toFixed(3)}×)`)
      .join(', ');
    return { m: ms[0], score: ratios.reduce((a, b) => a + b, 0) / ratios.length, note: ` [${note}]` };
  };
  let epoch = startEpoch;
  const deadline = o.minutes ? t0 + (o.minutes * 60 - priorSeconds) * 1000 : Infinity;
  let outOfTime = false;
  try {
    for (; epoch < o.epochs; epoch++) {
      const bs = batches(windows, o.batch, rand);
      const lr = lrAt(o.lr, epoch, o.lrDrops) * plateauScale;
      (opt as unknown as { learningRate: number }).learningRate = lr; // Adam reads it on every step
      const te = performance.now();
      let lossSum = 0,
        lossN = 0;
      for (let bi = 0; bi < bs.length; bi++) {
        if (performance.now() > deadline) {
          outOfTime = true;
          break;
        }
        const seed = ++stepSeed;
        const ts = performance.now();
        const { loss: l, flops: f } = await trainStep(
          params,
          names,
          cfg,
          opt,
          workers,
          bs[bi],
          seed,
          { sampled: o.sampled, negatives: o.negatives, maskSeen: o.maskSeen, labelSmoothing: o.labelSmoothing },
          perBatch,
          view ?? undefined,
          sparse,
        );
        if (o.weightDecay) {
          const keep = 1 - lr * o.weightDecay;
          tf.tidy(() => {
            for (const v of decayed) v.assign(tf.mul(v, keep));
          });
        }
        if (emaW) {
          const b = o.ema!;
          tf.tidy(() => {
            for (const [k, v] of Object.entries(emaW)) v.assign(tf.add(tf.mul(v, b), tf.mul(params[k], 1 - b)));
          });
        }
        flops += f;
        computeSec += (performance.now() - ts) / 1000;
        seqs += bs[bi].length;
        if (!Number.isFinite(l)) throw new Error(`training diverged: loss ${l} at epoch ${epoch + 1}, step ${bi + 1}`);
        lossSum += l;
        lossN++;
        if (!o.quiet && (bi % 5 === 0 || bi === bs.length - 1)) {
          const done = (bi + 1) / bs.length;
          const el = (performance.now() - te) / 1000;
          const bar = '#'.repeat(Math.round(done * 24)).padEnd(24, '.');
          process.stderr.write(
            `\repoch ${epoch + 1}/${o.epochs} [${bar}] ${(done * 100).toFixed(0)}% lr ${+lr.toPrecision(3)} loss ${(lossSum / lossN).toFixed(3)} ${((seqs - seqs0) / ((performance.now() - t0) / 1000)).toFixed(0)} seq/s ETA ${fmtTime(el / done - el)}  `,
          );
        }
      }
      if (!o.quiet) process.stderr.write('\n');
      sparse?.sync(params);
      const model = emaW ?? params;
      const { m, score, note } = validate(model);
      const raw = emaW
        ? ` (raw weights ${evaluateModel(params, cfg, validSet, split.excludeSeen)['ndcg@10'].toFixed(4)})`
        : '';
      const line = `epoch ${epoch + 1}${outOfTime ? ' (cut by the time budget)' : ''}: lr ${+lr.toPrecision(3)} loss ${lossN ? (lossSum / lossN).toFixed(4) : '-'} valid ndcg@10 ${m['ndcg@10'].toFixed(4)} hr@10 ${m['hr@10'].toFixed(4)}${note}${raw} (${((performance.now() - te) / 1000).toFixed(0)} s)`;
      history.push(line);
      log(line);
      if (!best || score > (best.score ?? best['ndcg@10'])) {
        best = { ...m, score };
        bestEpoch = epoch;
        for (const t of Object.values(bestParams)) t.dispose();
        bestParams = Object.fromEntries(Object.entries(model).map(([k, v]) => [k, tf.clone(v)]));
      } else if (o.plateau && !outOfTime) {
        plateauScale *= o.plateau;
        if (!emaW) for (const [k, v] of Object.entries(params)) v.assign(bestParams[k]);
        sparse?.load(params);
        log(`no gain: back to epoch ${bestEpoch + 1}'s weights, learning rate × ${o.plateau}`);
      }
      if (o.checkpointDir) {
        const withBest = { ...params, ...prefixed('best/', bestParams), ...prefixed('ema/', emaW ?? {}) };
        await saveCheckpoint(o.checkpointDir, withBest, opt, {
          cfg,
          data: dataKey,
          epoch: epoch + 1,
          best,
          bestEpoch,
          stepSeed,
          history,
          seconds: priorSeconds + (performance.now() - t0) / 1000,
          throughput: { flops, computeSec, seqs },
          plateauScale,
          adam: [
            (opt as unknown as AdamBetas).accBeta1.dataSync()[0],
            (opt as unknown as AdamBetas).accBeta2.dataSync()[0],
          ],
        });
      }
      if (outOfTime) {
        log(`time budget of ${o.minutes} min reached (best epoch ${bestEpoch + 1})`);
        epoch++;
        break;
      }
      // A scheduled drop in the learning rate restarts the patience count (a plateau drop does not: it follows each epoch without gain).
      const lastDrop = Math.max(-1, ...(o.lrDrops ?? []).filter((d) => d.epoch <= epoch).map((d) => d.epoch - 1));
      if (epoch - Math.max(bestEpoch, lastDrop) >= o.patience) {
        log(`early stop: no gain for ${o.patience} epochs (best epoch ${bestEpoch + 1})`);
        epoch++;
        break;
      }
    }
  } finally {
    await workers?.close();
  }
  const seconds = priorSeconds + (performance.now() - t0) / 1000; // all runs of this model, resumed ones included
  for (const v of [...Object.values(params), ...Object.values(emaW ?? {})]) v.dispose();
  opt.dispose();
  // With the content part: the exported item table is ids plus content; content_w stays beside it.
  if (view) {
    const t = tf.tidy(() => view(bestParams, null).item_emb);
    bestParams.item_emb.dispose();
    bestParams.item_emb = t;
  }
  return {
    params: bestParams,
    best,
    epochs: epoch,
    seqPerSec: seqs / Math.max(1e-9, computeSec),
    gflops: flops / Math.max(1e-9, computeSec) / 1e9,
    peak,
    seconds,
    history,
  };
}
