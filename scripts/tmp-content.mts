import { loadLog } from './lib/data.js';
import { loadModelDir, remapSplit } from './lib/modeldir.js';
import { makeSplit } from './lib/modeldir.js';
import { fitContent } from './lib/content.js';
import { evaluateAll } from './lib/report.js';
import { decodeContent, encodeContent } from '../src/model/content.js';
import { initBackend } from './lib/backend.js';
await initBackend('wasm' as any);
const dir = process.argv[2] ?? 'models/online-retail';
const ds = process.argv[3] ?? 'online-retail';
const cutoff = process.argv[4];
const m = loadModelDir(dir);
const log = loadLog(ds);
const E = m.params.item_emb.dataSync() as Float32Array;
const split = remapSplit(makeSplit(log, { protocol: 'item', ...(cutoff ? { cutoff } : {}) } as any), m.vocab.ids);
console.log('cold candidates', split.cold?.length, 'test', split.test.length);
for (const lambda of (process.env.LAMBDAS ?? '0.05').split(',').map(Number)) {
  const t0 = Date.now();
  const f = fitContent(m.vocab.ids, log.meta, E, m.cfg.d, { lambda });
  const table = decodeContent(encodeContent(f.tokens, f.vectors, m.cfg.d).buffer as ArrayBuffer, m.cfg.d);
  const { evaluateModel } = await import('./lib/evaluation.js');
  const { coldVectors } = await import('./lib/content.js');
  const coldTest = split.test.filter((e) => e.target > split.vocab.length);
  for (const sc of [1, 2, 4])
    for (const b of [0, 2, 4, 6]) {
      const vec = coldVectors(table, split.cold!, split.meta).map((v) => v && v.map((x) => x * sc));
      const c = { vectors: vec, bias: b };
      const all = evaluateModel(m.params, m.cfg, split.test, false, m.visit, c);
      const cm = evaluateModel(m.params, m.cfg, coldTest, false, m.visit, c);
      console.log(
        `scale ${sc} bias ${b}: all ${all['ndcg@10'].toFixed(4)} cold ndcg ${cm['ndcg@10'].toFixed(4)} hr20 ${cm['hr@20'].toFixed(3)} mrr ${cm.mrr.toFixed(4)}`,
      );
    }
  const r = evaluateAll(m.params, m.cfg, split, {}, m.visit, table);
  console.log(
    `lambda ${lambda}: tokens ${f.tokens.length} covered ${f.covered.toFixed(3)} r2 ${f.r2.toFixed(3)} ${((Date.now() - t0) / 1000).toFixed(1)}s`,
  );
  console.log(
    ' all:',
    Object.entries(r.metrics)
      .map(([k, v]) => `${k} ${v['ndcg@10'].toFixed(4)}`)
      .join(', '),
  );
  console.log(' cold:', JSON.stringify(r.cold?.metrics));
}
