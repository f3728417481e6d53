import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { choice, FlagError, isoDate, num, seenFlag } from './flags.js';
import { parseLrDrops } from './schedule.js';

test('numeric flags: typos and out-of-range values are errors that name the flag', () => {
  assert.equal(num('epochs', '30', { int: true, min: 1 }), 30);
  assert.equal(num('lr', '1e-3', { above: 0 }), 0.001);
  assert.equal(num('ff', undefined, {}, true), undefined);
  assert.throws(() => num('epochs', '3O', { int: true, min: 1 }), /--epochs must be a whole number ≥ 1, got "3O"/);
  assert.throws(() => num('workers', '2.5', { int: true, min: 1 }), FlagError);
  assert.throws(() => num('workers', '0', { int: true, min: 1 }), FlagError);
  assert.throws(() => num('dropout', '1', { min: 0, below: 1 }), /--dropout must be a number ≥ 0 < 1/);
  assert.throws(() => num('lr', '0', { above: 0 }), FlagError);
  assert.throws(() => num('lr', '', { above: 0 }), FlagError);
  assert.throws(() => num('epochs', undefined), /--epochs needs a value/);
});

test('word and date flags accept only what they name', () => {
  assert.equal(choice('quantize', 'uint8', ['float32', 'float16', 'uint8'] as const), 'uint8');
  assert.equal(choice('quantize', undefined, ['float32'] as const), undefined);
  assert.throws(
    () => choice('quantize', 'f16', ['float32', 'float16', 'uint8'] as const),
    /--quantize must be one of float32, float16, uint8, got "f16"/,
  );
  assert.equal(isoDate('cutoff', '2011-09-01'), '2011-09-01');
  assert.throws(() => isoDate('cutoff', '2011-02-30'), FlagError);
  assert.throws(() => isoDate('cutoff', '1/9/2011'), FlagError);
  assert.throws(() => parseLrDrops('22:0.3,x'), FlagError);
  assert.equal(seenFlag({}), undefined);
  assert.equal(seenFlag({ 'exclude-seen': true }), true);
  assert.equal(seenFlag({ 'include-seen': true }), false);
  assert.throws(() => seenFlag({ 'exclude-seen': true, 'include-seen': true }), /contradict/);
});

test('npm run train with a bad flag stops before loading any data, with status 2 and the usage', () => {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'scripts/train.ts', '--dataset', 'no-such-set', '--workers', 'two'],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 2);
  assert.match(r.stderr, /train: --workers must be a whole number ≥ 1 ≤ 64, got "two"/);
  assert.match(r.stderr, /usage: npm run train/);
  const u = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'scripts/evaluate.ts', '--model', 'x', '--dataset', 'y', '--bogus'],
    { encoding: 'utf8' },
  );
  assert.equal(u.status, 2);
  assert.match(u.stderr, /evaluate: Unknown option '--bogus'/);
});
