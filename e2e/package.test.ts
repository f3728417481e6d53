/** The package as a TypeScript app sees it: its .d.ts compile under strict with bundler and node16 resolution. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

const app = `import { createRecommender, isShelfwiseError, type Recommender, type RankInfo, type ShelfwiseErrorCode, type FinetuneInfo, type ExperimentInfo } from 'shelfwise';
export async function start(): Promise<Recommender> {
  const rec = await createRecommender({ model: '/models/online-retail/model.json', experiment: { name: 'x', holdout: 0.1 }, onRank: (i: RankInfo) => void i.returnShare, onFinetune: (f: FinetuneInfo) => void f.status });
  const code: ShelfwiseErrorCode = 'model_not_ready';
  const e: ExperimentInfo | null = rec.experiment;
  void code; void e; void isShelfwiseError;
  const ranked = await rec.rank(['a', { id: 'b', category: 'c' }]);
  ranked[0]?.source satisfies 'return' | 'discover' | null | undefined;
  await rec.track({ type: 'click', itemId: 'a' });
  return rec;
}
`;

for (const resolution of ['bundler', 'node16'] as const) {
  test(`the .d.ts compile in a strict consumer with moduleResolution ${resolution}`, { skip: !fs.existsSync(path.join(ROOT, 'dist/types/index.d.ts')) && 'run npm run build first' }, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shelfwise-consumer-'));
    try {
      fs.mkdirSync(path.join(dir, 'node_modules'));
      fs.symlinkSync(ROOT, path.join(dir, 'node_modules/shelfwise'), 'dir');
      fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
      fs.writeFileSync(path.join(dir, 'app.ts'), app);
      const module = resolution === 'bundler' ? 'esnext' : 'node16';
      fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, target: 'es2022', module, moduleResolution: resolution, lib: ['es2022', 'dom'], skipLibCheck: false, types: [] }, files: ['app.ts'] }));
      const r = spawnSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stdout + r.stderr);
    } finally { fs.rmSync(dir, { recursive: true, force: true }); }
  });
}
