import { test } from 'node:test';
import assert from 'node:assert/strict';
// @ts-expect-error: the demo's panel is plain JavaScript
import { abPlan, perArm } from '../../demo/panel.js';

test('A/B plan: two-proportion sample size per arm (alpha 0.05, power 0.8) matches the textbook figure', () => {
  // 2% → 2.2% (a 10% relative lift): about 80,700 shoppers per arm.
  const n = perArm(0.02, 0.1);
  assert.ok(Math.abs(n - 80_700) < 300, `${n}`);
  assert.equal(perArm(0.02, 0), Infinity, 'no lift: no test can show one');
  assert.ok(perArm(0.02, 0.5) < perArm(0.02, 0.1), 'a bigger lift needs fewer shoppers');
});

test('A/B plan: first-row hit rates per arm with bootstrap intervals around them, reproducible', () => {
  const rows = Array.from({ length: 400 }, (_, i) => ({
    personalized: i % 4 === 0 ? 3 : 40,
    default: i % 10 === 0 ? 5 : 60,
  }));
  const a = abPlan(rows),
    b = abPlan(rows);
  assert.deepEqual(a, b);
  assert.equal(a.personalized.rate, 0.25);
  assert.equal(a.control.rate, 0.1);
  assert.ok(Math.abs(a.lift.value - 1.5) < 1e-9);
  for (const arm of [a.personalized, a.control]) assert.ok(arm.ci[0] < arm.rate && arm.rate < arm.ci[1]);
  assert.ok(a.lift.ci[0] < 1.5 && 1.5 < a.lift.ci[1]);
});

test('A/B plan: a replay whose control arm has no first-row hit has no lift (NaN, shown as n/a), not a division by zero', () => {
  const rows = Array.from({ length: 100 }, (_, i) => ({ personalized: i % 5 === 0 ? 2 : 40, default: 50 }));
  const a = abPlan(rows);
  assert.equal(a.control.rate, 0);
  assert.ok(Number.isNaN(a.lift.value));
  assert.equal(perArm(0.02, a.lift.value), Infinity);
});
