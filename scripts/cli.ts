#!/usr/bin/env node
/**
 * npx shelfwise data|train|evaluate [flags]: the offline side as the installed package runs it, with the
 * flags of `npm run data|train|evaluate` (docs/flags.md). Logs, checkpoints and models go under the
 * current directory's .cache/ (SHELFWISE_ROOT to choose another). Training needs `@tensorflow/tfjs`,
 * reading a shop's export `@duckdb/node-api`: optional peer dependencies, so an app that installs shelfwise
 * for its pages never downloads them.
 */
const [cmd, ...rest] = process.argv.slice(2);
const NEEDS: Record<string, string[]> = {
  data: rest.includes('--from') ? ['@duckdb/node-api'] : [],
  train: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm'],
  evaluate: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm'],
};
if (!cmd || !(cmd in NEEDS)) {
  console.error('usage: npx shelfwise data|train|evaluate [flags] (see docs/flags.md)');
  process.exit(2);
}
const missing: string[] = [];
for (const p of NEEDS[cmd]) {
  try {
    await import(p);
  } catch {
    missing.push(p);
  }
}
if (missing.length) {
  console.error(`shelfwise ${cmd} needs ${missing.join(' and ')}: npm install ${missing.join(' ')}`);
  process.exit(2);
}
process.argv = [process.argv[0], `shelfwise-${cmd}`, ...rest];
if (cmd === 'data') await import('./prepare.js');
else if (cmd === 'train') await import('./train.js');
else await import('./evaluate.js');
export {};
