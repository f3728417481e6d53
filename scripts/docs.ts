/**
 * npm run docs: docs/flags.md from the command lines' flag definitions, and the API reference from the
 * public types' doc comments (TypeDoc over src/index.ts) into docs/api/ (not committed).
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { flagReference } from './lib/flag-specs.js';
import { ROOT } from './lib/data.js';

fs.writeFileSync(path.join(ROOT, 'docs/flags.md'), flagReference());
console.log('wrote docs/flags.md');
execFileSync(
  path.join(ROOT, 'node_modules/.bin/typedoc'),
  [
    '--entryPoints',
    'src/index.ts',
    '--tsconfig',
    'tsconfig.build.json',
    '--out',
    'docs/api',
    '--excludeInternal',
    '--readme',
    'none',
    '--name',
    'shelfwise',
    '--disableSources',
  ],
  { cwd: ROOT, stdio: 'inherit' },
);
