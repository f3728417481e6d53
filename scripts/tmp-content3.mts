import { initBackend } from './lib/backend.js';
await initBackend('wasm' as any);
import { loadLog } from './lib/data.js';
import { loadModelDir, remapSplit, makeSplit } from './lib/modeldir.js';
import { fitContent, trainContent, rowTokenIndex, calibrateContent } from './lib/content.js';
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
let seed = 3;
const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
// Held-out products: 5% of the rows, known by content only in validation.
const heldSet = new Set<number>();
for (let r = 1; r < V; r++) if (rand() < 0.05) heldSet.add(r);
const held = Int32Array.from(heldSet);
const idsFit = m.vocab.ids.map((id, i) => (heldSet.has(i + 1) ? '' : id));
const f = fitContent(idsFit, log.meta, E, d, { lambda: 0.05 });
console.log('ridge', f.tokens.length, f.r2.toFixed(3));
const tt = (s: any, t: number) => ({
  items: s.items.slice(0, t),
  types: m.cfg.typeMap ? s.types.slice(0, t).map((x: number) => readType(m.cfg, x)) : s.types.slice(0, t),
  ts: s.ts.slice(0, t),
});
const hist: any[] = [],
  targets: number[] = [];
for (const s of split.train) {
  const pos: number[] = [];
  for (let t = s.items.length - 1; t >= 1 && pos.length < Number(process.env.POS ?? 8); t--)
    if (s.items[t] > 0 && s.items[t] < V && !heldSet.has(s.items[t])) pos.push(t);
  for (const t of pos) {
    hist.push(tt(s, t));
    targets.push(s.items[t]);
  }
}
const users = userVectors(m.params, m.cfg, hist);
const rowTokens = rowTokenIndex(m.vocab.ids, log.meta, f.tokens);
const valid = split.valid.filter((e) => e.target > 0 && e.target < V);
const vu = userVectors(
  m.params,
  m.cfg,
  valid.map((e) => tt(e, e.items.length)),
);
const vt = Int32Array.from(valid.map((e) => e.target));
const coldTest = split.test.filter((e) => e.target > split.vocab.length);
const table = (vectors: Float32Array) => decodeContent(encodeContent(f.tokens, vectors, d).buffer as ArrayBuffer, d);
const heldVec = (t: any) => {
  const out = new Float32Array(held.length * d);
  held.forEach((r, k) => {
    const v = embedContent(t, log.meta.get(m.vocab.ids[r - 1]));
    if (v) out.set(v.v, k * d);
  });
  return out;
};
const evalWith = (vectors: Float32Array, label: string) => {
  const t = table(vectors);
  const cal = calibrateContent(vu, vt, E, V, d, held, heldVec(t));
  const vec = split.cold!.map((id) => {
    const v = embedContent(t, split.meta?.get(id))?.v;
    return v ? v.map((x) => x * cal.scale) : null;
  });
  const c = { vectors: vec, bias: cal.bias };
  const all = evaluateModel(m.params, m.cfg, split.test, false, m.visit, c);
  const cm = evaluateModel(m.params, m.cfg, coldTest, false, m.visit, c);
  console.log(
    `${label} (scale ${cal.scale} bias ${cal.bias}): all ${all['ndcg@10'].toFixed(4)} cold ndcg ${cm['ndcg@10'].toFixed(4)} hr10 ${cm['hr@10'].toFixed(3)} hr20 ${cm['hr@20'].toFixed(3)} mrr ${cm.mrr.toFixed(4)}`,
  );
};
evalWith(f.vectors, 'ridge');
let W = f.vectors;
for (let round = 0; round < Number(process.env.ROUNDS ?? 3); round++) {
  const r = trainContent(users, Int32Array.from(targets), E, V, d, rowTokens, W, {
    epochs: 2,
    negatives: Number(process.env.NEG ?? 32),
    lr: Number(process.env.LR ?? 0.01),
    l2: Number(process.env.L2 ?? 1e-4),
    seed: round + 1,
    say: console.log,
  });
  W = r.vectors;
  evalWith(W, `softmax ${2 * (round + 1)} ep`);
}
