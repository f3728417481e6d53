import type { Params } from '../../src/model/encoder.js';
import type { ModelConfig } from '../../src/model/config.js';
import type { Protocol, Split } from './split.js';
import type { Metrics } from './metrics.js';
import { allBaselines } from './baselines.js';
import { evaluateBaseline, evaluateModel } from './evaluation.js';
import type { VisitPart } from './companions.js';
import { coldVectors } from './content.js';
import type { ContentTable } from '../../src/model/content.js';

export interface EvalReport {
  dataset: string;
  protocol: string;
  users: number;
  items: number;
  excludeSeen: boolean;
  metrics: Record<string, Metrics>;
  /** The test users whose target is a cold product (no training events), measured apart; `candidates`: cold products ranked. */
  cold?: { users: number; candidates: number; metrics: Record<string, Metrics> };
}

/** The model and the baselines on the same split, same users, same candidate items. */
export function evaluateAll(
  params: Params | null,
  cfg: ModelConfig | null,
  split: Split,
  extra: Record<string, Metrics> = {},
  visit: VisitPart | null = null,
  content: ContentTable | null = null,
): EvalReport {
  // Candidates: the vocabulary's rows and, after them, the catalog's cold products (the model scores them
  // from their content where it has a content part, else none).
  const ids = [...split.vocab, ...(split.cold ?? [])];
  const W = ids.length + 1;
  const hasContent = !!split.meta && [...split.meta.values()].some((m) => m.title || m.category || m.brand);
  const metrics: Record<string, Metrics> = {};
  const coldTest = split.test.filter((e) => e.target > split.vocab.length);
  const cold: Record<string, Metrics> = {};
  if (params && cfg) {
    // With a content part, the products the model has no row for are scored from their content.
    const c = content && split.cold?.length ? { vectors: coldVectors(content, split.cold, split.meta) } : null;
    metrics.model = evaluateModel(params, cfg, split.test, split.excludeSeen, visit, c);
    if (coldTest.length) cold.model = evaluateModel(params, cfg, coldTest, split.excludeSeen, visit, c);
  }
  Object.assign(metrics, extra);
  for (const bl of allBaselines(split.train, W, split.visit, hasContent ? { ids, meta: split.meta! } : undefined)) {
    metrics[bl.name] = evaluateBaseline(bl, W, split.test, split.excludeSeen);
    if (coldTest.length) cold[bl.name] = evaluateBaseline(bl, W, coldTest, split.excludeSeen);
  }
  return {
    dataset: split.dataset,
    protocol: split.protocol + (split.excludeSeen ? ', seen items excluded' : ', seen items kept'),
    users: split.test.length,
    items: split.vocab.length,
    excludeSeen: split.excludeSeen,
    metrics,
    ...(coldTest.length
      ? { cold: { users: coldTest.length, candidates: split.cold?.length ?? 0, metrics: cold } }
      : {}),
  };
}

export function bestBaseline(r: EvalReport): [string, Metrics] {
  return Object.entries(r.metrics)
    .filter(([k]) => !['model', 'finetuned'].includes(k))
    .sort((a, b) => b[1]['ndcg@10'] - a[1]['ndcg@10'])[0];
}

export function table(r: EvalReport): string {
  const cols = ['ndcg@10', 'hr@10', 'ndcg@20', 'hr@20', 'mrr'] as const;
  const lines = [
    `| ${r.dataset} (${r.users} users, ${r.items} items) | ${cols.join(' | ')} |`,
    `| --- | ${cols.map(() => '---').join(' | ')} |`,
  ];
  for (const [name, m] of Object.entries(r.metrics))
    lines.push(`| ${name} | ${cols.map((c) => m[c].toFixed(4)).join(' | ')} |`);
  if (r.metrics.model) {
    const [bn, bm] = bestBaseline(r);
    lines.push(
      '',
      `model / best baseline (${bn}) NDCG@10: ${(r.metrics.model['ndcg@10'] / bm['ndcg@10']).toFixed(3)}×`,
    );
  }
  if (r.cold) {
    const m = Object.entries(r.cold.metrics).map(([n, x]) => `${n} ${x['ndcg@10'].toFixed(4)}`);
    lines.push(
      '',
      `cold targets (a product with no training events; ${r.cold.users} of ${r.users} users, ${r.cold.candidates} cold products among the candidates), NDCG@10: ${m.join(', ')}`,
    );
  }
  return lines.join('\n');
}

/** A protocol's line in a model's report: the model, the best baseline and their ratio. */
export interface ProtocolLine {
  protocol: string;
  users: number;
  model: Metrics;
  bestBaseline: string;
  baseline: Metrics;
  ratio: number;
}

export function protocolLine(r: EvalReport): ProtocolLine {
  const [bn, bm] = bestBaseline(r);
  return {
    protocol: r.protocol,
    users: r.users,
    model: r.metrics.model,
    bestBaseline: bn,
    baseline: bm,
    ratio: r.metrics.model['ndcg@10'] / bm['ndcg@10'],
  };
}

/** The protocols a log is reported on besides the one it was trained for: time splits' four, else the session. */
export function reportedProtocols(timeSplit: boolean, hasTimes: boolean): Protocol[] {
  return timeSplit ? ['item', 'basket', 'visit-new', 'visit-returning'] : hasTimes ? ['item', 'session'] : ['item'];
}
