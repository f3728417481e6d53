/**
 * The visit part's offline side (src/model/visit.ts): the companions of every item from the training
 * sessions, λ and the decay chosen on validation, and the file written beside the model.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Params } from '../../src/model/encoder.js';
import type { ModelConfig } from '../../src/model/config.js';
import { hasReturn } from '../../src/model/config.js';
import { contentVersion, type ModelJson } from '../../src/model/weights.js';
import { decodeCompanionShard, encodeCompanionShard, itemKeys } from '../../src/model/items.js';
import { nameInModelJson } from './modeldir.js';
import {
  decodeCompanions,
  encodeCompanions,
  logSoftmax,
  mixOne,
  visitScores,
  VISIT_EVENTS,
  type Companions,
  type VisitMeta,
  type VisitScores,
} from '../../src/model/visit.js';
import { scoreExamples } from './evaluation.js';
import { MetricSum, rankOf } from './metrics.js';
import { sameSession, type Example, type Protocol, type Seq } from './split.js';
import type { Log } from './data.js';
import { makeSplit, remapSplit, type SplitFlags } from './modeldir.js';

export interface VisitPart {
  meta: VisitMeta;
  c: Companions;
}

/** Companions kept per item (the file grows with it; 32 lost nothing measurable against the full rows). */
export const COMPANIONS = 32;
/** Events apart within one session that still count as companions. */
export const COMPANION_WINDOW = 5;
/**
 * The windows validation chooses from: near events (a shopper's next clicks) or up to the whole session
 * the page reads (VISIT_EVENTS; a basket whose lines share a time has no order within it, so all of it
 * goes together).
 */
export const COMPANION_WINDOWS = [COMPANION_WINDOW, 20, VISIT_EVENTS];

/**
 * Per item, its `k` strongest companions: the items within `window` events of it in one training session
 * (gaps under 30 minutes), weighted by P(j | i) = pairs(i, j) / occurrences(i).
 */
export function fitCompanions(train: Seq[], V: number, k = COMPANIONS, window = COMPANION_WINDOW): Companions {
  const n = new Float64Array(V);
  const rows = new Array<Map<number, number> | undefined>(V);
  const bump = (i: number, j: number) => {
    let m = rows[i];
    if (!m) rows[i] = m = new Map();
    m.set(j, (m.get(j) ?? 0) + 1);
  };
  for (const s of train) {
    const x = s.items;
    for (let i = 0; i < x.length; i++) {
      if (x[i] > 0) n[x[i]]++;
      for (let j = i + 1; j < Math.min(x.length, i + 1 + window); j++) {
        if (!sameSession(s, i, j)) break;
        if (x[i] === x[j] || x[i] <= 0 || x[j] <= 0) continue;
        bump(x[i], x[j]);
        bump(x[j], x[i]);
      }
    }
  }
  const start = new Uint32Array(V + 1),
    ids: number[] = [],
    w: number[] = [];
  for (let i = 0; i < V; i++) {
    start[i] = ids.length;
    const top = [...(rows[i] ?? [])].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, k);
    for (const [j, c] of top) {
      ids.push(j);
      w.push(c / n[i]);
    }
  }
  start[V] = ids.length;
  return { start, ids: Uint32Array.from(ids), w: Float32Array.from(w) };
}

/**
 * A target's rank (as metrics.ts's rankOf counts it: rows above, half the ties, `exclude` and row 0 left
 * out) in the model's log probabilities `logp` with the visit part mixed in at λ `l` (mixOne), without
 * mixing every row: a row the session does not vote for keeps its order under the mixture, so the rows
 * above the target among those are counted by binary search in `sorted` (logp ascending), and only the
 * voted rows (`voted`), the excluded ones and the target are looked at one by one. The same rank as rankOf
 * over mixVisit's scores, in O(voted + log V) instead of O(V) per λ: what makes the choice affordable at a
 * million products.
 */
export function mixedRank(
  logp: ArrayLike<number>,
  sorted: Float64Array,
  v: VisitScores,
  voted: Set<number>,
  l: number,
  target: number,
  exclude: Iterable<number>,
): number {
  const V = logp.length;
  if (target <= 0 || target >= V) return V;
  const mixed = (i: number) => mixOne(logp[i], v, i, l);
  // A row without votes: its mixed score from its log probability alone.
  const plain = (x: number) => Math.log((1 - l) * Math.exp(x) + 1e-30);
  const ts = mixed(target);
  if (!Number.isFinite(ts)) return V;
  // The first index of `sorted` where pred holds (pred monotone: false, then true).
  const first = (pred: (x: number) => boolean) => {
    let lo = 0,
      hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (pred(sorted[mid])) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  const above = first((x) => plain(x) > ts),
    atLeast = first((x) => plain(x) >= ts);
  let higher = V - above,
    ties = above - atLeast;
  // Rows counted by their plain score that must not be, or not that way.
  const special = new Set<number>([0, target, ...voted, ...exclude]);
  const skip = new Set<number>([0, target, ...exclude]);
  for (const i of special) {
    if (i < 0 || i >= V) continue;
    const p = plain(logp[i]);
    if (p > ts) higher--;
    else if (p === ts) ties--;
    if (skip.has(i) || !voted.has(i)) continue;
    const m = mixed(i);
    if (m > ts) higher++;
    else if (m === ts) ties++;
  }
  return higher + Math.floor(ties / 2);
}

/**
 * Validation NDCG@10 for every companions table (one per window), decay (DECAYS) and λ (LAMBDAS), in one
 * pass over the examples: the model scores each example once, its scores are used as they come and dropped,
 * and its session's votes are computed once per table and decay into one reused buffer; each λ's ranks come
 * from mixedRank.
 */
function ndcgGrid(
  params: Params,
  cfg: ModelConfig,
  tables: Companions[],
  examples: Example[],
  excludeSeen: boolean,
): number[][][] {
  const sums = tables.map(() => DECAYS.map(() => LAMBDAS.map(() => new MetricSum())));
  const rw = hasReturn(cfg);
  let buf = new Float64Array(0);
  scoreExamples(params, cfg, examples, (ex, s) => {
    // The page's mixture before the visit part: log probabilities.
    const logp = rw ? s : logSoftmax(s);
    const V = logp.length;
    if (buf.length !== V) buf = new Float64Array(V);
    // Sorted once per example, and only for one whose session votes (most of a catalog's examples need none).
    let sorted: Float64Array | null = null;
    const exclude = excludeSeen ? Array.from(ex.items) : Array.from(ex.exclude ?? []);
    const targets = ex.basket ? Array.from(ex.basket).filter((t) => t > 0) : [ex.target];
    const add = (sum: MetricSum, ranks: number[]) =>
      ex.basket ? sum.addSet(ranks, ex.basket.length) : sum.add(ranks[0]);
    let alone: number[] | null = null;
    tables.forEach((c, ti) =>
      DECAYS.forEach((decay, di) => {
        const v = visitScores(c, { decay }, ex.items, ex.ts, ex.now ?? NaN, V, buf);
        if (!v) {
          alone ??= targets.map((t) => rankOf(logp, t, exclude));
          for (const sum of sums[ti][di]) add(sum, alone);
          return;
        }
        sorted ??= Float64Array.from(logp).sort();
        const voted = new Set<number>();
        for (const r of v.rows) for (let q = c.start[r]; q < c.start[r + 1]; q++) voted.add(c.ids[q]);
        LAMBDAS.forEach((l, k) =>
          add(
            sums[ti][di][k],
            targets.map((t) => mixedRank(logp, sorted!, v, voted, l, t, exclude)),
          ),
        );
        for (const i of voted) buf[i] = 0;
      }),
    );
  });
  return sums.map((t) => t.map((row) => row.map((m) => m.result()['ndcg@10'])));
}

const DECAYS = [0.3, 0.5, 0.8];
const LAMBDAS = [0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95];

/**
 * The companions' window (one table per window), λ_new (on `fresh`: examples whose input is only the
 * session under way), λ_returning (on `returning`: history and session) and the decay, by validation
 * NDCG@10: per window and decay each λ at its best, the window and decay by the mean of the two gains over
 * λ = 0 (the model alone).
 */
export function chooseVisit(
  params: Params,
  cfg: ModelConfig,
  tables: Array<{ window: number; c: Companions }>,
  sets: { fresh: Example[]; returning: Example[]; excludeSeen: boolean },
  log: (s: string) => void = console.log,
): Omit<VisitMeta, 'path' | 'version'> & { window: number; valid: Record<string, number> } {
  const cs = tables.map((t) => t.c);
  const gridF = ndcgGrid(params, cfg, cs, sets.fresh, sets.excludeSeen),
    gridR = ndcgGrid(params, cfg, cs, sets.returning, sets.excludeSeen);
  type Choice = Omit<VisitMeta, 'path' | 'version'> & { window: number; gain: number; valid: Record<string, number> };
  let best: Choice | null = null;
  tables.forEach(({ window }, ti) => {
    for (const [di, decay] of DECAYS.entries()) {
      const f = gridF[ti][di],
        r = gridR[ti][di];
      const fi = f.indexOf(Math.max(...f)),
        ri = r.indexOf(Math.max(...r));
      const gain = (f[fi] / Math.max(f[0], 1e-9) + r[ri] / Math.max(r[0], 1e-9)) / 2;
      log(
        `visit part, window ${window}, decay ${decay}: new shopper ${f[0].toFixed(4)} → ${f[fi].toFixed(4)} (λ ${LAMBDAS[fi]}), returning ${r[0].toFixed(4)} → ${r[ri].toFixed(4)} (λ ${LAMBDAS[ri]})`,
      );
      if (!best || gain > best.gain)
        best = {
          window,
          decay,
          lambdaNew: LAMBDAS[fi],
          lambdaReturning: LAMBDAS[ri],
          gain,
          valid: { newModel: f[0], newVisit: f[fi], returningModel: r[0], returningVisit: r[ri] },
        };
    }
  });
  const { gain: _, ...chosen } = best!;
  return chosen;
}

/**
 * Writes the companions into a model directory (companions.bin; a sharded model's companions/ shards) and
 * names them, with λ and the decay, in its model.json.
 */
export function writeVisitPart(dir: string, c: Companions, chosen: Omit<VisitMeta, 'path' | 'version'>): VisitMeta {
  const items = (JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as ModelJson).userDefinedMetadata
    .shelfwise.items;
  fs.rmSync(path.join(dir, 'companions.bin'), { force: true });
  fs.rmSync(path.join(dir, 'companions'), { recursive: true, force: true });
  const meta: VisitMeta = {
    path: items ? 'companions/' : 'companions.bin',
    version: items ? writeCompanionShards(dir, c, items.shards) : '',
    decay: chosen.decay,
    lambdaNew: chosen.lambdaNew,
    lambdaReturning: chosen.lambdaReturning,
    ...(chosen.window ? { window: chosen.window } : {}),
    ...(items ? { sharded: true } : {}),
  };
  if (!items) {
    const bytes = encodeCompanions(c);
    meta.version = contentVersion(bytes);
    fs.writeFileSync(path.join(dir, meta.path), bytes);
  }
  nameInModelJson(dir, { visit: meta });
  return meta;
}

/**
 * A sharded model's companions: companions/<n>.bin holds the lists of the products of item shard n, each
 * companion named by its hashes (items.ts). Returns a hash of all the files (the part's version).
 */
function writeCompanionShards(dir: string, c: Companions, shards: number): string {
  const ids = readIds(dir);
  const keys = ids.map(itemKeys);
  const members: number[][] = Array.from({ length: shards }, () => []);
  for (let r = 1; r <= ids.length; r++) if (c.start[r + 1] > c.start[r]) members[keys[r - 1][0] % shards].push(r);
  fs.mkdirSync(path.join(dir, 'companions'), { recursive: true });
  let h = '';
  members.forEach((rows, n) => {
    const start = new Uint32Array(rows.length + 1);
    rows.forEach((r, i) => (start[i + 1] = start[i] + c.start[r + 1] - c.start[r]));
    const E = start[rows.length];
    const sk = new Uint32Array(E),
      ck = new Uint32Array(E),
      w = new Float32Array(E);
    rows.forEach((r, i) => {
      for (let q = c.start[r], e = start[i]; q < c.start[r + 1]; q++, e++) {
        [sk[e], ck[e]] = keys[c.ids[q] - 1];
        w[e] = c.w[q];
      }
    });
    const bytes = encodeCompanionShard({
      keys: Uint32Array.from(rows, (r) => keys[r - 1][1]),
      start,
      shardKeys: sk,
      companionKeys: ck,
      w,
    });
    fs.writeFileSync(path.join(dir, 'companions', `${n}.bin`), bytes);
    h += contentVersion(bytes);
  });
  return contentVersion(new TextEncoder().encode(h));
}

const readIds = (dir: string): string[] =>
  (JSON.parse(fs.readFileSync(path.join(dir, 'vocab.json'), 'utf8')) as { ids: string[] }).ids;

/** The visit part a model directory names, or null. */
export function readVisitPart(dir: string, meta: VisitMeta | undefined, V: number, shards?: number): VisitPart | null {
  if (!meta) return null;
  if (meta.sharded) {
    // Every product's list back over the vocabulary's rows (a companion the vocabulary lacks is dropped).
    const ids = readIds(dir);
    const files = fs.readdirSync(path.join(dir, meta.path)).filter((f) => /^\d+\.bin$/.test(f));
    const S = shards ?? files.length;
    // Each product by its hashes (how companions name it) and by its shard and key (how shards list it).
    const keys = ids.map(itemKeys);
    const rowOf = new Map(keys.map(([sk, k], i) => [`${sk}:${k}`, i + 1]));
    const byShard = new Map(keys.map(([sk, k], i) => [`${sk % S}:${k}`, i + 1]));
    const lists = new Map<number, Array<[number, number]>>();
    for (const f of files) {
      const b = fs.readFileSync(path.join(dir, meta.path, f));
      const s = decodeCompanionShard(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
      const n = Number(f.replace('.bin', ''));
      s.keys.forEach((k, i) => {
        const r = byShard.get(`${n}:${k}`);
        if (!r) return;
        const l: Array<[number, number]> = [];
        for (let q = s.start[i]; q < s.start[i + 1]; q++) {
          const j = rowOf.get(`${s.shardKeys[q]}:${s.companionKeys[q]}`);
          if (j) l.push([j, s.w[q]]);
        }
        lists.set(r, l);
      });
    }
    const start = new Uint32Array(V + 1);
    for (let r = 1; r < V; r++) start[r + 1] = start[r] + (lists.get(r)?.length ?? 0);
    const cids = new Uint32Array(start[V]),
      w = new Float32Array(start[V]);
    for (const [r, l] of lists) l.forEach(([j, x], q) => ((cids[start[r] + q] = j), (w[start[r] + q] = x)));
    return { meta, c: { start, ids: cids, w } };
  }
  const b = fs.readFileSync(path.join(dir, meta.path));
  return { meta, c: decodeCompanions(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength), V) };
}

/** A sequence without its last session (sameSession: the shop's session ids, else the 30-minute rule). */
function withoutLastSession(s: Seq): Seq {
  let a = s.items.length - 1;
  while (a > 0 && sameSession(s, a - 1, a)) a--;
  a = Math.max(a, 0);
  return {
    ...s,
    items: s.items.slice(0, a),
    types: s.types.slice(0, a),
    ts: s.ts.slice(0, a),
    ...(s.session ? { session: s.session.slice(0, a) } : {}),
  };
}

/**
 * Fits the visit part for a model directory on `log` (its training sessions, its validation users) and
 * writes it there; null, with nothing written, for a log without timestamps (no sessions to read).
 * Validation: a time-split log's visit protocols (visit-new, visit-returning); another log's session
 * protocol (only the session under way) and its next-item validation (history and session).
 */
export function fitVisitPart(
  dir: string,
  model: { params: Params; cfg: ModelConfig; vocab: { ids: string[] } },
  log: Log,
  f: SplitFlags,
  say: (s: string) => void = console.log,
): { c: Companions; meta: VisitMeta; valid: Record<string, number> } | null {
  if (!log.users.some((u) => u.ts.some((t) => Number.isFinite(t)))) return null;
  const split = (protocol: Protocol) => remapSplit(makeSplit(log, { ...f, protocol }), model.vocab.ids);
  const base = split('item');
  const timeSplit = base.protocol.startsWith('time split');
  const fresh = split(timeSplit ? 'visit-new' : 'session').valid;
  const returning = timeSplit ? split('visit-returning').valid : base.valid;
  const t0 = performance.now();
  const V = model.cfg.vocabSize;
  // A leave-one-out log's training sequences end in the validation example's own session: its pairs would
  // vote for the shopper's own items, which the page's table never holds. The choice reads tables
  // without each sequence's last session.
  const forChoice = COMPANION_WINDOWS.map((window) => ({
    window,
    c: fitCompanions(timeSplit ? base.train : base.train.map(withoutLastSession), V, COMPANIONS, window),
  }));
  const cap = (e: Example[]) => e.slice(0, 5000);
  const chosen = chooseVisit(
    model.params,
    model.cfg,
    forChoice,
    { fresh: cap(fresh), returning: cap(returning), excludeSeen: base.excludeSeen },
    say,
  );
  const c = timeSplit
    ? forChoice.find((t) => t.window === chosen.window)!.c
    : fitCompanions(base.train, V, COMPANIONS, chosen.window);
  const meta = writeVisitPart(dir, c, chosen);
  say(
    `visit part: ${c.ids.length} companions of ${V - 1} items, window ${chosen.window} events, decay ${meta.decay}, λ new ${meta.lambdaNew}, λ returning ${meta.lambdaReturning} (${((performance.now() - t0) / 1000).toFixed(0)} s)`,
  );
  return { c, meta, valid: chosen.valid };
}
