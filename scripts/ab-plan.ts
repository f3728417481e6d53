/**
 * npx tsx scripts/ab-plan.ts [--model models/online-retail] [--json bench-out/ab-plan.json]
 * The demo's A/B plan for every held-out Online Retail customer, offline: where their actual next purchase
 * sits in the merchant's order (the catalog by sales: control) and in the model's ranking of the whole
 * catalog (personalized); the share in the first row (12 slots) per arm with 95% bootstrap intervals, the
 * lift, and the shoppers per arm a test needs at a 2% conversion rate.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { initBackend } from './lib/backend.js';
import { loadLog } from './lib/data.js';
import { loadModelDir, makeSplit, remapSplit } from './lib/modeldir.js';
import { scoreExamples } from './lib/evaluation.js';
import { rankOf } from './lib/metrics.js';
import { parseFlags } from './lib/flags.js';
// @ts-expect-error: the demo's panel is plain JavaScript; its plan arithmetic is what this reports
import { abPlan, perArm } from '../demo/panel.js';

const a = parseFlags(
  'ab-plan',
  'npx tsx scripts/ab-plan.ts [--model DIR] [--json FILE]',
  () =>
    parseArgs({ options: { model: { type: 'string', default: 'models/online-retail' }, json: { type: 'string' } } })
      .values,
);
await initBackend('wasm');
const m = loadModelDir(a.model);
const split = remapSplit(makeSplit(loadLog('online-retail')), m.vocab.ids);
const rows: Array<{ personalized: number; default: number }> = [];
scoreExamples(
  m.params,
  m.cfg,
  split.test.filter((e) => e.target > 0),
  (ex, s) => rows.push({ personalized: rankOf(s, ex.target) + 1, default: ex.target }),
);
const plan = abPlan(rows);
const out = {
  command: `npx tsx scripts/ab-plan.ts ${process.argv.slice(2).join(' ')}`.trim(),
  ...plan,
  perArmAt2pct: perArm(0.02, plan.lift.value),
};
console.log(JSON.stringify(out, null, 2));
if (a.json) fs.writeFileSync(a.json, JSON.stringify(out, null, 2));
