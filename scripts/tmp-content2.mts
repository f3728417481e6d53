import { initBackend } from './lib/backend.js';
await initBackend('wasm' as any);
import { loadLog } from './lib/data.js';
import { loadModelDir, remapSplit, makeSplit } from './lib/modeldir.js';
import { fitContent, trainContent, rowTokenIndex } from './lib/content.js';
import { evaluateModel, userVectors } from './lib/evaluation.js';
import { readType } from '../src/model/config.js';
import { embedContent, decodeContent, encodeContent } from '../src/model/content.js';
const dir = process.argv[2] ?? 'models/online-retail';
const ds = process.argv[3] ?? 'online-retail';
const cutoff = process.argv[4];
const m = loadModelDir(dir);
const log = loadLog(ds);
const E = m.params.item_emb.dataSync() as Float32Array;
const d = m.cfg.d,
  V = m.cfg.vocabSize;
const split = remapSplit(makeSplit(log, { protocol: 'item', ...(cutoff ? { cutoff } : {}) } as any), m.vocab.ids);
const t0 = Date.now();
const f = fitContent(m.vocab.ids, log.meta, E, d, { lambda: 0.05 });
console.log('ridge', f.tokens.length, f.r2.toFixed(3), (Date.now() - t0) / 1000);
// Training examples: the last 8 known positions of each training sequence.
const hist: any[] = [],
  targets: number[] = [];
for (const s of split.train) {
  const pos: number[] = [];
  for (let t = s.items.length - 1; t >= 1 && pos.length < Number(process.env.POS ?? 8); t--)
    if (s.items[t] > 0 && s.items[t] < V) pos.push(t);
  for (const t of pos) {
    hist.push({
      items: s.items.slice(0, t),
      types: m.cfg.typeMap ? s.types.slice(0, t).map((x) => readType(m.cfg, x)) : s.types.slice(0, t),
      ts: s.ts.slice(0, t),
    });
    targets.push(s.items[t]);
  }
}
const t1 = Date.now();
const users = userVectors(m.params, m.cfg, hist);
console.log('examples', targets.length, 'user vectors', (Date.now() - t1) / 1000);
const rowTokens = rowTokenIndex(m.vocab.ids, log.meta, f.tokens);
const coldTest = split.test.filter((e) => e.target > split.vocab.length);
const evalWith = (vectors: Float32Array, bias: number, label: string) => {
  const table = decodeContent(encodeContent(f.tokens, vectors, d).buffer as ArrayBuffer, d);
  const vec = split.cold!.map((id) => embedContent(table, split.meta?.get(id))?.v ?? null);
  const c = { vectors: vec, bias };
  const all = evaluateModel(m.params, m.cfg, split.test, false, m.visit, c);
  const cm = evaluateModel(m.params, m.cfg, coldTest, false, m.visit, c);
  console.log(
    `${label}: all ${all['ndcg@10'].toFixed(4)} cold ndcg ${cm['ndcg@10'].toFixed(4)} hr10 ${cm['hr@10'].toFixed(3)} hr20 ${cm['hr@20'].toFixed(3)} mrr ${cm.mrr.toFixed(4)}`,
  );
};
evalWith(f.vectors, 0, 'ridge');
for (const ep of [Number(process.env.EPOCHS ?? 6)]) {
  const t2 = Date.now();
  const r = trainContent(users, Int32Array.from(targets), E, V, d, rowTokens, f.vectors, {
    epochs: ep,
    negatives: Number(process.env.NEG ?? 32),
    lr: Number(process.env.LR ?? 0.01),
    say: console.log,
  });
  console.log('trained', (Date.now() - t2) / 1000);
  evalWith(r.vectors, r.bias, `softmax ${ep} ep`);
}
