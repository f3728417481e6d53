/**
 * npm run build: dist/shelfwise.js (IIFE for the script tag), dist/esm/ (ES module entry, the lazily loaded
 * runtime, the fine-tuning worker and one chunk per tfjs backend, plus the wasm binaries), dist/types (.d.ts).
 */
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const dist = path.join(ROOT, 'dist');
fs.rmSync(dist, { recursive: true, force: true });

const common: esbuild.BuildOptions = { bundle: true, minify: !process.env.NO_MINIFY, target: 'es2020', platform: 'browser', legalComments: 'none', logLevel: 'warning', define: { 'process.env.NODE_ENV': '"production"' } };
const esm = await esbuild.build({
  ...common, entryPoints: { index: 'src/index.ts', runtime: 'src/model/runtime.ts', 'adapt-worker': 'src/model/adapt-worker.ts' }, outdir: path.join(dist, 'esm'), format: 'esm',
  splitting: true, chunkNames: 'chunks/[name]-[hash]', metafile: true,
});
const iife = await esbuild.build({ ...common, entryPoints: ['src/browser.ts'], outfile: path.join(dist, 'shelfwise.js'), format: 'iife', metafile: true });
const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
for (const f of fs.readdirSync(wasmDir).filter((f) => f.endsWith('.wasm'))) fs.copyFileSync(path.join(wasmDir, f), path.join(dist, 'esm', f));
fs.writeFileSync(path.join(dist, 'meta.json'), JSON.stringify({ esm: esm.metafile, iife: iife.metafile }));
if (!process.argv.includes('--no-types')) {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
}
// The script tag's Subresource Integrity hash, for a <script integrity="..."> on a CDN copy.
const sri = 'sha384-' + crypto.createHash('sha384').update(fs.readFileSync(path.join(dist, 'shelfwise.js'))).digest('base64');
fs.writeFileSync(path.join(dist, 'shelfwise.js.sri'), sri + '\n');
console.log(`built dist/shelfwise.js (integrity ${sri}), dist/esm/, dist/types/`);
