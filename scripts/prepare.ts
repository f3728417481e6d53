/**
 * npm run data -- <name|all> | --input FILE --name N --user COL --item COL [flags]: writes the normalized log
 * to .cache/data/<name>.tsv (user, item, type code, unix seconds). Flags: scripts/lib/flag-specs.ts (docs/flags.md).
 */
import { parseArgs } from 'node:util';
import { COMMANDS } from './lib/flag-specs.js';
import {
  DATASETS,
  parseCsvLog,
  parseNamed,
  parseOnlineRetail,
  readText,
  splitSessions,
  writeLog,
  SHARED,
} from './lib/data.js';
import path from 'node:path';
import { ExportError, normalizeExport, SOURCES } from './lib/exports.js';
import { choice, FlagError, num, parseFlags } from './lib/flags.js';

const USAGE = COMMANDS.data.usage;
const { values, positionals, sessionGap, cancellations, from } = parseFlags('data', USAGE, () => {
  const r = parseArgs({
    allowPositionals: true,
    options: COMMANDS.data.flags,
  });
  if (r.values.input && (!r.values.name || !r.values.user || !r.values.item))
    throw new FlagError('--input needs --name, --user and --item');
  if (r.values.from && (!r.values.name || !r.positionals.length))
    throw new FlagError('--from needs --name and the export files');
  // --from csv FILE is --input FILE: a flat CSV/TSV with the column flags.
  if (r.values.from === 'csv') {
    if (r.positionals.length !== 1 || !r.values.user || !r.values.item)
      throw new FlagError('--from csv takes one file, with --user and --item (and --type, --time, ...)');
    r.values.input = r.positionals[0];
    r.positionals.length = 0;
    r.values.from = undefined;
  }
  return {
    ...r,
    sessionGap: num('session-gap', r.values['session-gap'], { above: 0 }, true),
    cancellations: choice('cancellations', r.values.cancellations, ['remove', 'drop'] as const),
    from: choice('from', r.values.from, SOURCES),
  };
});
if (from) {
  const t0 = performance.now();
  try {
    const r = await normalizeExport(from, positionals, values.name!);
    console.log(
      `${values.name}: ${r.users} users, ${r.events} events, ${r.items} items → ${r.file} (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
    for (const [why, n] of Object.entries(r.skipped)) console.log(`  ${n} rows skipped: ${why}`);
    process.exit(0);
  } catch (e) {
    if (e instanceof ExportError) {
      console.error(`data: ${e.message}`);
      process.exit(2);
    }
    throw e;
  }
}
const names = positionals[0] === 'all' ? [...DATASETS] : positionals;
const jobs: Array<() => ReturnType<typeof parseNamed>> = [];
if (values.input) {
  jobs.push(() =>
    parseCsvLog(values.name!, readText(values.input!), {
      user: values.user!,
      item: values.item!,
      type: values.type,
      time: values.time,
      delimiter: values.delimiter,
      title: values.title,
      price: values.price,
    }),
  );
}
for (const n of names) {
  if (n === 'online-retail' && cancellations) {
    jobs.push(() =>
      parseOnlineRetail(
        [
          readText(path.join(SHARED, 'online-retail/online_retail_II_2009-2010.csv.gz')),
          readText(path.join(SHARED, 'online-retail/online_retail_2010-2011.csv.gz')),
        ],
        { cancellations },
      ),
    );
  } else jobs.push(() => parseNamed(n));
}
if (!jobs.length) {
  console.error(`usage: ${USAGE}`);
  process.exit(2);
}
for (const job of jobs) {
  const t0 = performance.now();
  let log;
  try {
    log = job();
  } catch (e) {
    // A wrong column name or a missing file is the user's input: say so, with the usage, not a stack trace.
    if (e instanceof FlagError || (e as NodeJS.ErrnoException).code === 'ENOENT') {
      console.error(`data: ${(e as Error).message}\nusage: ${USAGE}`);
      process.exit(2);
    }
    throw e;
  }
  if (sessionGap) log = splitSessions(log, sessionGap);
  const file = writeLog(log);
  const events = log.users.reduce((n, u) => n + u.items.length, 0);
  console.log(
    `${log.name}: ${log.users.length} users, ${events} events, ${new Set(log.users.flatMap((u) => u.items)).size} items → ${file} (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
  );
  for (const n of log.notes) console.log('  ' + n);
}
