import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitBias, guardedFinetune, scoreAll } from './finetune.js';

// 6 items in 2 dims: items 1-3 point along x, items 4-6 along y.
const E = Float32Array.from([0, 0, 1, 0, 1, 0.1, 1, -0.1, 0, 1, 0.1, 1, -0.1, 1]);
const V = 7,
  d = 2;

test("the bias moves scores toward the shopper's own transitions, pulled back by L2", () => {
  const hidden = new Float32Array(8); // neutral states
  const b = fitBias(hidden, [4, 5, 6, 4], E, V, d, { steps: 100, lr: 0.2, l2: 0.01 });
  assert.ok(b[1] > 0.5 && Math.abs(b[0]) < b[1], `bias ${b.join(',')}`);
  const strong = fitBias(hidden, [4, 5, 6, 4], E, V, d, { steps: 100, lr: 0.2, l2: 2 });
  assert.ok(Math.abs(strong[1]) < Math.abs(b[1]) / 3, 'a strong L2 keeps it near the pretrained model');
  const s = scoreAll([0, 0], E, V, d, b);
  assert.ok(s[4] > s[1] && s[0] === -Infinity);
});

test('the guard keeps an update that ranks the held-back event as well, and rejects one that hurts', () => {
  const favorX = new Float32Array(10),
    favorY = new Float32Array(10);
  for (let t = 0; t < 5; t++) {
    favorX[t * 2] = 0.3;
    favorY[t * 2 + 1] = 0.3;
  }
  // States favor x, the shopper keeps moving along y and so does the held-back event: kept.
  const kept = guardedFinetune(favorX, [4, 5, 6, 4, 5], E, V, d, { steps: 30, lr: 0.5, l2: 0.01 });
  assert.equal(kept.reason, 'kept');
  assert.ok(kept.bias && kept.after < kept.before, `${kept.before} → ${kept.after}`);
  // The shopper moved along x, but the held-back event is along y: the update would hurt it, discarded.
  const worse = guardedFinetune(favorY, [1, 2, 3, 1, 5], E, V, d, { steps: 30, lr: 0.5, l2: 0.01 });
  assert.equal(worse.reason, 'worse');
  assert.equal(worse.bias, null);
  const hidden = new Float32Array(10);
  assert.equal(guardedFinetune(hidden, [4, 5], E, V, d).reason, 'too-short');
});

test('a poisoned update (NaN) is discarded', () => {
  const bad = Float32Array.from(E);
  bad[9] = NaN;
  const r = guardedFinetune(new Float32Array(10), [4, 5, 6, 4, 5], bad, V, d);
  assert.equal(r.bias, null);
  assert.equal(r.reason, 'not-finite');
});
