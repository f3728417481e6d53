import { initBackend } from './lib/backend.js';
await initBackend('wasm' as any);
import * as tf from '@tensorflow/tfjs-core';
import { loadLog } from './lib/data.js';
import { loadModelDir, remapSplit, makeSplit } from './lib/modeldir.js';
import { scoreExamples } from './lib/evaluation.js';
import { addExample, MetricSum } from './lib/metrics.js';
import { embedContent } from '../src/model/content.js';
const m = loadModelDir(process.argv[2] ?? '.cache/models/or-content');
const log = loadLog('online-retail');
const split = remapSplit(makeSplit(log, { protocol: 'item' } as any), m.vocab.ids);
const V = m.cfg.vocabSize,
  d = m.cfg.d;
const t = m.content!;
// First time each row appears in training.
const first = new Float64Array(V).fill(Infinity);
let last = 0;
for (const s of split.train)
  for (let i = 0; i < s.items.length; i++) {
    const r = s.items[i];
    if (r > 0 && r < V && s.ts[i] < first[r]) first[r] = s.ts[i];
    if (s.ts[i] > last) last = s.ts[i];
  }
const days = Number(process.env.DAYS ?? 60);
const late = new Set<number>();
for (let r = 1; r < V; r++) if (first[r] >= last - days * 86400) late.add(r);
console.log('late rows', late.size, 'of', V - 1);
// Validation: late rows scored by content only (their id dropped), plus a bias b on their final score.
const E = m.params.item_emb.dataSync() as Float32Array;
const E2 = E.slice();
for (const r of late) {
  const v = embedContent(t, log.meta.get(m.vocab.ids[r - 1]))?.v;
  if (v) E2.set(v, r * d);
}
const p2 = { ...m.params, item_emb: tf.tensor2d(E2, [V, d]) };
const bs = [0, 0.5, 1, 1.5, 2, 3, 4];
const sums = bs.map(() => new MetricSum()),
  lateSums = bs.map(() => new MetricSum());
scoreExamples(
  p2,
  m.cfg,
  split.valid,
  (ex, s) => {
    bs.forEach((b, k) => {
      const o = Float32Array.from(s);
      for (const r of late) o[r] += b;
      addExample(sums[k], o, ex, false);
      if (late.has(ex.target)) addExample(lateSums[k], o, ex, false);
    });
  },
  m.visit,
);
bs.forEach((b, k) =>
  console.log(
    `valid b ${b}: all ${sums[k].result()['ndcg@10'].toFixed(4)} late-target ${lateSums[k].result()['ndcg@10'].toFixed(4)} (${lateSums[k].result().users})`,
  ),
);
const best = bs[sums.map((x) => x.result()['ndcg@10']).reduce((bi, v, i, a) => (v > a[bi] ? i : bi), 0)];
// Test with cold rows from content, bias on their final score.
const cold = { vectors: split.cold!.map((id) => embedContent(t, split.meta?.get(id))?.v ?? null) };
for (const b of [0, best]) {
  const all = new MetricSum(),
    c = new MetricSum();
  scoreExamples(
    m.params,
    m.cfg,
    split.test,
    (ex, s) => {
      const o = Float32Array.from(s);
      for (let r = V; r < o.length; r++) o[r] += b;
      addExample(all, o, ex, false);
      if (ex.target > split.vocab.length) addExample(c, o, ex, false);
    },
    m.visit,
    cold,
  );
  console.log(
    `test b ${b}: all ${all.result()['ndcg@10'].toFixed(4)} cold ndcg ${c.result()['ndcg@10'].toFixed(4)} mrr ${c.result().mrr.toFixed(4)} hr20 ${c.result()['hr@20'].toFixed(3)}`,
  );
}
