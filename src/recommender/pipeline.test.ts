import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explainOnRead } from './pipeline.js';
import type { Ranked } from '../rank/index.js';

const row = (): Ranked => ({
  itemId: 'a',
  score: 1,
  position: 0,
  defaultPosition: 0,
  reason: null,
  source: 'discover',
  hidden: false,
});

test("a reason is computed on first read only, then kept; JSON, spread and assignment see a plain value; the other fields are the row's", () => {
  let calls = 0;
  const r = explainOnRead(row(), () => {
    calls++;
    return 'b';
  });
  assert.equal(calls, 0); // ranking and reordering never pay for it
  assert.equal((JSON.parse(JSON.stringify(r)) as { reason: string }).reason, 'b');
  assert.equal(r.reason, 'b');
  assert.deepEqual({ ...r }, { ...row(), reason: 'b' });
  assert.equal(calls, 1);
  assert.deepEqual(Object.keys(r), Object.keys(row()));
  r.reason = 'set by the shop';
  assert.equal(r.reason, 'set by the shop');
  const s = explainOnRead(row(), () => {
    calls++;
    return 'never';
  });
  s.reason = null; // written before any read: the computation never runs
  assert.equal(s.reason, null);
  assert.equal(calls, 1);
});

test('a reason whose computation fails reads as null', () => {
  const r = explainOnRead(row(), () => {
    throw new Error('runtime replaced');
  });
  assert.equal(r.reason, null);
});
