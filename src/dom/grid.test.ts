import { test } from 'node:test';
import assert from 'node:assert/strict';
import { longestIncreasing } from './reorder.js';

test('longestIncreasing marks one longest strictly increasing subsequence', () => {
  let s = 7;
  const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) % 1000) / 1000;
  for (let trial = 0; trial < 200; trial++) {
    const n = Math.floor(rand() * 40);
    const a = Array.from({ length: n }, (_, i) => i).sort(() => rand() - 0.5);
    const keep = longestIncreasing(a);
    const picked = a.filter((_, i) => keep[i]);
    for (let i = 1; i < picked.length; i++) assert.ok(picked[i] > picked[i - 1]);
    // O(n²) reference length
    const best = a.map(() => 1);
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) if (a[j] < a[i]) best[i] = Math.max(best[i], best[j] + 1);
    assert.equal(picked.length, n ? Math.max(...best) : 0);
  }
  assert.deepEqual(Array.from(longestIncreasing([0, 1, 2, 3])), [1, 1, 1, 1]);
  // One element moved from the front to the end: only it moves.
  assert.deepEqual(Array.from(longestIncreasing([1, 2, 3, 0])), [1, 1, 1, 0]);
});
