/**
 * npm run build, one source, three shapes:
 *  - dist/shelfwise.js: the script tag (IIFE);
 *  - dist/esm/: self-contained ES modules for `<script type="module">` from a CDN (entry, the lazily loaded
 *    runtime, the fine-tuning worker, one chunk per tfjs backend);
 *  - dist/bundler/: the same entries for an app's bundler, importing tfjs (`@tensorflow/tfjs-core`, the
 *    backend packages) and idb as the package's peer dependencies, so the app has one copy of each;
 * plus dist/wasm/ (the wasm binaries, which both ES module shapes name relative to their runtime chunk) and
 * dist/types (.d.ts).
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

const common: esbuild.BuildOptions = {
  bundle: true,
  minify: !process.env.NO_MINIFY,
  target: 'es2020',
  platform: 'browser',
  legalComments: 'none',
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
};
// The self-contained shapes leave out the wasm backend's multi-threaded glue (about 10 KB gzip before the first
// ranking): engine.ts turns tfjs's threads off, since a page is rarely cross-origin isolated and the model's ops
// are too small to gain from them. An app's bundler (dist/bundler) gets tfjs whole, as its own copy is.
const noWasmThreads: esbuild.Plugin = {
  name: 'no-wasm-threads',
  setup(b) {
    b.onResolve({ filter: /tfjs-backend-wasm-threaded-simd(\.worker)?\.js$/ }, (a) => ({
      path: a.path,
      namespace: 'no-wasm-threads',
    }));
    b.onLoad({ filter: /.*/, namespace: 'no-wasm-threads' }, (a) => ({
      contents: a.path.endsWith('.worker.js')
        ? "export const wasmWorkerContents = '';"
        : "export default function () { throw new Error('shelfwise runs the wasm backend without threads'); }",
      loader: 'js',
    }));
  },
};
// The ES module entries (both shapes): the page's entry, the lazily loaded runtime, the fine-tuning worker.
const entries = { index: 'src/index.ts', runtime: 'src/model/runtime.ts', 'adapt-worker': 'src/model/adapt-worker.ts' };
const esm = await esbuild.build({
  ...common,
  entryPoints: entries,
  outdir: path.join(dist, 'esm'),
  format: 'esm',
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  metafile: true,
  plugins: [noWasmThreads],
});
// Not minified: the app's bundler minifies, and keeps the `new URL('…', import.meta.url)` forms it rewrites.
await esbuild.build({
  ...common,
  minify: false,
  entryPoints: entries,
  outdir: path.join(dist, 'bundler'),
  format: 'esm',
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  external: ['@tensorflow/*', 'idb'],
});
const iife = await esbuild.build({
  ...common,
  entryPoints: ['src/browser.ts'],
  outfile: path.join(dist, 'shelfwise.js'),
  format: 'iife',
  metafile: true,
});
const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
fs.mkdirSync(path.join(dist, 'wasm'));
for (const f of fs.readdirSync(wasmDir).filter((f) => f.endsWith('.wasm')))
  fs.copyFileSync(path.join(wasmDir, f), path.join(dist, 'wasm', f));
fs.writeFileSync(path.join(dist, 'meta.json'), JSON.stringify({ esm: esm.metafile, iife: iife.metafile }));
// The offline side for `npx shelfwise data|train|evaluate` (Node; tfjs and DuckDB stay the installer's).
await esbuild.build({
  entryPoints: { cli: 'scripts/cli.ts', 'grad-worker': 'scripts/lib/grad-worker.ts' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir: path.join(dist, 'cli'),
  external: ['@tensorflow/*', '@duckdb/*', 'idb'],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning',
});
fs.chmodSync(path.join(dist, 'cli/cli.js'), 0o755);
if (!process.argv.includes('--no-types')) {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
}
// The script tag's Subresource Integrity hash, for a <script integrity="..."> on a CDN copy.
const sri =
  'sha384-' +
  crypto
    .createHash('sha384')
    .update(fs.readFileSync(path.join(dist, 'shelfwise.js')))
    .digest('base64');
fs.writeFileSync(path.join(dist, 'shelfwise.js.sri'), sri + '\n');
console.log(`built dist/shelfwise.js (integrity ${sri}), dist/esm/, dist/bundler/, dist/wasm/, dist/types/`);
