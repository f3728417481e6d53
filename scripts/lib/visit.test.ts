/** The visit: training targets inside a basket, visit windows, the visit protocols and the session rules. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeWindows, packWindows } from './windows.js';
import { initBackend } from './backend.js';
import { defaultConfig } from '../../src/model/config.js';
import { initParams, nextItemLoss } from '../../src/model/encoder.js';
import * as tf from '@tensorflow/tfjs-core';
import { timeSplit, leaveOneOut, type Seq } from './split.js';
import { sessionKnn, sessionCooccurrence, sessionStart } from './baselines.js';
import { typeCode } from '../../src/model/features.js';
import { cooccurrenceItemTable } from './item-init.js';
import type { Log } from './data.js';

const P = typeCode('purchase');
const seq = (items: number[], ts: number[]): Seq => ({
  user: 'u',
  items: Int32Array.from(items),
  types: Int32Array.from(items.map(() => P)),
  ts: Float64Array.from(ts),
});
/** Each position's targets as "position: items×weight". */
const targets = (w: ReturnType<typeof makeWindows>[number]) =>
  Array.from(w.pos, (p, k) => {
    const its: string[] = [];
    for (let j = 0; j < w.items.length; j++)
      if (w.pairPos[j] === k) its.push(`${w.items[j]}×${+w.weights[j].toFixed(3)}`);
    return `${p}: ${its.join(' ')}`;
  });

test('inside a basket each position predicts the rest of it; a basket end predicts the next basket', () => {
  // Basket A (items 1, 2, 3 at t=0), basket B (items 4, 5 at t=86400).
  const s = seq([1, 2, 3, 4, 5], [0, 0, 0, 86400, 86400]);
  const [plain] = makeWindows([s], 10);
  assert.deepEqual(targets(plain), ['2: 4×0.5 5×0.5']);
  const [w] = makeWindows([s], 10, { visit: 1 });
  // Positions 0 and 1 are inside basket A (its 2 inside positions share weight 1); position 3 inside B.
  assert.deepEqual(targets(w), ['0: 2×0.25 3×0.25', '1: 3×0.5', '2: 4×0.5 5×0.5', '3: 5×1']);
});

test('a visit already holding an item does not predict it again', () => {
  const [w] = makeWindows([seq([1, 2, 1, 3], [0, 0, 0, 0])], 10, { visit: 1 });
  // 3 inside positions share weight 1; the repeated item 1 is no target.
  assert.deepEqual(targets(w), ['0: 2×0.167 3×0.167', '1: 3×0.333', '2: 3×0.333']);
});

test('visit windows: each later session alone, its basket lines spread over seconds, with its next basket', () => {
  const s = seq([1, 2, 3, 4, 5], [0, 0, 86400, 86400, 86400 * 3]);
  const ws = makeWindows([s], 10, { visit: 1, visitWindows: true, seed: 3 });
  assert.equal(ws.length, 2);
  const v = ws[1];
  assert.deepEqual(Array.from(v.seq.items), [3, 4]);
  assert.equal(v.seq.prevTs, undefined, 'no history before it');
  const gap = v.seq.ts[1] - v.seq.ts[0];
  assert.ok(gap >= 5 && gap <= 120, `spread like clicks on a page: ${gap} s`);
  assert.deepEqual(targets(v), ['0: 4×1', '1: 5×1']);
  // The first session has the whole-sequence window; none without timestamps (no sessions to tell apart).
  assert.equal(makeWindows([seq([1, 2, 3], [NaN, NaN, NaN])], 10, { visitWindows: true }).length, 1);
});

const log = (users: Array<[string, number[], string[]]>): Log => ({
  name: 'shop',
  meta: new Map(),
  notes: [],
  users: users.map(([user, ts, items]) => ({ user, items, types: items.map(() => P), ts })),
});

test('visit protocols: the first half of the first basket after the cut-off is the visit, the rest the target', () => {
  const day = 86400;
  const l = log([
    // history (a, b), then after the cut-off one basket a, c, d, e (file order)
    ['u1', [0, 0, 10 * day, 10 * day, 10 * day, 10 * day], ['a', 'b', 'a', 'c', 'd', 'e']],
    ['u2', [0, 1 * day, 1 * day], ['c', 'd', 'e']],
  ]);
  const cut = 5 * day;
  const fresh = timeSplit(l, cut, false, 1, 'visit-new');
  const back = timeSplit(l, cut, false, 1, 'visit-returning');
  const row = (id: string) => fresh.vocab.indexOf(id) + 1;
  assert.equal(fresh.test.length, 1);
  const [n] = fresh.test,
    [r] = back.test;
  assert.deepEqual(Array.from(n.items), [row('a'), row('c')], 'a new shopper: the visit alone');
  assert.deepEqual(Array.from(n.exclude!), [row('a'), row('c')]);
  assert.deepEqual(Array.from(n.basket!), [row('d'), row('e')]);
  assert.deepEqual(Array.from(r.items), [row('a'), row('b'), row('a'), row('c')], 'returning: history + visit');
  assert.deepEqual(Array.from(r.basket!), [row('d'), row('e')]);
  assert.ok(fresh.visit && back.visit);
});

test("session protocol: only the target's own session is read; a target that opens a session is left out", () => {
  const l = log([
    ['u1', [0, 100, 5000, 5100, 5200], ['a', 'b', 'c', 'd', 'e']],
    ['u2', [0, 100, 5000, 9000], ['a', 'b', 'c', 'd']],
  ]);
  const s = leaveOneOut(l, false, true);
  const row = (id: string) => s.vocab.indexOf(id) + 1;
  assert.equal(s.test.length, 1);
  assert.deepEqual(Array.from(s.test[0].items), [row('c'), row('d')]);
  assert.equal(s.test[0].target, row('e'));
});

test('session rules score from the current session: kNN over training sessions and bought-together', () => {
  // Training sessions: {1,2,3}, {1,2,4}, {5,6}; the current session ends with item 1 after a long gap.
  const train = [seq([1, 2, 3, 1, 2, 4], [0, 0, 0, 86400, 86400, 86400]), seq([5, 6], [0, 0])];
  assert.equal(sessionStart(Float64Array.of(0, 86400, 86410), 3), 1);
  for (const bl of [sessionKnn(train, 7), sessionCooccurrence(train, 7)]) {
    const out = new Float32Array(7);
    bl.score(Int32Array.of(5, 1), out, Float64Array.of(0, 86400));
    assert.ok(out[2] > out[3] && out[3] > 0 && out[4] > 0, `${bl.name}: 1's companions first (${out.join(' ')})`);
    assert.ok(out[6] < out[4], `${bl.name}: the old session's companion (6) does not count`);
  }
});

test('a long basket teaches at most 4 inside positions, spread from its first line', () => {
  const [w] = makeWindows([seq([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], new Array<number>(10).fill(0))], 20, { visit: 1 });
  assert.deepEqual(Array.from(w.pos), [0, 2, 4, 6]);
  const total = Array.from(w.weights).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(total - 1) < 1e-6, `the basket's inside targets weigh 1 in all (${total})`);
});

test('the co-occurrence item table: items of one session point at each other, others keep their start', () => {
  // Sessions {1,2}, {1,2}, {3,4}, {3,4}, {1,2,5}; item 6 never shares a session.
  const day = 86400;
  const train = [
    seq(
      [1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 5, 6],
      [0, 0, day, day, 2 * day, 2 * day, 3 * day, 3 * day, 4 * day, 4 * day, 4 * day, 9 * day],
    ),
  ];
  const V = 7,
    d = 4;
  const random = Float32Array.from({ length: V * d }, (_, i) => (i < d ? 0 : Math.sin(i) * 0.5));
  const e = cooccurrenceItemTable(train, random, V, d, 1);
  const dot = (a: number, b: number) => {
    let s = 0;
    for (let c = 0; c < d; c++) s += e[a * d + c] * e[b * d + c];
    return s;
  };
  assert.ok(dot(1, 2) > dot(1, 3) && dot(3, 4) > dot(3, 1), `companions closer: ${dot(1, 2)} ${dot(1, 3)}`);
  assert.deepEqual(Array.from(e.subarray(6 * d, 7 * d)), Array.from(random.subarray(6 * d, 7 * d)));
  assert.deepEqual(Array.from(e.subarray(0, d)), [0, 0, 0, 0], 'row 0 stays padding');
});

test('targets inside a visit train the catalog part only; the others the return/discover mixture', async () => {
  await initBackend('cpu');
  const cfg = defaultConfig(9, {
    d: 8,
    blocks: 1,
    heads: 1,
    maxLen: 8,
    ffDim: 8,
    dropout: 0,
    returnItems: 4,
    returnHidden: 4,
  });
  const p = initParams(cfg, 3);
  // Basket {1,2,3}, then basket {1,4}: inside targets at positions 0-1, next-basket targets at 2.
  const s = seq([1, 2, 3, 1, 4], [0, 0, 0, 86400, 86400]);
  const ws = makeWindows([s], 8, { visit: 1 });
  const { inp, targets } = packWindows(ws, cfg);
  assert.ok(targets.catalogOnly && targets.ret, 'inside targets are marked; the model has a return part');
  const loss = (t: typeof targets) => tf.tidy(() => nextItemLoss(p, cfg, inp, t).dataSync()[0]);
  const allCatalog = { ...targets, catalogOnly: new Uint8Array(targets.pairItem.length).fill(1) };
  const noReturn = { ...targets, ret: undefined, catalogOnly: undefined };
  assert.ok(Math.abs(loss(allCatalog) - loss(noReturn)) < 1e-5, 'every pair catalog-only: the plain catalog loss');
  const noneCatalog = { ...targets, catalogOnly: undefined };
  assert.notEqual(loss(targets).toFixed(5), loss(noneCatalog).toFixed(5), 'the marked pairs skip the mixture');
  for (const t of Object.values(p)) t.dispose();
});

test("the visit part's choice ranks by binary search what rankOf ranks over every mixed row, ties and exclusions alike", async () => {
  const { mixedRank } = await import('./companions.js');
  const { mixOne, visitScores } = await import('../../src/model/visit.js');
  const { rankOf } = await import('./metrics.js');
  let s = 7;
  const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const V = 400;
  // Companions: every row goes with 12 others; a few log probabilities equal (ties), row 0 unused.
  const start = new Uint32Array(V + 1),
    ids: number[] = [],
    w: number[] = [];
  for (let r = 0; r < V; r++) {
    start[r] = ids.length;
    if (r > 0)
      for (let k = 0; k < 12; k++) {
        ids.push(1 + Math.floor(rnd() * (V - 1)));
        w.push(rnd());
      }
  }
  start[V] = ids.length;
  const c = { start, ids: Uint32Array.from(ids), w: Float32Array.from(w) };
  let checked = 0;
  for (let trial = 0; trial < 20; trial++) {
    const logp = Float64Array.from({ length: V }, (_, i) => (i === 0 ? -Infinity : Math.log(rnd()) * 3));
    for (let i = 1; i < 30; i++) logp[i] = logp[30]; // ties
    const items = [1 + Math.floor(rnd() * (V - 1)), 1 + Math.floor(rnd() * (V - 1))];
    const v = visitScores(c, { decay: 0.5 }, items, [0, 1], 2, V)!;
    const voted = new Set<number>();
    for (const r of v.rows) for (let q = c.start[r]; q < c.start[r + 1]; q++) voted.add(c.ids[q]);
    const sorted = Float64Array.from(logp).sort();
    for (const l of [0, 0.3, 0.95]) {
      const mixed = Float64Array.from(logp, (x, i) => (i === 0 ? -Infinity : mixOne(x, v, i, l)));
      for (const t of [items[0], ...voted, 5, 31, V - 1].slice(0, 15)) {
        assert.equal(mixedRank(logp, sorted, v, voted, l, t, items), rankOf(mixed, t, items), `λ ${l}, target ${t}`);
        checked++;
      }
    }
  }
  assert.ok(checked > 500);
});
