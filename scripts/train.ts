/**
 * npm run train -- --dataset <name|file.tsv> [flags]: trains the encoder, evaluates it on the test split
 * against the baselines and exports the model directory. The flags and their defaults are
 * scripts/lib/flag-specs.ts (docs/flags.md); the defaults are the one recipe for any log (docs/training.md,
 * "The default recipe"); auto: the window holds the median training sequence (50-200), a sampled softmax
 * above 20,000 items, seen items masked where excluded.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { COMMANDS } from './lib/flag-specs.js';
import { defaultConfig, typeMapFor } from '../src/model/config.js';
import { NUM_TYPE_ROWS } from '../src/model/features.js';
import { PROTOCOLS } from './lib/split.js';
import { loadLog, ROOT } from './lib/data.js';
import { makeSplit, saveModelDir, loadModelDir, disposeParams, remapSplit } from './lib/modeldir.js';
import { BACKENDS, initBackend } from './lib/backend.js';
import { train } from './lib/trainer.js';
import { parseLrDrops } from './lib/schedule.js';
import { choice, FlagError, isoDate, num, parseFlags, seenFlag } from './lib/flags.js';
import {
  evaluateAll,
  table,
  bestBaseline,
  protocolLine,
  reportedProtocols,
  type EvalReport,
  type ProtocolLine,
} from './lib/report.js';
import { writeModelCard } from './lib/card.js';
import { COMPANIONS, fitVisitPart, writeVisitPart } from './lib/companions.js';
import { CONTENT_FILE, contentIndex, writeContentPart } from './lib/content.js';
import { codeBytes, SHARD_ABOVE } from './lib/items.js';
import type { Companions, VisitMeta } from '../src/model/visit.js';

const USAGE = COMMANDS.train.usage;
const f = parseFlags('train', USAGE, () => {
  const { values: a } = parseArgs({
    options: COMMANDS.train.flags,
  });
  const pos = { int: true, min: 1 };
  const d = num('d', a.d, pos),
    heads = num('heads', a.heads, pos);
  if (d % heads !== 0) throw new FlagError(`--d (${d}) must be a multiple of --heads (${heads})`);
  const sampled = a.sampled === 'auto' ? undefined : num('sampled', a.sampled, { int: true, min: 0 });
  if (a['mask-seen'] && a['no-mask-seen'])
    throw new FlagError('--mask-seen and --no-mask-seen contradict each other: give one');
  if (a['mask-seen'] && sampled)
    throw new FlagError('--mask-seen works with the full softmax only (leave --sampled at 0)');
  return {
    ...a,
    d,
    heads,
    blocks: num('blocks', a.blocks, pos),
    maxLen: a['max-len'] === 'auto' ? undefined : num('max-len', a['max-len'], pos),
    ff: num('ff', a.ff, pos, true) ?? 4 * d,
    ffAct: choice('ff-act', a['ff-act'], ['relu', 'gelu'] as const),
    embScale: a['no-emb-scale'] ? undefined : true,
    innerDropout: a['no-inner-dropout'] ? undefined : true,
    relPos: a['rel-pos'] ? true : undefined,
    dropout: num('dropout', a.dropout, { min: 0, below: 1 }),
    epochs: num('epochs', a.epochs, pos),
    batch: num('batch', a.batch, pos),
    lr: num('lr', a.lr, { above: 0 }),
    lrDrops: parseLrDrops(a['lr-drop']),
    seed: num('seed', a.seed, { int: true }),
    patience: num('patience', a.patience, pos),
    sampled,
    weightDecay: num('weight-decay', a['weight-decay'], { min: 0 }),
    labelSmoothing: num('label-smoothing', a['label-smoothing'], { min: 0, below: 1 }),
    ema: num('ema', a.ema, { min: 0, below: 1 }),
    adamBeta2: num('adam-beta2', a['adam-beta2'], { above: 0, below: 1 }),
    negatives: choice('negatives', a.negatives, ['mixed', 'uniform'] as const),
    weigh: choice('weigh', a.weigh, ['batch', 'target'] as const),
    visit: num('visit', a.visit, { min: 0 }),
    visitWindows: !!a['visit-windows'],
    content: num('content', a.content, { min: 0, below: 1 }),
    itemInit: choice('item-init', a['item-init'], ['random', 'cooccurrence'] as const)!,
    validAlso: (a['valid-also'] ?? '')
      .split(',')
      .filter(Boolean)
      .map((p) => choice('valid-also', p, PROTOCOLS)!),
    validUsers: num('valid-users', a['valid-users'], { int: true, min: 0 }),
    workers: num('workers', a.workers, { int: true, min: 1, max: 64 }),
    maxUsers: num('max-users', a['max-users'], pos, true),
    minCount: num('min-count', a['min-count'], pos, true),
    protocol: choice('protocol', a.protocol, PROTOCOLS),
    returnItems: num('return-items', a['return-items'], { int: true, min: 0, max: 1000 }, true),
    returnHidden: num('return-hidden', a['return-hidden'], pos),
    plateau: num('plateau', a.plateau, { min: 0, below: 1 }),
    minutes: num('minutes', a.minutes, { min: 0 }),
    excludeSeen: seenFlag(a),
    cutoff: isoDate('cutoff', a.cutoff),
    quantize: choice('quantize', a.quantize, ['float32', 'float16', 'uint8'] as const)!,
    items: choice('items', a.items, ['table', 'sharded', 'auto'] as const)!,
    backend: choice('backend', a.backend, BACKENDS),
  };
});

const backend = await initBackend(f.backend);
const log = loadLog(f.dataset);
if (f.maxUsers) log.users = log.users.slice(0, f.maxUsers);
const split = makeSplit(log, {
  cutoff: f.cutoff,
  minCount: f.minCount,
  excludeSeen: f.excludeSeen,
  protocol: f.protocol,
});
// The return part scores the shopper's own items; where seen items are excluded from the ranking it has nothing to do.
const returnItems = split.excludeSeen ? 0 : (f.returnItems ?? 128);
if (split.excludeSeen && f.returnItems) console.log('--return-items is ignored: seen items are excluded on this split');
// What the default recipe derives from the data (each flag, when given, wins):
// - the window holds the median user's whole training sequence, in steps of 50, from 50 to 200 events;
// - above 20,000 items, a sampled softmax (2,048 negatives per batch) instead of the full one, whose cost grows with the catalog;
// - where seen items are excluded from the ranking, training leaves them out of each target's softmax too.
const lens = split.train.map((s) => s.items.length).sort((a, b) => a - b);
const maxLen =
  f.maxLen ?? Math.min(200, Math.max(50, Math.ceil((lens[Math.floor((lens.length - 1) / 2)] ?? 0) / 50) * 50));
const sampled = f.sampled ?? (!f['mask-seen'] && split.vocab.length > 20_000 ? 2048 : 0); // --mask-seen needs the full softmax
const maskSeen = f['mask-seen'] || (split.excludeSeen && !f['no-mask-seen'] && sampled === 0);
// Types the training data never has (clicks in a purchase log) are read as its most frequent one.
const typeCounts = new Array(NUM_TYPE_ROWS).fill(0);
for (const s of split.train) for (const t of s.types) typeCounts[t]++;
const cfg = defaultConfig(split.vocab.length + 1, {
  typeMap: f['no-types'] ? undefined : typeMapFor(typeCounts),
  returnItems,
  returnHidden: f.returnHidden,
  d: f.d,
  blocks: f.blocks,
  heads: f.heads,
  maxLen,
  ffDim: f.ff,
  ffAct: f.ffAct === 'relu' ? undefined : f.ffAct,
  embScale: f.embScale,
  innerDropout: f.innerDropout,
  relPos: f.relPos,
  dropout: f.dropout,
  numTypes: f['no-types'] ? 0 : undefined,
  numTimeBuckets: f['no-time'] ? 0 : undefined,
});
const out = f.out ?? path.join(ROOT, '.cache/models', log.name);
console.log(
  `backend ${backend}; ${split.dataset}: ${split.train.length} training sequences, ${split.valid.length} validation and ${split.test.length} test users, ${split.vocab.length} items; ${split.protocol}`,
);
console.log(`config ${JSON.stringify(cfg)}`);
console.log(
  `training: Adam lr ${f.lr} β2 ${f.adamBeta2}, batch ${f.batch} (weighed by ${f.weigh}), ${sampled ? `sampled softmax (${sampled})` : 'full softmax'}${maskSeen ? ' without seen items' : ''}${f.labelSmoothing ? `, label smoothing ${f.labelSmoothing}` : ''}${f.weightDecay ? `, weight decay ${f.weightDecay}` : ''}, reduce on plateau ×${f.plateau}, patience ${f.patience}, at most ${f.epochs} epochs${f.minutes ? ` and ${f.minutes} min` : ''}, ${f.workers} thread(s)`,
);
const contentPart = f.content > 0 ? contentIndex(split.vocab, log.meta, f.content) : null;
if (f.content > 0)
  console.log(
    contentPart
      ? `content part: ${contentPart.tokens.length} tokens, ${(f.content * 100).toFixed(0)}% of the id vectors dropped per step`
      : 'content part: the catalog has no content (titles, categories, brands, prices); trained without it',
  );
const r = await train(split, cfg, {
  epochs: f.epochs,
  batch: f.batch,
  lr: f.lr,
  lrDrops: f.lrDrops,
  plateau: f.plateau,
  minutes: f.minutes,
  seed: f.seed,
  patience: f.patience,
  sampled,
  negatives: f.negatives,
  maskSeen,
  labelSmoothing: f.labelSmoothing,
  weightDecay: f.weightDecay,
  ema: f.ema,
  adamBeta2: f.adamBeta2,
  validUsers: f.validUsers,
  weigh: f.weigh,
  visit: f.visit,
  visitWindows: f.visitWindows,
  itemInit: f.itemInit,
  content: contentPart ?? undefined,
  alsoValid: f.validAlso.map((p) => {
    const s = remapSplit(
      makeSplit(log, { cutoff: f.cutoff, minCount: f.minCount, excludeSeen: f.excludeSeen, protocol: p }),
      split.vocab,
    );
    return { name: p, examples: s.valid, excludeSeen: s.excludeSeen };
  }),
  workers: f.workers,
  checkpointDir: path.join(ROOT, '.cache/checkpoints', path.basename(out)),
});
console.log(
  `trained ${r.epochs} epochs in ${(r.seconds / 60).toFixed(1)} min: ${r.seqPerSec.toFixed(0)} sequences/s, ${r.gflops.toFixed(2)} effective GFLOPS (${backend} matmul peak in this run ${r.peak.toFixed(1)} GFLOPS)`,
);

const meta = split.vocab.map((id) => log.meta.get(id));
const vocab = {
  ids: split.vocab,
  ...(meta.some((m) => m?.title) ? { titles: meta.map((m) => m?.title ?? '') } : {}),
  ...(meta.some((m) => m?.price !== undefined) ? { prices: meta.map((m) => m?.price ?? 0) } : {}),
};
// A catalog too large to download: product-quantized codes in shards the page fetches per product (items.ts).
const sharded = f.items === 'sharded' || (f.items === 'auto' && split.vocab.length > SHARD_ABOVE);
if (sharded) console.log(`items: a sharded directory (${split.vocab.length} products, ${codeBytes(cfg.d)}-byte codes)`);
const reports: Record<string, EvalReport & { bytes: number }> = {};
const quants = f.quantize === 'float32' ? ['float32'] : ['float32', f.quantize];
let visitFit: { c: Companions; meta: VisitMeta; valid: Record<string, number> } | null | undefined;
const splitFlags = { cutoff: f.cutoff, minCount: f.minCount, excludeSeen: f.excludeSeen };
for (const q of quants) {
  const dir = q === f.quantize ? out : path.join(ROOT, '.cache/models', path.basename(out) + '-' + q);
  let { bytes } = await saveModelDir(dir, r.params, cfg, vocab, q as 'float32', {
    sharded: sharded ? codeBytes(cfg.d) : 0,
  });
  // The content part's token vectors (float32 trained; uint8 in the file), for products added since.
  if (contentPart) {
    const w = r.params.content_w.dataSync() as Float32Array;
    writeContentPart(dir, contentPart.tokens, w, cfg.d);
    bytes += fs.statSync(path.join(dir, CONTENT_FILE)).size;
  }
  // The visit part: fitted once (on the float32 weights), the same file beside every exported copy.
  if (!f['no-visit-part']) {
    if (visitFit === undefined) {
      const w = loadModelDir(dir);
      visitFit = fitVisitPart(dir, w, log, splitFlags);
      disposeParams(w.params);
    } else if (visitFit) writeVisitPart(dir, visitFit.c, visitFit.meta);
    if (visitFit) bytes += fs.statSync(path.join(dir, visitFit.meta.path)).size;
  }
  const m = loadModelDir(dir); // evaluate what was written, after quantization
  reports[q] = { ...evaluateAll(m.params, m.cfg, split, {}, m.visit, m.content), bytes };
  disposeParams(m.params);
  console.log(`\n${q} weights (${(bytes / 1024).toFixed(0)} KiB with vocabulary) → ${dir}\n${table(reports[q])}`);
}
const final = reports[f.quantize];
// The same model on every protocol its log supports (next purchase, next basket, the visit; or the session).
const shipped = loadModelDir(out);
const timeSplit = split.protocol.startsWith('time split');
const hasTimes = log.users.some((u) => u.ts.some((t) => Number.isFinite(t)));
const protocols: Record<string, ProtocolLine> = {};
for (const p of reportedProtocols(timeSplit, hasTimes)) {
  const s =
    p === (f.protocol ?? 'item')
      ? split
      : makeSplit(log, { cutoff: f.cutoff, minCount: f.minCount, excludeSeen: f.excludeSeen, protocol: p });
  const rep =
    p === (f.protocol ?? 'item')
      ? final
      : evaluateAll(shipped.params, shipped.cfg, remapSplit(s, shipped.vocab.ids), {}, shipped.visit, shipped.content);
  protocols[p] = protocolLine(rep);
  console.log(
    `${p}: model ${rep.metrics.model['ndcg@10'].toFixed(4)}, ${protocols[p].bestBaseline} ${protocols[p].baseline['ndcg@10'].toFixed(4)}: ${protocols[p].ratio.toFixed(3)}×`,
  );
}
disposeParams(shipped.params);
if (quants.length > 1) {
  const drop = 1 - final.metrics.model['ndcg@10'] / reports.float32.metrics.model['ndcg@10'];
  console.log(`\n${f.quantize} vs float32 NDCG@10: ${(drop * 100).toFixed(2)}% relative drop`);
}
// The verdict a shop needs: is this model better than the simplest rule it could use instead?
const [bn, bm] = bestBaseline(final);
const ratio = final.metrics.model['ndcg@10'] / bm['ndcg@10'];
const verdict =
  ratio >= 1
    ? `recommended: ${ratio.toFixed(3)}× the NDCG@10 of the best baseline (${bn})`
    : `not recommended: ${bn} ranks better (the model reaches ${ratio.toFixed(3)}× its NDCG@10)`;
console.log(
  ratio >= 1
    ? `\nVerdict: the model ranks better than every baseline (${ratio.toFixed(3)}× ${bn}'s NDCG@10 on the test split).`
    : `\nVerdict: NOT RECOMMENDED. On the test split the rule "${bn}" ranks better than this model (the model reaches ${ratio.toFixed(3)}× its NDCG@10): a shop is better served by that rule.`,
);
const summary = {
  verdict,
  dataset: final.dataset,
  protocol: final.protocol,
  config: cfg,
  training: {
    lr: f.lr,
    batch: f.batch,
    weigh: f.weigh,
    sampled,
    maskSeen,
    labelSmoothing: f.labelSmoothing,
    weightDecay: f.weightDecay,
    adamBeta2: f.adamBeta2,
    plateau: f.plateau,
    patience: f.patience,
    budgetMinutes: f.minutes,
    workers: f.workers,
    visit: f.visit,
    visitWindows: f.visitWindows,
    itemInit: f.itemInit,
    validAlso: f.validAlso,
  },
  backend,
  epochs: r.epochs,
  minutes: r.seconds / 60,
  seqPerSec: r.seqPerSec,
  gflops: r.gflops,
  peakGflops: r.peak,
  history: r.history,
  quantization: Object.fromEntries(
    Object.entries(reports).map(([q, rep]) => [q, { bytes: rep.bytes, model: rep.metrics.model }]),
  ),
  metrics: final.metrics,
  bestBaseline: bn,
  protocols,
  visitPart: visitFit && { ...visitFit.meta, companions: COMPANIONS, valid: visitFit.valid },
  contentPart: contentPart && { tokens: contentPart.tokens.length, drop: contentPart.drop },
  items: sharded ? 'sharded' : 'table',
};
if (f.json) fs.writeFileSync(f.json, JSON.stringify(summary, null, 2));
if (!f['no-card']) writeModelCard(out, summary, process.argv.slice(2), log.name === 'online-retail');
if (f['require-better'] && ratio < 1) {
  console.error(`train: --require-better: the model is below ${bn}`);
  process.exit(1);
}
