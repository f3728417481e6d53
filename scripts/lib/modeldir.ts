/** Reading and writing model directories from Node, and the split each data set is evaluated on. */
import fs from 'node:fs';
import path from 'node:path';
import type { ModelConfig } from '../../src/model/config.js';
import { paramShapes, type Params } from '../../src/model/encoder.js';
import {
  buildModelJson,
  checkModelJson,
  checkVocab,
  contentVersion,
  decodeParams,
  encodeWeights,
  type ModelJson,
  type Quantization,
  type ShelfwiseMeta,
  type Vocab,
} from '../../src/model/weights.js';
import { leaveOneOut, timeSplit, type Example, type Seq, type Split, type Protocol } from './split.js';
import type { Log } from './data.js';
import { readVisitPart, type VisitPart } from './companions.js';
import { readContentPart } from './content.js';
import type { ContentTable } from '../../src/model/content.js';
import { hasReturn } from '../../src/model/config.js';
import { CODEBOOK, type ItemsMeta } from '../../src/model/items.js';
import * as tf from '@tensorflow/tfjs-core';
import { decodeTable, productQuantize, readItemCodes, writeItemDirectory, type HeadSizes } from './items.js';

export const DEFAULT_CUTOFF = '2011-09-01';

export interface SplitFlags {
  cutoff?: string;
  excludeSeen?: boolean;
  minCount?: number;
  protocol?: Protocol;
}

/** The protocol of each data set: Online Retail by time, the others leave-one-out. */
export function makeSplit(log: Log, f: SplitFlags = {}): Split {
  if (f.protocol === 'session')
    return leaveOneOut(log, f.excludeSeen ?? (log.name === 'ml-1m' || log.name === 'beauty'), true);
  if (log.name === 'online-retail' || f.cutoff || (f.protocol && f.protocol !== 'item')) {
    const cut = Date.parse((f.cutoff ?? DEFAULT_CUTOFF) + 'T00:00:00Z') / 1000;
    return timeSplit(log, cut, f.excludeSeen ?? false, f.minCount ?? 1, f.protocol);
  }
  return leaveOneOut(log, f.excludeSeen ?? (log.name === 'ml-1m' || log.name === 'beauty'));
}

export async function saveModelDir(
  dir: string,
  params: Params,
  cfg: ModelConfig,
  vocab: Vocab,
  q: Quantization,
  o: { sharded?: number; sizes?: HeadSizes } = {},
): Promise<{ bytes: number; version: string }> {
  fs.mkdirSync(dir, { recursive: true });
  const named: Array<[string, number[], Float32Array]> = [];
  // Sharded (o.sharded = bytes per code): the item table leaves the weights for codebooks and a directory of codes.
  let items: ItemsMeta | undefined;
  const m = o.sharded ?? 0;
  if (m) {
    const { codebooks, codes } = productQuantize((await params.item_emb.data()) as Float32Array, cfg.d, m);
    const ret = hasReturn(cfg) ? ((await params.ret_item.data()) as Float32Array) : null;
    items = writeItemDirectory(dir, vocab.ids, codes, m, ret, o.sizes);
    named.push(['item_pq', [m * CODEBOOK, cfg.d / m], codebooks]);
  } else fs.rmSync(path.join(dir, 'items'), { recursive: true, force: true });
  for (const [name, shape] of paramShapes(cfg))
    if (!m || (name !== 'item_emb' && name !== 'ret_item'))
      named.push([name, shape, (await params[name].data()) as Float32Array]);
  const { specs, data } = encodeWeights(named, q);
  const version = contentVersion(data);
  const json = buildModelJson(cfg, specs, 'weights.bin', version);
  if (items) json.userDefinedMetadata.shelfwise.items = items;
  fs.writeFileSync(path.join(dir, 'weights.bin'), data);
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
  // The SDK needs only the ids; titles and prices (for a demo or a shop's tools) go to catalog.json beside them.
  const { titles, prices } = vocab;
  fs.writeFileSync(path.join(dir, 'vocab.json'), JSON.stringify({ ids: vocab.ids }));
  if (titles || prices)
    fs.writeFileSync(
      path.join(dir, 'catalog.json'),
      JSON.stringify({ ids: vocab.ids, ...(titles ? { titles } : {}), ...(prices ? { prices } : {}) }),
    );
  else fs.rmSync(path.join(dir, 'catalog.json'), { force: true });
  // What the page loads before its first ranking (a sharded directory: its head, not the vocabulary).
  const bytes = ['weights.bin', 'model.json', items ? items.head : 'vocab.json'].reduce(
    (n, f) => n + fs.statSync(path.join(dir, f)).size,
    0,
  );
  return { bytes, version };
}

/** Names a part's file in a model directory's model.json (userDefinedMetadata.shelfwise). */
export function nameInModelJson(dir: string, part: Partial<Pick<ShelfwiseMeta, 'visit' | 'content'>>): void {
  const file = path.join(dir, 'model.json');
  const json = JSON.parse(fs.readFileSync(file, 'utf8')) as ModelJson;
  Object.assign(json.userDefinedMetadata.shelfwise, part);
  fs.writeFileSync(file, JSON.stringify(json));
}

export function loadModelDir(dir: string): {
  params: Params;
  cfg: ModelConfig;
  vocab: Vocab;
  version: string;
  visit: VisitPart | null;
  content: ContentTable | null;
} {
  const json = checkModelJson(JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')));
  const shards = json.weightsManifest
    .flatMap((g) => g.paths)
    .map((p) => {
      const b = fs.readFileSync(path.join(dir, p));
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
    });
  const meta = json.userDefinedMetadata.shelfwise;
  const params = decodeParams(json, shards);
  const vocab = checkVocab(JSON.parse(fs.readFileSync(path.join(dir, meta.vocab), 'utf8')), meta.config);
  if (meta.items) {
    // Every product's row as the page decodes it from its shard.
    const { codes, ret } = readItemCodes(dir, meta.items, vocab.ids);
    const cb = params.item_pq.dataSync() as Float32Array;
    params.item_pq.dispose();
    delete params.item_pq;
    params.item_emb = tf.tensor2d(decodeTable(cb, codes, meta.config.d, meta.items.m), [
      vocab.ids.length + 1,
      meta.config.d,
    ]);
    if (hasReturn(meta.config))
      params.ret_item = tf.tensor2d(ret ?? new Float32Array(vocab.ids.length + 1), [vocab.ids.length + 1, 1]);
  }
  const visit = readVisitPart(dir, meta.visit, meta.config.vocabSize, meta.items?.shards);
  const content = readContentPart(dir, meta.content, meta.config.d);
  return { params, cfg: meta.config, vocab, version: meta.version, visit, content };
}

/** Re-expresses a split in another vocabulary's rows (items it lacks are dropped from inputs; such targets miss). */
export function remapSplit(split: Split, vocab: string[]): Split {
  const row = new Map(vocab.map((id, i) => [id, i + 1]));
  // Items the model lacks become cold candidates after its rows (with the split's own cold ones).
  const cold = [...split.vocab, ...(split.cold ?? [])].filter((id) => !row.has(id));
  cold.forEach((id, i) => row.set(id, vocab.length + 1 + i));
  const map = Int32Array.from([
    0,
    ...split.vocab.map((id) => row.get(id)!),
    ...(split.cold ?? []).map((id) => row.get(id)!),
  ]);
  const warm = vocab.length;
  const seq = <T extends Seq>(s: T): T => {
    const keep: number[] = [];
    for (let i = 0; i < s.items.length; i++) if (map[s.items[i]] > 0 && map[s.items[i]] <= warm) keep.push(i);
    return {
      ...s,
      items: Int32Array.from(keep, (i) => map[s.items[i]]),
      types: Int32Array.from(keep, (i) => s.types[i]),
      ts: Float64Array.from(keep, (i) => s.ts[i]),
      ...(s.session ? { session: Float64Array.from(keep, (i) => s.session![i]) } : {}),
    };
  };
  const ex = (e: Example): Example => ({
    ...seq(e),
    target: map[e.target],
    ...(e.basket ? { basket: e.basket.map((i) => map[i]) } : {}),
    ...(e.exclude ? { exclude: e.exclude.map((i) => map[i]) } : {}),
  });
  return {
    ...split,
    vocab,
    cold,
    train: split.train.map(seq),
    valid: split.valid.map(ex).filter((e) => e.items.length > 0),
    test: split.test.map(ex).filter((e) => e.items.length > 0),
  };
}

export function disposeParams(p: Params): void {
  for (const t of Object.values(p)) t.dispose();
}
