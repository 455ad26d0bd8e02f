// Lint for every package: typescript-eslint recommended rules plus Nx module boundaries.
// Dependency direction (by tag): runtime ← ops (superpixel, anchors, transformer) ← model (colorize) ← app (experiments).
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const TFJS = ['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-backend-wasm'];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'docs/api/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-restricted-syntax': ['error', { selector: 'ExportAllDeclaration', message: 'export names explicitly (no `export *`).' }],
    },
  },
  {
    // Library sources: boundaries between packages, and which npm packages each kind may import.
    files: ['packages/*/src/**/*.ts'],
    ignores: ['packages/*/src/**/*.test.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:runtime', onlyDependOnLibsWithTags: [], allowedExternalImports: [...TFJS, 'node:*'] },
            { sourceTag: 'type:ops', onlyDependOnLibsWithTags: ['type:runtime'], allowedExternalImports: TFJS },
            { sourceTag: 'type:model', onlyDependOnLibsWithTags: ['type:runtime', 'type:ops'] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:runtime', 'type:ops', 'type:model'] },
          ],
        },
      ],
    },
  },
  {
    // Op packages run in browsers too: no Node built-ins.
    files: ['packages/{superpixel,anchors,transformer}/src/**/*.ts'],
    ignores: ['packages/*/src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:*', 'fs', 'fs/*', 'path', 'os', 'child_process', 'worker_threads', 'url'], message: 'op packages must run in a browser: no Node built-ins.' }] }],
    },
  },
);
