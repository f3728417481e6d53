// ESLint: typescript-eslint's recommended type-checked rules. Where a rule is off or narrowed, the reason
// stands beside it.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.cache/', 'bench-out/', 'docs/api/', 'e2e/.fixture/', 'demo/.generated/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // node:test's test() returns a promise that the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it'] }] },
      ],
      // Methods that implement a promise-returning interface without awaiting anything (the in-memory event
      // store beside the IndexedDB one, test doubles) are async for their signature.
      '@typescript-eslint/require-await': 'off',
      // `_name` marks a value taken apart and deliberately left unused.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Browser tests and benchmarks drive a page through page.evaluate(), whose callbacks read the page's own
    // untyped globals (window.shelfwise, the demo's state): `any` is what those values are.
    files: ['e2e/**/*.ts', 'scripts/bench*.ts', 'scripts/lib/benchpage.ts', 'scripts/lib/browser.ts'],
    rules: {
      // import('/dist/esm/index.js' as string): the cast keeps tsc from resolving the page's URL as a path.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  {
    // tfjs ops are generic in their result's rank; the `as tf.Tensor2D` after an op names the shape the next
    // line relies on, which reads better there than type arguments before the op's arguments.
    files: ['src/model/encoder.ts', 'src/model/kernels.ts', 'src/model/encoder.test.ts'],
    rules: { '@typescript-eslint/no-unnecessary-type-assertion': 'off' },
  },
  {
    // IndexedDB requests in tests reject with the request's own error (a DOMException, or null), as the
    // browser reports it.
    files: ['**/*.test.ts', 'e2e/**/*.ts'],
    rules: { '@typescript-eslint/prefer-promise-reject-errors': 'off' },
  },
  {
    // Command-line scripts that read this repository's own JSON files (a model's model.json and
    // results, a training checkpoint, esbuild's metafile) or import the demo's plain JavaScript (the A/B
    // plan): the writer in this repository defines their shape, and the values are untyped as parsed.
    files: [
      'scripts/lib/card.ts',
      'scripts/lib/trainer.ts',
      'scripts/size.ts',
      'scripts/demo-data.ts',
      'scripts/ab-plan.ts',
      'scripts/lib/abplan.test.ts',
    ],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  {
    // The demo shop is plain browser JavaScript served as is, without a type checker.
    files: ['demo/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      // window.shelfwise: the script tag's command queue, which the demo's pages call.
      globals: { ...globals.browser, shelfwise: 'readonly' },
    },
  },
  {
    files: ['eslint.config.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, globals: globals.node },
  },
);
