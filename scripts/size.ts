/**
 * npm run size: gzip sizes of what a page downloads. Fails over budget:
 *  - the SDK's own code (src/, without idb and tfjs) ≤ 32 KB gzip
 *  - the script tag's first file (dist/shelfwise.js: SDK + idb) ≤ 40 KB gzip
 *  - the npm package (npm pack) ≤ 2 MB
 * and reports the total per backend (first file + runtime chunk + the backend's chunks [+ wasm binary]).
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import * as esbuild from 'esbuild';
import { execFileSync } from 'node:child_process';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const dist = path.join(ROOT, 'dist');
const gz = (b: Uint8Array | string) => zlib.gzipSync(b, { level: 9 }).length;
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
if (!fs.existsSync(path.join(dist, 'meta.json'))) {
  console.error('run npm run build first');
  process.exit(2);
}

const own = await esbuild.build({
  entryPoints: ['src/index.ts', 'src/browser.ts', 'src/model/runtime.ts'],
  bundle: true,
  minify: true,
  write: false,
  format: 'esm',
  splitting: true,
  outdir: 'x',
  external: ['idb', '@tensorflow/*'],
  platform: 'browser',
  target: 'es2020',
  legalComments: 'none',
});
// Shared chunks counted once.
const ownGz = gz(Buffer.concat(own.outputFiles.map((f) => Buffer.from(f.contents))));
const first = gz(fs.readFileSync(path.join(dist, 'shelfwise.js')));

const meta = JSON.parse(fs.readFileSync(path.join(dist, 'meta.json'), 'utf8')).esm as esbuild.Metafile;
const rel = (p: string) => path.relative(ROOT, path.resolve(ROOT, p));
const closure = (start: string, seen = new Set<string>()) => {
  if (seen.has(start)) return seen;
  seen.add(start);
  for (const imp of meta.outputs[start]?.imports ?? [])
    if (imp.kind === 'import-statement') closure(rel(imp.path), seen);
  return seen;
};
const runtimeOut = Object.keys(meta.outputs).find((o) => o.endsWith('esm/runtime.js'))!;
const base = closure(rel(runtimeOut));
const backendOut = (pkg: string) =>
  Object.entries(meta.outputs).find(([, o]) => o.entryPoint?.includes(`node_modules/@tensorflow/${pkg}/`))?.[0];
const rows: string[] = [];
for (const b of ['webgpu', 'webgl', 'wasm', 'cpu']) {
  const out = backendOut(`tfjs-backend-${b}`);
  const files = new Set(base);
  if (out) closure(rel(out), files);
  let total = first;
  for (const f of files) total += gz(fs.readFileSync(path.resolve(ROOT, f)));
  if (b === 'wasm') total += gz(fs.readFileSync(path.join(dist, 'wasm/tfjs-backend-wasm-simd.wasm')));
  rows.push(`| ${b} | ${kb(total)} |`);
}
// The package as npm would publish it (files in package.json; no build: dist/ is what was just built).
const pack = JSON.parse(
  execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' }),
)[0] as { size: number; unpackedSize: number; files: unknown[] };
console.log(
  `| what | gzip | budget |\n| --- | --- | --- |\n| SDK's own code (src/, no idb/tfjs) | ${kb(ownGz)} | 32 KB |\n| script tag's first file (dist/shelfwise.js) | ${kb(first)} | 40 KB |\n| npm package (npm pack: ${pack.files.length} files, ${kb(pack.unpackedSize)} unpacked) | ${kb(pack.size)} | 2048 KB |\n\n| backend | total a page downloads (first file + runtime + backend${' '}[+ wasm binary]) |\n| --- | --- |\n${rows.join('\n')}`,
);
let fail = false;
if (ownGz > 32 * 1024) {
  console.error(`over budget: SDK's own code ${kb(ownGz)} > 32 KB`);
  fail = true;
}
if (first > 40 * 1024) {
  console.error(`over budget: first file ${kb(first)} > 40 KB`);
  fail = true;
}
if (pack.size > 2048 * 1024) {
  console.error(`over budget: npm package ${kb(pack.size)} > 2048 KB`);
  fail = true;
}
process.exit(fail ? 1 : 0);
