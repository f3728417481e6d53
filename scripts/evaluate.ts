/**
 * npm run evaluate -- --model DIR --dataset <name|file.tsv> [flags]: full ranking of all items for every
 * test user; the model and the baselines on the same split. Flags: scripts/lib/flag-specs.ts (docs/flags.md).
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { COMMANDS } from './lib/flag-specs.js';
import { PROTOCOLS } from './lib/split.js';
import { loadLog } from './lib/data.js';
import { loadModelDir, makeSplit, remapSplit } from './lib/modeldir.js';
import { BACKENDS, initBackend } from './lib/backend.js';
import { evaluateFinetuned } from './lib/evaluation.js';
import { fitVisitPart } from './lib/companions.js';
import { choice, FlagError, isoDate, num, parseFlags, seenFlag } from './lib/flags.js';
import { evaluateAll, table } from './lib/report.js';

const USAGE = COMMANDS.evaluate.usage;
const a = parseFlags('evaluate', USAGE, () => {
  const { values: v } = parseArgs({
    options: COMMANDS.evaluate.flags,
  });
  if (!v.model || !v.dataset) throw new FlagError('--model and --dataset are required');
  return {
    ...v,
    model: v.model,
    dataset: v.dataset,
    protocol: choice('protocol', v.protocol, PROTOCOLS),
    excludeSeen: seenFlag(v),
    cutoff: isoDate('cutoff', v.cutoff),
    maxUsers: num('max-users', v['max-users'], { int: true, min: 1 }, true),
    backend: choice('backend', v.backend, BACKENDS),
  };
});
const backend = await initBackend(a.backend);
const m = loadModelDir(a.model);
const log = loadLog(a.dataset);
if (a.maxUsers) log.users = log.users.slice(0, a.maxUsers);
const split = remapSplit(
  makeSplit(log, { cutoff: a.cutoff, excludeSeen: a.excludeSeen, protocol: a.protocol }),
  m.vocab.ids,
);
if (a['fit-visit']) {
  fitVisitPart(a.model, m, log, { cutoff: a.cutoff, excludeSeen: a.excludeSeen });
  m.visit = loadModelDir(a.model).visit;
}
const t0 = performance.now();
let extra = {};
if (a.finetune) {
  const f = evaluateFinetuned(m.params, m.cfg, split.test, split.excludeSeen);
  console.log(`fine-tuning kept for ${(100 * f.kept).toFixed(1)}% of users (guard on each user's most recent event)`);
  extra = { finetuned: f };
}
const report = evaluateAll(m.params, m.cfg, split, extra, m.visit, m.content);
console.log(
  `backend ${backend}, model ${a.model} (version ${m.version}), ${((performance.now() - t0) / 1000).toFixed(1)} s\n${table(report)}`,
);
if (a.json)
  fs.writeFileSync(
    a.json,
    JSON.stringify(
      {
        command: `npm run evaluate -- ${process.argv.slice(2).join(' ')}`,
        dataset: report.dataset,
        protocol: report.protocol,
        users: report.users,
        items: report.items,
        metrics: report.metrics,
        ...(report.cold ? { cold: report.cold } : {}),
      },
      null,
      2,
    ),
  );
