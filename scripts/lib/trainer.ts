/**
 * Training and evaluation of the encoder in Node (tfjs-node when installed, else the wasm backend).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { matmulPeak } from './backend.js';
import { concatFloat32, type ShareRequest, type ShareResult, type StepLoss } from './grad-protocol.js';
import { forward, initParams, nextItemLoss, paramShapes, type LossOptions, type Params, type ReturnInputs, type SeqInputs, type Targets } from '../../src/model/encoder.js';
import { groupIndex, HISTORY_FEATURES, ITEM_FEATURES, returnCandidates, type ReturnCandidates } from '../../src/model/history.js';
import { mixture, returnWeights } from '../../src/model/mixture.js';
import { hasReturn } from '../../src/model/config.js';
import type { ModelConfig } from '../../src/model/config.js';
import { modelWindow, packBatch, type RowSeq } from '../../src/model/inputs.js';
import { REMOVE, type Example, type Seq, type Split } from './split.js';
import { guardedFinetune, scoreAll, type FinetuneOptions } from '../../src/model/finetune.js';
import { addExample, MetricSum, type Metrics } from './metrics.js';
import { FlagError } from './flags.js';
import { allBaselines, type Baseline } from './baselines.js';

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
  checkpointDir?: string;
  /**
   * Threads that compute gradients (data parallel: each batch is split into this many shares, one per
   * thread, the main thread included). 1 = single-threaded, the reference path.
   */
  workers?: number;
  log?: (line: string) => void;
  quiet?: boolean;
}

/**
 * A training window: up to maxLen events of one sequence (`src`, from index `start`) and what they predict:
 * `pos` are window positions that end a group of events (a basket: events sharing a timestamp; without
 * timestamps every event), each predicting every item of the next group (`pairPos` into `pos`, `items`);
 * removals are never targets. `ret` caches the return candidates of each predicting position.
 */
interface Window { seq: RowSeq; src: Seq; start: number; pos: Int32Array; pairPos: Int32Array; items: Int32Array; weights: Float32Array; ret?: ReturnCandidates[] }

/** Training windows: chunks of maxLen+1 events from each sequence's end. */
export function makeWindows(train: Seq[], maxLen: number): Window[] {
  const out: Window[] = [];
  for (const s of train) {
    const n = s.items.length;
    const g = groupIndex(s.ts);
    for (let end = n; end >= 2; end -= maxLen) {
      const start = Math.max(0, end - maxLen - 1);
      const items = s.items.subarray(start, end - 1), types = s.types.subarray(start, end - 1), ts = s.ts.subarray(start, end - 1);
      const pos: number[] = [], pairPos: number[] = [], tItems: number[] = [], weights: number[] = [];
      for (let i = 0; i < items.length; i++) {
        const nx = start + i + 1;
        if (g[nx] === g[nx - 1]) continue; // inside a basket: the next group is not known yet at a real shopper's moment
        const set = new Set<number>();
        for (let j = nx; j < n && g[j] === g[nx]; j++) if (s.types[j] !== REMOVE && s.items[j] > 0) set.add(s.items[j]);
        if (set.size === 0) continue;
        pos.push(i);
        // Each basket counts once, as each test customer does: its items share a weight of 1.
        for (const x of set) { pairPos.push(pos.length - 1); tItems.push(x); weights.push(1 / set.size); }
      }
      if (pos.length === 0) continue;
      out.push({ seq: { items, types, ts, prevTs: start > 0 ? s.ts[start - 1] : undefined }, src: s, start, pos: Int32Array.from(pos), pairPos: Int32Array.from(pairPos), items: Int32Array.from(tItems), weights: Float32Array.from(weights) });
    }
  }
  return out;
}

/**
 * `n` elements spread evenly over `list` (all of it when n is 0 or not smaller). Not the first n: data sets
 * list users in an order that tracks how hard they are (on Beauty the first 6,000 users have the longest
 * histories: Markov's validation NDCG@10 is 0.029 on them, 0.056 on all), and validation should look like the test.
 */
export function spreadSample<T>(list: T[], n: number): T[] {
  if (n <= 0 || n >= list.length) return list;
  return Array.from({ length: n }, (_, i) => list[Math.floor((i * list.length) / n)]);
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; };
}

/** Learning rate of epoch `e` (0-based) under a step schedule. */
export function lrAt(lr: number, e: number, drops: TrainOptions['lrDrops'] = []): number {
  return drops.reduce((r, d) => (e >= d.epoch ? r * d.factor : r), lr);
}

/** Parses `--lr-drop 22:0.3,30:0.3`. */
export function parseLrDrops(s: string | undefined): Array<{ epoch: number; factor: number }> {
  if (!s) return [];
  return s.split(',').map((part) => {
    const [e, f] = part.split(':').map(Number);
    if (!Number.isInteger(e) || e < 1 || !(f > 0)) throw new FlagError(`--lr-drop expects EPOCH:FACTOR[,...], got "${part}"`);
    return { epoch: e, factor: f };
  });
}

/** Shuffled batches; within groups of 32 batches, windows are sorted by length so padding stays small. */
function batches(windows: Window[], B: number, rand: () => number): Window[][] {
  const idx = windows.map((_, i) => i);
  for (let i = idx.length - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [idx[i], idx[j]] = [idx[j], idx[i]]; }
  const out: Window[][] = [];
  const group = B * 32;
  for (let g = 0; g < idx.length; g += group) {
    const chunk = idx.slice(g, g + group).sort((a, b) => windows[a].seq.items.length - windows[b].seq.items.length);
    for (let i = 0; i < chunk.length; i += B) out.push(chunk.slice(i, i + B).map((k) => windows[k]));
  }
  for (let i = out.length - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [out[i], out[j]] = [out[j], out[i]]; }
  return out;
}

/** A batch of windows, left-padded, with its targets (and return candidates when the model has a return part). */
function packWindows(ws: Window[], cfg: ModelConfig): { inp: SeqInputs; targets: Targets } {
  const len = Math.max(...ws.map((w) => w.seq.items.length));
  const inp = packBatch(ws.map((w) => w.seq), len, cfg.numTimeBuckets);
  const positions: number[] = [], pairPos: number[] = [], items: number[] = [], weights: number[] = [];
  ws.forEach((w, b) => {
    const off = b * len + (len - w.seq.items.length), base = positions.length;
    for (const p of w.pos) positions.push(off + p);
    for (let j = 0; j < w.items.length; j++) { pairPos.push(base + w.pairPos[j]); items.push(w.items[j]); weights.push(w.weights[j]); }
  });
  // Weights only where some basket has several items: otherwise the plain mean (and exactly the loss of before).
  const targets: Targets = { positions: Int32Array.from(positions), pairPos: Int32Array.from(pairPos), pairItem: Int32Array.from(items), ...(weights.some((w) => w !== 1) ? { pairWeight: Float32Array.from(weights) } : {}) };
  if (hasReturn(cfg)) {
    const P = positions.length;
    for (const w of ws) w.ret ??= Array.from(w.pos, (q) => returnCandidates(w.src, cfg.returnItems!, w.start + q + 1));
    // Slots: as many as the batch's longest candidate list needs (short histories pad little).
    const K = Math.max(1, ...ws.flatMap((w) => w.ret!.map((c) => c.rows.length)));
    const ret: ReturnInputs = { k: K, rows: new Int32Array(P * K), feats: new Float32Array(P * K * ITEM_FEATURES), summary: new Float32Array(P * HISTORY_FEATURES) };
    let p = 0;
    for (const w of ws) {
      for (const c of w.ret!) {
        ret.rows.set(c.rows, p * K);
        ret.feats.set(c.feats, p * K * ITEM_FEATURES);
        ret.summary.set(c.summary, p * HISTORY_FEATURES);
        p++;
      }
    }
    targets.ret = ret;
  }
  return { inp, targets };
}

/** FLOPs of one training step (forward + backward ≈ 3 × forward) over the packed batch. */
function stepFlops(cfg: ModelConfig, B: number, L: number, nTargets: number, sampled: number): number {
  const tokens = B * L;
  const perTokenBlock = 8 * cfg.d * cfg.d + 4 * cfg.d * cfg.ffDim + 4 * L * cfg.d;
  const out = 2 * cfg.d * (sampled > 0 ? sampled : cfg.vocabSize);
  return 3 * (tokens * cfg.blocks * perTokenBlock + nTargets * out);
}

/** User vectors (hidden state at the last position) for a list of histories: [n, d] row-major. */
export function userVectors(params: Params, cfg: ModelConfig, hist: RowSeq[], batch = 256): Float32Array {
  const d = cfg.d;
  const out = new Float32Array(hist.length * d);
  const windows = hist.map((s) => modelWindow(s, cfg.maxLen));
  // Batches of similar lengths: padding every history to the longest of a random batch costs up to
  // maxLen / (mean length) more (about 5× on Beauty).
  const order = windows.map((_, i) => i).sort((a, b) => windows[a].items.length - windows[b].items.length);
  for (let i = 0; i < order.length; i += batch) {
    const idx = order.slice(i, i + batch);
    const part = idx.map((k) => windows[k]);
    const len = Math.max(1, ...part.map((s) => s.items.length));
    const v = tf.tidy(() => {
      const inp = packBatch(part, len, cfg.numTimeBuckets);
      const { hidden } = forward(params, cfg, inp);
      const lastRows = part.map((_, b) => b * len + len - 1);
      return tf.gather(hidden, tf.tensor1d(lastRows, 'int32'));
    });
    const rows = v.dataSync() as Float32Array;
    v.dispose();
    idx.forEach((k, b) => out.set(rows.subarray(b * d, (b + 1) * d), k * d));
  }
  return out;
}

/**
 * Scores of every item row for each example (catalog logits, or with the return part the log mixture
 * probability), handed to `use` batch by batch: [V] per example, row 0 unused.
 */
export function scoreExamples(params: Params, cfg: ModelConfig, examples: Example[], use: (ex: Example, scores: Float32Array) => void): void {
  const B = 256;
  // The item table transposed once: a matmul with a transposed operand is several times slower on wasm.
  const itemsT = tf.transpose(params.item_emb) as tf.Tensor2D;
  const rw = hasReturn(cfg) ? returnWeights(params, cfg) : null;
  const V = cfg.vocabSize;
  // Similar lengths in each batch (see userVectors).
  const byLen = [...examples].sort((a, b) => Math.min(a.items.length, cfg.maxLen) - Math.min(b.items.length, cfg.maxLen));
  for (let i = 0; i < byLen.length; i += B) {
    const part = byLen.slice(i, i + B);
    const u = userVectors(params, cfg, part, B);
    const scores = tf.tidy(() => tf.matMul(tf.tensor2d(u, [part.length, cfg.d]), itemsT));
    const s = scores.dataSync() as Float32Array;
    scores.dispose();
    part.forEach((ex, b) => {
      const z = s.subarray(b * V, (b + 1) * V);
      use(ex, rw ? mixture(z, u.subarray(b * cfg.d, (b + 1) * cfg.d), returnCandidates(ex, cfg.returnItems!), rw).scores : z);
    });
  }
  itemsT.dispose();
}

/** Full-ranking metrics of the model over examples (seen items excluded when asked; a basket target counts every item). */
export function evaluateModel(params: Params, cfg: ModelConfig, examples: Example[], excludeSeen: boolean): Metrics {
  const sum = new MetricSum();
  scoreExamples(params, cfg, examples, (ex, s) => addExample(sum, s, ex, excludeSeen));
  return sum.result();
}

export function evaluateBaseline(bl: Baseline, V: number, examples: Example[], excludeSeen: boolean): Metrics {
  const sum = new MetricSum();
  const out = new Float32Array(V);
  for (const ex of examples) { bl.score(ex.items, out); addExample(sum, out, ex, excludeSeen); }
  return sum.result();
}

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${s.toFixed(0)}s`;
}

/** `rec` with every key prefixed (the best and averaged weights beside the current ones in a checkpoint). */
function prefixed<T>(prefix: string, rec: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(rec).map(([k, v]) => [prefix + k, v]));
}

function saveCheckpoint(dir: string, params: Params, opt: tf.Optimizer, state: object): Promise<void> {
  return (async () => {
    fs.mkdirSync(dir, { recursive: true });
    const named: Array<{ name: string; tensor: tf.Tensor }> = [
      ...Object.entries(params).map(([name, tensor]) => ({ name: 'p/' + name, tensor })),
      ...(await opt.getWeights()).map((w) => ({ name: 'o/' + w.name, tensor: w.tensor })),
    ];
    const { data, specs } = await tf.io.encodeWeights(named);
    const tmp = path.join(dir, 'ckpt.tmp');
    fs.writeFileSync(tmp + '.bin', Buffer.from(data));
    fs.writeFileSync(tmp + '.json', JSON.stringify({ specs, state }));
    fs.renameSync(tmp + '.bin', path.join(dir, 'ckpt.bin'));
    fs.renameSync(tmp + '.json', path.join(dir, 'ckpt.json'));
  })();
}

/**
 * Gradient helpers on worker threads (scripts/lib/grad-worker.ts). `grads` returns, for one share of a
 * batch, the loss and the flattened gradient in `paramShapes` order.
 */
class GradWorkers {
  private ws: Worker[];
  private constructor(ws: Worker[]) { this.ws = ws; }

  get size(): number { return this.ws.length; }

  static async start(n: number, cfg: ModelConfig): Promise<GradWorkers> {
    // The worker is TypeScript: it registers tsx's loader in its own thread, then imports the file.
    const url = new URL('./grad-worker.ts', import.meta.url).href;
    const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url)}); })`;
    const ws = Array.from({ length: n }, () => new Worker(boot, { eval: true }));
    await Promise.all(ws.map((w) => GradWorkers.call(w, { init: cfg })));
    return new GradWorkers(ws);
  }

  private static call<T>(w: Worker, msg: unknown): Promise<T> {
    return new Promise((resolve, reject) => {
      const onMsg = (m: T & { error?: string }) => { off(); m.error ? reject(new Error('gradient worker: ' + m.error)) : resolve(m); };
      const onErr = (e: Error) => { off(); reject(e); };
      const off = () => { w.off('message', onMsg); w.off('error', onErr); };
      w.on('message', onMsg); w.on('error', onErr);
      w.postMessage(msg);
    });
  }

  grads(i: number, share: ShareRequest): Promise<ShareResult> {
    return GradWorkers.call(this.ws[i], { share });
  }

  async close(): Promise<void> { await Promise.all(this.ws.map((w) => w.terminate())); }
}

/** The parameters flattened in `paramShapes` order (what the gradient workers load). */
function flatParams(params: Record<string, tf.Variable>, names: string[]): Float32Array {
  return concatFloat32(names.map((k) => params[k].dataSync() as Float32Array));
}

/**
 * One training step. With workers (data parallel) the batch is dealt into shares (alternating windows, so
 * lengths stay balanced), the main thread takes the first, the workers the rest; the gradients are averaged
 * with weights equal to each share's number of targets (the full batch's mean loss) and Adam applies them
 * once. Without workers the one share is the whole batch.
 */
async function trainStep(
  params: Record<string, tf.Variable>, names: string[], cfg: ModelConfig, opt: tf.Optimizer, ws: GradWorkers | null,
  batch: Window[], seed: number, lossOpts: StepLoss,
): Promise<{ loss: number; flops: number }> {
  const W = 1 + (ws?.size ?? 0);
  const shares = Array.from({ length: W }, (_, k) => batch.filter((_, i) => i % W === k)).filter((s) => s.length > 0);
  const packed = shares.map((s) => packWindows(s, cfg));
  const counts = packed.map((p) => p.targets.pairWeight ? p.targets.pairWeight.reduce((a, b) => a + b, 0) : p.targets.pairItem.length);
  const total = counts.reduce((a, b) => a + b, 0) || 1;
  const flat = packed.length > 1 ? flatParams(params, names) : new Float32Array(0);
  // Share k > 0 runs on worker k-1; share k draws its own dropout masks and negatives (seed seed·W + k).
  const remote = packed.slice(1).map((p, k) => ws!.grads(k, { params: flat, inp: p.inp, targets: p.targets, seed: seed * W + k + 1, loss: lossOpts }));
  const local = tf.variableGrads(() => nextItemLoss(params, cfg, packed[0].inp, packed[0].targets, { ...lossOpts, training: true, seed: seed * W }), names.map((k) => params[k]));
  const localLoss = (await local.value.data())[0];
  local.value.dispose();
  const results = await Promise.all(remote);
  let loss = localLoss * counts[0] / total;
  const avg: Record<string, tf.Tensor> = {};
  let off = 0;
  for (const k of names) {
    const v = params[k];
    avg[k] = tf.tidy(() => {
      let g = tf.mul(local.grads[k] ?? tf.zerosLike(v), counts[0] / total);
      results.forEach((r, j) => { g = tf.add(g, tf.mul(tf.tensor(r.grads.subarray(off, off + v.size), v.shape), counts[j + 1] / total)); });
      return g;
    });
    off += v.size;
  }
  results.forEach((r, j) => { loss += r.loss * counts[j + 1] / total; });
  for (const g of Object.values(local.grads)) g.dispose();
  opt.applyGradients(avg);
  for (const g of Object.values(avg)) g.dispose();
  const flops = packed.reduce((f, p) => f + stepFlops(cfg, p.inp.batch, p.inp.len, p.targets.positions.length, lossOpts.sampled ?? 0), 0);
  return { loss, flops };
}

/** Adam's running bias-correction products (tfjs keeps them outside getWeights). */
interface AdamBetas { accBeta1: tf.Variable; accBeta2: tf.Variable }

export interface TrainResult { params: Params; best: Metrics | null; epochs: number; seqPerSec: number; gflops: number; peak: number; seconds: number; history: string[] }

/**
 * Adam on next-item cross-entropy with early stopping on validation NDCG@10. Resumes from
 * `checkpointDir` when it holds a checkpoint of the same config.
 */
export async function train(split: Split, cfg: ModelConfig, o: TrainOptions): Promise<TrainResult> {
  const log = o.log ?? ((l: string) => console.log(l));
  const params: Record<string, tf.Variable> = {};
  for (const [k, v] of Object.entries(initParams(cfg, o.seed))) { params[k] = tf.variable(v, true, k); v.dispose(); }
  const opt = tf.train.adam(o.lr);
  const windows = makeWindows(split.train, cfg.maxLen);
  const rand = rng(o.seed);
  let startEpoch = 0, best: Metrics | null = null, bestEpoch = -1, stepSeed = o.seed * 1000;
  let bestParams: Record<string, tf.Tensor> = {};
  // The weights' moving average (with `ema`), saved in checkpoints so that a resumed run continues it.
  const emaW: Record<string, tf.Variable> | null = o.ema ? Object.fromEntries(Object.entries(params).map(([k, v]) => [k, tf.variable(v, false)])) : null;
  const history: string[] = [];
  let priorSeconds = 0; // wall time of the runs this one resumes
  let plateauScale = 1; // the product of reduce-on-plateau drops so far
  // Throughput counters, carried across resumes so a resumed (or only finalized) run reports the whole run.
  let flops = 0, computeSec = 0, seqs = 0;
  const ckJson = o.checkpointDir ? path.join(o.checkpointDir, 'ckpt.json') : '';
  if (ckJson && fs.existsSync(ckJson)) {
    const ck = JSON.parse(fs.readFileSync(ckJson, 'utf8'));
    if (JSON.stringify(ck.state.cfg) === JSON.stringify(cfg)) {
      const named = tf.io.decodeWeights(fs.readFileSync(path.join(o.checkpointDir!, 'ckpt.bin')).buffer.slice(0) as ArrayBuffer, ck.specs);
      for (const [k, v] of Object.entries(params)) v.assign(named['p/' + k]);
      const ow = Object.entries(named).filter(([n]) => n.startsWith('o/')).map(([n, t]) => ({ name: n.slice(2), tensor: t }));
      // Adam creates its slots lazily; one zero-gradient step creates them before they are overwritten.
      opt.applyGradients(Object.fromEntries(Object.entries(params).map(([k, v]) => [k, tf.zerosLike(v)])));
      await opt.setWeights(ow);
      // Adam's bias corrections as they were (setWeights recomputes them as β^(t+1), which differs from the
      // running product in the last bits): a resumed run then continues exactly.
      const acc = (opt as unknown as AdamBetas);
      if (ck.state.adam) { acc.accBeta1.assign(tf.scalar(ck.state.adam[0])); acc.accBeta2.assign(tf.scalar(ck.state.adam[1])); }
      startEpoch = ck.state.epoch; best = ck.state.best; bestEpoch = ck.state.bestEpoch; stepSeed = ck.state.stepSeed;
      history.push(...(ck.state.history ?? [])); priorSeconds = ck.state.seconds ?? 0;
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
  const names = shapes.map(([k]) => k);
  const decayed = shapes.filter(([, shape]) => shape.length === 2).map(([k]) => params[k]);
  const workers = (o.workers ?? 1) > 1 ? await GradWorkers.start((o.workers ?? 1) - 1, cfg) : null;
  const t0 = performance.now(), seqs0 = seqs;
  const validSet = spreadSample(split.valid, o.validUsers);
  if (!o.quiet) {
    const V = cfg.vocabSize;
    const bl = allBaselines(split.train, V).map((b) => [b.name, evaluateBaseline(b, V, validSet, split.excludeSeen)['ndcg@10']] as const).sort((a, b) => b[1] - a[1]);
    log(`validation (${validSet.length} users): best baseline ${bl[0][0]} ndcg@10 ${bl[0][1].toFixed(4)}`);
  }
  let epoch = startEpoch;
  const deadline = o.minutes ? t0 + (o.minutes * 60 - priorSeconds) * 1000 : Infinity;
  let outOfTime = false;
  try {
    for (; epoch < o.epochs; epoch++) {
      const bs = batches(windows, o.batch, rand);
      const lr = lrAt(o.lr, epoch, o.lrDrops) * plateauScale;
      (opt as unknown as { learningRate: number }).learningRate = lr; // Adam reads it on every step
      const te = performance.now();
      let lossSum = 0, lossN = 0;
      for (let bi = 0; bi < bs.length; bi++) {
        if (performance.now() > deadline) { outOfTime = true; break; }
        const seed = ++stepSeed;
        const ts = performance.now();
        const { loss: l, flops: f } = await trainStep(params, names, cfg, opt, workers, bs[bi], seed, { sampled: o.sampled, negatives: o.negatives, maskSeen: o.maskSeen });
        if (o.weightDecay) { const keep = 1 - lr * o.weightDecay; tf.tidy(() => { for (const v of decayed) v.assign(tf.mul(v, keep)); }); }
        if (emaW) { const b = o.ema!; tf.tidy(() => { for (const [k, v] of Object.entries(emaW)) v.assign(tf.add(tf.mul(v, b), tf.mul(params[k], 1 - b))); }); }
        flops += f;
        computeSec += (performance.now() - ts) / 1000;
        seqs += bs[bi].length;
        if (!Number.isFinite(l)) throw new Error(`training diverged: loss ${l} at epoch ${epoch + 1}, step ${bi + 1}`);
        lossSum += l; lossN++;
        if (!o.quiet && (bi % 5 === 0 || bi === bs.length - 1)) {
          const done = (bi + 1) / bs.length;
          const el = (performance.now() - te) / 1000;
          const bar = '#'.repeat(Math.round(done * 24)).padEnd(24, '.');
          process.stderr.write(`\repoch ${epoch + 1}/${o.epochs} [${bar}] ${(done * 100).toFixed(0)}% lr ${+lr.toPrecision(3)} loss ${(lossSum / lossN).toFixed(3)} ${((seqs - seqs0) / ((performance.now() - t0) / 1000)).toFixed(0)} seq/s ETA ${fmtTime(el / done - el)}  `);
        }
      }
      if (!o.quiet) process.stderr.write('\n');
      const model = emaW ?? params;
      const m = evaluateModel(model, cfg, validSet, split.excludeSeen);
      const raw = emaW ? ` (raw weights ${evaluateModel(params, cfg, validSet, split.excludeSeen)['ndcg@10'].toFixed(4)})` : '';
      const line = `epoch ${epoch + 1}${outOfTime ? ' (cut by the time budget)' : ''}: lr ${+lr.toPrecision(3)} loss ${(lossSum / lossN).toFixed(4)} valid ndcg@10 ${m['ndcg@10'].toFixed(4)} hr@10 ${m['hr@10'].toFixed(4)}${raw} (${((performance.now() - te) / 1000).toFixed(0)} s)`;
      history.push(line); log(line);
      if (!best || m['ndcg@10'] > best['ndcg@10']) {
        best = m; bestEpoch = epoch;
        for (const t of Object.values(bestParams)) t.dispose();
        bestParams = Object.fromEntries(Object.entries(model).map(([k, v]) => [k, tf.clone(v)]));
      } else if (o.plateau && !outOfTime) {
        plateauScale *= o.plateau;
        if (!emaW) for (const [k, v] of Object.entries(params)) v.assign(bestParams[k]);
        log(`no gain: back to epoch ${bestEpoch + 1}'s weights, learning rate × ${o.plateau}`);
      }
      if (o.checkpointDir) {
        const withBest = { ...params, ...prefixed('best/', bestParams), ...prefixed('ema/', emaW ?? {}) } as Params;
        await saveCheckpoint(o.checkpointDir, withBest, opt, { cfg, epoch: epoch + 1, best, bestEpoch, stepSeed, history, seconds: priorSeconds + (performance.now() - t0) / 1000, throughput: { flops, computeSec, seqs }, plateauScale, adam: [(opt as unknown as AdamBetas).accBeta1.dataSync()[0], (opt as unknown as AdamBetas).accBeta2.dataSync()[0]] });
      }
      if (outOfTime) { log(`time budget of ${o.minutes} min reached (best epoch ${bestEpoch + 1})`); epoch++; break; }
      // A scheduled drop in the learning rate restarts the patience count (a plateau drop does not: it follows each epoch without gain).
      const lastDrop = Math.max(-1, ...(o.lrDrops ?? []).filter((d) => d.epoch <= epoch).map((d) => d.epoch - 1));
      if (epoch - Math.max(bestEpoch, lastDrop) >= o.patience) { log(`early stop: no gain for ${o.patience} epochs (best epoch ${bestEpoch + 1})`); epoch++; break; }
    }
  } finally {
    await workers?.close();
  }
  const seconds = priorSeconds + (performance.now() - t0) / 1000; // all runs of this model, resumed ones included
  for (const v of [...Object.values(params), ...Object.values(emaW ?? {})]) v.dispose();
  opt.dispose();
  return { params: bestParams, best, epochs: epoch, seqPerSec: seqs / Math.max(1e-9, computeSec), gflops: flops / Math.max(1e-9, computeSec) / 1e9, peak, seconds, history };
}

/**
 * Simulates the on-device recipe for each example (src/model/finetune.ts, the code the page's worker
 * runs): only that user's own history, the guard on their most recent event. Returns metrics and how
 * often the adaptation was kept.
 */
export function evaluateFinetuned(params: Params, cfg: ModelConfig, examples: Example[], excludeSeen: boolean, o: FinetuneOptions = {}): Metrics & { kept: number } {
  const sum = new MetricSum();
  const E = params.item_emb.dataSync() as Float32Array;
  const V = cfg.vocabSize, d = cfg.d;
  const rw = hasReturn(cfg) ? returnWeights(params, cfg) : null;
  let kept = 0;
  const B = 64;
  for (let i = 0; i < examples.length; i += B) {
    const part = examples.slice(i, i + B).map((s) => modelWindow(s, cfg.maxLen));
    const len = Math.max(1, ...part.map((s) => s.items.length));
    const h = tf.tidy(() => forward(params, cfg, packBatch(part, len, cfg.numTimeBuckets)).hidden);
    const all = h.dataSync() as Float32Array;
    h.dispose();
    part.forEach((s, b) => {
      const n = s.items.length;
      const states = all.subarray((b * len + len - n) * d, (b + 1) * len * d);
      const r = guardedFinetune(states, s.items, E, V, d, o);
      if (r.bias) kept++;
      const user = states.subarray((n - 1) * d, n * d);
      const z = scoreAll(user, E, V, d, r.bias);
      const ex = examples[i + b];
      // With the return part, the adapted user vector feeds the mixture too (as in the page).
      const scores = rw ? mixture(z, r.bias ? user.map((v, j) => v + r.bias![j]) : user, returnCandidates(ex, cfg.returnItems!), rw).scores : z;
      addExample(sum, scores, ex, excludeSeen);
    });
  }
  return { ...sum.result(), kept: kept / Math.max(1, examples.length) };
}
