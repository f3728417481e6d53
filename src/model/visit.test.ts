/** The visit part: sessions, companions' votes, the mixture, the driver of a row, the file format. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeCompanions,
  encodeCompanions,
  logSoftmax,
  mixVisit,
  sessionStart,
  baseRates,
  visitDriver,
  visitScores,
  type Companions,
  type VisitMeta,
} from './visit.js';
import { fitCompanions } from '../../scripts/lib/companions.js';

const V = 6;
/** Row 1's companions: 2 (0.5) and 3 (0.25); row 4's: 5 (1); the others none. */
const comp: Companions = {
  start: Uint32Array.from([0, 0, 2, 2, 2, 3, 3]),
  ids: Uint32Array.from([2, 3, 5]),
  w: Float32Array.from([0.5, 0.25, 1]),
};
const meta: VisitMeta = { path: 'c.bin', version: 'x', decay: 0.5, lambdaNew: 0.8, lambdaReturning: 0.2 };

test('only the newest 50 events of a long session vote', () => {
  const items = Array.from({ length: 80 }, (_, i) => (i < 30 ? 1 : 4));
  const v = visitScores(
    comp,
    meta,
    items,
    items.map((_, i) => i),
    80,
    V,
  )!;
  assert.equal(v.rows.length, 50);
  assert.equal(v.p[2], 0, "row 1's companions: its events are older than the newest 50");
});

test('the session under way: gaps under 30 minutes, and none when the last event is older than that', () => {
  const ts = [0, 100_000, 100_600, 101_000];
  assert.equal(sessionStart(ts, 4, 101_100), 1);
  assert.equal(sessionStart(ts, 4, 101_000 + 1800), 4, 'half an hour after the last event: no session');
  assert.equal(sessionStart(ts, 4), 1, 'without a now: the trailing session');
  assert.equal(sessionStart([], 0, 5), 0);
  assert.equal(sessionStart([5, 5, 5], 3, 5), 0, 'one basket is one session');
});

test('the session votes for its companions, the newest event most; nothing before it is "new"', () => {
  const v = visitScores(comp, meta, [1, 4], [1000, 1010], 1020, V)!;
  // Row 4 (newest, weight 1) gives 5 one; row 1 (weight 0.5) gives 2 0.25 and 3 0.125.
  const total = 1 + 0.25 + 0.125;
  assert.ok(Math.abs(v.p[5] / v.total - 1 / total) < 1e-9 && Math.abs(v.p[2] / v.total - 0.25 / total) < 1e-9);
  assert.ok(Math.abs(v.p.reduce((a, b) => a + b, 0) / v.total - 1) < 1e-9);
  assert.equal(v.returning, false);
  assert.deepEqual(v.rows, [1, 4]);
  const r = visitScores(comp, meta, [4, 1], [0, 100_000], 100_010, V)!;
  assert.equal(r.returning, true, 'an older event before the session: a returning shopper');
  assert.deepEqual(r.rows, [1], 'only the session votes');
  assert.equal(visitScores(comp, meta, [1], [0], 5000, V), null, 'no session: the model alone');
  assert.equal(visitScores(comp, meta, [2, 0], [0, 1], 2, V), null, 'no companions, or unknown items: nothing');
});

test('the mixture stays a distribution and λ follows the shopper', () => {
  const logp = logSoftmax([0, 1, 2, 3, 1, 0]);
  assert.equal(logp[0], -Infinity);
  const v = visitScores(comp, meta, [1], [0], 1, V)!;
  const mixed = mixVisit(Float32Array.from(logp), v, meta);
  const sum = Array.from(mixed.subarray(1)).reduce((a, b) => a + Math.exp(b), 0);
  assert.ok(Math.abs(sum - 1) < 1e-5, `sums to ${sum}`);
  // λ_new 0.8: row 2 (p_visit 2/3) now outranks row 3, the model's favourite.
  assert.ok(mixed[2] > mixed[3]);
  const ret = mixVisit(Float32Array.from(logp), { ...v, returning: true }, meta);
  assert.ok(ret[2] < ret[3], 'λ_returning 0.2 leaves the model its favourite');
});

test('the driver of a row is the session item whose vote gives it the most', () => {
  const c: Companions = {
    start: Uint32Array.from([0, 0, 1, 2, 2, 2, 2]),
    ids: Uint32Array.from([3, 3]),
    w: Float32Array.from([0.2, 0.9]),
  };
  const v = visitScores(c, meta, [1, 2], [0, 1], 2, V)!;
  assert.equal(visitDriver(c, v, 3), 2, '0.9 · 1 beats 0.2 · 1');
  assert.equal(visitDriver(c, v, 4), 0);
});

test('with base rates, a best seller that goes with every product names no session item: it is there for its popularity', () => {
  // Row 5 goes with rows 1-4 alike (0.3 each); row 2 with row 1 only (0.5).
  const c: Companions = {
    start: Uint32Array.from([0, 0, 2, 3, 4, 5, 5]),
    ids: Uint32Array.from([2, 5, 5, 5, 5]),
    w: Float32Array.from([0.5, 0.3, 0.3, 0.3, 0.3]),
  };
  const base = baseRates(c);
  assert.ok(Math.abs(base[5] - 1.2 / 5) < 1e-6 && Math.abs(base[2] - 0.5 / 5) < 1e-6);
  const v = visitScores(c, meta, [1], [0], 1, V)!;
  assert.equal(visitDriver(c, v, 5), 1, 'without base rates the click is named');
  assert.equal(visitDriver(c, v, 5, base), 0, '0.3 is 1.25 times its base rate');
  assert.equal(visitDriver(c, v, 2, base), 1, '0.5 is 5 times its base rate');
});

test("the companions file round-trips (weights within a 255th of each row's largest) and refuses bad bytes", () => {
  const c = decodeCompanions(encodeCompanions(comp).buffer as ArrayBuffer, V);
  assert.deepEqual(Array.from(c.start), Array.from(comp.start));
  assert.deepEqual(Array.from(c.ids), Array.from(comp.ids));
  c.w.forEach((w, q) => assert.ok(Math.abs(w - comp.w[q]) <= 0.5 / 255 + 1e-7));
  const bytes = encodeCompanions(comp);
  assert.throws(() => decodeCompanions(bytes.buffer.slice(0, 20) as ArrayBuffer, V), /truncated/);
  assert.throws(() => decodeCompanions(bytes.buffer as ArrayBuffer, V + 1), /item rows, the model has/);
  const bad = bytes.slice();
  new DataView(bad.buffer).setUint16(8 + 4 * (V + 1), V + 3, true);
  assert.throws(() => decodeCompanions(bad.buffer, V), /out of range/);
});

test('companions come from pairs within one session, weighted P(j | i), the strongest k kept', () => {
  const s = (items: number[], ts: number[]) => ({
    user: 'u',
    items: Int32Array.from(items),
    types: Int32Array.from(items.map(() => 5)),
    ts: Float64Array.from(ts),
  });
  // 1 and 2 together twice; 1 and 3 once; 4 an hour after 3 (another session).
  const c = fitCompanions([s([1, 2, 3, 4], [0, 10, 20, 3620]), s([2, 1], [0, 5])], V, 1);
  const row = (i: number) => Array.from(c.ids.subarray(c.start[i], c.start[i + 1]));
  assert.deepEqual(row(1), [2], 'k = 1: the strongest');
  assert.equal(c.w[c.start[1]], 1, '1 occurs twice, with 2 both times');
  assert.deepEqual(row(4), [], 'no pair across sessions');
  assert.deepEqual(row(3), [1]);
});
