/**
 * The shape of src/: imports run one way (shared → events → model → rank → dom → recommender → core →
 * the two entries), a folder is reached through its index.ts, there are no import cycles, and no
 * function is longer than 80 lines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const SRC = path.dirname(new URL(import.meta.url).pathname);
const LAYERS = ['shared', 'events', 'model', 'rank', 'dom', 'recommender', 'core.ts', 'index.ts', 'browser.ts'];
/**
 * Entries of a folder besides its index.ts: the lazily loaded runtime chunk, the fine-tuning worker, and
 * the public types (the entries' .d.ts must not reach the engine's tfjs types).
 */
const ENTRIES = new Set(['model/runtime.ts', 'model/adapt-worker.ts', 'recommender/types.ts']);

const files = (dir: string): string[] =>
  fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((d) =>
      d.isDirectory()
        ? files(path.join(dir, d.name))
        : d.name.endsWith('.ts') && !d.name.endsWith('.test.ts')
          ? [path.join(dir, d.name)]
          : [],
    );
const all = files(SRC).map((f) => path.relative(SRC, f));
const layer = (f: string) => {
  const top = f.split('/')[0];
  const i = LAYERS.indexOf(top);
  assert.ok(i >= 0, `${f}: not in a known layer`);
  return i;
};
const folder = (f: string) => (f.includes('/') ? f.split('/')[0] : f);

function imports(file: string): string[] {
  const sf = ts.createSourceFile(file, fs.readFileSync(path.join(SRC, file), 'utf8'), ts.ScriptTarget.ES2022, true);
  const out: string[] = [];
  const visit = (n: ts.Node) => {
    let spec: ts.Expression | undefined;
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier) spec = n.moduleSpecifier;
    if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) spec = n.arguments[0];
    if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument)) spec = n.argument.literal;
    if (spec && ts.isStringLiteral(spec) && spec.text.startsWith('.'))
      out.push(path.normalize(path.join(path.dirname(file), spec.text.replace(/\.js$/, '.ts'))));
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}
const graph = new Map(all.map((f) => [f, imports(f)]));

test('imports run downwards only, into a folder through its index.ts (or a named entry)', () => {
  const bad: string[] = [];
  for (const [f, deps] of graph)
    for (const d of deps) {
      if (!all.includes(d)) {
        bad.push(`${f} → ${d} (not a source file)`);
        continue;
      }
      if (folder(d) === folder(f)) continue;
      if (layer(d) >= layer(f)) bad.push(`${f} → ${d} (upwards)`);
      else if (d.includes('/') && !d.endsWith('/index.ts') && !ENTRIES.has(d))
        bad.push(`${f} → ${d} (not through ${folder(d)}/index.ts)`);
    }
  assert.deepEqual(bad, []);
});

test('no import cycles', () => {
  const state = new Map<string, 1 | 2>();
  const cycles: string[] = [];
  const dfs = (f: string, stack: string[]) => {
    state.set(f, 1);
    for (const d of graph.get(f) ?? []) {
      if (state.get(d) === 1) cycles.push([...stack.slice(stack.indexOf(d)), d].join(' → '));
      else if (!state.has(d)) dfs(d, [...stack, d]);
    }
    state.set(f, 2);
  };
  for (const f of all) if (!state.has(f)) dfs(f, [f]);
  assert.deepEqual(cycles, []);
});

test('no function in src/ is longer than 80 lines of its own', () => {
  // A function's own lines: a function nested in it (a method of an object it returns, a callback it
  // passes) is measured on its own and its lines are not counted twice.
  const long: string[] = [];
  for (const f of all) {
    const sf = ts.createSourceFile(f, fs.readFileSync(path.join(SRC, f), 'utf8'), ts.ScriptTarget.ES2022, true);
    const span = (n: ts.Node) =>
      sf.getLineAndCharacterOfPosition(n.getEnd()).line - sf.getLineAndCharacterOfPosition(n.getStart()).line + 1;
    const isFn = (n: ts.Node) => ts.isFunctionLike(n) && !!(n as ts.FunctionLikeDeclaration).body;
    const nested = (n: ts.Node): number => {
      let lines = 0;
      ts.forEachChild(n, (c) => {
        lines += isFn(c) ? span(c) : nested(c);
      });
      return lines;
    };
    const visit = (n: ts.Node) => {
      if (isFn(n)) {
        const own = span(n) - nested((n as ts.FunctionLikeDeclaration).body!);
        if (own > 80) long.push(`${f}:${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1} (${own} lines)`);
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  assert.deepEqual(long, []);
});
