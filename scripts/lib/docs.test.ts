import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { flagReference } from './flag-specs.js';
import { ROOT } from './data.js';

test('docs/flags.md is what npm run docs writes from the flag definitions', () => {
  const committed = fs.readFileSync(path.join(ROOT, 'docs/flags.md'), 'utf8');
  assert.equal(committed, flagReference(), 'docs/flags.md is out of date: run npm run docs');
});
