/**
 * npx tsx scripts/bench-cold.ts [--model DIR] [--dataset NAME] [--cutoff YYYY-MM-DD]: what ranking products the
 * model never saw (no events before the cut-off, described by the catalog) costs and gains, on a time split.
 * Two protocols: the next purchase after the cut-off given the history before it, and a new shopper's visit
 * (the first basket after the cut-off with 2+ products, new ones included: its first half is the visit, the
 * rest is ranked, the visit left out). Methods: content kNN (the content baseline) and the model with each
 * new product scored from its content neighbours: p(new j) = δ · Σ_k cos(j, k) p_model(k) / Σ_k cos(j, k)
 * over j's 5 known products with the most similar content tokens (a token of more than 5,000 known
 * products, a broad category, left out of that search) (δ = 0: new products last, the model as
 * shipped); in the visit also plus ν · (j's cosine with the visit's new products, averaged) (new products like
 * the new ones in the visit). NDCG@10 over every target and over the new-product (cold) targets, and the cold targets' MRR.
 */
import { parseArgs } from 'node:util';
import { loadLog } from './lib/data.js';
import { loadModelDir, makeSplit, remapSplit, DEFAULT_CUTOFF } from './lib/modeldir.js';
import { initBackend } from './lib/backend.js';
import { scoreExamples } from './lib/evaluation.js';
import { contentKnn } from './lib/baselines.js';
import { contentTokens } from '../src/model/content.js';
import { typeCode } from '../src/model/features.js';
import { logSoftmax } from '../src/model/visit.js';
import type { Example } from './lib/split.js';

const { values: a } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/online-retail' },
    dataset: { type: 'string', default: 'online-retail' },
    cutoff: { type: 'string', default: DEFAULT_CUTOFF },
  },
});
await initBackend('wasm');
const m = loadModelDir(a.model!);
const log = loadLog(a.dataset!);
const cut = Date.parse(a.cutoff + 'T00:00:00Z') / 1000;
const split = remapSplit(makeSplit(log, { cutoff: a.cutoff, excludeSeen: false }), m.vocab.ids);
const V = split.vocab.length,
  C = split.cold?.length ?? 0,
  W = V + C + 1;
const ids = [...split.vocab, ...(split.cold ?? [])];
const row = new Map(ids.map((id, i) => [id, i + 1]));
const toks = [[] as string[], ...ids.map((id) => [...new Set(contentTokens(split.meta?.get(id)))])];
// Each new product's 5 known products with the most similar content (cosine of token sets).
const byTok = new Map<string, number[]>();
toks.forEach((t, r) => r <= V && t.forEach((x) => (byTok.get(x) ?? byTok.set(x, []).get(x)!).push(r)));
const nbrs = toks.slice(V + 1).map((t) => {
  const acc = new Map<number, number>();
  for (const x of t) {
    const known = byTok.get(x) ?? [];
    if (known.length > 5000) continue;
    for (const k of known) acc.set(k, (acc.get(k) ?? 0) + 1 / Math.sqrt(t.length * toks[k].length));
  }
  return [...acc].sort((x, y) => y[1] - x[1]).slice(0, 5);
});
const knn = contentKnn(split.train, ids, split.meta ?? new Map());

type Case = Example & { shown: number[]; rest: number[] };
const PURCHASE = typeCode('purchase');
const visits: Case[] = [];
for (const u of log.users) {
  let t = 0;
  while (t < u.items.length && u.ts[t] < cut) t++;
  const b: number[] = [];
  for (let i = t; i < u.items.length && u.ts[i] === u.ts[t]; i++) {
    const r = row.get(u.items[i]);
    if (r && u.types[i] === PURCHASE && !b.includes(r)) b.push(r);
  }
  const shown = b.slice(0, b.length >> 1),
    warm = shown.filter((x) => x <= V);
  // The model reads the visit's known products (a visit of new products only gives it nothing to read).
  if (b.length < 2 || !warm.length) continue;
  const at = (i: number) => u.ts[t] + 60 * i;
  visits.push({
    user: u.user,
    items: Int32Array.from(warm),
    types: Int32Array.from(warm.map(() => PURCHASE)),
    ts: Float64Array.from(warm.map((_, i) => at(i))),
    now: at(warm.length - 1),
    target: b[shown.length],
    shown,
    rest: b.slice(shown.length),
  });
}
const protocols: Record<string, Case[]> = {
  'next purchase': split.test.map((e) => ({ ...e, shown: [], rest: [e.target] })),
  "a new shopper's visit": visits,
};
const DELTAS = [0, 0.5, 1, 2, 4],
  NUS = [0.03, 0.1];
const out = new Float32Array(W);
for (const [name, cases] of Object.entries(protocols)) {
  const visit = name !== 'next purchase';
  const res = new Map<string, { all: number; cold: number; rr: number }>();
  const add = (method: string, s: ArrayLike<number>, e: Case) => {
    const q = res.get(method) ?? res.set(method, { all: 0, cold: 0, rr: 0 }).get(method)!;
    for (const tg of e.rest) {
      let rk = 0;
      for (let i = 1; i < W; i++) if (s[i] > s[tg] && !e.shown.includes(i)) rk++;
      const g = rk < 10 ? 1 / Math.log2(rk + 2) : 0;
      q.all += g;
      if (tg > V) {
        q.cold += g;
        q.rr += 1 / (rk + 1);
      }
    }
  };
  scoreExamples(
    m.params,
    m.cfg,
    cases,
    (ex, s) => {
      const e = ex as Case;
      knn.score(visit ? Int32Array.from(e.shown) : e.items, out, e.ts);
      add('content kNN', out, e);
      const lp = m.cfg.returnItems || (visit && m.visit) ? s : logSoftmax(s);
      const z = new Float32Array(W);
      z.set(lp.subarray(0, V + 1));
      z[0] = -Infinity;
      // Each new product's neighbours' model probability, and its similarity to the visit's new products.
      const nb = nbrs.map((n) => {
        let num = 0,
          den = 0;
        for (const [r, w] of n) {
          num += w * Math.exp(lp[r]);
          den += w;
        }
        return den > 0 ? num / den : 0;
      });
      const fresh = e.shown.filter((x) => x > V).map((x) => new Set(toks[x]));
      const like = nbrs.map((_, k) => {
        const t = toks[V + 1 + k];
        let sim = 0;
        for (const f of fresh) sim += t.filter((x) => f.has(x)).length / Math.sqrt(t.length * f.size || 1);
        return sim / Math.max(1, fresh.length);
      });
      for (const d of DELTAS) {
        nb.forEach((p, k) => (z[V + 1 + k] = Math.log(d * p)));
        add(`model, δ ${d}`, z, e);
      }
      if (visit)
        for (const nu of NUS) {
          nb.forEach((p, k) => (z[V + 1 + k] = Math.log(0.5 * p + nu * like[k] + 1e-30)));
          add(`model, δ 0.5, plus ν ${nu} × likeness to the visit's new products`, z, e);
        }
    },
    visit ? m.visit : null,
  );
  const nT = cases.reduce((s, e) => s + e.rest.length, 0),
    nC = cases.reduce((s, e) => s + e.rest.filter((x) => x > V).length, 0);
  console.log(
    `\n${a.dataset}, ${name}: ${cases.length} cases, ${nT} targets, ${nC} of them new products (${C} new products among ${W - 1} candidates)`,
  );
  console.log(
    '| method | NDCG@10, all targets | NDCG@10, new products | MRR, new products |\n| --- | --- | --- | --- |',
  );
  for (const [k, v] of res)
    console.log(`| ${k} | ${(v.all / nT).toFixed(4)} | ${(v.cold / nC).toFixed(4)} | ${(v.rr / nC).toFixed(4)} |`);
}
